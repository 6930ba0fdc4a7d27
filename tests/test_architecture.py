"""The house's rules, checked on the code itself: no import circle, small modules,
a standard-library-only worker side."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("harness", "strategies")
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _top_level_imports(path: Path, name: str, is_package: bool) -> set[str]:
    """Modules imported at module level (imports inside functions are lazy on purpose)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    pkg = name if is_package else name.rpartition(".")[0]
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph = {}
    for name, path in mods.items():
        imported = _top_level_imports(path, name, path.name == "__init__.py")
        graph[name] = {m for m in imported if m in mods and m != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_cycle_finder_finds_a_planted_circle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle_in_harness_or_strategies() -> None:
    graph = _graph()
    assert "strategies.kinds.service" in graph and "harness.running.launchers.local" in graph  # subpackages seen
    assert _cycle(graph) is None, f"import circle: {' -> '.join(_cycle(graph) or [])}"


def test_no_module_over_the_size_limit() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in _modules().items()}
    assert not {n: s for n, s in sizes.items() if s > MAX_LINES}


def _declared_requirements(tree: ast.Module) -> set[str]:
    """Packages a module declares in ``requires = (...)`` (a kind's or a registry entry's)."""
    found = set()
    for node in ast.walk(tree):
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        value = getattr(node, "value", None)
        if any(isinstance(t, ast.Name) and t.id == "requires" for t in targets) and value is not None:
            found |= {
                c.value.split(".")[0]
                for c in ast.walk(value)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
        if isinstance(node, ast.keyword) and node.arg == "requires":
            found |= {
                c.value.split(".")[0]
                for c in ast.walk(node.value)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
    return found


def test_worker_side_imports_only_the_standard_library() -> None:
    """strategies/ and harness/worker.py run inside measured processes, under any interpreter.

    A kind or strategy may use a package it declares in ``requires``, imported lazily
    inside a function (its availability is then asked of the worker's interpreter).
    """
    stdlib = set(sys.stdlib_module_names)
    mods = _modules()
    for name, path in mods.items():
        if not (name.startswith("strategies") or name == "harness.worker"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = {id(n) for n in tree.body}
        declared = _declared_requirements(tree)
        for node in ast.walk(tree):  # lazy imports included: they run in the worker too
            if isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            foreign = roots - stdlib - {"strategies", "harness", "__future__"}
            if id(node) not in top_level:
                foreign -= declared
            assert not foreign, f"{name} imports {sorted(foreign)}"
            if name.startswith("strategies"):
                assert "harness" not in roots, f"{name} imports the harness"
