"""The map of the house (docs/architecture.md), held: each package's layer, imports only downward
or sideways, no import circle between modules, no module over 500 lines.

An import inside a function counts like one at the top (it still ties the two modules); only
imports under ``if TYPE_CHECKING:`` are left out. Layers, top to bottom:

    faces     api, ui, cli                       parse, call a service, render
    jobs      audit, archive, sdk, sandbox       work over the domain
    wiring    settings, wiring                   one Settings; the services built once
    domain    waiver, applications, problems,    what a check, an application, a data problem,
              extract, extras                    an extraction is
    base      catalog, access                    matters and directories; callers and accounts
    store     store                              tables, the recorder, chain, sealing, migrations
    core      errors, observe                    the error tree; logs and metrics
    adapters  adapters                           the registry protocol and its adapters
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LAYERS: dict[str, int] = {
    "matcher.api": 7,
    "matcher.ui": 7,
    "matcher.cli": 7,
    "matcher.audit": 6,
    "matcher.archive": 6,
    "matcher.sdk": 6,
    "matcher.sandbox": 6,
    "matcher.settings": 5,
    "matcher.wiring": 5,
    "matcher.waiver": 4,
    "matcher.applications": 4,
    "matcher.problems": 4,
    "matcher.extract": 4,
    "matcher.extras": 4,
    "matcher.catalog": 3,
    "matcher.access": 3,
    "matcher.store": 2,
    "matcher.errors": 1,
    "matcher.observe": 1,
    "adapters": 0,
    # the contract suite is a pytest plugin for adapter authors: it checks with the service's
    # own verification, as a job over the domain would
    "adapters.testing": 6,
}
# Not part of the running service: the package marker, `python -m` entry points, Alembic's env
# (run by Alembic, it takes the tables from store.schema) and the revisions.
OUTSIDE = ("matcher", "matcher.__main__", "matcher.cli.__main__")

WEB = ("fastapi", "starlette", "uvicorn")
CONCRETE_ADAPTERS = (
    "adapters.elicence",
    "adapters.datacert",
    "adapters.province",
    "adapters._http",
    "adapters.sdk",
)
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    found = {}
    for package in ("matcher", "adapters"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "versions" in path.parts and "migrations" in path.parts:
                continue
            found[_module_name(path)] = path
    return found


def _resolve(name: str) -> str | None:
    modules = _modules()
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _type_only(tree: ast.Module) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(n) for n in ast.walk(node))
    return hidden


@cache
def _imports(module: str) -> frozenset[str]:
    """The project modules ``module`` imports at run time (deferred imports included)."""
    path = _modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = _type_only(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = (
                    module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                )
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:  # `from package import module` ties to that module only
                sub = f"{base}.{alias.name}"
                names.add(sub if sub in _modules() else base)
    targets = {_resolve(n) for n in names}
    return frozenset(t for t in targets if t is not None and t != module)


def _external_imports(module: str) -> set[str]:
    tree = ast.parse(_modules()[module].read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _layer(module: str) -> int | None:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return LAYERS[prefix]
    return None


def _circles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    graph = {m: sorted(_imports(m)) for m in _modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in graph:
        if module not in index:
            visit(module)
    return groups


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in _modules() if m not in OUTSIDE and _layer(m) is None]
    assert unplaced == [], "add them to LAYERS (and to docs/architecture.md)"


def test_no_import_circle_between_modules() -> None:
    assert _circles() == []


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = []
    for module in _modules():
        here = _layer(module)
        if here is None:
            continue
        for target in sorted(_imports(module)):
            there = _layer(target)
            if there is not None and there > here:
                upward.append(f"{module} ({here}) imports {target} ({there})")
    assert upward == []


def test_the_top_level_holds_at_most_six_modules() -> None:
    top = sorted(p.name for p in (ROOT / "matcher").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= 6, top


@pytest.mark.parametrize("module", sorted(_modules()), ids=str)
def test_no_module_is_over_500_lines(module: str) -> None:
    lines = len(_modules()[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module}: {lines} lines"


def test_every_package_says_what_it_is_for_and_what_it_may_import() -> None:
    silent = []
    for module, path in _modules().items():
        if path.name != "__init__.py" or not module.startswith("matcher."):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if "May import" not in doc:
            silent.append(module)
    assert silent == []


def test_matcher_never_imports_a_concrete_adapter() -> None:
    found = [
        f"{m} imports {t}"
        for m in _modules()
        if m.startswith("matcher")
        for t in _external_imports(m) | set(_imports(m))
        if any(t == a or t.startswith(a + ".") for a in CONCRETE_ADAPTERS)
    ]
    assert found == []


def test_only_the_faces_and_the_sandbox_import_the_web_framework() -> None:
    allowed = ("matcher.api", "matcher.ui", "matcher.cli", "matcher.sandbox")
    found = [
        f"{m} imports {t}"
        for m in _modules()
        if m.startswith("matcher.") and not m.startswith(allowed)
        for t in _external_imports(m)
        if any(t == w or t.startswith(w + ".") for w in WEB)
    ]
    assert found == []


def test_adapters_import_nothing_of_matcher() -> None:
    found = [
        f"{m} imports {t}"
        for m in _modules()
        if m.startswith("adapters") and not m.startswith("adapters.testing")
        for t in _imports(m)
        if t.startswith("matcher")
    ]
    assert found == []


@pytest.mark.parametrize("module", ["adapters", "adapters.sdk", "adapters.testing"])
def test_adapters_public_names_exist(module: str) -> None:
    import importlib

    found = importlib.import_module(module)
    missing = [n for n in found.__all__ if not hasattr(found, n)]
    assert missing == []
