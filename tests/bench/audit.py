"""Audit benchmark: material rows matched per second, the whole `matcher audit materials`
command per second, and applications replayed per second.

    python tests/bench/audit.py [--rows 20000] [--e2e-rows 100000] [--applications 1000]
                                [--workers 1,2,4] [--skip-replay]

0. The whole command, ``matcher audit materials`` on a ~100,000-row list in a fresh process,
   every report written; then the same with ``--celery`` and two worker processes.
1. Matching, on one core (the process pinned to one CPU): rows of the two generated lists
   (realistic: names repeat, as in real lists), then rows whose names are all different (every
   name normalised and matched from scratch). Baseline in the same run: the naive approach,
   rapidfuzz ``extractOne`` of each raw name against every alias. Target: ≥ 20,000 rows/s.
2. Replay: the sandbox registry in its own process answering after 20 ms; N Celery worker
   processes (solo pool) on Redis; registry cache off, so every application asks the registries;
   PostgreSQL records. Applications per second for 1, 2 and 4 workers, and the ratios to 1.
Needs Redis and PostgreSQL as the tests do (MATCHER_TEST_REDIS_URL, MATCHER_TEST_PG_URL).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from matcher.audit.matching import MaterialMatcher  # noqa: E402
from matcher.audit.materials import audit_material_rows  # noqa: E402
from matcher.audit.sheets import MaterialRow  # noqa: E402
from matcher.catalog.licences import load_directory  # noqa: E402
from tests.audit import gen_applications, gen_clerk, gen_portal  # noqa: E402
from tests.audit.celery_harness import start_sandbox, start_worker, write_config  # noqa: E402
from tests.audit.gen_common import precision_recall  # noqa: E402

REDIS_URL = os.environ.get("MATCHER_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
PG_ADMIN_URL = os.environ.get("MATCHER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BROKER_DB = os.environ.get("MATCHER_TEST_BROKER_DB", "10")


def rows_of(names: list[str]) -> list[MaterialRow]:
    return [
        MaterialRow("bench.csv", i + 2, f"M{i // 8}", "事项", "舟山市市场监督管理局", "舟山市", n)
        for i, n in enumerate(names)
    ]


def wait_ready(workers: list[Any]) -> None:
    """Until every Celery worker's log says it is ready (two minutes at the most)."""
    deadline = time.monotonic() + 120
    while not all("ready." in w.log_path.read_text(errors="replace") for w in workers):
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not start")
        time.sleep(0.2)


