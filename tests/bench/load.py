"""Load test: many clients, mostly new applicants, registries with realistic latency and faults.

    python tests/bench/load.py [--seconds 60] [--clients 200] [--database-url …] [--redis-url …]

- The sandbox registries run in processes of their own (``matcher sandbox --workers N``), both
  registries of the reference protocol, answering after 30 ms + 0–20 ms jitter, 1% of requests
  faulted (every kind in turn).
- The service: ``matcher serve --workers 2`` on PostgreSQL and Redis.
- wrk drives it with ``--clients`` connections for ``--seconds``: nine requests in ten are a new
  applicant (a fresh, valid ID number: every registry question is a real lookup, not a cache
  hit), one in ten is a sample applicant with licences and certificates on record.
- Afterwards it counts: answers by status class (target: no 5xx), every answered check on record
  with its usage records (target: none lost), throughput, p50/p99 latency, and the CPU each part
  used, so that the figures can be read as the service's and not the stand-in registries'.
Needs wrk (Debian package ``wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.waive_check import ensure_wrk, free_port, wait_http

ROOT = Path(__file__).resolve().parents[2]

# wrk's Lua: a new valid citizen ID number per request (GB 11643 MOD 11-2), or a sample holder;
# status classes counted per thread and summed in done().
SCRIPT = r"""
local samples = {SAMPLES}
counts = {c2 = 0, c4 = 0, c5 = 0}  -- a global: done() reads it from each thread
local threads = {}
local weights = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
local checks = {"1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2"}
local headers = {["Content-Type"] = "application/json", ["X-Requester"] = "load"}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + math.random(1, 1e6))
  counts = {c2 = 0, c4 = 0, c5 = 0}
end

local function new_id()
  local body = string.format("330902%04d%02d%02d%03d",
    math.random(1950, 2005), math.random(1, 12), math.random(1, 28), math.random(0, 999))
  local sum = 0
  for i = 1, 17 do sum = sum + tonumber(body:sub(i, i)) * weights[i] end
  return body .. checks[(sum % 11) + 1]
end

