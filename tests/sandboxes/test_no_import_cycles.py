"""The sandbox packages import each other's modules without cycles: each import, wherever it
stands in a module (a function-level import would only hide a cycle), is an edge of the graph."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SANDBOXES = Path(__file__).resolve().parents[2] / "sandboxes"
PACKAGES = [
    SANDBOXES / "xero" / "src" / "xero_sandbox",
    SANDBOXES / "dynamics" / "src" / "dynamics_sandbox",
    SANDBOXES / "kit" / "src" / "sandbox_kit",
]

Graph = dict[str, set[str]]


def _modules(package: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, whether it is a package's __init__)."""
    modules = {}
    for file in package.rglob("*.py"):
        parts = list(file.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (file, is_package)
    return modules


def _imported(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(package: Path) -> Graph:
    """Each module of `package` -> the modules of `package` it imports."""
    modules = _modules(package)
    graph: Graph = {}
    for name, (file, is_package) in modules.items():
        own_package = name if is_package else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names if alias.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = _imported(node, own_package)
                for alias in node.names:
                    # `from . import webapi` names a module; `from .webapi import X` a member.
                    submodule = f"{base}.{alias.name}"
                    if submodule in modules:
                        targets.add(submodule)
                    elif base in modules:
                        targets.add(base)
        targets.discard(name)
        graph[name] = targets
    return graph


def _cycle_from(module: str, graph: Graph, path: list[str], done: set[str]) -> list[str] | None:
    """A cycle reachable from `module` (depth first; `path` is the chain that led here)."""
    path.append(module)
    for target in sorted(graph[module]):
        if target in path:
            return [*path[path.index(target) :], target]
        if target not in done:
            cycle = _cycle_from(target, graph, path, done)
            if cycle is not None:
                return cycle
    path.pop()
    done.add(module)
    return None


def cycles(graph: Graph) -> list[list[str]]:
    """Cycles (a -> b -> ... -> a) found by walking from each module in turn."""
    found: list[list[str]] = []
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        cycle = _cycle_from(start, graph, [], done)
        if cycle is not None:
            found.append(cycle)
            done.update(cycle)
    return found


@pytest.mark.unit
def test_the_cycle_finder_finds_a_cycle() -> None:
    graph: Graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.unit
@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_no_import_cycles(package: Path) -> None:
    graph = import_graph(package)
    assert len(graph) > 1, f"no modules found under {package}"
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)
