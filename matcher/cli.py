"""``matcher serve | demo | sandbox | extract | db | check-config | adapters | audit``: the CLI."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from matcher.errors import InputError, MatcherError, SchemaOutdated

__all__ = ["main"]

log = logging.getLogger("matcher")
CONFIG_ENV = "MATCHER_CONFIG_FILE"


LOG_FORMAT_ENV = "MATCHER_LOG_FORMAT"


def app_from_env():  # type: ignore[no-untyped-def]  # uvicorn factory for --workers > 1
    from matcher.api import create_app
    from matcher.observe import configure_logging
    from matcher.settings import load_settings

    # A worker process starts afresh: it sets up its own logging like the parent's.
    configure_logging(logging.INFO, os.environ.get(LOG_FORMAT_ENV, "json"))
    return create_app(load_settings(os.environ.get(CONFIG_ENV) or None))


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from matcher.api import create_app
    from matcher.settings import load_settings
    from matcher.wiring import build_services

    settings = load_settings(args.config)
    try:
        build_services(settings).records.close()  # fail fast on a bad catalog, trust store or DB
    except SchemaOutdated as exc:
        if args.config and str(exc).endswith("matcher db upgrade"):
            raise SchemaOutdated(f"{exc} --config {shlex.quote(str(args.config))}") from None
        raise
    for caller in settings.callers:  # and on a caller key that is not set
        caller.api_key()
    # log_config=None: uvicorn's loggers go through the handler main() set up (JSON or text,
    # ID numbers masked), not uvicorn's own.
    if args.workers > 1:
        if args.config:
            os.environ[CONFIG_ENV] = str(Path(args.config).resolve())
        os.environ[LOG_FORMAT_ENV] = args.log_format
        _metrics_across_workers(settings.state_dir / "metrics")
        uvicorn.run(
            "matcher.cli:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            log_config=None,
        )
    else:
        uvicorn.run(
            create_app(settings),
            host=args.host,
            port=args.port,
            log_level="info",
            log_config=None,
        )
    return 0


def _metrics_across_workers(folder: Path) -> None:
    """Prometheus multiprocess mode: each worker writes its figures to ``folder`` (emptied of a
    previous run's first) and /metrics from any worker sums them."""
    import shutil

    from matcher.observe import MULTIPROC_ENV

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)


def _db(args: argparse.Namespace) -> int:
    from matcher.migrations import schema_state, upgrade
    from matcher.records import make_engine
    from matcher.settings import load_settings

    engine = make_engine(load_settings(args.config).resolved_database_url())
    try:
        if args.action == "upgrade":
            before = upgrade(engine)
            after = schema_state(engine)
            print(f"database was {before.describe()}; now at revision {after.current[0]}")
        else:
            state = schema_state(engine)
            verdict = "up to date" if state.is_current else "needs: matcher db upgrade"
            if state.is_newer:
                verdict = "newer than this release"
            print(f"database: {state.describe()}; this release: {state.head} ({verdict})")
    finally:
        engine.dispose()
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InputError("the two passwords differ")
    return first


def _users(args: argparse.Namespace) -> int:
    from matcher.records import Records
    from matcher.settings import load_settings
    from matcher.users import UserStore

    records = Records(load_settings(args.config).resolved_database_url())
    try:
        user = UserStore(records).add_user(
            args.name, args.role, _read_password(args), department=args.department
        )
    finally:
        records.close()
    where = f", department {user.department}" if user.department else ""
    print(f"user {user.username} added: {user.role}{where}")
    return 0


def _records(args: argparse.Namespace) -> int:
    from matcher.records import Records
    from matcher.settings import load_settings

    records = Records(load_settings(args.config).resolved_database_url())
    try:
        result = records.verify_usage_chain()
    finally:
        records.close()
    if result.first_break is not None:
        print(f"usage records: the chain breaks at {result.first_break}", file=sys.stderr)
        return 1
    print(f"usage records: {result.records} records, the hash chain is intact")
    return 0


