"""The house's rules, checked on the code itself: the layers import only downward (imports
inside functions included), no import circle, small modules, a standard-library-only
measured side."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("queuebench", "harness", "strategies")
MAX_LINES = 400

#: The layers, bottom first; a module may import its own layer and those below, never above.
#: Declared once: docs/architecture.md draws the same list.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("errors", ("harness.errors",)),
    ("measured side", ("strategies", "harness.worker")),
    ("scenario files", ("harness.scenario",)),
    ("run folder", ("harness.rundir",)),
    ("analysis", ("harness.analysis",)),
    ("running", ("harness.running",)),
    ("sweeps", ("harness.sweeps",)),
    ("gate", ("harness.gate",)),
    ("history", ("harness.history",)),
    ("presentation", ("harness.presentation", "harness.exports")),
    ("entry points", ("harness.api", "harness.cli", "harness.pytest_plugin", "harness")),
    ("public face", ("queuebench",)),
)


def layer_of(module: str) -> int:
    """The index of the layer that holds ``module`` (the longest matching prefix wins)."""
    best, length = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = index, len(prefix)
    assert best >= 0, f"{module} is in no layer: add it to LAYERS"
    return best


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def imports_of(source: str, name: str, is_package: bool) -> set[str]:
    """Every module a module imports: top level, inside functions, under TYPE_CHECKING alike."""
    found: set[str] = set()
    pkg = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
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


def graph_of(modules: dict[str, str]) -> dict[str, set[str]]:
    """module -> the modules of the house it imports, from each module's source."""
    return {
        name: {m for m in imports_of(src, name, name.endswith(".__init__") or name in PACKAGES) if m in modules}
        - {name}
        for name, src in modules.items()
    }


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    sources = {name: path.read_text(encoding="utf-8") for name, path in mods.items()}
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        imported = imports_of(sources[name], name, path.name == "__init__.py")
        graph[name] = {m for m in imported if m in mods and m != name}
    return graph


def upward(graph: dict[str, set[str]]) -> list[str]:
    """Every import from a lower layer to a higher one, as 'a -> b (layer -> layer)'."""
    found = []
    for name, targets in sorted(graph.items()):
        for target in sorted(targets):
            # a package's own __init__ importing its children, or a child its package face, is not an edge
            if target.startswith(name + ".") or name.startswith(target + "."):
                continue
            if layer_of(target) > layer_of(name):
                found.append(f"{name} -> {target} ({LAYERS[layer_of(name)][0]} -> {LAYERS[layer_of(target)][0]})")
    return found


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


def test_the_layer_check_finds_a_planted_upward_import_inside_a_function() -> None:
    """A lazy import is an edge too: an analysis module importing presentation in a function fails."""
    planted = {
        "harness.analysis.x": "def f():\n    from harness.presentation import terminal\n",
        "harness.presentation.terminal": "from harness.analysis import x\n",
        "harness.analysis": "",
        "harness.presentation": "",
    }
    assert "harness.analysis.x -> harness.presentation.terminal (analysis -> presentation)" in upward(graph_of(planted))
    assert _cycle(graph_of(planted)) is not None  # and the circle it makes is seen


def test_no_import_circle_anywhere_function_level_imports_included() -> None:
    graph = _graph()
    assert "strategies.kinds.service" in graph and "harness.running.launchers.local" in graph  # subpackages seen
    assert _cycle(graph) is None, f"import circle: {' -> '.join(_cycle(graph) or [])}"


def test_every_import_points_down_the_layers() -> None:
    assert upward(_graph()) == []


def test_harness_shows_its_layers_as_folders() -> None:
    flat = sorted(p.stem for p in (ROOT / "harness").glob("*.py") if p.stem != "__init__")
    assert flat == ["api", "errors", "pytest_plugin", "scenario", "worker"]
    for _, prefixes in LAYERS:
        for prefix in prefixes:
            parts = prefix.split(".")
            assert (ROOT.joinpath(*parts)).is_dir() or (ROOT.joinpath(*parts[:-1], parts[-1] + ".py")).is_file(), prefix


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
    """strategies/, harness/worker.py and harness/errors.py run inside measured processes, under
    any interpreter.

    A kind or strategy may use a package it declares in ``requires``, imported lazily
    inside a function (its availability is then asked of the worker's interpreter).
    """
    stdlib = set(sys.stdlib_module_names)
    mods = _modules()
    for name, path in mods.items():
        if not (name.startswith("strategies") or name in ("harness.worker", "harness.errors")):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = {id(n) for n in tree.body}
        declared = _declared_requirements(tree)
        for node in ast.walk(tree):  # lazy imports included: they run in the worker too
            if isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
                modules = {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = {(node.module or "").split(".")[0]}
                modules = {node.module or ""}
            else:
                continue
            foreign = roots - stdlib - {"strategies", "harness", "__future__"}
            if id(node) not in top_level:
                foreign -= declared
            assert not foreign, f"{name} imports {sorted(foreign)}"
            if name.startswith("strategies"):  # of the harness, only the error base
                assert all(not m.startswith("harness") or m == "harness.errors" for m in modules), name
