"""Waive-check benchmark: fan-out latency and warm-cache throughput against a bare baseline.

    python tests/bench/waive_check.py [--latency-requests 300] [--seconds 10] [--connections 16]

0. A diagnostic: one certificate asked of the sandbox directly, to show its own overhead.
1. Latency: the sandbox registry (own process) answers after 30 ms; the API (own process, cache
   off) checks 企业设立登记 for the all-valid sample holder, one request at a time. Target:
   p50 ≤ registry latency + 5 ms. Then wrk drives the same server with many clients at once
   (cache off: every check asks both registries), for information.
2. Throughput with a warm cache: wrk drives the API, then a bare FastAPI endpoint that parses the
   same request model and returns a response of the same shape, both under the same uvicorn
   settings (uvloop and h11, as `matcher serve` runs). Target: ratio ≥ 0.5.
   Usage records are counted afterwards: each answered check must have left its rows.
3. Retries under load: 200 clients at once against two worker processes sharing the database and
   Redis; every request a new application of one of the sample applicants, except that one in ten
   retries one sent a moment before (often still running). Target: zero non-200 answers and zero
   cache errors (counted from the servers' logs); the throughput is printed.
Needs wrk (Debian package ``wrk``; installed with apt-get when missing and running as root).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
REGISTRY_LATENCY_MS = 30.0
MATTER = "ent-establish"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def process(args: list[str], ready_url: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_http(ready_url)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True
            )
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is needed: apt-get install wrk")
    return found


def write_config(
    path: Path, sandbox_url: str, trust: Path, db: str, cache_ttl: float, redis: str | None
) -> Path:
    redis_line = f'redis_url = "{redis}"' if redis else ""
    path.write_text(
        f"""{redis_line}
trust_store = "{trust}"
database_url = "{db}"
cache_ttl_s = {cache_ttl}
negative_cache_ttl_s = {cache_ttl}
state_dir = "{path.parent}"

[[registries]]
name = "sandbox-elicence"
adapter = "elicence"
base_url = "{sandbox_url}"
timeout_s = 2.0

