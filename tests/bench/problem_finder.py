"""What finding data problems costs a waive-check: the finder's share of a warm-cache check.

    python tests/bench/problem_finder.py [--checks 500]

The service runs in-process against the sandbox (own thread, real HTTP, SQLite, in-process
cache); 企业设立登记 for the all-valid sample holder, checks one after another. Printed: the mean
time of a check and of the finder within it, and the share, with no report awaiting verification
and with one (the finder then also names the problems it looked for and did not meet).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from matcher.sandbox import SandboxConfig, create_sandbox_app, load_holders, write_trust_store
from matcher.sandbox.serving import ServerThread
from matcher.settings import RegistryConfig, Settings
from matcher.waiver.payloads import WaiveCheckRequest
from matcher.wiring import build_services


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=500)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-finder-"))
    config = SandboxConfig()
    trust = write_trust_store(config, tmp / "trust.json")
    with ServerThread(create_sandbox_app(config)) as sandbox:
        settings = Settings(
            trust_store=trust,
            database_url=f"sqlite:///{tmp / 'matcher.db'}",
            state_dir=tmp,
            registries=[
                RegistryConfig(name="zs-elicence", adapter="elicence", base_url=sandbox.url),
                RegistryConfig(name="zs-datacert", adapter="datacert", base_url=sandbox.url),
            ],
        )
        services = build_services(settings)
        holder = load_holders()["zhang_wei"]
        request = WaiveCheckRequest.model_validate(
            {
                "matter_code": "ent-establish",
                "applicant": {"id_type": holder.id_type, "id": holder.id, "name": holder.name},
            }
        )
        checker = services.checker
        spent = [0.0]
        find = checker.finder.find

        def timed(*a: Any, **k: Any) -> Any:
            start = time.perf_counter()
            try:
                return find(*a, **k)
            finally:
                spent[0] += time.perf_counter() - start

        checker.finder.find = timed  # type: ignore[method-assign]
        loop = services.problem_loop

        async def run() -> None:
            for _ in range(50):  # warm the cache and the memos
                await checker.check(request, "bench")
            for watching in (False, True):
                loop._fixed = {"a report awaiting verification"} if watching else set()
                spent[0] = 0.0
                start = time.perf_counter()
                for _ in range(args.checks):
                    await checker.check(request, "bench")
                total = time.perf_counter() - start
                print(
                    f"watching={watching!s:5}  check {total / args.checks * 1e3:6.3f} ms  "
                    f"finder {spent[0] / args.checks * 1e3:6.3f} ms  "
                    f"share {spent[0] / total:5.1%}"
                )
            await services.aclose()

        asyncio.run(run())


if __name__ == "__main__":
    main()
