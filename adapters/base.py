"""The adapter interface the core depends on, the options base, and discovery by entry point.

A registry adapter is a class with an ``options_model`` (a pydantic model with a ``kind`` literal),
the evidence ``kind`` it serves, and one coroutine, :meth:`Adapter.lookup`. It is built with its
configured name, its options and a shared :class:`httpx.AsyncClient`; it never makes its own.
Adapters register under the ``matcher.adapters`` entry-point group, built-in ones included.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from adapters.model import Evidence, EvidenceKind, EvidenceQuery, RequestContext

__all__ = [
    "ENTRY_POINT_GROUP",
    "Adapter",
    "AdapterOptions",
    "UnknownAdapter",
    "available_adapters",
    "load_adapter_class",
]

ENTRY_POINT_GROUP = "matcher.adapters"


class AdapterOptions(BaseModel):
    """Options every HTTP registry adapter takes; an adapter may subclass to add its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str
    timeout_s: float = Field(default=2.0, gt=0, le=60, description="whole budget of one lookup")
    api_key: SecretStr | None = None
    max_retries: int = Field(default=2, ge=0, le=5)
    breaker_failures: int = Field(default=5, ge=1, description="consecutive failures that open it")
    breaker_reset_s: float = Field(default=30.0, gt=0, description="how long it stays open")
    max_pages: int = Field(default=20, ge=1, le=1000)
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="largest response body read, in bytes"
    )
    max_in_flight: int = Field(
        default=64,
        ge=1,
        le=200,
        description="requests to this registry at once; more wait, within their budget",
    )


@runtime_checkable
class Adapter(Protocol):
    """One registry. ``lookup`` returns what the registry holds ([] for nothing) or raises
    :class:`adapters.errors.RegistryUnavailable` / :class:`adapters.errors.RegistryRejected`."""

    options_model: ClassVar[type[AdapterOptions]]
    kind: ClassVar[EvidenceKind]
    name: str

    def __init__(self, name: str, options: Any, client: httpx.AsyncClient) -> None: ...

    async def lookup(self, query: EvidenceQuery, context: RequestContext) -> list[Evidence]: ...


class UnknownAdapter(LookupError):
    """No adapter is registered under that name."""


def available_adapters() -> Mapping[str, Any]:
    """Entry-point name → entry point, for every installed adapter."""
    found: dict[str, Any] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found and found[ep.name].value != ep.value:
            raise UnknownAdapter(
                f"two adapters are registered as {ep.name!r}: {found[ep.name].value} and {ep.value}"
            )
        found[ep.name] = ep
    return found


def load_adapter_class(name: str) -> type[Adapter]:
    """The adapter class registered as ``name``; the error lists the known names."""
    eps = available_adapters()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise UnknownAdapter(f"no adapter named {name!r}; installed adapters: {known}")
    cls = eps[name].load()
    return cls  # type: ignore[no-any-return]
