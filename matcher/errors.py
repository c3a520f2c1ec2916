"""The error tree. One FastAPI handler maps it to status codes (``matcher.api.errors``).

::

    MatcherError
    ├── ConfigError                 bad settings file or environment (start-up)
    ├── CatalogError                bad catalog file, or an unknown matter        → 404 / start-up
    ├── InputError                  a request that cannot be served as sent       → 422
    │   └── InvalidIdentifier       an ID number or credit code that fails its check
    ├── ConflictError               an application_id reused with another request → 409
    │   └── TransitionNotAllowed    a data-problem status change its status does not allow → 409
    ├── NotFound                    a kept thing that is not there                → 404
    │   └── ApplicationNotFound     no kept application with that number or id
    ├── Forbidden                   the caller may not do that (not the owning department) → 403
    ├── ConsentRequired             the matter needs the holder's consent token   → 403
    ├── TrustStoreError             bad trust-store file (start-up)
    ├── ExtractionError             an uploaded file that cannot be taken in (``status_code``)
    │   ├── UnsupportedMedia        not a type we read                            → 415
    │   │   └── MediaTypeMismatch   the declared content type contradicts the bytes → 415
    │   ├── FileTooLarge            more bytes than allowed                       → 413
    │   │   ├── TooManyPages        more pages (or TIFF frames) than allowed      → 413
    │   │   └── ImageTooLarge       a page or image with too many pixels          → 413
    │   ├── UnreadableFile          empty, broken or truncated                    → 422
    │   │   └── EncryptedFile       needs a password                              → 422
    │   ├── ProcessingTimeout       the file took longer than its time budget     → 422
    │   └── OcrUnavailable          a scan or photo, and no OCR engine installed (also a
    │                               FeatureUnavailable and an ImportError)          → 501
    ├── FeatureUnavailable          an optional part whose extra is not installed  → 501
    ├── RecordsUnavailable          the records database failed: no answer without a record → 503
    ├── SchemaOutdated              the database's schema revision is not the code's (start-up)
    └── RegistryError               (adapters.errors) a registry gave no usable answer
        ├── RegistryUnavailable     retriable → decisions become review, never waive
        └── RegistryRejected        fatal until config is fixed → same, and logged loudly
"""

from __future__ import annotations

from adapters.errors import RegistryError, RegistryRejected, RegistryUnavailable

__all__ = [
    "ApplicationNotFound",
    "CatalogError",
    "ConfigError",
    "ConflictError",
    "ConsentRequired",
    "EncryptedFile",
    "ExtractionError",
    "FeatureUnavailable",
    "FileTooLarge",
    "Forbidden",
    "ImageTooLarge",
    "InputError",
    "InvalidIdentifier",
    "MatcherError",
    "MediaTypeMismatch",
    "NotFound",
    "OcrUnavailable",
    "ProcessingTimeout",
    "RecordsUnavailable",
    "RegistryError",
    "RegistryRejected",
    "RegistryUnavailable",
    "SchemaOutdated",
    "TooManyPages",
    "TransitionNotAllowed",
    "TrustStoreError",
    "UnknownMatter",
    "UnreadableFile",
    "UnsupportedMedia",
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


class TransitionNotAllowed(ConflictError):
    """A data-problem report cannot move from its status to the one asked for."""

    code = "transition_not_allowed"


class NotFound(MatcherError):
    """Something kept by the service (an application, a data-problem report …) that is not there."""

    code = "not_found"


class ApplicationNotFound(NotFound):
    """No kept application with that number (for this caller) or id."""

    code = "unknown_application"


class Forbidden(MatcherError):
    """The caller may not do this: a report's status is changed by its own department."""

    code = "forbidden"


class ConsentRequired(MatcherError):
    """The matter's registries may be asked only with the holder's consent token."""

    code = "consent_required"


class RecordsUnavailable(MatcherError):
    """The records database failed, so usage cannot be recorded and no answer may be given."""

    code = "records_unavailable"


class SchemaOutdated(MatcherError):
    """The records database is at another schema revision than the code: ``matcher db upgrade``."""

    code = "schema_outdated"


class TrustStoreError(MatcherError):
    """The trust-store file is missing or malformed."""

    code = "trust_store_error"


class ExtractionError(MatcherError):
    """An uploaded file that cannot be taken in; the message (zh-CN) says why and what to do."""

    code = "extraction_error"
    status_code = 422


class FeatureUnavailable(MatcherError):
    """A part of the service whose optional dependencies (an extra) are not installed; the
    message says what is missing and :attr:`install` the command that brings it."""

    code = "feature_unavailable"
    status_code = 501

    def __init__(self, message: str, *, extra: str) -> None:
        super().__init__(message)
        self.extra = extra

    @property
    def install(self) -> str:
        return f"pip install 'matcher[{self.extra}]'"


class OcrUnavailable(FeatureUnavailable, ExtractionError, ImportError):
    """A file that needs OCR (a scan, a photo), or an engine asked for, whose library is not
    installed. An ImportError too: that is what building an engine without its library raises."""

    code = "ocr_unavailable"
    status_code = 501


class UnsupportedMedia(ExtractionError):
    """The bytes are of a type the service does not read (a .docx, a ZIP, HTML, an SVG …)."""

    code = "unsupported_media"
    status_code = 415


class MediaTypeMismatch(UnsupportedMedia):
    """The declared content type says one thing and the bytes another; the message names both."""

    code = "media_type_mismatch"


class FileTooLarge(ExtractionError):
    """More bytes than the limits allow."""

    code = "file_too_large"
    status_code = 413


class TooManyPages(FileTooLarge):
    """More pages (PDF, OFD) or frames (TIFF) than the limits allow."""

    code = "too_many_pages"


class ImageTooLarge(FileTooLarge):
    """A page or embedded image with more pixels than allowed: refused before it is decoded."""

    code = "image_too_large"


class UnreadableFile(ExtractionError):
    """Empty, broken or truncated bytes of an otherwise supported type."""

    code = "unreadable_file"
    status_code = 422


class EncryptedFile(UnreadableFile):
    """A file that needs a password to open."""

    code = "file_encrypted"


class ProcessingTimeout(ExtractionError):
    """The file used up its time budget; 422 because retrying the same file will not help."""

    code = "processing_timeout"
    status_code = 422
