"""One Settings object: a TOML file, overridden by ``MATCHER_*`` environment variables.

Loaded once at start-up (``load_settings``) and injected; nothing reads the environment later.
With no file at all the settings are the demo's: the sandbox registry on 127.0.0.1:9001, the sample
catalog, SQLite in the state folder and an in-process cache.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from adapters.model import HolderIdType
from matcher.access.scopes import ALL_SCOPES, check_scopes
from matcher.errors import ConfigError, InputError
from matcher.extract.ocr.base import DEFAULT_ENGINE

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from matcher.store.checkpoints import ServiceKey
    from matcher.store.sealed import Privacy

__all__ = [
    "ProbeConfig",
    "RegistryConfig",
    "Settings",
    "WebhookConfig",
    "default_state_dir",
    "load_settings",
]

DEMO_SANDBOX_URL = "http://127.0.0.1:9001"


def default_state_dir() -> Path:
    """Where the embedded defaults keep their files (SQLite, the sandbox trust store)."""
    base = os.environ.get("MATCHER_STATE_DIR") or os.environ.get("XDG_STATE_HOME")
    root = Path(base) if base else Path.home() / ".local" / "state"
    return root if os.environ.get("MATCHER_STATE_DIR") else root / "matcher"


def _key_from_env(entry: str, variable: str, setting: str = "api_key_env") -> str:
    """The key in ``variable`` for the config ``entry``; an unset one stops start-up."""
    key = os.environ.get(variable)
    if not key:
        raise ConfigError(f"{entry}.{setting}: variable {variable} is not set")
    return key


class ProbeConfig(BaseModel):
    """A holder ``matcher adapters check`` asks a registry about: a test holder the registry's
    operator provides, never a real applicant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id_type: HolderIdType
    id: str = Field(min_length=1, max_length=64)
    types: list[str] = Field(
        min_length=1, description="licence type codes or certificate types to ask for"
    )
    matter_code: str = Field(default="adapters-check", min_length=1, description="sent as purpose")


class RegistryConfig(BaseModel):
    """One ``[[registries]]`` entry. Keys beyond these go to the adapter's own options model."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    adapter: str = Field(min_length=1)
    base_url: str = Field(pattern=r"^https?://")
    timeout_s: float = Field(default=2.0, gt=0, le=60)
    api_key_env: str | None = None
    department: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="the department (directory code) that runs this registry: its data "
        "problems with no issuer of their own (garbage answers, another holder's records) go there",
    )
    probe: ProbeConfig | None = Field(
        default=None, description="optional: the holder `matcher adapters check` asks about"
    )

    def adapter_options(self) -> dict[str, Any]:
        """Options for the adapter's model: base_url, timeout, the key read from its variable.

        Any other ``<option>_env`` key names the variable that holds ``<option>`` (a secret such
        as an app secret stays out of the file)."""
        options: dict[str, Any] = {"base_url": self.base_url, "timeout_s": self.timeout_s}
        for key, value in (self.model_extra or {}).items():
            if key.endswith("_env") and isinstance(value, str):
                options[key.removesuffix("_env")] = _key_from_env(
                    f"registries[{self.name}]", value, key
                )
            else:
                options[key] = value
        if self.api_key_env:
            options["api_key"] = _key_from_env(f"registries[{self.name}]", self.api_key_env)
        return options


class CallerConfig(BaseModel):
    """One ``[[callers]]`` entry: a business system allowed to call the API, and its key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$", description="recorded as the requester")
    api_key_env: str = Field(min_length=1, description="the variable holding its bearer key")
    department: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="the department (directory code) whose data officers use this key: it may "
        "change the status of that department's data-problem reports",
    )
    office: bool = Field(
        default=False, description="the drive's office (政务服务办): may act on every report"
    )
    callback_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="where a re-checked answer is POSTed, signed with this caller's key",
    )
    scopes: list[str] = Field(
        default_factory=lambda: list(ALL_SCOPES),
        description="what the key may call (matcher.access.scopes.ALL_SCOPES); default every scope",
    )
    rate_per_min: int | None = Field(
        default=None, ge=1, description="requests a minute; none: no limit"
    )

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, value: list[str]) -> list[str]:
        try:
            return list(check_scopes(value))
        except InputError as exc:
            raise ValueError(str(exc)) from None

    def api_key(self) -> str:
        key = _key_from_env(f"callers[{self.name}]", self.api_key_env)
        if len(key) < 16:
            raise ConfigError(
                f"callers[{self.name}].api_key_env: the key in {self.api_key_env} is shorter "
                "than 16 characters"
            )
        return key