request = function()
  local applicant
  if math.random() < SAMPLE_SHARE then
    applicant = samples[math.random(1, #samples)]
  else
    applicant = '{"id_type":"citizen_id","id":"' .. new_id() .. '","name":"新申请人"}'
  end
  local body = '{"matter_code":"ent-establish","applicant":' .. applicant .. '}'
  return wrk.format("POST", "/v1/waive-check", headers, body)
end

response = function(status, headers, body)
  if status >= 500 then counts.c5 = counts.c5 + 1
  elseif status >= 400 then counts.c4 = counts.c4 + 1
  else counts.c2 = counts.c2 + 1 end
end

done = function(summary, latency, requests)
  local t = {c2 = 0, c4 = 0, c5 = 0}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    t.c2 = t.c2 + c.c2; t.c4 = t.c4 + c.c4; t.c5 = t.c5 + c.c5
  end
  io.write(string.format("STATUS 2xx=%d 4xx=%d 5xx=%d\n", t.c2, t.c4, t.c5))
  io.write(string.format("LATENCY p50=%.1f p99=%.1f\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes and their children, from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    seen: set[int] = set()
    stack = list(pids)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        stack += [int(c) for c in children]
    return total


def start(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2, help="API worker processes")
    ap.add_argument("--sandbox-workers", type=int, default=2)
    ap.add_argument("--latency-ms", type=float, default=30.0)
    ap.add_argument("--jitter-ms", type=float, default=20.0)
    ap.add_argument("--fault-rate", type=float, default=0.01)
    ap.add_argument("--sample-share", type=float, default=0.1)
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/load")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    args = ap.parse_args()
    wrk = ensure_wrk()
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="matcher-load-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MATCHER_STATE_DIR": str(tmp / "state")}
    if args.database_url.startswith("postgresql://"):
        _fresh_postgres(args.database_url)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()

    trust = tmp / "trust.json"
    sb_port, port = free_port(), free_port()
    sandbox = start(
        [
            *(py, "-m", "matcher.cli", "sandbox", "--port", str(sb_port)),
            *("--workers", str(args.sandbox_workers), "--latency-ms", str(args.latency_ms)),
            *("--jitter-ms", str(args.jitter_ms), "--fault-rate", str(args.fault_rate)),
            *("--fault-mode", "mixed", "--trust-store-out", str(trust), "--no-access-log"),
        ],
        tmp / "sandbox.log",
        env,
    )
    wait_http(f"http://127.0.0.1:{sb_port}/_sandbox/holders")
    config = tmp / "load.toml"
    config.write_text(
        f"""trust_store = "{trust}"
database_url = "{args.database_url}"
redis_url = "{args.redis_url}"
recheck_enabled = false

[[registries]]
name = "sandbox-elicence"
adapter = "elicence"
base_url = "http://127.0.0.1:{sb_port}"

[[registries]]
name = "sandbox-datacert"
adapter = "datacert"
base_url = "http://127.0.0.1:{sb_port}"
""",
        encoding="utf-8",
    )
    api = start(
        [
            *(py, "-m", "matcher.cli", "serve", "--config", str(config), "--port", str(port)),
            *("--workers", str(args.workers), "--log-format", "json"),
        ],
        tmp / "api.log",
        env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/healthz", 60)
        from matcher.sandbox import load_holders

        people = [load_holders()[k] for k in ("zhang_wei", "li_na", "lin_hai", "wu_jianguo")]
        samples = ", ".join(
            "'"
            + json.dumps({"id_type": h.id_type, "id": h.id, "name": h.name}, ensure_ascii=False)
            + "'"
            for h in people
        )
        script = tmp / "load.lua"
        script.write_text(
            SCRIPT.replace("{SAMPLES}", "{" + samples + "}").replace(
                "SAMPLE_SHARE", str(args.sample_share)
            ),
            encoding="utf-8",
        )
        cpu_before = {"api": cpu_seconds([api.pid]), "sandbox": cpu_seconds([sandbox.pid])}
        started = time.monotonic()
        out = subprocess.run(
            [
                *(wrk, "-t2", f"-c{args.clients}", f"-d{args.seconds}s", "--timeout", "10s"),
                *("-s", str(script), url),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        wall = time.monotonic() - started
        cpu = {
            "api": cpu_seconds([api.pid]) - cpu_before["api"],
            "sandbox": cpu_seconds([sandbox.pid]) - cpu_before["sandbox"],
        }
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
        sb_stats = httpx.get(f"http://127.0.0.1:{sb_port}/_sandbox/stats", timeout=10).json()
    finally:
        stop(api)
        stop(sandbox)

    status = dict(re.findall(r"(\dxx)=(\d+)", out))
    lat = dict(re.findall(r"(p\d+)=([\d.]+)", out))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    sockets = re.search(r"Socket errors: (.*)", out)
    answered = int(status.get("2xx", 0))
    lookups = sum(
        float(v)
        for v in re.findall(
            r"^matcher_registry_request_duration_seconds_count\{[^}]*\} ([\d.e+]+)$",
            metrics,
            re.M,
        )
    )
    by_basis: dict[str, float] = {}
    for labels_text, value in re.findall(
        r"^matcher_decisions_total\{([^}]*)\} ([\d.e+]+)$", metrics, re.M
    ):
        basis = dict(re.findall(r'(\w+)="([^"]*)"', labels_text)).get("basis", "?")
        by_basis[basis] = by_basis.get(basis, 0.0) + float(value)
    recorded, with_usage, usage_rows = _records(args.database_url)
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    print(
        f"[load] wrk -t2 -c{args.clients} -d{args.seconds}s; {args.workers} API workers on "
        f"{args.database_url.split(':')[0]} + Redis; sandbox: {args.sandbox_workers} processes, "
        f"{args.latency_ms:.0f}+0..{args.jitter_ms:.0f} ms, {args.fault_rate:.0%} faults (mixed); "
        f"{1 - args.sample_share:.0%} new applicants"
    )
    print(
        f"[load] answers: 2xx {answered}, 4xx {status.get('4xx', 0)}, "
        f"5xx {status.get('5xx', 0)} (target 0); socket errors: "
        f"{sockets.group(1) if sockets else 'none'}"
    )
    print(
        f"[load] throughput {rps.group(1) if rps else '?'} checks/s; "
        f"latency p50 {lat.get('p50', '?')} ms, p99 {lat.get('p99', '?')} ms"
    )
    print(
        "[load] baseline (issue 23, main before its work, 200 clients, PostgreSQL + Redis, "
        "2 workers): 103 checks/s, p50 1.5 s, p99 4.4 s, 0 errors"
    )
    print(
        f"[load] registry lookups made {lookups:.0f} "
        f"(one of the {args.sandbox_workers} sandbox workers saw "
        f"{sum(sb_stats['requests'].values())} requests, "
        f"{sum(sb_stats['faults_injected'].values())} faulted); usage records {usage_rows}"
    )
    total = sum(by_basis.values()) or 1.0
    down = by_basis.get("registry_unavailable", 0.0)
    print(
        f"[load] decisions {total:.0f}: registry_unavailable {down:.0f} ({down / total:.1%}; the "
        f"{args.fault_rate:.0%} injected faults and any registry answer past its 2 s budget), "
        f"waived on e-licence {by_basis.get('e_licence', 0):.0f}, "
        f"data certificate {by_basis.get('data_certificate', 0):.0f}"
    )
    lost = answered - with_usage
    print(
        f"[load] checks answered {answered}, on record {recorded}, with their usage records "
        f"{with_usage}: lost {max(0, lost)} (target 0)"
    )
    print(
        f"[load] CPU over {wall:.0f} s on {os.cpu_count()} cores: service {cpu['api']:.0f} s, "
        f"sandbox registries {cpu['sandbox']:.0f} s "
        f"({cpu['sandbox'] / max(1e-9, cpu['api'] + cpu['sandbox']):.0%} of the two); "
        f"wrk and the databases the rest"
    )
    shutil.rmtree(tmp, ignore_errors=True)


def _fresh_postgres(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/test", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _records(url: str) -> tuple[int, int, int]:
    from sqlalchemy import distinct, func, select

    from matcher.store.records import Records, checks, usage_records

    store = Records(url)
    try:
        with store.engine.connect() as conn:
            recorded = conn.execute(select(func.count()).select_from(checks)).scalar_one()
            with_usage = conn.execute(
                select(func.count(distinct(usage_records.c.check_id)))
            ).scalar_one()
            rows = conn.execute(select(func.count()).select_from(usage_records)).scalar_one()
    finally:
        store.close()
    return int(recorded), int(with_usage), int(rows)


if __name__ == "__main__":
    main()
