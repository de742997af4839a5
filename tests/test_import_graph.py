"""The package has no import cycle, and every module imports.

The graph is read from the source with ``ast``: every ``import`` and ``from ... import`` of a
``tulu_eval`` module, wherever it stands (top level, inside a function, under
``TYPE_CHECKING``), is an edge; ``from pkg import name`` is an edge to ``pkg.name`` when that is
a module, else to ``pkg``. A lazy import inside a function hides a cycle from Python, not from
this test. The task declarations (``tasks/``, installed as ``tulu_eval.tasks``) are included. The
backend registry (``api/backends.py``) names modules as strings that ``tulu_eval.backends`` imports by
name: those are edges of ``tulu_eval.backends`` too.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import tulu_eval
import tulu_eval.tasks
from tulu_eval.api.backends import BACKENDS

ROOT = Path(tulu_eval.__file__).parent


def _modules() -> dict[str, Path]:
    mods = {"tulu_eval": ROOT / "__init__.py"}
    for info in pkgutil.walk_packages(tulu_eval.__path__, "tulu_eval."):
        spec = importlib.util.find_spec(info.name)
        mods[info.name] = Path(spec.origin)
    return mods


def _edges(mods: dict[str, Path]) -> dict[str, set[str]]:
    edges = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("tulu_eval"))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if not target.startswith("tulu_eval"):
                    continue
                for alias in node.names:
                    deps.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in mods else target)
        edges[name] = {d for d in deps if d in mods and d != name}
    edges["tulu_eval.backends"] |= {module for module, _ in BACKENDS.values()}
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_no_import_cycle():
    cycles = _cycles(_edges(_modules()))
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_registry_modules_are_in_the_graph():
    edges = _edges(_modules())
    assert {"tulu_eval.backends.vllm", "tulu_eval.backends.hf", "tulu_eval.backends.openai"} <= edges["tulu_eval.backends"]


def test_every_module_imports():
    for name in _modules():
        importlib.import_module(name)
