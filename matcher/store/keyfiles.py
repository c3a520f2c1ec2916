"""Secrets the service makes for itself on first use and keeps in its state folder."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_once"]


def write_once(path: Path, make: Callable[[], bytes]) -> None:
    """Write ``make()`` to ``path`` unless the file is there. It is readable by its owner only
    and appears whole or not at all (written aside, then linked into place), so workers starting
    together agree on one file: whoever links first wins, the others read theirs."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, aside = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(make())
        os.link(aside, path)
    except FileExistsError:
        pass  # another worker's got there first: use it
    finally:
        os.unlink(aside)
