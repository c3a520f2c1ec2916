"""``matcher db | users | records | keys | data | check-config``: the operator's commands."""

from __future__ import annotations

import argparse
import sys

from matcher.errors import InputError


def _db(args: argparse.Namespace) -> int:
    from matcher.settings import load_settings
    from matcher.store.migrations import schema_state, upgrade
    from matcher.store.records import make_engine

    settings = load_settings(args.config)
    engine = make_engine(settings.resolved_database_url())
    try:
        if args.action == "upgrade":
            before = upgrade(engine, settings.privacy())
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
    from matcher.access.users import UserStore
    from matcher.settings import load_settings
    from matcher.store.records import Records

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
    from matcher.settings import load_settings
    from matcher.store.checkpoints import check_tail, latest_checkpoint
    from matcher.store.records import Records

    settings = load_settings(args.config)
    records = Records(settings.resolved_database_url(), settings.privacy())
    try:
        result = records.verify_usage_chain()
        checkpoint = latest_checkpoint(settings.resolved_checkpoint_file())
        tail = (
            check_tail(
                records.engine,
                checkpoint,
                settings.service_key(),
                settings.retired_public_keys(),
            )
            if checkpoint is not None and result.first_break is None
            else None
        )
    finally:
        records.close()
    if result.first_break is not None:
        print(f"usage records: the chain breaks at {result.first_break}", file=sys.stderr)
        return 1
    if tail is not None:
        print(f"usage records: {tail}", file=sys.stderr)
        return 1
    vouched = (
        f"; its head at the checkpoint of {checkpoint.at} (#{checkpoint.seq}) is signed and kept"
        if checkpoint is not None
        else "; no checkpoint yet, so a cut tail would not show"
    )
    print(f"usage records: {result.records} records, the hash chain is intact{vouched}")
    return 0


def _keys(args: argparse.Namespace) -> int:
    import datetime as dt

    from matcher.access.keys import KeyStore
    from matcher.settings import load_settings
    from matcher.store.records import Records, api_keys

    records = Records(load_settings(args.config).resolved_database_url())
    store = KeyStore(records.engine, api_keys)
    try:
        if args.action == "create":
            made = store.create(
                args.caller,
                args.scopes.split(","),
                rate_per_min=args.rate,
                note=args.note,
                department=args.department,
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
                dept = f"  department {k['department']}" if k["department"] else ""
                print(
                    f"{k['key_id']}  {k['caller']:<24} {state:<24} {rate:<10} {k['scopes']}{dept}"
                )
    finally:
        records.close()
    return 0


def _data(args: argparse.Namespace) -> int:
    from matcher.settings import load_settings
    from matcher.store.applications import ApplicationStore, reseal_applications
    from matcher.store.files import FileStore
    from matcher.store.records import Records, rechecks
    from matcher.waiver.recheck import reseal_requests

    settings = load_settings(args.config)
    privacy = settings.privacy()
    sealer = privacy.sealer
    records = Records(settings.resolved_database_url(), privacy)
    try:
        done, current = FileStore(records, sealer=sealer).reseal()
        queued = reseal_requests(records.engine, rechecks, sealer)
        kept = reseal_applications(ApplicationStore(records, sealer))
        answers = records.reseal()
    finally:
        records.close()
    print(f"uploaded files: {done} sealed again under key {sealer.current}, {current} already were")
    print(f"queued re-check requests: {queued} sealed again")
    print(f"applications and their edits: {kept} rows sealed again")
    print(f"check answers and usage records: {answers} rows sealed again")
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
