#!/usr/bin/env bash
# The test command: install what the tests need, start the services they use, run every check.
# Usage: bash tests/run.sh [pytest args…]      (the README's second command; .ci/run calls it)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

apt_install() {
    if ! command -v apt-get >/dev/null; then
        echo "tests/run.sh: need $* but apt-get is not available; install them and re-run" >&2
        exit 1
    fi
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_redis() {
    port_open 6379 && return 0
    command -v redis-server >/dev/null || apt_install redis-server
    log "starting Redis"
    mkdir -p /tmp/matcher-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /tmp/matcher-redis --logfile /tmp/matcher-redis/redis.log
    for _ in $(seq 50); do port_open 6379 && return 0; sleep 0.2; done
    echo "tests/run.sh: Redis did not start" >&2; exit 1
}

ensure_postgres() {
    port_open 5432 && return 0
    command -v pg_ctlcluster >/dev/null || apt_install postgresql
    log "starting PostgreSQL"
    for v in /etc/postgresql/*; do
        as_root pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start || true
    done
    for _ in $(seq 100); do port_open 5432 && break; sleep 0.2; done
    port_open 5432 || { echo "tests/run.sh: PostgreSQL did not start" >&2; exit 1; }
    # Trust auth on loopback and a database "test", as the tests expect.
    as_root su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='test'\"" | grep -q 1 \
        || as_root su postgres -c "createdb test"
}

# The page tests drive Debian's Chromium (Playwright's own browser download needs a network we
# may not have) and need CJK fonts, or Chinese renders as empty boxes in their screenshots.
# (Also the audit reports' and the data-problem assessment's charts draw Chinese with Noto Sans CJK.)
ensure_browser() {
    local missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "ok installed" \
        || missing+=(fonts-noto-cjk)
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    apt_install "${missing[@]}"
}

# Song and Kai faces (AR PL) for the second test corpus (tests/extract/corpus2.py), beside the
# Noto CJK faces ensure_browser installs.
ensure_fonts() {
    [ -e /usr/share/fonts/truetype/arphic/uming.ttc ] && [ -e /usr/share/fonts/truetype/arphic/ukai.ttc ] \
        && return 0
    log "installing AR PL fonts"
    apt_install fonts-arphic-uming fonts-arphic-ukai
}

ensure_redis
ensure_postgres
# The demo and adapter walk-through tests run the documented curl commands.
command -v curl >/dev/null || apt_install curl
ensure_browser
ensure_fonts

log "installing into .venv"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# A venv made by an earlier release may hold the full PyMuPDF or the GUI OpenCV, which write the
# same folders as pymupdf-lite and the headless OpenCV: they go first.
.venv/bin/python - <<'PY'
import importlib.metadata as md, subprocess, sys
def owns(dist, folder):
    try:
        return any(str(f).startswith(folder) for f in md.distribution(dist).files or [])
    except md.PackageNotFoundError:
        return False
stale = [d for d, folder in (("PyMuPDF", "pymupdf/"), ("opencv-contrib-python", "cv2/")) if owns(d, folder)]
if stale:
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "-q", "-y", *stale], check=True)
PY
# Exactly the locked packages (hashes checked), then the stand-in for paddlex's GUI OpenCV pin,
# then the project itself with the test tools: the suite runs on what the lock says.
.venv/bin/python -m pip install -q --require-hashes --no-deps -r deps/lock/all.txt
.venv/bin/python -m pip install -q --no-deps ./deps/opencv-headless-shim
.venv/bin/python -m pip install -q -e '.[test]'

log "ruff"
.venv/bin/ruff check matcher adapters tests
.venv/bin/ruff format --check matcher adapters tests
log "mypy"
.venv/bin/mypy
log "pytest"
exec .venv/bin/python -m pytest "$@"
