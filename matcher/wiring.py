"""Build the running service from Settings: catalog, trust store, adapters, cache, records."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import httpx
from pydantic import ValidationError

from adapters._transport import registry_client
from adapters.base import Adapter, UnknownAdapter, load_adapter_class
from matcher.access.keys import KeyStore
from matcher.access.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from matcher.access.users import UserStore
from matcher.applications.forms import Forms, load_forms
from matcher.applications.service import ApplicationService
from matcher.catalog.departments import Directory, load_directory
from matcher.catalog.licences import load_directory as load_licence_directory
from matcher.catalog.matters import Catalog, load_catalog
from matcher.errors import ConfigError
from matcher.extract.intake import Limits
from matcher.extract.kinds import load_doc_kinds
from matcher.extract.pipeline import ExtractOptions, Extractor
from matcher.problems.loop import ProblemLoop
from matcher.problems.store import ProblemStore
from matcher.problems.webhooks import Hook, Notifier
from matcher.settings import Settings
from matcher.store.applications import ApplicationStore
from matcher.store.checkpoints import Checkpointer
from matcher.store.files import FileStore
from matcher.store.records import Records, api_keys, rechecks
from matcher.waiver.cache import Cache, MemoryCache, RedisCache, stored_secret
from matcher.waiver.check import CheckOptions, WaiveCheckService
from matcher.waiver.evidence import TrustStore, load_trust_store
from matcher.waiver.recheck import RecheckOptions, RecheckRunner

__all__ = ["Services", "build_adapters", "build_services", "ocr_options"]

log = logging.getLogger(__name__)


def build_adapters(settings: Settings, client: httpx.AsyncClient) -> list[Adapter]:
    """One adapter per ``[[registries]]`` entry, by entry-point name; errors name the entry."""
    adapters: list[Adapter] = []
    for i, reg in enumerate(settings.registries):
        where = f"registries[{i}] ({reg.name})"
        try:
            cls = load_adapter_class(reg.adapter)
        except UnknownAdapter as exc:
            raise ConfigError(f"{where}.adapter: {exc}") from None
        try:
            options = cls.options_model.model_validate(reg.adapter_options())
        except ValidationError as exc:
            msgs = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"{where}: {msgs}") from None
        adapters.append(cls(reg.name, options, client))
    return adapters


@dataclass
class Services:
    settings: Settings
    catalog: Catalog
    trust_store: TrustStore
    cache: Cache
    records: Records
    client: httpx.AsyncClient
    adapters: list[Adapter]
    checker: WaiveCheckService
    extractor: Extractor
    files: FileStore
    forms: Forms
    applications: ApplicationService
    users: UserStore
    rechecker: RecheckRunner
    keys: KeyStore
    limiter: RateLimiter
    directory: Directory
    problems: ProblemStore
    problem_loop: ProblemLoop
    checkpointer: Checkpointer

    async def aclose(self) -> None:
        await self.problem_loop.aclose()
        await self.rechecker.stop()
        if self.rechecker.client is not None:
            await self.rechecker.client.aclose()
        await self.client.aclose()
        await self.cache.close()
        self.records.close()


def ocr_options(settings: Settings) -> dict[str, str]:
    """The OCR engine's options: PaddleOCR keeps its model folders in the state folder."""
    if settings.ocr_engine == "paddleocr":
        return {"kind": "paddleocr", "work_dir": str(settings.state_dir / "ocr")}
    return {"kind": settings.ocr_engine}


