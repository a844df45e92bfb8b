"""Types from dependencies (docs/type-table.md, "Types from dependencies"): names a package's
stubs take from a locked dependency resolve through that dependency's stubs. A dependency's
class in a signature is an opaque handle, its aliases and TypeVars expand, numpy's scalars take
their wire forms, and a class the package re-exports is bound in full. Mini packages are parsed
with the real parser and mapped; the wrapper test calls the generated externs in a fresh
interpreter with the real modules on the path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from wasmtool.skips import SkipReason
from wasmtool.stubs.model import ModuleStub
from wasmtool.stubs.pyi import parse_stub
from wasmtool.synth.workspace import render_workspace
from wasmtool.typemap.lower import map_module
from wasmtool.typemap.surface import Function, MappedSurface, TypeRef

DEP = '''
from typing import Protocol, TypeVar

StrOrList = str | list[str]
N = TypeVar("N", bound=int)

class Thing:
    def __init__(self, label: str) -> None: ...
    def label(self) -> str: ...

class Readable(Protocol):
    def read(self) -> str: ...

class DepError(Exception): ...
'''

NUMPY = '''
class generic: ...
class number(generic): ...
class floating(number): ...
class float64(floating, float): ...
class integer(number): ...
class signedinteger(integer): ...
class int64(signedinteger): ...
class ndarray: ...
'''


def dep_modules(*extra: tuple[str, str]) -> list[ModuleStub]:
    out = [parse_stub(DEP, module="dep", file="dep/__init__.pyi", python_version=(3, 12)),
           parse_stub(NUMPY, module="numpy", file="numpy/__init__.pyi", python_version=(3, 12))]
    out += [parse_stub(text, module=name, file=f"{name}.pyi", python_version=(3, 12)) for name, text in extra]
    return out


def surface(text: str, *, dependencies: list[ModuleStub] | None = None) -> MappedSurface:
    stub = parse_stub(textwrap.dedent(text), module="mini", file="mini/__init__.pyi", python_version=(3, 12))
    return map_module([stub], dist="mini", version="1.0", alias="mp", import_names=["mini"], tier="py.typed",
                      dependencies=dep_modules() if dependencies is None else dependencies)


def sig(f: Function) -> str:
    def t(r: TypeRef | None) -> str:
        if r is None:
            return "-"
        if r.py and r.kind in ("int", "float", "bool", "str"):
            return f"{r.kind}@{r.py}"
        return r.name or (r.kind + (f"<{', '.join(t(a) for a in r.args)}>" if r.args else ""))
    return f"({', '.join(f'{p.name}: {t(p.type)}' for p in f.params)}) -> {t(f.returns)}"


def externs(s: MappedSurface) -> dict[str, str]:
    return {f.extern_name: sig(f) for f in s.functions}


def skip_of(s: MappedSurface, path: str) -> tuple[SkipReason, str]:
    found = [x for x in s.skips if x.path == path]
    assert found, f"no skip for {path}: {[x.path for x in s.skips]}"
    return found[0].reason, found[0].hint or found[0].detail


USES = """
    import dep
    from dep import Thing, StrOrList, N

    def make(label: str) -> Thing: ...
    def show(t: Thing) -> str: ...
    def join(x: StrOrList) -> str: ...
    def twice(n: N) -> N: ...
