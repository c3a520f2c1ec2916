"""Import layers: API → core → adapter interface → adapter implementations."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEB = ("fastapi", "starlette", "uvicorn")
CONCRETE_ADAPTERS = (
    "adapters.elicence",
    "adapters.datacert",
    "adapters.province",
    "adapters._http",
    "adapters.sdk",
)
ADAPTER_INTERFACE = ("adapters", "adapters.base", "adapters.model", "adapters.errors")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _hits(path: Path, prefixes: tuple[str, ...]) -> list[str]:
    return sorted(
        n for n in _imports(path) if any(n == p or n.startswith(p + ".") for p in prefixes)
    )


@pytest.mark.parametrize("path", _modules("matcher"), ids=lambda p: str(p.relative_to(ROOT)))
def test_matcher_never_imports_a_concrete_adapter(path: Path) -> None:
    assert _hits(path, CONCRETE_ADAPTERS) == []


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in _modules("matcher")
        if not {"api", "sandbox", "ui"} & set(p.parts) and p.name not in ("cli.py", "serving.py")
    ],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_core_never_imports_the_web_framework(path: Path) -> None:
    assert _hits(path, WEB) == []


@pytest.mark.parametrize(
    "path",
    [p for p in _modules("adapters") if "testing" not in p.parts],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_adapters_import_only_the_interface_and_each_other(path: Path) -> None:
    assert _hits(path, ("matcher",)) == []


@pytest.mark.parametrize("module", ["adapters", "adapters.sdk", "adapters.testing"])
def test_adapters_public_names_exist(module: str) -> None:
    import importlib

    found = importlib.import_module(module)
    missing = [n for n in found.__all__ if not hasattr(found, n)]
    assert missing == []