def _keys(args: argparse.Namespace) -> int:
    import datetime as dt

    from matcher.keys import KeyStore
    from matcher.records import Records, api_keys
    from matcher.settings import load_settings

    records = Records(load_settings(args.config).resolved_database_url())
    store = KeyStore(records.engine, api_keys)
    try:
        if args.action == "create":
            made = store.create(
                args.caller, args.scopes.split(","), rate_per_min=args.rate, note=args.note
            )
            print(f"key {made.key_id} for {made.caller} (shown once, keep it now):\n{made.key}")
        elif args.action == "rotate":
            made = store.rotate(args.key_id, overlap=dt.timedelta(hours=args.overlap_hours))
            print(
                f"key {made.key_id} replaces {args.key_id}, which works {args.overlap_hours} h "
                f"more (shown once, keep it now):\n{made.key}"
            )
        elif args.action == "revoke":
            if not store.revoke(args.key_id):
                print(f"matcher: no active key {args.key_id}", file=sys.stderr)
                return 1
            print(f"key {args.key_id} revoked")
        else:
            for k in store.list():
                state = (
                    "revoked"
                    if k["revoked_at"]
                    else (
                        f"expires {k['expires_at']:%Y-%m-%d %H:%M}" if k["expires_at"] else "active"
                    )
                )
                rate = f"{k['rate_per_min']}/min" if k["rate_per_min"] else "no limit"
                print(f"{k['key_id']}  {k['caller']:<24} {state:<24} {rate:<10} {k['scopes']}")
    finally:
        records.close()
    return 0


def _data(args: argparse.Namespace) -> int:
    from matcher.application_store import ApplicationStore, reseal_applications
    from matcher.files import FileStore
    from matcher.recheck import reseal_requests
    from matcher.records import Records, rechecks
    from matcher.sealed import Sealer
    from matcher.settings import load_settings

    settings = load_settings(args.config)
    sealer = Sealer(*settings.data_keys())
    records = Records(settings.resolved_database_url())
    try:
        done, current = FileStore(records, sealer=sealer).reseal()
        queued = reseal_requests(records.engine, rechecks, sealer)
        kept = reseal_applications(ApplicationStore(records, sealer))
    finally:
        records.close()
    print(f"uploaded files: {done} sealed again under key {sealer.current}, {current} already were")
    print(f"queued re-check requests: {queued} sealed again")
    print(f"applications and their edits: {kept} rows sealed again")
    return 0


def _check_config(args: argparse.Namespace) -> int:
    import asyncio

    from matcher.extras import installed_parts
    from matcher.settings import load_settings
    from matcher.wiring import build_services

    settings = load_settings(args.config)
    services = build_services(settings)
    print(
        f"ok: {len(services.catalog)} matters, {len(services.trust_store)} trusted keys, "
        f"{len(services.adapters)} registries"
    )
    parts = installed_parts(settings.ocr_engine)
    for kind, state in parts["ocr_engines"].items():
        chosen = " (configured)" if kind == settings.ocr_engine else ""
        print(f"OCR engine {kind}{chosen}: {state}")
    print(f"charts: {parts['charts']}")
    asyncio.run(services.aclose())
    return 0


def _sandbox_config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from matcher.sandbox import SandboxConfig

    return SandboxConfig(
        data_dir=args.data,
        seed=args.seed,
        latency_ms=args.latency_ms,
        jitter_ms=getattr(args, "jitter_ms", 0.0),  # `demo` has no --jitter-ms
        fault_rate=args.fault_rate,
        fault_mode=args.fault_mode,
        page_size=args.page_size,
    )


SANDBOX_ARGS_ENV = "MATCHER_SANDBOX_ARGS"


def sandbox_from_env():  # type: ignore[no-untyped-def]  # uvicorn factory for --workers > 1
    from matcher.sandbox import create_sandbox_app

    values = json.loads(os.environ[SANDBOX_ARGS_ENV])
    values["data"] = Path(values["data"]) if values["data"] else None
    return create_sandbox_app(_sandbox_config(argparse.Namespace(**values)))


def _sandbox(args: argparse.Namespace) -> int:
    from matcher.sandbox import create_province_sandbox_app, run_sandbox, write_trust_store
    from matcher.serving import serve
    from matcher.settings import default_state_dir

    out = args.trust_store_out or default_state_dir() / "sandbox-trust.json"
    config = _sandbox_config(args)
    if args.province:
        write_trust_store(config, Path(out))
        print(
            f"provincial sandbox on http://{args.host}:{args.port} (app id "
            f"{config.province_app_id}); trust store written to {out}"
        )
        log_level = "info" if not args.no_access_log else "warning"
        serve(create_province_sandbox_app(config), args.host, args.port, log_level=log_level)
        return 0
    print(f"sandbox registry on http://{args.host}:{args.port}; trust store written to {out}")
    if args.workers > 1:
        # Worker processes, each with the same records and keys (from the seed); faults and
        # counters are each worker's own, so PUT /_sandbox/faults reaches only one of them.
        import uvicorn

        write_trust_store(config, Path(out))
        keep = ("data", "seed", "latency_ms", "fault_rate", "fault_mode", "page_size", "jitter_ms")
        values = {k: getattr(args, k) for k in keep}
        values["data"] = str(values["data"]) if values["data"] else None
        os.environ[SANDBOX_ARGS_ENV] = json.dumps(values)
        uvicorn.run(
            "matcher.cli:sandbox_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="warning",
            access_log=not args.no_access_log,
        )
        return 0
    run_sandbox(config, args.host, args.port, Path(out), access_log=not args.no_access_log)
    return 0


