"""``matcher serve | demo | sandbox | extract | db | check-config | adapters | audit``: the CLI.

May import: everything below it; it builds the services through wiring.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from matcher.cli.adapters import _add_adapters_commands
from matcher.cli.admin import _check_config, _data, _db, _keys, _records, _users
from matcher.cli.archive import _add_archive_commands
from matcher.cli.catalog import _add_catalog_commands
from matcher.cli.demo import _demo
from matcher.cli.extract import _extract
from matcher.cli.sandbox import _add_sandbox_options, _sandbox, sandbox_from_env
from matcher.cli.serve import _serve, app_from_env
from matcher.errors import MatcherError

# app_from_env and sandbox_from_env: the uvicorn factories ("matcher.cli:app_from_env").
__all__ = ["app_from_env", "build_parser", "main", "sandbox_from_env"]

log = logging.getLogger("matcher")


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
    p.add_argument(
        "--role",
        required=True,
        choices=["clerk", "window", "data_officer", "admin"],
        help="clerk: the applications of their department's matters (needs --department); "
        "window: a comprehensive window's (综合窗口), every department's",
    )
    p.add_argument("--department", default=None, help="the department code it works for")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--config", type=Path, default=None)
    p.set_defaults(func=_users)
    p = sub.add_parser("records", help="the usage records (用证记录)")
    p.add_argument("action", choices=["verify"], help="verify: walk the hash chain")
    p.add_argument("--config", type=Path, default=None)
    p.set_defaults(func=_records)

    _add_archive_commands(sub)
    _add_catalog_commands(sub)

    p = sub.add_parser("keys", help="callers' API keys (kept hashed in the records database)")
    keys = p.add_subparsers(dest="action", required=True)
    k = keys.add_parser("create", help="a new key for a business system (shown once)")
    k.add_argument("caller", help="the business system's name, recorded as the requester")
    k.add_argument(
        "--scopes",
        required=True,
        help="comma-separated: waive-check, applications, extract, usage, holder-usage, audits, "
        "data-problems, admin",
    )
    k.add_argument("--rate", type=int, default=None, help="requests a minute (default: no limit)")
    k.add_argument("--note", default=None)
    k.add_argument(
        "--department",
        default=None,
        help="the department (directory code, e.g. zs-amr) the system works for: it reads and "
        "acts on that department's data problems only",
    )
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
