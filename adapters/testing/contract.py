"""The contract as two classes to subclass: every registry, and registries that page."""

from __future__ import annotations

from adapters.testing.faults import FaultRules
from adapters.testing.records import RecordRules
from adapters.testing.wire import PaginationRules, WireRules

__all__ = ["AdapterContract", "PaginationContract"]


class AdapterContract(RecordRules, FaultRules, WireRules):
    """Every rule of the adapter contract; subclass as ``Test<Registry>`` and fill in the hooks."""


class PaginationContract(AdapterContract, PaginationRules):
    """The contract plus pagination, for a registry whose list answers come in pages."""
