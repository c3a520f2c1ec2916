"""``matcher archive export | verify | keys``: an application's signed archive package."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from matcher.errors import InputError

__all__ = ["_add_archive_commands"]


def _add_archive_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("archive", help="applications' archive packages (存档零纸件)")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("export", help="one kept application's signed package (BagIt, zip)")
    a.add_argument("application_id", help="the application number the business system sent")
    a.add_argument("--out", type=Path, required=True, help="the package file to write")
    a.add_argument(
        "--requester",
        default=None,
        help="the business system that sent it (needed when two sent the same number)",
    )
    a.add_argument("--config", type=Path, default=None)
    a.set_defaults(func=_export)
    a = actions.add_parser(
        "verify", help="check a package offline: checksums, signatures, chain links"
    )
    a.add_argument("package", type=Path)
    a.add_argument(
        "--keys",
        type=Path,
        default=None,
        help="the service's published keys (the JSON of GET /service-keys, or of "
        "`matcher archive keys`): the package's signing key must be one of them",
    )
    a.set_defaults(func=_verify)
    a = actions.add_parser("keys", help="print the service's public keys, as /service-keys does")
    a.add_argument("--config", type=Path, default=None)
    a.set_defaults(func=_keys)


def _export(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from matcher.archive.package import build_package
    from matcher.settings import load_settings
    from matcher.store.applications import applications
    from matcher.wiring import build_services

    services = build_services(load_settings(args.config))
    try:
        store = services.applications.store
        with store.engine.connect() as conn:
            query = select(applications.c.id, applications.c.requester).where(
                applications.c.application_id == args.application_id
            )
            if args.requester:
                query = query.where(applications.c.requester == args.requester)
            found = conn.execute(query).all()
        if not found:
            raise InputError(f"no kept application {args.application_id}")
        if len(found) > 1:
            senders = ", ".join(sorted(r.requester for r in found))
            raise InputError(
                f"application {args.application_id} was sent by {senders}: name one with "
                "--requester"
            )
        row = store.get(found[0].id)
        assert row is not None
        package = build_package(services, row)
    finally:
        services.records.close()
    args.out.write_bytes(package)
    print(
        f"{args.out}: archive package of {args.application_id} ({row.status}), {len(package)} bytes"
    )
    return 0


def _verify(args: argparse.Namespace) -> int:
    from matcher.archive.verify import verify_package

    published = None
    if args.keys is not None:
        try:
            doc = json.loads(args.keys.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{args.keys}: not a readable key list ({exc})") from None
        published = doc.get("keys") if isinstance(doc, dict) else doc
        if not isinstance(published, list):
            raise InputError(f'{args.keys}: expected {{"keys": [...]}}')
    report = verify_package(args.package, published)
    for line in report.passed:
        print(f"ok    {line}")
    for line in report.notes:
        print(f"note  {line}")
    for line in report.failures:
        print(f"FAIL  {line}", file=sys.stderr)
    status = report.info.get("Application-Status", "?")
    if report.ok:
        number = report.info.get("External-Identifier")
        print(f"{args.package}: intact (application {number}, {status})")
        return 0
    print(f"{args.package}: {len(report.failures)} check(s) failed", file=sys.stderr)
    return 1


def _keys(args: argparse.Namespace) -> int:
    from matcher.settings import load_settings

    keys = load_settings(args.config).published_service_keys()
    print(json.dumps({"keys": keys}, ensure_ascii=False, indent=2))
    return 0