def _demo(args: argparse.Namespace) -> int:
    import threading

    from matcher.api import create_app
    from matcher.demo import (
        DEMO_CLERK,
        DEMO_OFFICER,
        DEMO_OFFICER_DEPARTMENT,
        demo_account,
        demo_clerk,
        demo_curl,
        free_port_or_fail,
        submit_demo_applications,
        upgrade_database,
    )
    from matcher.sandbox import create_province_sandbox_app, create_sandbox_app, write_trust_store
    from matcher.serving import ServerThread
    from matcher.settings import RegistryConfig, Settings, default_state_dir

    for port, flag in (
        (args.port, "--port"),
        (args.sandbox_port, "--sandbox-port"),
        (args.province_port, "--province-port"),
    ):
        free_port_or_fail(args.host if flag == "--port" else "127.0.0.1", port, flag)
    state = default_state_dir()
    state.mkdir(parents=True, exist_ok=True)
    config = _sandbox_config(args)
    trust = state / "sandbox-trust.json"
    write_trust_store(config, trust)
    with (
        ServerThread(create_sandbox_app(config), port=args.sandbox_port) as sandbox,
        ServerThread(create_province_sandbox_app(config), port=args.province_port) as province,
    ):
        province_app = {
            "app_id": config.province_app_id,
            "app_secret": config.province_app_secret.get_secret_value(),
        }
        settings = Settings(
            trust_store=trust,
            state_dir=state,
            registries=[
                RegistryConfig(name="sandbox-elicence", adapter="elicence", base_url=sandbox.url),
                RegistryConfig(name="sandbox-datacert", adapter="datacert", base_url=sandbox.url),
                RegistryConfig(
                    name="sandbox-province",
                    adapter="province",
                    base_url=province.url,
                    **province_app,
                ),
            ],
        )
        upgrade_database(settings.resolved_database_url())
        password = demo_clerk(settings.resolved_database_url())
        officer_password = demo_account(
            settings.resolved_database_url(), DEMO_OFFICER, "data_officer", DEMO_OFFICER_DEPARTMENT
        )
        app = create_app(settings)
        with ServerThread(app, host=args.host, port=args.port, startup_timeout_s=60):
            base = f"http://{args.host}:{args.port}"
            samples = submit_demo_applications(base)
            print(f"sandbox registries: {sandbox.url} (city), {province.url} (provincial)")
            print(f"database: {settings.resolved_database_url()}")
            print(f"API docs: {base}/docs\nTry a waive-check (企业设立登记, 申请人 张伟):\n")
            print(demo_curl(base) + "\n")
            print("Or send it as an application: the same check plus its pre-filled form, kept")
            print(f"under its number (then GET {base}/v1/applications/DEMO-0001/form.pdf):\n")
            print(demo_curl(base, "applications") + "\n")
            print(f"Clerk's workbench: {base}/ui/   user: {DEMO_CLERK}   password: {password}")
            print(
                f"Data problems and the assessment (考核): {base}/ui/data-problems   "
                f"user: {DEMO_OFFICER}   password: {officer_password}   "
                f"(data officer of {DEMO_OFFICER_DEPARTMENT}, 舟山市公安局)"
            )
            print("Sample applications:")
            for app_id, what, url in samples:
                print(f"  {app_id}  {what}\n          {url}")
            print("\nCtrl+C stops the demo.", flush=True)
            threading.Event().wait()
    return 0


