"""What a warm waive-check costs the service in CPU, stage by stage, without HTTP.

    python tests/bench/check_cpu.py [--checks 4800] [--concurrency 16]

The service is built as `matcher serve` builds it (SQLite in a temp folder, the in-process
cache, answers sealed), against the sandbox registry on loopback. One check fills the cache; then
``--concurrency`` tasks run ``--checks`` checks of 企业设立登记 for the same applicant, as the
waive-check bench's warm section does over HTTP, so checks finishing together share a commit.
Printed: CPU time per check (``process_time``) and the wall time spent in each stage (the records'
includes their commit's wait on the disk). The figures guide work on issue 23's warm-cache ratio:
they are not a target, and the HTTP figures of tests/bench/waive_check.py are the ones that count.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import uvloop

import matcher.waiver.check as check_module
from matcher.sandbox import SandboxConfig, create_sandbox_app, load_holders, write_trust_store
from matcher.sandbox.serving import ServerThread
from matcher.settings import RegistryConfig, Settings
from matcher.store.records import Records
from matcher.waiver import judge
from matcher.waiver.payloads import WaiveCheckRequest
from matcher.wiring import build_services

spent: collections.defaultdict[str, float] = collections.defaultdict(float)


def timed(owner: Any, name: str, label: str) -> None:
    """Add the wall time of every call of ``owner.name`` to ``spent[label]``."""
    inner: Callable[..., Any] = getattr(owner, name)
    if asyncio.iscoroutinefunction(inner):

        async def outer_async(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await inner(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started

        setattr(owner, name, outer_async)
    else:

        def outer(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started

        setattr(owner, name, outer)


async def run(url: str, trust: Path, tmp: Path, checks: int, concurrency: int) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'records.db'}",
        trust_store=trust,
        state_dir=tmp,
        cache_ttl_s=3600,
        negative_cache_ttl_s=3600,
        registries=[
            RegistryConfig(name="sandbox-elicence", adapter="elicence", base_url=url),
            RegistryConfig(name="sandbox-datacert", adapter="datacert", base_url=url),
        ],
    )
    services = build_services(settings)
    service = services.checker
    timed(check_module.WaiveCheckService, "_plan", "plan (matter, IDs, lookups)")
    timed(service.gatherer, "gather", "gather (the cache)")
    timed(judge, "outcomes", "verify (outcomes)")  # as check_module calls them: judge.<name>
    timed(judge, "decisions", "decide")
    timed(check_module.WaiveCheckService, "_findings", "data problems")
    timed(check_module, "check_record", "the record (answer JSON, usage)")
    timed(Records, "save_checks", "write records + commit")
    holder = load_holders()["zhang_wei"]
    raw = json.dumps(
        {
            "matter_code": "ent-establish",
            "applicant": {"id_type": holder.id_type, "id": holder.id, "name": holder.name},
        },
        ensure_ascii=False,
    ).encode()
    await service.check(WaiveCheckRequest.model_validate_json(raw), "bench")  # fills the cache
    gc.freeze()
    gc.set_threshold(20_000, *gc.get_threshold()[1:])  # as the app sets it (matcher.api.app)
    each = checks // concurrency

    async def worker() -> None:
        for _ in range(each):
            started = time.perf_counter()
            request = WaiveCheckRequest.model_validate_json(raw)
            spent["parse the request"] += time.perf_counter() - started
            await service.check(request, "bench")

    spent.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = each * concurrency
    print(f"{done} warm checks, {concurrency} at a time: {done / wall:.0f} checks/s")
    print(f"CPU per check: {cpu / done * 1e6:.0f} µs (wall {wall / done * 1e6:.0f} µs)")
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"  {label:34s} {seconds / done * 1e6:7.1f} µs")
    rest = wall - sum(spent.values())
    print(f"  {'the rest (loop, response, recorder)':34s} {rest / done * 1e6:7.1f} µs")
    await services.aclose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--checks", type=int, default=4800)
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="matcher-check-cpu-") as folder:
        tmp = Path(folder)
        config = SandboxConfig()
        trust = write_trust_store(config, tmp / "trust.json")
        with ServerThread(create_sandbox_app(config)) as sandbox:
            uvloop.run(run(sandbox.url, trust, tmp, args.checks, args.concurrency))


if __name__ == "__main__":
    main()
