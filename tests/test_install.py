"""The install: the lock files agree with pyproject.toml, the tests run on the lock, one OpenCV,
and the base install holds none of what the extras bring (tests/base_install.py relies on it)."""

from __future__ import annotations

import importlib.metadata as md
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.base_install import EXTRA_MODULES

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "deps" / "lock"
# The platform the locks are made for (deps/lock.sh), where markers are evaluated.
PLATFORM = {
    "python_version": "3.11",
    "python_full_version": "3.11.7",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
# paddlex's pin of the GUI OpenCV: left out of every lock, deps/opencv-headless-shim stands in.
SHIM = "opencv-contrib-python"


def _project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        project: dict[str, object] = tomllib.load(f)["project"]
    return project


def _applies(req: Requirement, extra: str = "") -> bool:
    return req.marker is None or req.marker.evaluate({**PLATFORM, "extra": extra})


def _asked_for(extras: Iterable[str]) -> list[Requirement]:
    """What pyproject.toml asks for with these extras, ``matcher[x]`` expanded."""
    project = _project()
    optional: dict[str, list[str]] = project["optional-dependencies"]  # type: ignore[assignment]
    base: list[str] = project["dependencies"]  # type: ignore[assignment]
    out = [Requirement(r) for r in base]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in optional[extra]:
            req = Requirement(text)
            if canonicalize_name(req.name) == "matcher":
                todo.extend(req.extras)
            else:
                out.append(req)
    return [r for r in out if _applies(r)]


def _read_lock(name: str) -> tuple[list[str], dict[str, str], set[str]]:
    """(its extras, name → pinned version, the names pinned with a hash)."""
    text = (LOCKS / f"{name}.txt").read_text(encoding="utf-8")
    extras_line = re.search(r"^# extras: (.*)$", text, re.MULTILINE)
    assert extras_line is not None, f"deps/lock/{name}.txt does not name its extras"
    pins: dict[str, str] = {}
    hashed: set[str] = set()
    for block in re.split(r"\n(?=\S)", text):
        if block.startswith("#") or not block.strip():
            continue
        found = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", block)
        assert found is not None, f"deps/lock/{name}.txt: not a pin: {block[:80]!r}"
        key = canonicalize_name(found.group(1))
        pins[key] = found.group(2)
        if re.search(r"--hash=sha256:[0-9a-f]{64}", block):
            hashed.add(key)
    return extras_line.group(1).split(), pins, hashed


@pytest.mark.parametrize("name", ["base", "ocr", "all"])
def test_each_lock_pins_what_pyproject_asks_for_with_hashes(name: str) -> None:
    extras, pins, hashed = _read_lock(name)
    for req in _asked_for(extras):
        key = canonicalize_name(req.name)
        assert key in pins, f"{req} is not in deps/lock/{name}.txt: run bash deps/lock.sh"
        assert req.specifier.contains(pins[key], prereleases=True), (
            f"deps/lock/{name}.txt pins {key}=={pins[key]}, pyproject.toml asks for {req}: "
            "run bash deps/lock.sh"
        )
    assert hashed == set(pins), f"pinned without a hash: {sorted(set(pins) - hashed)}"
    assert SHIM not in pins  # one OpenCV: the headless one
    assert "pymupdf" not in pins  # the full PyMuPDF 2.x brings its layout engine's runtime


def test_the_tests_run_on_the_all_lock_and_it_holds_what_each_package_needs() -> None:
    _, pins, _ = _read_lock("all")
    for key, version in pins.items():
        assert md.version(key) == version, f"{key} {md.version(key)} installed, {version} locked"
        for text in md.requires(key) or []:
            req = Requirement(text)
            if _applies(req):
                needed = canonicalize_name(req.name)
                assert needed in pins or needed == SHIM, f"{key} needs {req}, not locked"


def test_one_opencv_is_installed_and_nothing_is_missing() -> None:
    owners = sorted(
        d.metadata["Name"]
        for d in md.distributions()
        if any(str(f).startswith("cv2/") for f in d.files or [])
    )
    assert owners == ["opencv-python-headless"]
    shim = md.distribution(SHIM)
    assert not any(str(f).startswith("cv2/") for f in shim.files or [])
    check = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def _closure(requirements: Iterable[Requirement]) -> set[str]:
    todo = [canonicalize_name(r.name) for r in requirements]
    seen: set[str] = set()
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        todo.extend(
            canonicalize_name(Requirement(t).name)
            for t in md.requires(key) or []
            if _applies(Requirement(t))
        )
    return seen


def test_the_base_install_holds_none_of_the_modules_the_base_tests_hide() -> None:
    base = _closure(_asked_for([]))
    providers = md.packages_distributions()
    for module in EXTRA_MODULES:
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        assert dists, f"{module} is not installed: the tests need every extra"
        assert not dists & base, f"the base install brings {module} ({dists & base})"


def test_every_image_the_dockerfile_offers_has_its_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    offered = set(re.findall(r"EXTRAS=(\w+)", dockerfile))
    assert {"base", "ocr", "all"} <= offered
    for name in offered:
        assert (LOCKS / f"{name}.txt").is_file(), f"the Dockerfile offers EXTRAS={name}"
