"""``matcher audit materials|applications|worker`` — the audits from the command line."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from matcher.settings import Settings, load_settings
from matcher.store.sealed import Sealer

if TYPE_CHECKING:
    from matcher.audit.jobs import JobStore

__all__ = ["add_audit_parser"]


def add_audit_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = sub.add_parser("audit", help="batch audits: material lists, past applications")
    kinds = audit.add_subparsers(dest="audit_command", required=True)

    p = kinds.add_parser("materials", help="材料清单审计: XLSX/CSV lists in the portal layout")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--out", type=Path, required=True, help="folder for the reports")
    p.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="门户列名=文件列名",
        help="map a heading of your files to the portal's (repeat)",
    )
    p.add_argument("--threshold", type=float, default=None, help="match score to accept (80)")
    p.add_argument("--reviewed", type=Path, default=None, help="CSV: 材料名称, 证照类型代码")
    p.add_argument("--city", default=None, help="本市 (default: the configured audit_city)")
    _common(p)
    p.set_defaults(func=_run_materials)

    p = kinds.add_parser("applications", help="多收材料审计: past applications, CSV or JSONL")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--out", type=Path, required=True, help="folder for the reports")
    p.add_argument("--purpose", required=True, help="用途, recorded in the usage records")
    p.add_argument("--concurrency", type=int, default=None, help="applications at once")
    _common(p)
    p.set_defaults(func=_run_applications)

    p = kinds.add_parser("worker", help="run a Celery worker for audit chunks")
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--concurrency", type=int, default=1, help="worker processes")
    p.add_argument("--pool", default="prefork", choices=["prefork", "solo", "threads"])
    p.add_argument("--name", default=None, help="the worker's node name (default celery@host)")
    p.set_defaults(func=_run_worker)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=None)
    p.add_argument(
        "--celery",
        action="store_true",
        help="send the chunks to Celery workers (needs redis_url); past applications only: a "
        "material list is faster here",
    )


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config)
    if getattr(args, "celery", False):
        settings = settings.model_copy(update={"audit_runner": "celery"})
    return settings


def _run(args: argparse.Namespace, kind: str, options: dict[str, object]) -> int:
    from tqdm import tqdm  # type: ignore[import-untyped]

    from matcher.audit.jobs import FileJobStore
    from matcher.audit.runner import InProcessRunner, create_job

    settings = _settings(args)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if kind == "materials":
        if settings.audit_runner == "celery":
            print(
                "材料清单在本机审计：匹配每秒数万行，分块经 Redis 交给 Celery worker 再汇总，"
                "比在本机更慢（见 docs/audit.md）",
                file=sys.stderr,
            )
        return _materials_here(args, settings, out, options)
    store: JobStore
    if settings.audit_runner == "celery":
        from matcher.audit.jobs import RedisJobStore

        assert settings.redis_url
        store = RedisJobStore(settings.redis_url, sealer=Sealer(*settings.data_keys()))
    else:
        store = FileJobStore(
            out / ".jobs", sealer=Sealer(*settings.data_keys())
        )  # the same files again resume this job
    spec = create_job(store, settings, kind, args.files, out, options=options, job_id="auto")
    unit = "份申请" if kind == "applications" else "行"
    done_before = store.progress(spec.id)
    bar = tqdm(
        total=spec.total_rows,
        unit=unit,
        desc=f"审计 {spec.id[:8]}",
        disable=None,
        file=sys.stderr,
        initial=done_before.rows_done if done_before else 0,
    )
    with bar:
        if settings.audit_runner == "celery":
            from matcher.audit.celery_app import enqueue, make_celery

            enqueue(make_celery(settings), store, spec.id)
            while True:
                progress = store.progress(spec.id)
                assert progress is not None
                bar.update(progress.rows_done - bar.n)
                if progress.status in ("done", "failed"):
                    break
                time.sleep(0.1)
            if progress.status == "failed":
                print(f"matcher: audit failed: {progress.error}", file=sys.stderr)
                return 1
            reports = progress.reports
        else:
            runner = InProcessRunner(settings, store)
            try:
                reports = runner.run(spec.id, on_chunk=bar.update)
            finally:
                runner.close()
    return _print_reports(reports, len(spec.file_problems))


def _materials_here(
    args: argparse.Namespace, settings: Settings, out: Path, options: dict[str, object]
) -> int:
    """A material list in this process, no job kept: a second run does the work again, which
    costs less than keeping it (see ``audit_materials_here``)."""
    from tqdm import tqdm

    from matcher.audit.runner import audit_materials_here

    tqdm.monitor_interval = 0  # no monitor thread: the workbook is written by a forked process
    with tqdm(unit="行", desc="审计", disable=None, file=sys.stderr) as bar:
        reports, _rows, problems = audit_materials_here(
            settings, args.files, out, options, on_rows=bar.update
        )
    return _print_reports(reports, problems)


def _print_reports(reports: dict[str, str], unreadable: int) -> int:
    """The report paths on stdout (name, tab, path), the files that could not be read on stderr."""
    if unreadable:
        print(f"{unreadable} 个文件无法读取，见报告的问题行", file=sys.stderr)
    for name, path in reports.items():
        print(f"{name}\t{path}")
    return 0


def _run_materials(args: argparse.Namespace) -> int:
    from matcher.audit.runner import reviewed_from
    from matcher.audit.sheets import parse_column_mapping

    options: dict[str, object] = {
        "columns": parse_column_mapping(args.column),
        "reviewed": reviewed_from(args.reviewed),
    }
    if args.threshold is not None:
        options["threshold"] = args.threshold
    if args.city:
        options["city"] = args.city
    return _run(args, "materials", options)


def _run_applications(args: argparse.Namespace) -> int:
    options: dict[str, object] = {"purpose": args.purpose}
    if args.concurrency:
        options["concurrency"] = args.concurrency
    return _run(args, "applications", options)


def _run_worker(args: argparse.Namespace) -> int:
    from matcher.audit.celery_app import make_celery

    app = make_celery(load_settings(args.config).model_copy(update={"audit_runner": "celery"}))
    app.worker_main(
        [
            "worker",
            f"--concurrency={args.concurrency}",
            f"--pool={args.pool}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
    return 0
