"""Errors an adapter raises. The core re-exports them from ``matcher.errors``.

::

    RegistryError                 a registry could not give a usable answer
    ├── RegistryUnavailable       retriable: timeout, 5xx, 429, malformed body, circuit open
    └── RegistryRejected          fatal until someone acts: 401/403, 400 on our request
"""

from __future__ import annotations

__all__ = ["RegistryError", "RegistryRejected", "RegistryUnavailable"]


class RegistryError(Exception):
    """A registry lookup failed; ``registry`` names the configured registry."""

    retriable = False

    def __init__(self, registry: str, message: str, *, code: str = "registry_error") -> None:
        super().__init__(f"{registry}: {message}")
        self.registry = registry
        self.message = message
        self.code = code


class RegistryUnavailable(RegistryError):
    """The registry did not answer usefully in time; asking again later may work."""

    retriable = True


class RegistryRejected(RegistryError):
    """The registry refused the request (credentials, malformed request): fix config first."""
