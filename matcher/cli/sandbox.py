"""``matcher sandbox``: the sandbox registries, and the options the demo shares with it."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


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
    from matcher.sandbox.serving import serve
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