def build_services(settings: Settings) -> Services:
    """Everything the API needs, built once; fails fast with the file and key at fault."""
    catalog = load_catalog(settings.catalog)
    doc_kinds = load_doc_kinds(settings.doc_kinds)
    forms = load_forms(settings.forms, doc_kinds=doc_kinds)
    forms.check_catalog(catalog)
    directory = load_directory(settings.department_directory)
    if directory.licence_types is None:
        # Which licence types exist: the licence directory (证照目录) the audits read too.
        licences = load_licence_directory(settings.audit_directory)
        directory.licence_types = {t.code: t.name for t in licences.licence_types}
    for reg in settings.registries:
        if reg.department is not None:
            if reg.department not in directory.departments:
                raise ConfigError(
                    f"registries[{reg.name}].department: {reg.department!r} is not in the "
                    "department directory"
                )
            directory.run_by(reg.name, reg.department)
    trust_store = load_trust_store(settings.resolved_trust_store())
    cache: Cache
    if settings.redis_url:
        cache = RedisCache(
            settings.redis_url,
            max_connections=settings.redis_max_connections,
            # Waiting longer for the cache than the registry would take to answer gains nothing.
            wait_s=min((r.timeout_s for r in settings.registries), default=2.0),
        )
    else:
        cache = MemoryCache()
    if settings.cache_key_secret is not None:
        secret = settings.cache_key_secret.get_secret_value().encode()
    else:
        secret = stored_secret(settings.state_dir)
        if settings.redis_url:
            log.info(
                "cache key secret from %s: set cache_key_secret where hosts share Redis",
                settings.state_dir,
            )
    privacy = settings.privacy()
    records = Records(settings.resolved_database_url(), privacy)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    client = registry_client(limits)
    adapters = build_adapters(settings, client)
    extractor = Extractor(
        doc_kinds,
        ExtractOptions(
            ocr=ocr_options(settings),
            limits=Limits(
                max_bytes=settings.upload_max_bytes,
                max_pages=settings.upload_max_pages,
                max_seconds=settings.extract_max_seconds,
            ),
        ),
    )
    sealer = privacy.sealer
    files = FileStore(records, dt.timedelta(hours=settings.upload_retention_hours), sealer=sealer)
    problems = ProblemStore(records, directory, ZoneInfo(settings.timezone))
    hooks = {h.department: Hook(h.department, h.url, h.secret()) for h in settings.problem_webhooks}
    unknown = sorted(set(hooks) - set(directory.departments))
    if unknown:
        raise ConfigError(
            f"problem_webhooks: departments not in the directory: {', '.join(unknown)}"
        )
    problem_loop = ProblemLoop(problems, Notifier(hooks))
    problem_loop.load()
    checker = WaiveCheckService(
        catalog=catalog,
        adapters=adapters,
        trust_store=trust_store,
        cache=cache,
        records=records,
        options=CheckOptions(
            timezone=settings.timezone,
            cache_ttl_s=settings.cache_ttl_s,
            negative_cache_ttl_s=settings.negative_cache_ttl_s,
            cache_secret=secret,
            accept_pre_standard_uscc=settings.accept_pre_standard_uscc,
            max_parties=settings.max_parties,
            recheck_after_s=settings.recheck_after_s,
        ),
        extractor=extractor,
        files=files,
        sealer=sealer,
        directory=directory,
        problem_loop=problem_loop,
    )
    applications = ApplicationService(
        checker=checker, forms=forms, store=ApplicationStore(records, sealer)
    )
    users = UserStore(records, dt.timedelta(hours=settings.ui_session_hours))
    callbacks = {c.name: (c.callback_url, c.api_key()) for c in settings.callers if c.callback_url}
    rechecker = RecheckRunner(
        records.engine,
        rechecks,
        checker,
        RecheckOptions(
            first_after_s=settings.recheck_after_s,
            max_attempts=settings.recheck_max_attempts,
            poll_s=settings.recheck_poll_s,
        ),
        callbacks=callbacks,
        # A client of its own for callers' callbacks: plain, no redirects followed.
        client=httpx.AsyncClient(timeout=5.0, follow_redirects=False) if callbacks else None,
    )
    return Services(
        settings,
        catalog,
        trust_store,
        cache,
        records,
        client,
        adapters,
        checker,
        extractor,
        files,
        forms,
        applications,
        users,
        rechecker,
        KeyStore(records.engine, api_keys),
        RedisRateLimiter(cache.client) if isinstance(cache, RedisCache) else MemoryRateLimiter(),
        directory,
        problems,
        problem_loop,
        Checkpointer(
            records.engine,
            settings.resolved_checkpoint_file(),
            settings.service_key(),
            settings.checkpoint_interval_s,
        ),
    )
