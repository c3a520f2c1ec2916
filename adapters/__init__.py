"""Registry adapters: the interface, the evidence model and the built-in HTTP adapters."""

from adapters.base import (
    ENTRY_POINT_GROUP,
    Adapter,
    AdapterOptions,
    UnknownAdapter,
    available_adapters,
    load_adapter_class,
)
from adapters.errors import RegistryError, RegistryRejected, RegistryUnavailable
from adapters.model import (
    Evidence,
    EvidenceKind,
    EvidenceQuery,
    Holder,
    HolderIdType,
    Issuer,
    RequestContext,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Adapter",
    "AdapterOptions",
    "Evidence",
    "EvidenceKind",
    "EvidenceQuery",
    "Holder",
    "HolderIdType",
    "Issuer",
    "RegistryError",
    "RegistryRejected",
    "RegistryUnavailable",
    "RequestContext",
    "UnknownAdapter",
    "available_adapters",
    "load_adapter_class",
]
