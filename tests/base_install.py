"""Run the command line as on the base install (``pip install .``): the extras' libraries cannot
be imported, as if they were not there, though the test environment holds every extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# What `matcher[ocr]`, `[paddle]`, `[reports]`, `[postgres]` and `[celery]` bring that the base
# install does not (tests/test_install.py checks this against pyproject.toml).
EXTRA_MODULES = (
    "numpy",
    "rapidocr",
    "paddleocr",
    "paddlex",
    "openvino",
    "onnxruntime",
    "cv2",
    "matplotlib",
    "psycopg",
    "celery",
)

# A module set to None in sys.modules cannot be imported (ImportError) and is not found by
# importlib.util.find_spec: what an uninstalled one does.
_RUN = (
    "import sys\n"
    f"for name in {EXTRA_MODULES!r}:\n"
    "    sys.modules[name] = None\n"
    "from matcher.cli import main\n"
    "sys.exit(main())\n"
)


def matcher_command(*args: str, base_only: bool = True) -> list[str]:
    """The argv that runs ``matcher ARGS`` (on the base install unless ``base_only`` is False)."""
    if base_only:
        return [sys.executable, "-c", _RUN, *args]
    return [sys.executable, "-m", "matcher.cli", *args]


def start_matcher(
    *args: str, env: dict[str, str], stderr: Path, base_only: bool = True
) -> subprocess.Popen[str]:
    """Start ``matcher ARGS`` with its stdout piped (text) and its stderr written to a file."""
    with stderr.open("w", encoding="utf-8") as err:  # the child holds its own copy
        return subprocess.Popen(
            matcher_command(*args, base_only=base_only),
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
