"""docs/adapters.md's walk-through, run command by command: scaffold → fresh environment →
generated tests → TOML → ``matcher adapters check`` → ``matcher serve`` waives on its evidence.

The shell blocks of that section are taken from the page itself and run in order in one bash,
so the page cannot drift from what the commands do.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "adapters.md"
SECTION = "## Walk-through: from scaffold to a waived material"


def walkthrough_commands() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    following = section.find("\n## ", len(SECTION))
    if following != -1:
        section = section[:following]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.acceptance
def test_the_adapter_walkthrough_runs_as_written(tmp_path: Path) -> None:
    blocks = walkthrough_commands()
    assert len(blocks) == 7, "the walk-through's shell blocks changed: update this test"
    script = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + "\n".join(
        blocks
    )
    env = {
        **os.environ,
        "MATCHER_ENV": sys.prefix,  # the environment running this test has matcher installed
        "WORK": str(tmp_path),
        "PORT": str(_free_port()),
        "SANDBOX_PORT": str(_free_port()),
    }

    run = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=600
    )

    out = run.stdout
    assert run.returncode == 0, f"{out[-4000:]}\n--- stderr ---\n{run.stderr[-4000:]}"
    # 1–2: scaffolded, and installed into the fresh environment only
    assert (
        "acme-licences  (e_licence)  matcher_adapter_acme_licences.adapter:AcmeLicencesAdapter"
        in out
    )
    here = subprocess.run(
        [sys.executable, "-m", "matcher", "adapters", "list"], capture_output=True, text=True
    )
    assert "acme-licences" not in here.stdout
    # 3: the generated tests pass
    passed = re.search(r"(\d+) passed", out)
    assert passed is not None and int(passed.group(1)) >= 60 and " failed" not in out
    # 5: the check reports the registry, its record verified, the holder masked
    assert "citizen_id 3309**********0314  yes" in out
    assert "1/1 verified" in out and "1 of 1 registries ok" in out
    assert "330902198103150314" not in out
    # 6: the served waive-check waives the ID card on the acme registry's verified record
    assert out.rstrip().splitlines()[-1] == "waive e_licence [('acme', True)]"
