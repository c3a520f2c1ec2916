"""Install benchmark: the size of each install, from a fresh clone, and that each one works.

    PYTHONPATH=. python tests/bench/install_size.py [--profiles readme,base-lock,ocr,all-lock]

The repository's committed HEAD is cloned into a temporary folder, and each profile is installed
there into a new venv (``python3 -m venv``, the pip that comes with it), as a newcomer or an image
build would:

- ``readme``: the README's first command, ``pip install .`` (the base install; the target is at
  most 300 MB), then ``matcher demo`` and its printed waive-check (7 of 9 waived);
- ``base-lock``: what the image does with ``EXTRAS=base``: the lock with hashes, ``--no-deps``,
  the project as a wheel, ``pip check``;
- ``ocr``: ``pip install '.[ocr]'``, then ``matcher extract`` reads a photographed ID card
  (made here with the test corpus) — a scan read as before;
- ``all-lock``: the image's ``EXTRAS=all`` (both engines, the OpenCV stand-in); ``pip check``
  and one cv2/ folder.

Each line gives the venv's size on disk (``du``), the number of distributions, the time the
install took (pip's cache warm or cold, as the machine has it), and the check. The baseline is the
``all-lock`` venv, measured in the same run: the base install's share of it is printed too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_MB = 300.0


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def _size_mb(folder: Path) -> float:
    return int(_run(["du", "-sb", str(folder)], folder).split()[0]) / 1e6


def _dists(python: Path, cwd: Path) -> int:
    code = "import importlib.metadata as m; print(len(list(m.distributions())))"
    return int(_run([str(python), "-c", code], cwd))


def _photo(folder: Path) -> tuple[Path, str]:
    """A phone photo of an ID card from the first test corpus, and the number printed on it."""
    sys.path.insert(0, str(ROOT))
    from tests.extract.corpus import make_samples, phone_photo

    sample = make_samples("id_card_front", 1, seed=7)[0]
    path = folder / "id-card.jpg"
    path.write_bytes(phone_photo(sample.image(), seed=7))
    return path, sample.truth["id_number"]


def _demo(venv: Path, scratch: Path, env: dict[str, str]) -> str:
    """Start the demo, send its printed waive-check, stop it with Ctrl+C."""
    import json
    import shlex
    import signal
    import socket

    import httpx

    ports = []
    for _ in range(3):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(str(s.getsockname()[1]))
    cmd = [str(venv / "bin" / "matcher"), "demo", "--port", ports[0]]
    cmd += ["--sandbox-port", ports[1], "--province-port", ports[2]]
    proc = subprocess.Popen(cmd, cwd=scratch, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        curl = ""
        for line in proc.stdout:
            curl = line if line.startswith("curl ") and "waive-check" in line else curl
            if line.startswith("Ctrl+C"):
                break
        body = json.loads(shlex.split(curl)[-1])
        answer = httpx.post(
            f"http://127.0.0.1:{ports[0]}/v1/waive-check",
            json=body,
            headers={"X-Requester": "demo"},
            timeout=60,
        ).json()
        return f"demo's curl waives {answer['summary']['waived']} of {len(answer['decisions'])}"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def _install(profile: str, clone: Path, venv: Path) -> None:
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    if profile == "readme":
        _run([*pip, "."], clone)
    elif profile == "ocr":
        _run([*pip, ".[ocr]"], clone)
    else:
        lock = {"base-lock": "base", "all-lock": "all"}[profile]
        _run([*pip, "--require-hashes", "--no-deps", "-r", f"deps/lock/{lock}.txt"], clone)
        if lock == "all":
            _run([*pip, "--no-deps", "./deps/opencv-headless-shim"], clone)
        _run([*pip, "--no-deps", "."], clone)


def _check(profile: str, clone: Path, venv: Path, scratch: Path) -> str:
    python = venv / "bin" / "python"
    env = {**os.environ, "MATCHER_STATE_DIR": str(scratch / f"state-{profile}")}
    env.pop("PYTHONPATH", None)
    if profile == "readme":
        return _demo(venv, scratch, env)
    if profile == "ocr":
        photo, id_number = _photo(scratch)
        out = _run([str(venv / "bin" / "matcher"), "extract", str(photo)], scratch, env)
        return f"photo of an ID card read: {'yes' if id_number in out else 'NO'}"
    _run([str(python), "-m", "pip", "check"], scratch)
    cv2 = (
        "import importlib.metadata as m; print(sorted(d.metadata['Name'] for d in "
        "m.distributions() if any(str(f).startswith('cv2/') for f in d.files or [])))"
    )
    return f"pip check ok; cv2/ from {_run([str(python), '-c', cv2], scratch).strip()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", default="readme,base-lock,ocr,all-lock")
    args = parser.parse_args()
    profiles = args.profiles.split(",")
    print(f"install sizes, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        clone = scratch / "clone"
        _run(["git", "clone", "-q", str(ROOT), str(clone)], scratch)
        sizes: dict[str, float] = {}
        for profile in profiles:
            venv = scratch / f"venv-{profile}"
            _run([sys.executable, "-m", "venv", str(venv)], scratch)
            start = time.monotonic()
            _install(profile, clone, venv)
            took = time.monotonic() - start
            sizes[profile] = _size_mb(venv)
            verdict = _check(profile, clone, venv, scratch)
            target = f" (target <= {TARGET_MB:.0f} MB)" if profile == "readme" else ""
            print(
                f"{profile:<10} {sizes[profile]:7.0f} MB{target}  "
                f"{_dists(venv / 'bin' / 'python', scratch):3d} distributions  "
                f"{took:5.0f} s  {verdict}",
                flush=True,
            )
        if "readme" in sizes and "all-lock" in sizes:
            print(f"base / all: {sizes['readme'] / sizes['all-lock']:.2f}")


if __name__ == "__main__":
    main()