class WebhookConfig(BaseModel):
    """One ``[[problem_webhooks]]`` entry: where a department hears of its data problems."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    department: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    url: str = Field(pattern=r"^https?://")
    secret_env: str = Field(min_length=1, description="the variable holding the HMAC secret")

    def secret(self) -> bytes:
        key = _key_from_env(f"problem_webhooks[{self.department}]", self.secret_env)
        if len(key) < 16:
            raise ConfigError(
                f"problem_webhooks[{self.department}].secret_env: the secret in "
                f"{self.secret_env} is shorter than 16 characters"
            )
        return key.encode()


def _demo_registries() -> list[RegistryConfig]:
    return [
        RegistryConfig(name="sandbox-elicence", adapter="elicence", base_url=DEMO_SANDBOX_URL),
        RegistryConfig(name="sandbox-datacert", adapter="datacert", base_url=DEMO_SANDBOX_URL),
    ]


class Settings(BaseSettings):
    """Every setting the service reads. Names are fixed: operators and outside suites write them."""

    model_config = SettingsConfigDict(env_prefix="MATCHER_", extra="forbid", frozen=True)

    catalog: Path | None = Field(default=None, description="YAML file or folder; none = sample")
    trust_store: Path | None = Field(
        default=None, description="registry protocol §5 file; none = the sandbox's, in state_dir"
    )
    database_url: str | None = Field(default=None, description="sqlite:///… or postgresql://…")
    redis_url: str | None = None
    redis_max_connections: int = Field(
        default=64,
        ge=1,
        le=10_000,
        description="Redis connections per worker process; a check that finds them all busy "
        "waits for one, at most as long as a registry lookup may take (the smallest timeout_s)",
    )
    registries: list[RegistryConfig] = Field(default_factory=_demo_registries)
    callers: list[CallerConfig] = Field(
        default_factory=list,
        description="business systems allowed to call /v1/, each with a bearer key; none = "
        "no authentication (X-Requester is trusted: only behind a gateway that authenticates)",
    )
    state_dir: Path = Field(default_factory=default_state_dir)
    timezone: str = "Asia/Shanghai"
    cache_ttl_s: float = Field(default=300.0, ge=0)
    negative_cache_ttl_s: float = Field(default=60.0, ge=0)
    cache_key_secret: SecretStr | None = Field(
        default=None,
        description="key of the cache keys' hash; unset: one kept in the state folder "
        "(shared by that host's workers); set it when hosts share Redis",
    )
    accept_pre_standard_uscc: bool = Field(
        default=False,
        description="accept credit codes whose only fault is the GB 32100 check character",
    )
    max_parties: int = Field(default=20, ge=0, le=100)
    recheck_enabled: bool = Field(
        default=True,
        description="check again the applications answered while a registry was down",
    )
    recheck_after_s: float = Field(
        default=60.0, gt=0, le=86400, description="first re-check after this, then doubling"
    )
    recheck_max_attempts: int = Field(default=24, ge=1, le=1000)
    key_refresh_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="how often the caller keys are re-read (a revoked key stops within this)",
    )
    recheck_poll_s: float = Field(default=5.0, gt=0, le=3600)
    doc_kinds: Path | None = Field(
        default=None, description="document-kind YAML file or folder; none = the shipped kinds"
    )
    forms: Path | None = Field(
        default=None, description="form YAML file or folder; none = the shipped forms"
    )
    ocr_engine: Literal["rapidocr", "paddleocr"] = DEFAULT_ENGINE
    upload_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0, le=200 * 1024 * 1024)
    upload_max_pages: int = Field(default=20, gt=0, le=500)
    extract_max_seconds: float = Field(default=60.0, gt=0)
    data_keys_env: str | None = Field(
        default=None,
        description="variable holding the keys that seal uploaded files at rest (AES-256-GCM): "
        "id:base64key pairs separated by commas, the first the current one; unset: one key "
        "kept in the state folder",
    )
    index_keys_env: str | None = Field(
        default=None,
        description="variable holding the keys of the blind index that finds a holder's rows "
        "without keeping the number (keyed BLAKE2b): id:base64key pairs separated by commas, "
        "the first the current one; unset: one key kept in the state folder",
    )
    checkpoint_dir: Path | None = Field(
        default=None,
        description="where signed checkpoints of the usage chain's head are appended (keep it "
        "outside the database's backups; in production an append-only store); unset: "
        "checkpoints/ in the state folder",
    )
    checkpoint_interval_s: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="a checkpoint at least this often while records are written",
    )
    service_key_env: str | None = Field(
        default=None,
        description="variable holding the service's own Ed25519 key (PEM) that signs the "
        "checkpoints and archive packages; unset: one kept in the state folder",
    )
    retired_service_keys: list[str] = Field(
        default_factory=list,
        description="the public keys (PEM) of service keys used before the current one: still "
        "published at /service-keys, so packages signed with them keep verifying",
    )
    upload_retention_hours: float = Field(
        default=72.0,
        gt=0,
        le=24 * 365,
        description="uploaded files are deleted this long after their upload",
    )
    # Batch audits (docs/audit.md)
    audit_runner: Literal["inprocess", "celery"] = Field(
        default="inprocess", description="celery: chunks go to Celery workers (needs redis_url)"
    )
    audit_broker_url: str | None = Field(
        default=None, description="Celery broker; none = redis_url"
    )
    audit_dir: Path | None = Field(default=None, description="job folders; none = state_dir/audits")
    audit_directory: Path | None = Field(
        default=None, description="licence directory YAML file or folder; none = the shipped one"
    )
    audit_city: str = Field(default="舟山市", min_length=1, description="本市, for 本市核发")
    audit_chunk_size: int = Field(
        default=200, ge=1, le=100_000, description="applications per chunk (each asks registries)"
    )
    # Matching costs microseconds a row, a chunk's round trip milliseconds: many rows a chunk.
    audit_material_chunk_size: int = Field(default=20_000, ge=1, le=1_000_000)
    audit_concurrency: int = Field(default=16, ge=1, le=1000, description="applications at once")
    audit_rate_per_s: float = Field(
        default=50.0, gt=0, description="requests per second to each registry, all workers together"
    )
    audit_rate_limits: dict[str, float] = Field(
        default_factory=dict, description="registry name → its own requests per second"
    )
    audit_requester: str = Field(default="audit", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    audit_visibility_timeout_s: float = Field(
        default=600.0, gt=0, description="a chunk unacknowledged this long goes to another worker"
    )

    def resolved_audit_dir(self) -> Path:
        return self.audit_dir or self.state_dir / "audits"

    department_directory: Path | None = Field(
        default=None,
        description="department directory YAML (file or folder); none = the sample city's",
    )
    problem_fix_deadline_days: int = Field(
        default=15, gt=0, le=365, description="days a department has to fix a data problem"
    )
    problem_webhooks: list[WebhookConfig] = Field(default_factory=list)
    ui_templates: Path | None = Field(
        default=None,
        description="a folder of workbench templates that replace the shipped ones by file name",
    )
    ui_session_hours: float = Field(
        default=8.0, gt=0, le=24 * 7, description="a workbench sign-in lasts this long"
    )
    ui_cookie_secure: bool | None = Field(
        default=None,
        description="send the workbench's session cookie over HTTPS only; default: yes, unless "
        "the workbench is addressed on loopback (127.0.0.1, localhost, ::1)",
    )

    @field_validator("registries", "callers")
    @classmethod
    def _unique_names(
        cls, value: list[RegistryConfig] | list[CallerConfig], info: ValidationInfo
    ) -> list[RegistryConfig] | list[CallerConfig]:
        names = [entry.name for entry in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            what = {"registries": "registry", "callers": "caller"}[str(info.field_name)]
            raise ValueError(f"{what} names must be unique; repeated: {', '.join(dupes)}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init kwargs; the environment overrides it.
        return env_settings, init_settings

    def data_keys(self) -> tuple[dict[str, bytes], str]:
        """The keys that seal personal data at rest, and the current one's id."""
        from matcher.store.sealed import parse_keys, stored_key

        if self.data_keys_env:
            text = _key_from_env("data_keys_env", self.data_keys_env)
            return parse_keys(text, f"data_keys_env ({self.data_keys_env})")
        return stored_key(self.state_dir)

    def index_keys(self) -> tuple[dict[str, bytes], str]:
        """The blind index's keys (finding a holder's rows), and the current one's id."""
        from matcher.store.sealed import INDEX_KEY_FILE, parse_keys, stored_key

        if self.index_keys_env:
            text = _key_from_env("index_keys_env", self.index_keys_env)
            return parse_keys(text, f"index_keys_env ({self.index_keys_env})")
        return stored_key(self.state_dir, INDEX_KEY_FILE)

    def privacy(self) -> Privacy:
        """The data and index keys together, as the records take them."""
        from matcher.store.sealed import HolderIndex, Privacy, Sealer

        return Privacy(Sealer(*self.data_keys()), HolderIndex(*self.index_keys()))

    def data_key_beside_database(self) -> bool:
        """The data key (or the index key) is the state folder's file while the database is
        there too (SQLite in the state folder): one backup of that folder holds the sealed data
        and its key."""
        if self.data_keys_env and self.index_keys_env:
            return False
        url = self.resolved_database_url()
        if not url.startswith("sqlite:///"):
            return False
        database = Path(url.removeprefix("sqlite:///")).resolve()
        return database.parent == self.state_dir.resolve()

    def service_key(self) -> ServiceKey:
        """The service's own signing key: from ``service_key_env``, else the state folder's."""
        from matcher.store.checkpoints import ServiceKey, stored_service_key

        if self.service_key_env:
            pem = _key_from_env("service_key_env", self.service_key_env)
            return ServiceKey.from_pem(pem.encode(), f"service_key_env ({self.service_key_env})")
        return stored_service_key(self.state_dir)

    def retired_public_keys(self) -> list[Ed25519PublicKey]:
        """The public halves of the service keys used before the current one."""
        from matcher.store.checkpoints import load_public_key

        return [
            load_public_key(pem, f"retired_service_keys[{i}]")
            for i, pem in enumerate(self.retired_service_keys)
        ]

    def published_service_keys(self) -> list[dict[str, Any]]:
        """The service's public keys, current first, as ``/service-keys`` publishes them."""
        from matcher.store.checkpoints import public_key_entry

        current = self.service_key()
        keys = [{**public_key_entry(current.public), "current": True}]
        for key in self.retired_public_keys():
            entry = public_key_entry(key)
            if entry["key_id"] != keys[0]["key_id"]:
                keys.append({**entry, "current": False})
        return keys

    def resolved_checkpoint_file(self) -> Path:
        """The file of this records database's checkpoints, in ``checkpoint_dir``."""
        from matcher.store.checkpoints import checkpoint_file

        folder = self.checkpoint_dir or self.state_dir / "checkpoints"
        return checkpoint_file(folder, self.resolved_database_url())

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.state_dir / 'matcher.db'}"

    def resolved_trust_store(self) -> Path:
        return self.trust_store or self.state_dir / "sandbox-trust.json"


def _resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    for key in (
        "catalog",
        "trust_store",
        "state_dir",
        "doc_kinds",
        "department_directory",
        "forms",
        "ui_templates",
    ):
        if isinstance(data.get(key), str) and not Path(data[key]).is_absolute():
            data[key] = str(base / data[key])
    url = data.get("database_url")
    if isinstance(url, str) and url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rel = url.removeprefix("sqlite:///")
        if rel and rel != ":memory:":
            data["database_url"] = f"sqlite:///{base / rel}"
    return data


def _describe(exc: ValidationError, where: str) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"{where}: {key}: {err['msg']}")
    return "\n".join(lines)


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from ``path`` (TOML) and the environment; errors name the file and the key."""
    data: dict[str, Any] = {}
    where = "environment"
    if path is not None:
        path = Path(path)
        where = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        data = _resolve_paths(data, path.resolve().parent)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, where)) from None
