"""The shape of the package, read from its source with ``ast`` (nothing is imported).

* no import cycle between wasmtool's modules: every ``import`` / ``from ... import`` counts,
  at module level, under ``if TYPE_CHECKING:`` and inside functions (a lazy import hides a
  cycle from Python, not from a reader);
* layers: a module imports only modules of its own layer or below (:data:`LAYERS`, lowest
  first), so the data layers never reach up into the operations;
* the target switch lives in one place: outside ``wasmtool/targets/`` no code compares a
  profile's kind or a target name (``kind == "wasi"``, ``target == "native"``,
  ``in ("wasi-p2", ...)``), and no target name is spelled out as a value (defaults take
  :data:`wasmtool.targets.profile.DEFAULT_TARGET`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "wasmtool"

#: Lowest first. A module belongs to the layer of the longest prefix that names it; a module
#: may import its own layer and the ones below. ``wasmtool.targets.profile`` (data) sits low,
#: the target backends (``wasmtool.targets.backend`` and one module per kind) sit above
#: everything they drive.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("wasmtool", "wasmtool.errors", "wasmtool.fsutil", "wasmtool.tools", "wasmtool.skips", "wasmtool.mochi_syntax",
     "wasmtool.wheelfiles", "wasmtool.audit", "wasmtool.publish"),
    ("wasmtool.project", "wasmtool.index", "wasmtool.cache", "wasmtool.calls", "wasmtool.targets",
     "wasmtool.targets.errors", "wasmtool.targets.profile", "wasmtool.targets.tags", "wasmtool.targets.stdlib",
     "wasmtool.attest.policy"),
    ("wasmtool.resolve", "wasmtool.lock", "wasmtool.stubs", "wasmtool.typemap", "wasmtool.install", "wasmtool.attest",
     "wasmtool.build"),
    ("wasmtool.context",),
    ("wasmtool.synth", "wasmtool.wit", "wasmtool.bundle"),
    ("wasmtool.run",),
    ("wasmtool.targets.base", "wasmtool.targets.backend", "wasmtool.targets.native", "wasmtool.targets.pyodide",
     "wasmtool.targets.wasi", "wasmtool.targets.pinning", "wasmtool.targets.wasm_lock", "wasmtool.targets.uv_lock"),
    ("wasmtool.ops",),
    ("wasmtool.cli",),
)

#: Profile kinds and target names: nothing outside wasmtool/targets/ branches on them.
KINDS = frozenset({"native", "pyodide", "wasi"})
TARGET_NAMES = frozenset({"native", "pyodide-314", "pyodide-2025", "wasi-p2"})


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool

    @cached_property
    def tree(self) -> ast.Module:
        return ast.parse(self.path.read_text(encoding="utf-8"), filename=str(self.path))


def _modules(package: Path = PACKAGE) -> dict[str, Module]:
    found: dict[str, Module] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = Module(".".join(parts), path, is_package)
    return found


def _imported_names(module: Module) -> Iterator[tuple[str, int]]:
    """Every absolute name ``module`` imports (``from a import b`` gives ``a.b``), anywhere in it."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
                base = ".".join(package[:len(package) - (node.level - 1)] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            yield base, node.lineno
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def import_graph(package: Path = PACKAGE) -> dict[str, dict[str, int]]:
    """module -> {imported wasmtool module: first line}; a name resolves to the longest module prefix."""
    modules = _modules(package)

    def resolve(name: str) -> str | None:
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            candidate = ".".join(parts[:i])
            if candidate in modules:
                return candidate
        return None

    graph: dict[str, dict[str, int]] = {}
    for name, module in modules.items():
        edges: dict[str, int] = {}
        for imported, line in _imported_names(module):
            if imported.split(".")[0] != "wasmtool":
                continue
            target = resolve(imported)
            if target is not None and target != name and target != "wasmtool":
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (each sorted)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:      # Tarjan; the package has ~130 modules, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(components)


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle (a path back to its start) per strongly connected component."""
    return [_cycle_in(graph, set(c), c[0]) for c in strongly_connected(graph)]


def _cycle_in(graph: dict[str, dict[str, int]], members: set[str], start: str) -> list[str]:
    """A shortest path start -> ... -> start inside one strongly connected component."""
    paths = {start: [start]}
    todo = [start]
    while todo:
        v = todo.pop(0)
        for w in sorted(graph[v]):
            if w == start:
                return [*paths[v], start]
            if w in members and w not in paths:
                paths[w] = [*paths[v], w]
                todo.append(w)
    return [start]


def _render_cycle(graph: dict[str, dict[str, int]], cycle: list[str]) -> str:
    return " -> ".join(f"{a} (line {graph[a][b]})" for a, b in pairwise(cycle)) + f" -> {cycle[-1]}"


def layer_of(module: str) -> int:
    best, layer = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, layer = len(prefix), i
    return layer


def layer_violations(graph: dict[str, dict[str, int]]) -> list[str]:
    out = []
    for module, edges in sorted(graph.items()):
        for target, line in sorted(edges.items()):
            if layer_of(target) > layer_of(module):
                out.append(f"{module}:{line} imports {target} (layer {layer_of(module)} < {layer_of(target)})")
    return out


def _strings(node: ast.AST) -> set[str]:
    """The string constants of ``node`` when it is one, or a tuple / list / set literal of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return {s for elt in node.elts for s in _strings(elt)}
    return set()


def _is_kind(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "kind") or (
        isinstance(node, ast.Name) and node.id == "kind")


def target_switches(module: Module) -> list[str]:
    """Comparisons against a profile kind or a target name, and target names used as values."""
    found: list[str] = []
    docstrings = {id(n.body[0].value) for n in ast.walk(module.tree)
                  if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    compared: set[int] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            literals = {s for op in operands for s in _strings(op)}
            for op in operands:
                compared.update(id(n) for n in ast.walk(op))
            if literals & TARGET_NAMES or (literals & KINDS and any(_is_kind(op) for op in operands)):
                found.append(f"{module.name}:{node.lineno}: compares with {sorted(literals & (TARGET_NAMES | KINDS))}")
        elif isinstance(node, ast.match_case) and _strings(node.pattern) & (TARGET_NAMES | KINDS):
            found.append(f"{module.name}:{node.pattern.lineno}: matches a target name")
    for node in ast.walk(module.tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in TARGET_NAMES
                and id(node) not in docstrings and id(node) not in compared):
            found.append(f"{module.name}:{node.lineno}: the target name {node.value!r} as a value")
    return found


# -- the tests -------------------------------------------------------------------------------------


def test_the_graph_sees_lazy_and_type_checking_imports() -> None:
    graph = import_graph()
    assert len(graph) > 100
    # a function-level import (wasmtool.cli.main imports its operations lazily)
    assert any(t.startswith("wasmtool.ops") for t in graph["wasmtool.cli.main"])


def test_no_import_cycles() -> None:
    graph = import_graph()
    components = strongly_connected(graph)
    report = [f"{_render_cycle(graph, _cycle_in(graph, set(c), c[0]))}\n    (all of: {', '.join(c)})"
              for c in components]
    assert components == [], "import cycles:\n  " + "\n  ".join(report)


def test_every_module_has_a_layer() -> None:
    assert [m for m in import_graph() if layer_of(m) < 0] == []


def test_lower_layers_never_import_higher_ones() -> None:
    violations = layer_violations(import_graph())
    assert violations == [], "upward imports:\n  " + "\n  ".join(violations)


def test_no_target_switch_outside_the_backends() -> None:
    switches = [s for name, module in sorted(_modules().items())
                if not (name == "wasmtool.targets" or name.startswith("wasmtool.targets."))
                for s in target_switches(module)]
    assert switches == [], "target switches outside wasmtool/targets/:\n  " + "\n  ".join(switches)


# -- the checkers catch what they are for ----------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "wasmtool" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "wasmtool"


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    package = _write(tmp_path, {
        "__init__.py": "",
        "a/__init__.py": "",
        "a/one.py": "from wasmtool.b.two import f\n",
        "b/__init__.py": "",
        "b/two.py": "def f():\n    from ..a import one\n    return one\n",
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from wasmtool import d\n",
        "d.py": "import wasmtool.c\n",
    })
    graph = import_graph(package)
    assert sorted(map(tuple, find_cycles(graph))) == [
        ("wasmtool.a.one", "wasmtool.b.two", "wasmtool.a.one"), ("wasmtool.c", "wasmtool.d", "wasmtool.c")]


@pytest.mark.parametrize(("source", "flagged"), [
    ('if profile.kind == "wasi":\n    pass\n', True),
    ('if p.kind in ("wasi", "pyodide"):\n    pass\n', True),
    ('x = "" if target == "native" else target\n', True),
    ('NO = frozenset({"wasi-p2", "subprocess"})\n', True),
    ('def f(target: str = "native") -> None: ...\n', True),
    ('if t.kind == "record":\n    pass\n', False),          # a type's kind, not a profile's
    ('"""Install for wasi-p2."""\nhint = "run `wasmtool install --target=wasi-p2`"\n', False),
    ('if mode == "pyodide":\n    pass\n', False),           # a runtime mode, not a kind
])
def test_the_target_switch_checker(tmp_path: Path, source: str, flagged: bool) -> None:
    path = tmp_path / "m.py"
    path.write_text(source, encoding="utf-8")
    assert bool(target_switches(Module("wasmtool.m", path, False))) is flagged
