"""Which modules a componentize-py guest must import at build time.

A componentize-py component holds only the modules imported while it was built (the
interpreter is snapshotted; recipes.md §6): ``attrs.__getattr__`` importing
``importlib.metadata`` inside a function, or ``click.formatting.wrap_text`` importing
``click._textwrap`` on first use, fail at call time with ``ModuleNotFoundError``. The guest
glue therefore imports, at its top level, the **static import closure** of the wrapper:
starting from the staged wrapper modules, every ``import`` / ``from ... import`` statement
(also inside functions; not under ``if TYPE_CHECKING:``) and every
``import_module("x")`` / ``lazy_module("x")`` / ``load_module("x")`` call with a literal
name is followed through the bundled wheels' sources. Names reaching the standard library
are followed through its sources in the same way (``importlib.metadata`` imports
``importlib.metadata._adapters`` in a property, which imports ``email.message``, whose
``Message`` imports ``email.parser`` on use): about 300 modules for attrs, each imported
once at build time, most of them already imported by the modules that need them.

Imports computed at run time (``__import__(name)`` with a variable, plugin registries such
as pygments' lexer map) are not seen; such functions still fail on wasi-p2.

Pure: sources in, sorted module names out (no IO).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

__all__ = ["EXCLUDED", "ModuleSource", "import_closure", "module_of_member"]

#: Never imported by the guest: they print, open a browser, need a display, or run a program.
EXCLUDED = frozenset({"__main__", "__hello__", "__phello__", "antigravity", "this", "idlelib", "tkinter",
                      "turtle", "turtledemo", "test", "pydoc_data", "ensurepip", "venv", "lib2to3"})
_IMPORT_CALLS = frozenset({"import_module", "lazy_module", "load_module", "__import__"})


@dataclass(frozen=True)
class ModuleSource:
    name: str          # dotted module name
    is_package: bool   # an ``__init__.py``
    text: str


def module_of_member(member: str) -> tuple[str, bool] | None:
    """``click/_textwrap.py`` -> ``("click._textwrap", False)``; ``a/__init__.py`` -> ``("a", True)``;
    None for what is not an importable module (dist-info, data, scripts, ``-`` in a name)."""
    if not member.endswith(".py"):
        return None
    parts = member[:-3].split("/")
    if any(p.endswith((".dist-info", ".data")) for p in parts[:-1]):
        return None
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts), is_package


def _resolve_relative(module: ModuleSource, level: int, name: str | None) -> str | None:
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    if level - 1 > len(package) or (level - 1 == len(package) and not name):
        return None
    base = package[:len(package) - (level - 1)]
    return ".".join([*base, *([name] if name else [])]) or None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: ModuleSource) -> set[str]:
    """Absolute module names ``module``'s source may import (a ``from x import y`` gives both
    ``x`` and ``x.y``: ``y`` may be a submodule)."""
    try:
        tree = ast.parse(module.text)
    except (SyntaxError, ValueError):
        return set()
    found: set[str] = set()
    # Import statements sit in statement bodies only; expressions are walked (for the import
    # calls) only when the text names one of them: most of a module is expressions.
    calls = any(f"{name}(" in module.text for name in _IMPORT_CALLS)
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = (_resolve_relative(module, node.level, node.module) if node.level else node.module)
            if base:
                found.add(base)
                found.update(f"{base}.{a.name}" for a in node.names if a.name != "*")
        elif isinstance(node, ast.Call):
            fn = node.func
            called = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            if (called in _IMPORT_CALLS and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str) and node.args[0].value
                    and not node.args[0].value.startswith(".")):
                found.add(node.args[0].value)
        if calls:
            todo.extend(ast.iter_child_nodes(node))
        else:
            todo.extend(child for child in ast.iter_child_nodes(node)
                        if isinstance(child, ast.stmt | ast.excepthandler | ast.match_case))
    return found


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def import_closure(sources: Iterable[ModuleSource], roots: Iterable[str], *,
                   is_stdlib_module: Callable[[str], bool],
                   stdlib_source: Callable[[str], ModuleSource | None] = lambda _name: None) -> tuple[str, ...]:
    """The modules to import at build time, sorted (see the module docstring).

    ``sources`` are the bundled modules (wheels and staged wrapper); ``roots`` the modules
    the guest imports itself; ``is_stdlib_module(name)`` tells a standard-library module
    (``importlib.metadata``) from anything else (``typing.Any``, a third-party name);
    ``stdlib_source(name)`` gives a standard-library module's source, when known.
    """
    by_name: Mapping[str, ModuleSource] = {m.name: m for m in sources}
    bundled_tops = {n.split(".")[0] for n in by_name}
    keep: set[str] = set()
    todo = list(roots)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        top = name.split(".")[0]
        if top in EXCLUDED or any(p == "__main__" for p in name.split(".")):
            continue
        if top in bundled_tops:
            if name not in by_name:      # ``from pkg import attribute``: not a module
                continue
            keep.update(_with_parents(name))
            todo.extend(_imports(by_name[name]))
            todo.extend(_with_parents(name))
        elif is_stdlib_module(name):
            keep.add(name)
            todo.extend(_with_parents(name))
            source = stdlib_source(name)
            if source is not None:
                todo.extend(_imports(source))
    return tuple(sorted(keep))