def _extract(args: argparse.Namespace) -> int:
    from matcher.api.extract import extraction_out
    from matcher.extract.kinds import load_doc_kinds
    from matcher.extract.pipeline import ExtractOptions, Extractor
    from matcher.settings import load_settings
    from matcher.wiring import ocr_options

    settings = load_settings(args.config)
    if args.engine:
        settings = settings.model_copy(update={"ocr_engine": args.engine})
    extractor = Extractor(
        load_doc_kinds(settings.doc_kinds), ExtractOptions(ocr=ocr_options(settings))
    )
    status = 0
    results = []
    for path in args.files:
        try:
            result = extractor.extract(
                Path(path).read_bytes(), filename=Path(path).name, expected_kind=args.kind
            )
        except (OSError, MatcherError) as exc:
            print(f"matcher: {path}: {exc}", file=sys.stderr)
            status = 2
            continue
        out = extraction_out(result).model_dump(mode="json")
        if args.format == "json":
            results.append({"file": str(path), **out})
            continue
        print(f"== {path}: {out['kind_name'] or '未识别'} ({out['kind'] or '-'})")
        for f in out["fields"]:
            mark = "✓" if f["valid"] else "✗"
            shown = f["normalised"] if f["normalised"] is not None else f["value"]
            note = f"  ← {f['reason']}" if f["reason"] else ""
            print(f"  {mark} {f['label']:<10} {shown}  ({f['confidence']:.2f}, p{f['page']}){note}")
        for w in out["warnings"]:
            print(f"  ! {w}")
    if args.format == "json":
        print(json.dumps(results, ensure_ascii=False, indent=2))
    return status


def _adapters_list(args: argparse.Namespace) -> int:
    from matcher.adapter_tools import describe_adapters, format_adapter_list

    infos = describe_adapters()
    if args.format == "json":
        print(json.dumps([i.as_dict() for i in infos], ensure_ascii=False, indent=2))
    else:
        print(format_adapter_list(infos))
    return 0


