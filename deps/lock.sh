#!/usr/bin/env bash
# Regenerate the lock files in deps/lock/ from pyproject.toml (needs the package index).
# Usage: bash deps/lock.sh        (then run tests/test_install.py, which checks them)
#
# Each lock pins every package, with its hashes, for CPython 3.11 on x86-64 Linux (the image's
# platform and CI's) — one per install profile, named in its first lines:
#   base.txt  the service: the waive-check API, the workbench, born-digital PDFs; PostgreSQL
#   ocr.txt   base + reading scans and photos (RapidOCR) + charts
#   all.txt   every extra: both OCR engines, charts, PostgreSQL, Celery (what the tests run on)
# paddlex pins the GUI OpenCV (opencv-contrib-python); the locks leave it out, and
# deps/opencv-headless-shim stands in for it (installed with --no-deps after the lock).
set -euo pipefail
cd "$(dirname "$0")/.."

uv=${UV:-}
if [ -z "$uv" ]; then
    tools=$(mktemp -d)
    trap 'rm -rf "$tools"' EXIT
    python3 -m venv "$tools" && "$tools/bin/pip" install -q uv
    uv="$tools/bin/uv"
fi

overrides=$(mktemp)
echo 'opencv-contrib-python; sys_platform == "never"' >"$overrides"

lock() {  # lock NAME EXTRA…
    local name=$1; shift
    local args=()
    for extra in "$@"; do args+=(--extra "$extra"); done
    "$uv" pip compile pyproject.toml "${args[@]}" \
        --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
        --override "$overrides" --no-header --no-annotate --quiet -o "deps/lock/$name.txt.new"
    {
        echo "# The $name install's packages, pinned with hashes; made by: bash deps/lock.sh"
        echo "# extras: $*"
        echo "# install: pip install --require-hashes --no-deps -r deps/lock/$name.txt"
        cat "deps/lock/$name.txt.new"
    } >"deps/lock/$name.txt"
    rm "deps/lock/$name.txt.new"
}

lock base postgres
lock ocr ocr reports postgres
lock all ocr paddle reports postgres celery
rm -f "$overrides"
