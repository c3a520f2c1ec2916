"""The toolkit for writing an HTTP registry adapter, as the built-in adapters are written.

:class:`HttpAdapter` takes the options (a model or the mapping from ``[[registries]]``), builds
one :class:`RegistryHttp` and refuses queries of the other evidence kind. ``RegistryHttp.call``
sends a request inside the lookup's :class:`Budget` with the registry protocol's headers, retries
(5xx, 429 with ``Retry-After``, network errors, timeouts), feeds the circuit breaker, reads at
most ``max_body_bytes`` and maps statuses to :mod:`adapters.errors`; the adapter gives it a
``decode`` function that turns the accepted reply into evidence and raises ``ValueError`` for a
body it cannot use. ``WireDate``, ``WireInstant``, ``WireText`` and ``WireHolder`` are strict
field types for wire models; :func:`mask_id` names a holder in a log line without its ID.

See docs/adapters.md; ``matcher adapters new`` writes an adapter package built on this module.
"""

from adapters._http import (
    Budget,
    CircuitBreaker,
    Clock,
    HttpAdapter,
    RegistryHttp,
    Reply,
    SystemClock,
    WireDate,
    WireHolder,
    WireInstant,
    WireText,
    describe_invalid,
    error_in_body,
    mask_id,
    parse_json,
    retry_after_seconds,
)

__all__ = [
    "Budget",
    "CircuitBreaker",
    "Clock",
    "HttpAdapter",
    "RegistryHttp",
    "Reply",
    "SystemClock",
    "WireDate",
    "WireHolder",
    "WireInstant",
    "WireText",
    "describe_invalid",
    "error_in_body",
    "mask_id",
    "parse_json",
    "retry_after_seconds",
]