"""


def test_a_dependency_class_is_an_opaque_handle_its_aliases_and_typevars_expand() -> None:
    s = surface(USES)
    assert externs(s) == {
        "mp_make": "(label: str) -> dep_Thing",
        "mp_show": "(t: dep_Thing) -> str",
        "mp_join": "(x: union<str, list<str>>) -> str",
        "mp_twice": "(n: int) -> int",
    }
    assert [(h.name, h.py) for h in s.handles] == [("dep_Thing", "dep:Thing")]
    # opaque: the dependency's constructor and methods are its own package's surface
    assert not [f for f in s.functions if f.owner == "dep_Thing"]


def test_without_the_dependency_the_same_names_are_outside_the_distribution() -> None:
    s = surface(USES, dependencies=[])
    assert externs(s) == {}
    reason, why = skip_of(s, "mini.make")
    assert reason is SkipReason.SkipForwardRef and "outside the distribution" in why


def test_a_dependency_protocol_and_exception_are_not_types() -> None:
    s = surface("""
        from dep import Readable, DepError
        def read(r: Readable) -> str: ...
        def fail() -> DepError: ...
    """)
    assert externs(s) == {}
    assert "protocol of a dependency" in skip_of(s, "mini.read")[1]
    assert "is not a type" in skip_of(s, "mini.fail")[1]


def test_numpy_scalars_of_a_dependency_cross_as_their_wire_forms() -> None:
    s = surface("""
        import numpy as np
        from numpy import int64
        def mean(x: list[float]) -> np.float64: ...
        def count(x: list[float]) -> int64: ...
        def first(x: np.ndarray) -> np.float64: ...
    """)
    assert externs(s) == {
        "mp_mean": "(x: list<float>) -> float@numpy:float64",
        "mp_count": "(x: list<float>) -> int@numpy:int64",
        "mp_first": "(x: numpy_ndarray) -> float@numpy:float64",
    }


def test_a_reexported_dependency_class_is_bound_in_full_under_its_public_name() -> None:
    s = surface("""
        from dep import Thing as Thing
        __all__ = ["Thing"]
    """)
    assert externs(s) == {"mp_Thing_new": "(label: str) -> Thing", "mp_Thing_label": "(self: Thing) -> str"}
    assert [(h.name, h.py) for h in s.handles] == [("Thing", "mini:Thing")]


def test_a_dependency_class_named_like_one_of_the_package_gets_a_name_of_its_own() -> None:
    s = surface("""
        import dep
        class Thing:
            def other(self) -> dep.Thing: ...
    """)
    assert {h.name: h.py for h in s.handles} == {"Thing": "mini:Thing", "dep_Thing": "dep:Thing"}
    assert externs(s)["mp_Thing_other"] == "(self: Thing) -> dep_Thing"


def test_typing_extensions_as_a_dependency_stays_typing() -> None:
    te = ("typing_extensions", "from typing import Any\nSelf: Any\nclass TypedDict: ...\n")
    s = surface("""
        from typing_extensions import Self
        class Node:
            def copy(self) -> Self: ...
    """, dependencies=dep_modules(te))
    assert externs(s)["mp_Node_copy"] == "(self: Node) -> Node"


def test_the_mapping_is_deterministic() -> None:
    assert json.dumps(surface(USES).to_dict()) == json.dumps(surface(USES).to_dict())


DEP_RUNTIME = '''
class Thing:
    def __init__(self, label):
        self._label = label
    def label(self):
        return self._label
'''

MINI_RUNTIME = '''
import dep

def make(label):
    return dep.Thing(label)

def show(t):
    return "shown:" + t.label()

def join(x):
    return x if isinstance(x, str) else "+".join(x)
'''


def test_the_wrapper_hands_a_dependency_object_back_and_forth(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "dep").mkdir(parents=True)
    (site / "dep" / "__init__.py").write_text(DEP_RUNTIME)
    (site / "mini").mkdir()
    (site / "mini" / "__init__.py").write_text(MINI_RUNTIME)
    render_workspace([surface(USES)]).write(tmp_path / "ws")
    script = textwrap.dedent("""
        import json
        from python_wrap.mp import mini_externs as w
        from _mochi_wrap import BoundaryTypeError
        t = w.mp_make("a")
        try:
            w.mp_show("not a thing")
            wrong = "accepted"
        except BoundaryTypeError as exc:
            wrong = str(exc)
        print(json.dumps([type(t).__module__, w.mp_show(t), w.mp_join(["x", "y"]), w.mp_join("z"), wrong]))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(tmp_path / "ws")])}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    module, shown, joined, plain, wrong = json.loads(out.stdout)
    assert [module, shown, joined, plain] == ["dep", "shown:a", "x+y", "z"]
    assert "dep_Thing" in wrong and "str" in wrong


NUMPY_USER_STUB = """
    import numpy as np
    def mean(xs: list[float]) -> np.float64: ...
    def kinds(x: np.float64, n: np.int64, b: np.bool) -> list[str]: ...
    def count(xs: list[float]) -> np.intp: ...
    def positive(x: float) -> np.bool: ...
"""

NUMPY_USER = '''
import numpy as np

def mean(xs):
    return np.float64(sum(xs) / len(xs))

def kinds(x, n, b):
    return [type(x).__name__, type(n).__name__, type(b).__name__]

def count(xs):
    return np.intp(len(xs))

def positive(x):
    return np.bool(x > 0)
'''


def test_numpy_scalar_wire_forms_round_trip_through_the_wrapper(tmp_path: Path) -> None:
    """Arguments become numpy scalars, numpy results become plain JSON scalars (real numpy:
    the packages whose stubs name numpy's scalars only install where numpy does)."""
    site = tmp_path / "site" / "mini"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text(NUMPY_USER)
    s = surface(NUMPY_USER_STUB)
    assert externs(s)["mp_kinds"] == ("(x: float@numpy:float64, n: int@numpy:int64, b: bool@numpy:bool) "
                                      "-> list<str>")
    render_workspace([s]).write(tmp_path / "ws")
    script = textwrap.dedent("""
        import json
        from python_wrap.mp import mini_externs as w
        from _mochi_wrap import BoundaryTypeError
        try:
            w.mp_kinds("1.5", 2, True)
            wrong = "accepted"
        except BoundaryTypeError as exc:
            wrong = str(exc)
        out = [w.mp_mean([1.0, 2.0]), w.mp_kinds(1.5, 2, True), w.mp_count([1.0, 2.0, 3.0]), w.mp_positive(-1.0)]
        print(json.dumps([out, [type(v).__name__ for v in out], wrong]))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(tmp_path / "ws")])}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out, types, wrong = json.loads(proc.stdout)
    assert out == [1.5, ["float64", "int64", "bool"], 3, False]
    assert types == ["float", "list", "int", "bool"]      # plain Python scalars on the wire
    assert "expected a number" in wrong and "str" in wrong
