"""``matcher adapters list | check | new``: the registries' adapters."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _adapters_list(args: argparse.Namespace) -> int:
    from matcher.sdk.tools import describe_adapters, format_adapter_list

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
    from matcher.sdk.tools import ProbeReport, check_registries, format_reports
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
    from matcher.sdk.scaffold import write_scaffold

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
