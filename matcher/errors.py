"""The error tree. One FastAPI handler maps it to status codes (``matcher.api.errors``).

::

    MatcherError
    ├── ConfigError                 bad settings file or environment (start-up)
    ├── CatalogError                bad catalog file, or an unknown matter        → 404 / start-up
    ├── InputError                  a request that cannot be served as sent       → 422
    │   └── InvalidIdentifier       an ID number or credit code that fails its check
    ├── ConflictError               an application_id reused with another request → 409
    ├── TrustStoreError             bad trust-store file (start-up)
    ├── RecordsUnavailable          the records database failed: no answer without a record → 503
    └── RegistryError               (adapters.errors) a registry gave no usable answer
        ├── RegistryUnavailable     retriable → decisions become review, never waive
        └── RegistryRejected        fatal until config is fixed → same, and logged loudly
"""

from __future__ import annotations

from adapters.errors import RegistryError, RegistryRejected, RegistryUnavailable

__all__ = [
    "CatalogError",
    "ConfigError",
    "ConflictError",
    "InputError",
    "InvalidIdentifier",
    "MatcherError",
    "RecordsUnavailable",
    "RegistryError",
    "RegistryRejected",
    "RegistryUnavailable",
    "TrustStoreError",
    "UnknownMatter",
]


class MatcherError(Exception):
    """Base of every error the service raises on purpose."""

    code = "matcher_error"


class ConfigError(MatcherError):
    """A settings file or variable is wrong; the message names the file, the key and the problem."""

    code = "config_error"


class CatalogError(MatcherError):
    """A catalog file is wrong, or a matter/material is not in the catalog."""

    code = "catalog_error"

    def __init__(self, message: str, *, file: str | None = None, path: str | None = None) -> None:
        where = ": ".join(part for part in (file, path) if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.path = path
        self.detail = message


class UnknownMatter(CatalogError):
    """No matter with that code."""

    code = "unknown_matter"


class InputError(MatcherError):
    """A request that cannot be served as sent; ``field`` names the offending member."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidIdentifier(InputError):
    """A 公民身份号码 or 统一社会信用代码 that fails its format or check character."""

    code = "invalid_identifier"


class ConflictError(MatcherError):
    """The same application_id was used before with a different request."""

    code = "conflict"


class RecordsUnavailable(MatcherError):
    """The records database failed, so usage cannot be recorded and no answer may be given."""

    code = "records_unavailable"


class TrustStoreError(MatcherError):
    """The trust-store file is missing or malformed."""

    code = "trust_store_error"
