"""The workbench over real HTTP on loopback: the API with its pages, the sandbox registry behind
it, accounts made through the same store that ``matcher users add`` uses."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from matcher.access.users import UserStore
from matcher.api import create_app
from matcher.sandbox import SandboxConfig, create_sandbox_app, load_holders, write_trust_store
from matcher.sandbox.serving import ServerThread
from matcher.settings import RegistryConfig, Settings
from matcher.store.records import Records

PASSWORD = "correct horse battery"
CHROMIUM = Path("/usr/bin/chromium")
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS: list[Path] = []  # listed at the end of the run (tests/conftest.py)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Workbench:
    url: str
    database_url: str
    settings: Settings

    def store(self) -> tuple[Records, UserStore]:
        records = Records(self.database_url)
        return records, UserStore(records)

    def add_user(self, name: str, role: str = "window", department: str | None = None) -> None:
        """An account; by default a comprehensive window's clerk (综合窗口), who sees every
        department's applications."""
        records, users = self.store()
        try:
            users.add_user(name, role, PASSWORD, department)
        finally:
            records.close()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def sign_in(self, client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
        page = client.get("/ui/sign-in")
        token = CSRF.search(page.text)
        assert token is not None
        return client.post(
            "/ui/sign-in",
            data={"username": name, "password": password, "csrf_token": token.group(1)},
        )

    def submit(
        self,
        application_id: str,
        holder: str = "zhang_wei",
        matter: str = "ent-establish",
        uploads: list[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        """What a business system sends: POST /v1/applications (check, pre-fill, keep)."""
        h = load_holders()[holder]
        body = {
            "matter_code": matter,
            "applicant": {"id_type": h.id_type, "id": h.id, "name": h.name},
            "application_id": application_id,
            "uploads": uploads or [],
        }
        r = httpx.post(f"{self.url}/v1/applications", json=body, timeout=60)
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    def upload(self, pdf: bytes) -> str:
        r = httpx.post(
            f"{self.url}/v1/files",
            files={"file": ("scan.pdf", pdf, "application/pdf")},
            timeout=60,
        )
        assert r.status_code == 201, r.text
        file_id: str = r.json()["file_id"]
        return file_id


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


WorkbenchFactory = Callable[..., Workbench]


@pytest.fixture(scope="session")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    cfg = SandboxConfig()
    trust = tmp_path_factory.mktemp("sandbox") / "trust.json"
    write_trust_store(cfg, trust)
    with ServerThread(create_sandbox_app(cfg)) as server:
        yield server.url, trust


@pytest.fixture
def make_workbench(tmp_path: Path, sandbox_url: tuple[str, Path]) -> Iterator[WorkbenchFactory]:
    with ExitStack() as stack:

        def start(**settings: Any) -> Workbench:
            db = f"sqlite:///{tmp_path / 'matcher.db'}"
            url, trust = sandbox_url
            cfg = Settings(
                trust_store=trust,
                database_url=db,
                state_dir=tmp_path,
                registries=[
                    RegistryConfig(name="zs-elicence", adapter="elicence", base_url=url),
                    RegistryConfig(name="zs-datacert", adapter="datacert", base_url=url),
                ],
                **settings,
            )
            server = stack.enter_context(ServerThread(create_app(cfg)))
            return Workbench(server.url, db, cfg)

        yield start


@pytest.fixture
def workbench(make_workbench: WorkbenchFactory) -> Workbench:
    return make_workbench()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright. Missing parts fail, never skip.

    Module-scoped: Playwright's sync API keeps an event loop running in this thread while it is
    open, and a later test that calls ``asyncio.run`` (the CLI's) would find it."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (bash tests/run.sh does)")
    if not CJK_FONT.exists():
        pytest.fail(
            f"{CJK_FONT} is missing: apt-get install fonts-noto-cjk (bash tests/run.sh does); "
            "without it Chinese renders as empty boxes"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is missing: pip install -e '.[test]'")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser profile at the window PCs' size, 1366×768."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True
    )
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where page tests keep screenshots: $MATCHER_TEST_ARTIFACTS, else <tmp>/matcher-artifacts."""
    folder = Path(
        os.environ.get("MATCHER_TEST_ARTIFACTS")
        or Path(tempfile.gettempdir()) / "matcher-artifacts"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep(path: Path) -> Path:
    ARTIFACTS.append(path)
    return path
