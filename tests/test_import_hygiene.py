"""Arrows point one way: nothing outside orgtree_tui.ui imports textual or rich, and no
module of the package takes part in an import cycle.

The modules are found by walking the package's files, so a new module is checked the day it
is added. `lint-imports` (the contracts in pyproject.toml) checks the layers; the checks here
are independent of it: a fresh interpreter for textual and rich, and a graph built with
`ast` for cycles.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "orgtree_tui"
# The entry point starts the UI; the UI is the one place textual and rich belong.
UI_SIDE = ("orgtree_tui.main", "orgtree_tui.__main__", "orgtree_tui.ui")
# Cycles known to remain, each with the change that removes it. Emptied as they go.
KNOWN_CYCLES: list[list[str]] = []


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
CORE = sorted(m for m in MODULES if not any(m == u or m.startswith(u + ".") for u in UI_SIDE))


def test_the_walk_finds_the_package() -> None:
    # A walk that found nothing would pass everything below.
    assert {"orgtree_tui", "orgtree_tui.model", "orgtree_tui.crawl.engine"} <= set(CORE)
    assert "orgtree_tui.ui.app" in MODULES and "orgtree_tui.ui.app" not in CORE


@functools.cache
def pulled_in() -> dict[str, str]:
    """Each core module, imported in turn in one fresh interpreter, with the textual or
    rich modules that were loaded by the time it had been imported."""
    probe = (
        "import importlib, sys\n"
        f"for name in {CORE!r}:\n"
        "    importlib.import_module(name)\n"
        "    bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "    print(name, ','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    lines = [line.partition(" ") for line in result.stdout.splitlines()]
    return {name: bad for name, _, bad in lines}


@pytest.mark.parametrize("module", CORE)
def test_module_imports_no_textual_or_rich(module: str) -> None:
    found = pulled_in()
    assert module in found, "the probe stopped before this module"
    assert found[module] == "", f"{module} (or one imported before it) pulls in {found[module]}"


def test_the_forbidden_contract_names_every_core_module() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    forbidden = next(c for c in contracts if c["type"] == "forbidden")
    top_level = {".".join(m.split(".")[:2]) for m in CORE if m != "orgtree_tui"}
    assert set(forbidden["source_modules"]) == top_level
    assert set(forbidden["forbidden_modules"]) == {"textual", "rich"}


def imported_by(module: str, path: Path) -> set[str]:
    """The package's modules this one imports anywhere: at the top, inside functions and
    under TYPE_CHECKING alike (any of them can close a cycle)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    found.add(f"{base}.{alias.name}")  # a submodule: `from pkg import mod`
                elif base in MODULES:
                    found.add(base)
    found.discard(module)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def test_cycles_finds_a_cycle_and_only_that() -> None:
    # The finder itself, on a hand-made graph: a -> b -> c -> a, c -> d, d alone.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycle_anywhere_in_the_package() -> None:
    graph = {module: imported_by(module, path) for module, path in MODULES.items()}
    found = cycles(graph)
    assert [c for c in found if c not in KNOWN_CYCLES] == []
    gone = [c for c in KNOWN_CYCLES if c not in found]
    assert gone == [], f"no longer a cycle, remove it from KNOWN_CYCLES: {gone}"
