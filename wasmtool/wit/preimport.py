"""Which modules a componentize-py guest must import at build time.

A componentize-py component holds only the modules imported while it was built (the
interpreter is snapshotted; docs/wasi.md, "Modules a component carries"):
``attrs.__getattr__`` importing ``importlib.metadata`` inside a function, or ``click.formatting.wrap_text`` importing
``click._textwrap`` on first use, fail at call time with ``ModuleNotFoundError``. The guest
glue therefore imports, at its top level, the **static import closure** of the wrapper:
starting from the staged wrapper modules, every ``import`` / ``from ... import`` statement
(also inside functions; not under ``if TYPE_CHECKING:`` nor under ``if __name__ ==
"__main__":``, a module's script part, which importing never runs) and every
``import_module("x")`` / ``lazy_module("x")`` / ``load_module("x")`` call with a literal
name is followed through the bundled wheels' sources. Names reaching the standard library
are followed through its sources in the same way (``importlib.metadata`` imports
``importlib.metadata._adapters`` in a property, which imports ``email.message``, whose
``Message`` imports ``email.parser`` on use): about 300 modules for attrs, each imported
once at build time, most of them already imported by the modules that need them.

Imports computed at run time (``__import__(name)`` with a variable, plugin registries such
as pygments' lexer map, unidecode's per-block tables, codecs looked up by name) cannot be
seen by reading sources, so a component carries more than that closure
(:func:`carried_modules`): **every module of every bundled wheel** (test suites shipped
inside a wheel excepted, unless a kept module imports one), the closure of all of them over
the standard library, and the whole ``encodings`` package (``str.encode("punycode")``,
``codecs.lookup(name)``). What fails to import at build time is reported, not fatal.
"Carried" is not always "imported at build time": the standard-library modules of the set
that nothing imports while the component is built are stored compressed instead and
imported on first use (:mod:`wasmtool.wit.carry`).

:func:`import_time_closure` is the narrower set a lock check needs: the modules that
``import <package>`` itself runs (module-level imports, not those inside functions or under
a ``try`` that handles ``ImportError``), each with the module that imported it, so that a
package which cannot import on the target is refused naming the chain.

Pure: sources in, sorted module names out (no IO).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["ALWAYS_CARRIED", "EXCLUDED", "Carried", "ModuleSource", "carried_modules", "import_closure",
           "import_time_closure", "is_test_module", "module_of_member"]

#: Never imported by the guest: they print, open a browser, need a display, or run a program.
EXCLUDED = frozenset({"__main__", "__hello__", "__phello__", "antigravity", "this", "idlelib", "tkinter",
                      "turtle", "turtledemo", "test", "pydoc_data", "ensurepip", "venv", "lib2to3"})
#: Standard-library packages carried whole: their modules are looked up by name at run time
#: (``codecs.lookup("punycode")`` imports ``encodings.punycode``).
ALWAYS_CARRIED = ("encodings",)
#: A package folder of this name inside a wheel is a test suite (left out unless imported).
_TEST_PARTS = frozenset({"test", "tests"})
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


def _statement_imports(module: ModuleSource, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The absolute names one ``import`` / ``from ... import`` statement of ``module`` may
    import, in source order (``from a import b``: ``a`` and ``a.b``, since ``b`` may be a module)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = _resolve_relative(module, node.level, node.module) if node.level else node.module
    if not base:
        return []
    return [base, *(f"{base}.{a.name}" for a in node.names if a.name != "*")]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _is_main_guard(test: ast.expr) -> bool:
    """``if __name__ == "__main__":``: the module's script part, which importing never runs
    (no module is ``__main__`` in the guest); heapq's pulls in doctest, doctest pdb, pdb asyncio."""
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq) and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value == "__main__")


@lru_cache(maxsize=16384)
def _imports(module: ModuleSource) -> frozenset[str]:
    """Absolute module names ``module``'s source may import (a ``from x import y`` gives both
    ``x`` and ``x.y``: ``y`` may be a submodule). Memoised: the standard library's modules are
    parsed once per process however many components an install builds."""
    try:
        tree = ast.parse(module.text)
    except (SyntaxError, ValueError):
        return frozenset()
    found: set[str] = set()
    # Import statements sit in statement bodies only; expressions are walked (for the import
    # calls) only when the text names one of them: most of a module is expressions.
    calls = any(f"{name}(" in module.text for name in _IMPORT_CALLS)
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and (_is_type_checking(node.test) or _is_main_guard(node.test)):
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.update(_statement_imports(module, node))
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
    return frozenset(found)


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


def is_test_module(name: str) -> bool:
    """``pkg.tests.test_x`` / ``pkg.test`` / ``conftest``: a test suite shipped inside a wheel."""
    parts = name.split(".")
    return any(p in _TEST_PARTS for p in parts) or parts[-1] == "conftest"


@dataclass(frozen=True)
class Carried:
    """What a component carries (:func:`carried_modules`)."""

    modules: tuple[str, ...]        # carried, sorted
    left_out: tuple[str, ...]       # modules of the wheels not carried (test suites), sorted
    #: top-level names of the bundled modules (wheels and wrapper): never stored compressed
    #: (:mod:`wasmtool.wit.carry`), even when one shadows a standard-library name
    bundled_tops: tuple[str, ...] = ()