[[registries]]
name = "sandbox-datacert"
adapter = "datacert"
base_url = "{sandbox_url}"
timeout_s = 2.0
""",
        encoding="utf-8",
    )
    return path


def request_body(holder: dict[str, str]) -> dict[str, object]:
    return {"matter_code": MATTER, "applicant": holder}


def sequential_posts(
    port: int, path: str, body: dict[str, object], count: int, ok: Callable[[int, bytes], bool]
) -> list[float]:
    """Milliseconds per request, one at a time on one keep-alive connection, after ten to warm
    up; ``ok`` checks every answer. The client is the standard library's http.client: it adds
    less of its own CPU to each figure than httpx does (~1 ms less per request here), and the
    figures are meant to be the servers'."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "X-Requester": "bench"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times: list[float] = []
    try:
        for i in range(count + 10):
            t0 = time.perf_counter()
            conn.request("POST", path, body=raw, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            elapsed = (time.perf_counter() - t0) * 1000
            if not ok(response.status, answer):
                raise RuntimeError(f"unexpected answer {response.status}: {answer[:300]!r}")
            if i >= 10:
                times.append(elapsed)
    finally:
        conn.close()
    return times


def all_waived(status: int, answer: bytes) -> bool:
    # 企业设立登记's real list (since 2026-12-07): 3 materials stand on registry records, each
    # waived for 张伟; before, the padded list had 7 (figures before that date are not alike)
    return status == 200 and json.loads(answer)["summary"]["waived"] >= 3


def run_wrk(
    wrk: str, url: str, body: dict[str, object], seconds: int, conns: int, tmp: Path
) -> float:
    script = tmp / "post.lua"
    payload = json.dumps(body, ensure_ascii=False).replace("\\", "\\\\").replace("'", "\\'")
    script.write_text(
        "wrk.method = 'POST'\n"
        f"wrk.body = '{payload}'\n"
        "wrk.headers['Content-Type'] = 'application/json'\n"
        "wrk.headers['X-Requester'] = 'bench'\n",
        encoding="utf-8",
    )
    out = subprocess.run(
        [wrk, "-t1", f"-c{conns}", f"-d{seconds}s", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers during the run:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise RuntimeError(out)
    return float(match.group(1))


RETRY_SCRIPT = """
local counter = 0
local prefix = ""
local holders = {HOLDERS}
local headers = {["Content-Type"] = "application/json", ["X-Requester"] = "bench"}
function init(args)
  prefix = "B" .. tostring(math.random(1, 1e9)) .. "-"
end
local function body(n)
  local h = holders[(n % #holders) + 1]
  return '{"matter_code":"ent-establish","applicant":' .. h ..
         ',"application_id":"' .. prefix .. n .. '"}'
end
request = function()
  counter = counter + 1
  local n = counter
  if counter > 20 and math.random() < RETRY_SHARE then
    n = counter - math.random(1, 20)  -- an application sent a moment ago: often still running
  end
  return wrk.format("POST", "/v1/waive-check", headers, body(n))
end
"""


def retries_under_load(
    wrk: str,
    sandbox_url: str,
    trust: Path,
    db: str,
    redis: str,
    tmp: Path,
    *,
    clients: int,
    seconds: int,
    retry_share: float,
) -> None:
    """Section 3: many clients, some retrying, two worker processes; count what went wrong."""
    from matcher.sandbox import load_holders

    valid = ("zhang_wei", "li_na", "lin_hai", "wu_jianguo", "chan_ka_yan")
    people = [load_holders()[k] for k in valid]
    holders = ", ".join(
        "'"
        + json.dumps({"id_type": h.id_type, "id": h.id, "name": h.name}, ensure_ascii=False)
        + "'"
        for h in people
    )
    script = tmp / "retry.lua"
    script.write_text(
        RETRY_SCRIPT.replace("{HOLDERS}", "{" + holders + "}").replace(
            "RETRY_SHARE", str(retry_share)
        ),
        encoding="utf-8",
    )
    config = write_config(tmp / "retry.toml", sandbox_url, trust, db, 3600, redis)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp / "retry-servers.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                *(sys.executable, str(ROOT / "tests/bench/_serve.py"), "matcher-workers"),
                *(str(port), str(config), "2"),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_http(f"{url}/healthz")
            out = subprocess.run(
                [
                    *(wrk, "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s"),
                    *("-s", str(script), url),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    logged = log_path.read_text(encoding="utf-8", errors="replace")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: (.*)", out)
    cache_errors = len(re.findall(r"redis \w+.* failed", logged))
    integrity = logged.count("IntegrityError")
    print(
        f"\n[retries] {clients} clients at once (wrk -t2 -c{clients} -d{seconds}s), "
        f"{retry_share:.0%} of requests retry an application sent a moment before; "
        f"2 worker processes, database {db.split(':')[0]}, cache redis"
    )
    print(
        f"[retries] {total.group(1) if total else '?'} answers, "
        f"{rps.group(1) if rps else '?'} req/s; "
        f"non-200: {non2xx.group(1) if non2xx else 0} (target 0); "
        f"socket errors: {sockets.group(1) if sockets else 'none'}"
    )
    print(
        f"[retries] cache errors in the servers' logs: {cache_errors} (target 0); "
        f"IntegrityError lines: {integrity}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency-requests", type=int, default=300)
    ap.add_argument("--seconds", type=int, default=4, help="length of one wrk run")
    ap.add_argument("--rounds", type=int, default=5, help="alternating matcher/bare runs")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    ap.add_argument("--redis-url", default=None, help="default: the in-process cache")
    ap.add_argument("--retry-clients", type=int, default=200, help="section 3's clients")
    ap.add_argument("--retry-seconds", type=int, default=15, help="section 3's length")
    ap.add_argument(
        "--retry-redis-url",
        default="redis://127.0.0.1:6379/5",
        help="section 3 always runs with Redis: --redis-url if given, else this",
    )
    ap.add_argument("--only-retries", action="store_true", help="run section 3 alone")
    args = ap.parse_args()
    wrk = ensure_wrk()
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="matcher-bench-"))
    trust = tmp / "trust.json"
    sb_port = free_port()
    sandbox_url = f"http://127.0.0.1:{sb_port}"
    sandbox = [
        py,
        "-m",
        "matcher.cli",
        "sandbox",
        "--port",
        str(sb_port),
        "--latency-ms",
        str(REGISTRY_LATENCY_MS),
        "--page-size",
        "50",
        "--trust-store-out",
        str(trust),
        "--no-access-log",  # the registry stand-in's logging is not the service's cost
    ]
    from matcher.sandbox import load_holders

    h = load_holders()["zhang_wei"]
    holder = {"id_type": h.id_type, "id": h.id, "name": h.name}
    body = request_body(holder)
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    with process(sandbox, f"{sandbox_url}/_sandbox/faults"):
        retry_db = args.database_url or f"sqlite:///{tmp / 'retries.db'}"
        retries = {
            "clients": args.retry_clients,
            "seconds": args.retry_seconds,
            "retry_share": 0.1,
        }
        redis = args.redis_url or args.retry_redis_url
        if args.only_retries:
            retries_under_load(wrk, sandbox_url, trust, retry_db, redis, tmp, **retries)
            return
        # 0. What one registry answer takes on its own, seen from here (a diagnostic).
        cert = {"cert_type": "social_insurance_record", "holder": body["applicant"]}
        direct = sequential_posts(
            sb_port, "/v1/certificates", cert, 50, lambda status, _: status == 201
        )
        print(
            f"\n[sandbox] one certificate asked directly: p50 {statistics.median(direct):.1f} ms "
            f"(injected {REGISTRY_LATENCY_MS:.0f} ms, plus HTTP both ways and timer wake-up)"
        )

        # 1. latency, cache off: every check asks both registries.
        db = args.database_url or f"sqlite:///{tmp / 'latency.db'}"
        cold = write_config(tmp / "cold.toml", sandbox_url, trust, db, 0, args.redis_url)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with process(
            [py, str(ROOT / "tests/bench/_serve.py"), "matcher", str(port), str(cold)],
            f"{url}/healthz",
        ):
            first = httpx.post(f"{url}/v1/waive-check", json=body, timeout=10).json()
            times = sequential_posts(
                port, "/v1/waive-check", body, args.latency_requests, all_waived
            )
            # Many checks at once with nothing cached: every one asks both registries.
            cold_rps = run_wrk(
                wrk, f"{url}/v1/waive-check", body, args.seconds, args.connections, tmp
            )
        materials = [
            d
            for d in first["decisions"]
            if d["basis"] not in ("no_evidence_source", "application_form")
        ]
        times.sort()
        p50 = statistics.median(times)
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(
            f"\n[latency] {MATTER}: {len(first['decisions'])} materials, {len(materials)} with "
            f"registry evidence, all waived: {first['summary']}"
        )
        print(
            f"[latency] registry latency {REGISTRY_LATENCY_MS:.0f} ms (both registries), "
            f"{args.latency_requests} sequential checks, cache off"
        )
        print(
            f"[latency] p50 {p50:.1f} ms   p99 {p99:.1f} ms   "
            f"p50 - registry latency = {p50 - REGISTRY_LATENCY_MS:.1f} ms (target ≤ 5 ms)"
        )

        print(
            f"[cold] {args.connections} clients at once, cache off: {cold_rps:.1f} checks/s "
            "(informational: no target)"
        )

        # 2. warm-cache throughput against the bare baseline, same uvicorn settings.
        db = args.database_url or f"sqlite:///{tmp / 'throughput.db'}"
        warm = write_config(tmp / "warm.toml", sandbox_url, trust, db, 3600, args.redis_url)
        canned = tmp / "canned.json"
        canned.write_text(json.dumps(first, ensure_ascii=False), encoding="utf-8")
        port, bare_port = free_port(), free_port()
        url, bare_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
        with (
            process(
                [py, str(ROOT / "tests/bench/_serve.py"), "matcher", str(port), str(warm)],
                f"{url}/healthz",
            ),
            process(
                [py, str(ROOT / "tests/bench/_serve.py"), "bare", str(bare_port), str(canned)],
                f"{bare_url}/docs",
            ),
        ):
            httpx.post(f"{url}/v1/waive-check", json=body, timeout=10).raise_for_status()
            from sqlalchemy import func, select

            from matcher.store.records import Records, checks, usage_records

            store = Records(db)
            with store.engine.connect() as conn:
                before_checks = conn.execute(select(func.count()).select_from(checks)).scalar_one()
                before_usage = conn.execute(
                    select(func.count()).select_from(usage_records)
                ).scalar_one()
            # Alternate short runs so that drift in the machine's speed (shared hosts vary by
            # ±10% over minutes) falls on both servers alike; the ratio is taken per round.
            rounds: list[tuple[float, float]] = []
            for _ in range(args.rounds):
                m = run_wrk(wrk, f"{url}/v1/waive-check", body, args.seconds, args.connections, tmp)
                b = run_wrk(
                    wrk, f"{bare_url}/v1/waive-check", body, args.seconds, args.connections, tmp
                )
                rounds.append((m, b))
            with store.engine.connect() as conn:
                n_checks = conn.execute(select(func.count()).select_from(checks)).scalar_one()
                n_usage = conn.execute(select(func.count()).select_from(usage_records)).scalar_one()
            store.close()
        per_check = before_usage // max(1, before_checks)
        done = n_checks - before_checks
        rps_matcher = statistics.median(m for m, _ in rounds)
        rps_bare = statistics.median(b for _, b in rounds)
        ratio = statistics.median(m / b for m, b in rounds)

        # 3. retries under load, two workers, Redis.
        retries_under_load(wrk, sandbox_url, trust, retry_db, redis, tmp, **retries)
    print(
        f"\n[throughput] {args.rounds} alternating rounds of wrk -t1 -c{args.connections} "
        f"-d{args.seconds}s, one uvicorn worker each, "
        f"database {db.split(':')[0]}, cache {'redis' if args.redis_url else 'in-process'}"
    )
    print(f"[throughput] waive-check, warm cache: {rps_matcher:8.1f} req/s (median)")
    print(f"[throughput] bare FastAPI POST:       {rps_bare:8.1f} req/s (median)")
    spread = ", ".join(f"{m / b:.3f}" for m, b in rounds)
    print(f"[throughput] ratio {ratio:.3f}, median of rounds ({spread}) (target ≥ 0.5)")
    written = n_usage - before_usage
    verdict = "ok" if written == done * per_check else "MISMATCH"
    print(
        f"[durable] {done} checks recorded during the run, {written} usage records "
        f"({per_check} per check expected: {verdict})"
    )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