def _adapters_check(args: argparse.Namespace) -> int:
    import asyncio

    import httpx

    from adapters._transport import registry_client
    from matcher.adapter_tools import ProbeReport, check_registries, format_reports
    from matcher.settings import load_settings

    settings = load_settings(args.config)

    async def run() -> list[ProbeReport]:
        client = registry_client(httpx.Limits(max_connections=20))
        try:
            return await check_registries(settings, client, args.name)
        finally:
            await client.aclose()

    reports = asyncio.run(run())
    if args.format == "json":
        print(json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        print(format_reports(reports))
    return 0 if all(r.ok for r in reports) else 1


def _adapters_new(args: argparse.Namespace) -> int:
    from matcher.scaffold import write_scaffold

    made = write_scaffold(args.name, args.kind, args.dir)
    print(f"wrote {made.dist} ({made.kind}) to {made.root}:")
    for path in made.files:
        print(f"  {path.relative_to(made.root)}")
    print(
        f"next: pip install -e '{made.root}[test]' into matcher's environment, then "
        f"python -m pytest -q {made.root / 'tests'}"
    )
    return 0


def _add_adapters_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("adapters", help="list, check or scaffold registry adapters")
    commands = p.add_subparsers(dest="adapters_command", required=True)

    q = commands.add_parser("list", help="installed adapters, their kind, package and options")
    q.add_argument("--format", choices=["table", "json"], default="table")
    q.set_defaults(func=_adapters_list)

    q = commands.add_parser(
        "check", help="ask each configured registry about its probe holder, once"
    )
    q.add_argument("--config", type=Path, required=True, help="TOML settings file")
    q.add_argument("name", nargs="?", default=None, help="only this registry")
    q.add_argument("--format", choices=["table", "json"], default="table")
    q.set_defaults(func=_adapters_check)

    q = commands.add_parser("new", help="write a new adapter package that passes its tests")
    q.add_argument("name", help="entry-point name, e.g. zj-province")
    q.add_argument("--kind", required=True, choices=["e_licence", "data_certificate"])
    q.add_argument("--dir", type=Path, default=Path("."), help="where to put the package")
    q.set_defaults(func=_adapters_new)


def _add_sandbox_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=None, help="folder of sandbox records")
    p.add_argument("--seed", default="matcher-sandbox", help="seed of the signing keys")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--fault-rate", type=float, default=0.0)
    p.add_argument("--page-size", type=int, default=5, help="licences per list page")
    p.add_argument(
        "--fault-mode",
        default="5xx",
        choices=["5xx", "timeout", "garbage", "malformed", "429", "mixed"],
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="matcher", description="材料免交核验服务")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log everything (DEBUG), migrations included"
    )
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        default=None,
        help="what the log shows; default: INFO for serve and sandbox, WARNING for the rest",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the API")
    p.add_argument("--config", type=Path, default=None, help="TOML file (none: demo defaults)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument(
        "--log-format",
        choices=("json", "text"),
        default="json",
        help="one JSON object per log line (default), or plain text",
    )
    p.set_defaults(func=_serve)

    p = sub.add_parser("demo", help="sandbox registry + API on embedded defaults")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--sandbox-port", type=int, default=9001)
    p.add_argument("--province-port", type=int, default=9002, help="the provincial sandbox")
    _add_sandbox_options(p)
    p.set_defaults(func=_demo)

    p = sub.add_parser("sandbox", help="serve the sandbox registry")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9001)
    p.add_argument("--trust-store-out", type=Path, default=None)
    p.add_argument("--workers", type=int, default=1, help="worker processes (for load tests)")
    p.add_argument("--jitter-ms", type=float, default=0.0, help="plus uniform 0..jitter ms")
    p.add_argument(
        "--no-access-log", action="store_true", help="do not log every request (benchmarks)"
    )
    p.add_argument(
        "--province", action="store_true", help="serve the provincial sharing interface instead"
    )
    _add_sandbox_options(p)
    p.set_defaults(func=_sandbox)

    p = sub.add_parser("extract", help="read document kinds and fields from files")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--kind", default=None, help="the expected document kind")
    p.add_argument("--engine", choices=["rapidocr", "paddleocr"], default=None)
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=_extract)

    p = sub.add_parser("db", help="the records database's schema")
    p.add_argument("action", choices=["upgrade", "status"])
    p.add_argument("--config", type=Path, default=None)
    p.set_defaults(func=_db)

    p = sub.add_parser("users", help="workbench accounts")
    users = p.add_subparsers(dest="action", required=True)
    p = users.add_parser("add", help="add a workbench account (the password is asked for)")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["clerk", "data_officer", "admin"])
    p.add_argument("--department", default=None, help="the department code it works for")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--config", type=Path, default=None)
    p.set_defaults(func=_users)
    p = sub.add_parser("records", help="the usage records (用证记录)")
    p.add_argument("action", choices=["verify"], help="verify: walk the hash chain")
    p.add_argument("--config", type=Path, default=None)
    p.set_defaults(func=_records)

    p = sub.add_parser("keys", help="callers' API keys (kept hashed in the records database)")
    keys = p.add_subparsers(dest="action", required=True)
    k = keys.add_parser("create", help="a new key for a business system (shown once)")
    k.add_argument("caller", help="the business system's name, recorded as the requester")
    k.add_argument(
        "--scopes",
        required=True,
        help="comma-separated: waive-check, applications, extract, usage, audits, "
        "data-problems, admin",
    )
    k.add_argument("--rate", type=int, default=None, help="requests a minute (default: no limit)")
    k.add_argument("--note", default=None)
    k = keys.add_parser("rotate", help="a new key for the same caller; the old one overlaps")
    k.add_argument("key_id")
    k.add_argument("--overlap-hours", type=float, default=24.0)
    k = keys.add_parser("revoke", help="stop a key now")
    k.add_argument("key_id")
    keys.add_parser("list", help="every key: id, caller, state, rate, scopes (never the key)")
    for k in keys.choices.values():
        k.add_argument("--config", type=Path, default=None)
    p.set_defaults(func=_keys)

    p = sub.add_parser("data", help="personal data at rest")
    p.add_argument(
        "action",
        choices=["rotate-key"],
        help="rotate-key: seal every kept file under the current (first) data key",
    )
    p.add_argument("--config", type=Path, default=None)
    p.set_defaults(func=_data)

    p = sub.add_parser("check-config", help="load and check a config, then exit")
    p.add_argument("--config", type=Path, default=None)
    p.set_defaults(func=_check_config)

    _add_adapters_commands(sub)

    from matcher.audit.command import add_audit_parser

    add_audit_parser(sub)
    return parser


# The servers log their requests and start-up as they always have; every other command prints its
# own answer, and the libraries' INFO lines (Alembic's migrations, uvicorn's start) stay out of it.
_LOGGING_COMMANDS = frozenset({"serve", "sandbox"})


def _log_level(args: argparse.Namespace) -> int:
    if args.verbose:
        return logging.DEBUG
    if args.log_level:
        return int(getattr(logging, args.log_level))
    return logging.INFO if args.command in _LOGGING_COMMANDS else logging.WARNING


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from matcher.observe import configure_logging

    # httpx, kept at WARNING there, logs whole request URLs at INFO, and e-licence queries carry
    # holder ID numbers; what other loggers say is masked (330902********0314).
    configure_logging(_log_level(args), getattr(args, "log_format", "text"))
    try:
        return int(args.func(args))
    except MatcherError as exc:
        print(f"matcher: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
