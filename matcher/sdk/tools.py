"""What ``matcher adapters list`` and ``matcher adapters check`` report.

``list`` describes every installed adapter from its entry point and options model. ``check`` asks
each configured registry once about its probe holder (``[registries.probe]``) and reports whether
it answered, how fast, how many records the adapter mapped and whether their signatures verify
against the trust store. Holders are shown masked; errors come from the adapters, which never put
a holder's ID in a message.
"""

from __future__ import annotations

import asyncio
import time
import types
import typing
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from adapters.base import ENTRY_POINT_GROUP, Adapter, available_adapters
from adapters.errors import RegistryError, RegistryRejected
from adapters.model import EvidenceQuery, Holder, RequestContext
from matcher.errors import ConfigError
from matcher.settings import RegistryConfig, Settings
from matcher.waiver.evidence import TrustStore, load_trust_store, signature_problem
from matcher.wiring import build_adapters

__all__ = [
    "AdapterInfo",
    "OptionInfo",
    "ProbeReport",
    "check_registries",
    "describe_adapters",
    "mask_holder_id",
]

REQUESTER = "matcher-adapters-check"
# Failures that mean nothing answered at all; any other error came in an answer.
_UNREACHED = frozenset({"timeout", "network_error", "circuit_open", "misconfigured"})


def mask_holder_id(value: str) -> str:
    """``3309**********0314``: enough to tell holders apart on a screen, not to identify one."""
    compact = "".join(value.split())
    if len(compact) <= 8:
        return "*" * len(compact)
    return compact[:4] + "*" * (len(compact) - 8) + compact[-4:]


@dataclass(frozen=True)
class OptionInfo:
    name: str
    type: str
    default: str | None  # None: required
    secret: bool
    description: str | None = None


@dataclass(frozen=True)
class AdapterInfo:
    name: str
    target: str
    package: str
    kind: str | None = None
    options: list[OptionInfo] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _type_name(annotation: Any) -> str:
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return " | ".join(_type_name(a) for a in typing.get_args(annotation))
    return str(annotation).replace("typing.", "").replace("NoneType", "None")


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(_is_secret(a) for a in typing.get_args(annotation))


def _options(model: Any) -> list[OptionInfo]:
    found = []
    for name, info in model.model_fields.items():
        default = None if info.is_required() else repr(info.get_default(call_default_factory=True))
        found.append(
            OptionInfo(
                name=name,
                type=_type_name(info.annotation),
                default=default,
                secret=_is_secret(info.annotation),
                description=info.description,
            )
        )
    return found


def describe_adapters() -> list[AdapterInfo]:
    """Every adapter registered under the ``matcher.adapters`` entry point, by name; one that
    fails to load is listed with its error rather than hiding the others."""
    infos = []
    for name, ep in sorted(available_adapters().items()):
        dist = getattr(ep, "dist", None)
        package = f"{dist.name} {dist.version}" if dist is not None else "?"
        try:
            cls = ep.load()
            infos.append(
                AdapterInfo(
                    name=name,
                    target=ep.value,
                    package=package,
                    kind=str(cls.kind),
                    options=_options(cls.options_model),
                )
            )
        except Exception as exc:  # a broken third-party package must not hide the rest
            infos.append(AdapterInfo(name, ep.value, package, error=f"{type(exc).__name__}: {exc}"))
    return infos


def format_adapter_list(infos: Sequence[AdapterInfo]) -> str:
    if not infos:
        return f"no adapters installed (entry-point group {ENTRY_POINT_GROUP})"
    lines = []
    for info in infos:
        lines.append(f"{info.name}  ({info.kind or '?'})  {info.target}  [{info.package}]")
        if info.error:
            lines.append(f"    cannot be loaded: {info.error}")
            continue
        for opt in info.options:
            default = "required" if opt.default is None else f"default {opt.default}"
            secret = "  secret" if opt.secret else ""
            lines.append(f"    {opt.name}: {opt.type}  ({default}){secret}")
    return "\n".join(lines)


@dataclass
class ProbeReport:
    """What asking one registry about its probe holder showed."""

    registry: str
    adapter: str
    holder: str | None = None  # masked
    reachable: bool | None = None  # None: not asked
    latency_ms: float | None = None
    records: int | None = None
    verified: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return (
            self.reachable is True
            and self.error is None
            and self.records is not None
            and self.verified == self.records
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


async def _probe(
    reg: RegistryConfig, adapter: Adapter, store: TrustStore, report: ProbeReport
) -> None:
    probe = reg.probe
    assert probe is not None
    query = EvidenceQuery(
        kind=adapter.kind,
        holder=Holder(id_type=probe.id_type, id=probe.id),
        types=tuple(probe.types),
    )
    context = RequestContext(requester=REQUESTER, matter_code=probe.matter_code)
    started = time.perf_counter()
    try:
        found = await adapter.lookup(query, context)
    except RegistryError as exc:
        report.latency_ms = (time.perf_counter() - started) * 1000
        report.reachable = exc.code not in _UNREACHED
        kind = "rejected" if isinstance(exc, RegistryRejected) else "unavailable"
        report.error = f"{kind} ({exc.code}): {exc.message}"
        return
    report.latency_ms = (time.perf_counter() - started) * 1000
    report.reachable = True
    report.records = len(found)
    for evidence in found:
        problem = signature_problem(evidence.raw, store, evidence.issuer.code)
        if problem is None:
            report.verified += 1
        else:
            report.problems.append(f"{evidence.type}: {problem}")


async def check_registries(
    settings: Settings, client: httpx.AsyncClient, name: str | None = None
) -> list[ProbeReport]:
    """Ask every configured registry (or the one called ``name``) about its probe holder."""
    registries = settings.registries
    if name is not None:
        registries = [r for r in registries if r.name == name]
        if not registries:
            known = ", ".join(r.name for r in settings.registries) or "none"
            raise ConfigError(f"no registry named {name!r} is configured; configured: {known}")
    store = load_trust_store(settings.resolved_trust_store())
    adapters = build_adapters(settings.model_copy(update={"registries": registries}), client)
    reports = []
    jobs = []
    for reg, adapter in zip(registries, adapters, strict=True):
        report = ProbeReport(registry=reg.name, adapter=reg.adapter)
        reports.append(report)
        if reg.probe is None:
            report.error = "no probe holder configured ([registries.probe])"
            continue
        report.holder = f"{reg.probe.id_type} {mask_holder_id(reg.probe.id)}"
        jobs.append(_probe(reg, adapter, store, report))
    await asyncio.gather(*jobs)
    return reports


def format_reports(reports: Sequence[ProbeReport]) -> str:
    rows = [("registry", "adapter", "holder", "reachable", "latency", "records", "signatures")]
    for r in reports:
        rows.append(
            (
                r.registry,
                r.adapter,
                r.holder or "-",
                {True: "yes", False: "no", None: "-"}[r.reachable],
                "-" if r.latency_ms is None else f"{r.latency_ms:.0f} ms",
                "-" if r.records is None else str(r.records),
                "-" if r.records is None else f"{r.verified}/{r.records} verified",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    for r in reports:
        for problem in r.problems:
            lines.append(f"{r.registry}: signature not verified: {problem}")
        if r.error:
            lines.append(f"{r.registry}: error: {r.error}")
    ok = sum(r.ok for r in reports)
    lines.append(f"{ok} of {len(reports)} registries ok")
    return "\n".join(lines)