def carried_modules(sources: Iterable[ModuleSource], roots: Iterable[str], *, bundled: Iterable[str],
                    is_stdlib_module: Callable[[str], bool],
                    stdlib_source: Callable[[str], ModuleSource | None] = lambda _name: None,
                    stdlib_names: Iterable[str] = ()) -> Carried:
    """Every module a component carries (see the module docstring).

    ``bundled`` names the modules of the wheels (each one is a root unless it belongs to a
    test suite); ``roots`` the guest's own modules; ``stdlib_names`` every dotted module name
    of the standard library (for the packages of :data:`ALWAYS_CARRIED`)."""
    sources = list(sources)
    wheel_modules = sorted(set(bundled))
    kept_roots = [n for n in wheel_modules if not is_test_module(n)
                  and not any(p == "__main__" for p in n.split(".")) and n.split(".")[0] not in EXCLUDED]
    whole = [n for n in stdlib_names if n.split(".")[0] in ALWAYS_CARRIED and not is_test_module(n)]
    closure = import_closure(sources, [*roots, *kept_roots, *whole], is_stdlib_module=is_stdlib_module,
                             stdlib_source=stdlib_source)
    carried = set(closure)
    tops = {m.name.split(".")[0] for m in sources} | {n.split(".")[0] for n in wheel_modules}
    return Carried(tuple(sorted(carried)), tuple(n for n in wheel_modules if n not in carried), tuple(sorted(tops)))


def _handles_import_error(handler: ast.ExceptHandler) -> bool:
    names: list[ast.expr] = []
    if handler.type is None:
        return True
    names = list(handler.type.elts) if isinstance(handler.type, ast.Tuple) else [handler.type]
    caught = {n.id if isinstance(n, ast.Name) else n.attr if isinstance(n, ast.Attribute) else "" for n in names}
    return bool(caught & {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@lru_cache(maxsize=16384)
def _import_time_imports(module: ModuleSource) -> tuple[str, ...]:
    """The absolute names ``module`` surely imports when it is imported (module level, class
    and ``with`` bodies; not in functions, not under an ``if``, not in a ``try`` whose
    handlers catch ``ImportError``), in source order."""
    try:
        tree = ast.parse(module.text)
    except (SyntaxError, ValueError):
        return ()
    found: list[str] = []

    def walk(body: Iterable[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.extend(_statement_imports(module, node))
            elif isinstance(node, ast.If):
                # a condition is not evaluated here (``if sys.platform != "wasi":``): only the
                # ``else`` of ``if TYPE_CHECKING:`` is sure to run
                if _is_type_checking(node.test):
                    walk(node.orelse)
            elif isinstance(node, ast.Try | ast.TryStar):
                if not any(_handles_import_error(h) for h in node.handlers):
                    walk(node.body)
                walk(node.orelse)
                walk(node.finalbody)
            elif isinstance(node, ast.With | ast.ClassDef):
                walk(node.body)

    walk(tree.body)
    return tuple(found)


def import_time_closure(sources: Iterable[ModuleSource], roots: Iterable[str], *,
                        is_stdlib_module: Callable[[str], bool],
                        stdlib_source: Callable[[str], ModuleSource | None] = lambda _name: None,
                        ) -> dict[str, tuple[str, ...]]:
    """``{module: importer chain}`` for every module that importing ``roots`` runs: the chain
    runs from a root to the module's importer (``("networkx", "networkx.utils", "bz2")`` for
    ``_bz2``; a root's chain is empty). A name neither bundled nor in the standard library is
    kept too (the caller tells a missing module from another package's)."""
    by_name: Mapping[str, ModuleSource] = {m.name: m for m in sources}
    bundled_tops = {n.split(".")[0] for n in by_name}
    chains: dict[str, tuple[str, ...]] = {}
    todo: list[tuple[str, tuple[str, ...]]] = [(r, ()) for r in sorted(set(roots))]
    while todo:
        next_todo: list[tuple[str, tuple[str, ...]]] = []
        for name, chain in todo:       # breadth first: each module gets a shortest chain
            if name in chains:
                continue
            top = name.split(".")[0]
            if top in EXCLUDED:
                continue
            if top in bundled_tops:
                if name not in by_name:
                    if "." in name and name.rsplit(".", 1)[0] in by_name:
                        continue       # ``from pkg import attribute``
                    chains[name] = chain
                    continue
                source: ModuleSource | None = by_name[name]
            elif is_stdlib_module(name):
                source = stdlib_source(name)
            else:
                if "." in name and name.rsplit(".", 1)[0] in chains:
                    continue           # ``from json import loads``, ``from _bz2 import X``: an attribute
                chains[name] = chain
                continue
            chains[name] = chain
            parents = name.split(".")[:-1]
            for i in range(1, len(parents) + 1):
                next_todo.append((".".join(parents[:i]), chain))
            if source is not None:
                next_todo.extend((n, (*chain, name)) for n in _import_time_imports(source))
        todo = next_todo
    return dict(sorted(chains.items()))