def rate(fn: object, n: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return n / best


def bench_accuracy(rows: int = 5200) -> None:
    """Precision and recall at the default threshold, per generator (the test asserts them)."""
    matcher = MaterialMatcher(load_directory())
    print(f"== matching accuracy at the default threshold ({rows} rows per generator)")
    for generator in (gen_portal, gen_clerk):
        cases = generator.generate(rows)
        found = [
            r["type_code"]
            for r in audit_material_rows(rows_of([c.cells[3] for c in cases]), matcher, "舟山市")
        ]
        p, r = precision_recall([c.truth for c in cases], found)
        positives = sum(c.truth is not None for c in cases)
        print(
            f"  {generator.__name__.rsplit('.', 1)[-1]:<11} precision {p:.4f}  recall {r:.4f}  "
            f"({positives} licences, {rows - positives} look-alikes and others)"
        )


def bench_matching(count: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    directory = load_directory()
    half = count // 2
    names = [c.cells[3] for c in gen_portal.generate(half)] + [
        c.cells[3] for c in gen_clerk.generate(count - half)
    ]
    distinct = [f"{n}{i}" for i, n in enumerate(names)]  # a trailing number: never seen before
    realistic_rows, distinct_rows = rows_of(names), rows_of(distinct)

    def realistic() -> None:
        audit_material_rows(realistic_rows, MaterialMatcher(directory), "舟山市")

    def cold() -> None:
        from matcher.audit.matching import normalise_name

        normalise_name.cache_clear()
        audit_material_rows(distinct_rows, MaterialMatcher(directory), "舟山市")

    aliases = [a for t in directory.types for a in (t.name, *t.aliases)]
    sample = names[:2000]

    def naive() -> None:
        for n in sample:
            process.extractOne(n, aliases, scorer=fuzz.WRatio)

    r_real, r_cold = rate(realistic, len(names)), rate(cold, len(distinct))
    r_naive = rate(naive, len(sample), repeat=1)
    print(f"== material rows matched and classified, one core ({len(names)} rows)")
    print(f"  realistic list (names repeat):   {r_real:10,.0f} rows/s  (target >= 20,000)")
    print(f"  every name different (cold):     {r_cold:10,.0f} rows/s")
    print(f"  baseline, naive extractOne:      {r_naive:10,.0f} rows/s")
    print(
        f"  ratios to the baseline: realistic {r_real / r_naive:.1f}x, cold {r_cold / r_naive:.1f}x"
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_replay(applications: int, worker_counts: list[int]) -> None:
    import psycopg

    from matcher.audit.celery_app import enqueue, make_celery
    from matcher.audit.jobs import RedisJobStore
    from matcher.audit.runner import create_job
    from matcher.settings import load_settings
    from matcher.store.records import Records

    folder = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    db = f"bench_audit_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    pg_url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{db}"
    broker = f"{REDIS_URL.rsplit('/', 1)[0]}/{BROKER_DB}"
    sandbox, url, trust = start_sandbox(folder, latency_ms=20)
    Records(pg_url).close()
    config = write_config(
        folder,
        url,
        trust,
        pg_url,
        REDIS_URL,
        broker,
        audit_chunk_size=25,
        audit_rate_per_s=100000.0,
        cache_ttl_s=0,
        negative_cache_ttl_s=0,
    )
    settings = load_settings(config)
    store = RedisJobStore(REDIS_URL)
    celery = make_celery(settings)
    print(
        f"== replay: {applications} applications, sandbox latency 20 ms, cache off, "
        f"audit_concurrency {settings.audit_concurrency} per worker"
    )
    results: dict[int, float] = {}
    try:
        for n in worker_counts:
            workers = [
                start_worker(config, folder, f"b{n}-{i}-{uuid.uuid4().hex[:4]}") for i in range(n)
            ]
            try:
                wait_ready(workers)
                apps = gen_applications.generate(applications, seed=100 + n)
                path = gen_applications.write_csv(apps, folder / f"apps-{n}.csv")
                spec = create_job(
                    store,
                    settings,
                    "applications",
                    [path],
                    folder / f"out-{n}",
                    options={"purpose": "benchmark"},
                )
                cpu_before = sum(cpu_seconds(w.pid) for w in workers), cpu_seconds(sandbox.pid)
                load = os.getloadavg()[0]
                start = time.perf_counter()
                enqueue(celery, store, spec.id)
                while (p := store.progress(spec.id)) is None or p.status != "done":
                    time.sleep(0.05)
                elapsed = time.perf_counter() - start
                worker_cpu = sum(cpu_seconds(w.pid) for w in workers) - cpu_before[0]
                sandbox_cpu = cpu_seconds(sandbox.pid) - cpu_before[1]
            finally:
                for w in workers:
                    w.stop()
            results[n] = applications / elapsed
            print(
                f"  {n} worker process(es): {results[n]:8.1f} applications/s "
                f"({elapsed:.1f} s, reports included; CPU used: workers {worker_cpu:.1f} s, "
                f"sandbox {sandbox_cpu:.1f} s; load average {load:.1f})"
            )
        base = results[worker_counts[0]]
        ratios = ", ".join(f"{n}: {r / base:.2f}" for n, r in results.items())
        print(f"  ratios to {worker_counts[0]} worker: {ratios}")
    finally:
        sandbox.stop()
        store.close()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _timed_command(argv: list[str], cwd: Path) -> float:
    """Wall time of ``python -m matcher <argv>`` in a fresh process (its imports included)."""
    import subprocess

    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "matcher", *argv],
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def _celery_job_seconds(config: Path, listing: Path, out: Path) -> float:
    """A material job through the workers, as the API sends one: create, enqueue, wait."""
    from matcher.audit.celery_app import enqueue, make_celery
    from matcher.audit.jobs import RedisJobStore
    from matcher.audit.runner import create_job
    from matcher.settings import load_settings
    from matcher.store.sealed import Sealer

    settings = load_settings(config)
    assert settings.redis_url
    store = RedisJobStore(settings.redis_url, sealer=Sealer(*settings.data_keys()))
    try:
        start = time.perf_counter()
        spec = create_job(store, settings, "materials", [listing], out)
        enqueue(make_celery(settings), store, spec.id)
        while (p := store.progress(spec.id)) is None or p.status not in ("done", "failed"):
            time.sleep(0.05)
        assert p.status == "done", p.error
        return time.perf_counter() - start
    finally:
        store.close()


def bench_end_to_end(count: int, repeat: int = 2) -> None:
    """``matcher audit materials`` on a CSV list of ``count`` rows, every report written, as a
    user runs it (a fresh process): rows per second, without and with Celery (2 worker
    processes on Redis). Baseline in the same run: matching the same rows alone, in here."""
    from tests.audit.gen_common import write_cases

    if hasattr(os, "sched_setaffinity"):  # every CPU: the command forks its report writers
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    half = count // 2
    cases = gen_portal.generate(half) + gen_clerk.generate(count - half)
    folder = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    listing = write_cases(cases, folder / "list.csv")
    local = folder / "local.toml"
    local.write_text(f'state_dir = "{folder / "state"}"\n', encoding="utf-8")
    directory = load_directory()
    rows = rows_of([c.cells[3] for c in cases])
    start = time.perf_counter()
    audit_material_rows(rows, MaterialMatcher(directory), "舟山市")
    matching = time.perf_counter() - start
    argv = ["audit", "materials", str(listing)]
    broker = f"{REDIS_URL.rsplit('/', 1)[0]}/{BROKER_DB}"
    celery_config = write_config(
        folder,
        "http://127.0.0.1:9",
        folder / "unused-trust.json",
        f"sqlite:///{folder / 'm.db'}",
        REDIS_URL,
        broker,
    )
    workers = [
        start_worker(celery_config, folder, f"e2e{i}-{uuid.uuid4().hex[:4]}") for i in range(2)
    ]
    alone: list[float] = []
    with_workers: list[float] = []
    try:
        wait_ready(workers)
        # Alternating, the workers up throughout: this machine's speed drifts over minutes.
        for i in range(repeat):
            out = ["--out", str(folder / f"out{i}"), "--config", str(local)]
            alone.append(_timed_command([*argv, *out], folder))
            out = ["--out", str(folder / f"celery{i}"), "--celery", "--config", str(celery_config)]
            with_workers.append(_timed_command([*argv, *out], folder))
        job = _celery_job_seconds(celery_config, listing, folder / "job")
    finally:
        for w in workers:
            w.stop()
    whole, celery = statistics.median(alone), statistics.median(with_workers)
    sizes = {p.name: p.stat().st_size for p in (folder / "out0").iterdir() if p.is_file()}
    print(f"== `matcher audit materials`, {count:,} rows, every report, a fresh process each run")
    print(
        f"  whole command         {whole:6.2f} s  {count / whole:8,.0f} rows/s  (target >= 10,000)"
    )
    print(
        f"    each run: {', '.join(f'{t:.2f}' for t in alone)} s; with --celery: "
        f"{', '.join(f'{t:.2f}' for t in with_workers)} s (the median of each is shown)"
    )
    print(
        f"  --celery, 2 workers   {celery:6.2f} s  {count / celery:8,.0f} rows/s  "
        f"(target: not slower; time ratio {celery / whole:.2f}, target <= 1.00)"
    )
    print(
        f"  a job on the 2 workers {job:5.2f} s  {count / job:8,.0f} rows/s  "
        f"(as the API sends one; time ratio {job / whole:.2f}: why --celery keeps a list here)"
    )
    print(f"  matching alone        {matching:6.2f} s  {count / matching:8,.0f} rows/s  (baseline)")
    print(f"  ratio whole/matching time: {whole / matching:.2f}")
    print(f"  reports: {', '.join(f'{k} {v / 1e6:.1f} MB' for k, v in sorted(sizes.items()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument(
        "--e2e-rows", type=int, default=100_000, help="rows for the whole-command run (0: skip)"
    )
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--skip-replay", action="store_true")
    args = parser.parse_args()
    print(
        f"run at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs "
        f"(load average {os.getloadavg()[0]:.2f})"
    )
    bench_accuracy()
    bench_matching(args.rows)
    if args.e2e_rows:
        bench_end_to_end(args.e2e_rows)
    if not args.skip_replay:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        bench_replay(args.applications, [int(n) for n in args.workers.split(",")])


if __name__ == "__main__":
    main()
