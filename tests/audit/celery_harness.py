"""Real processes for Celery audits: the sandbox registry and audit workers (tests and bench)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Process:
    def __init__(self, args: list[str], log: Path) -> None:
        self.log_path = log
        self._log: IO[bytes] = log.open("wb")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=env)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no message acknowledged."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def start_sandbox(folder: Path, latency_ms: float = 0.0) -> tuple[Process, str, Path]:
    port = free_port()
    trust = folder / "sandbox-trust.json"
    proc = Process(
        [
            sys.executable,
            "-m",
            "matcher.cli",
            "sandbox",
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
            "--no-access-log",
            "--trust-store-out",
            str(trust),
        ],
        folder / "sandbox.log",
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_sandbox/faults", timeout=1).status_code < 500 and trust.exists():
                return proc, url, trust
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.stop()
    raise RuntimeError(f"sandbox did not start: {proc.log_path.read_text()[-2000:]}")


def write_config(
    folder: Path,
    url: str,
    trust: Path,
    database_url: str,
    redis_url: str,
    broker_url: str,
    **extra: object,
) -> Path:
    lines = [
        f'trust_store = "{trust}"',
        f'database_url = "{database_url}"',
        f'redis_url = "{redis_url}"',
        f'audit_broker_url = "{broker_url}"',
        f'state_dir = "{folder / "state"}"',
        'audit_runner = "celery"',
        *(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in extra.items()),
        "",
        "[[registries]]",
        'name = "zs-elicence"',
        'adapter = "elicence"',
        f'base_url = "{url}"',
        "timeout_s = 5.0",
        "",
        "[[registries]]",
        'name = "zs-datacert"',
        'adapter = "datacert"',
        f'base_url = "{url}"',
        "timeout_s = 5.0",
    ]
    path = folder / "matcher.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_worker(config: Path, folder: Path, name: str) -> Process:
    return Process(
        [
            sys.executable,
            "-m",
            "matcher.cli",
            "audit",
            "worker",
            "--config",
            str(config),
            "--pool",
            "solo",
            "--name",
            f"{name}@%h",
        ],
        folder / f"worker-{name}.log",
    )
