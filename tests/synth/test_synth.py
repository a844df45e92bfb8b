"""Synthesis: shims in both Mochi dialects (our grammar of the emitted subset and the
declared-types check), wrapper conversions and calls.

A synthetic package exercises every boundary kind through a GENERATED wrapper: keyword-only
parameters passed by keyword, ``_full`` defaults, bytes, fixed tuples, records, enums,
handles, materialised iterators, callables, async functions with a timeout.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wasmtool.mochi_syntax import spell_inner_digits
from wasmtool.stubs.pyi import parse_stub
from wasmtool.synth.errors import ShimSyntaxError
from wasmtool.synth.grammar import check_shim
from wasmtool.synth.workspace import render_workspace, surface_files
from wasmtool.typemap.lower import map_module
from wasmtool.typemap.surface import MappedSurface

FAKE = '''
import asyncio, enum
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

class Mode(enum.Enum):
    FAST = "fast"
    SLOW = "slow"

@dataclass(frozen=True)
class Point:
    x: int
    label: str

class Counter:
    def __init__(self, start: int = 0) -> None:
        self.value = start
    def add(self, n: int) -> int:
        self.value += n
        return self.value
    @property
    def doubled(self) -> int:
        return self.value * 2

LIMIT: int = 7

def scale(p: Point, *, factor: int) -> Point:
    return Point(p.x * factor, p.label)

def greet(name: str, punctuation: str = "!", /) -> str:
    return f"hello {name}{punctuation}"

def join(parts: list[str], sep: str = ",", *, upper: bool = False) -> str:
    out = sep.join(parts)
    return out.upper() if upper else out

def checksum(data: bytes) -> bytes:
    return bytes([sum(data) % 256])

def pair(a: int, b: str) -> tuple[int, str]:
    return (a, b)

def speed(m: Mode) -> Mode:
    return Mode.SLOW if m is Mode.FAST else Mode.FAST

def count(n: int) -> Iterator[int]:
    yield from range(n)

def apply(f: Callable[[int], int], x: int) -> int:
    return f(x)

def maybe(x: Optional[int]) -> Optional[int]:
    return None if x is None else x + 1

async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "done"

def match(type: str, set: int) -> str:
    return f"{type}:{set}"

@dataclass(frozen=True)
class Tagged:
    type: str
    n: int

def retag(t: Tagged) -> Tagged:
    return Tagged(t.type + "!", t.n)

def containers(xs: tuple[int, ...], fs: frozenset[str], s: set[int]) -> tuple[int, ...]:
    assert type(xs) is tuple and type(fs) is frozenset and type(s) is set, (xs, fs, s)
    return (*xs, len(fs), len(s))

def sha256_hex(text: str) -> str:
    import hashlib
    return hashlib.sha256(text.encode()).hexdigest()[:8]
'''


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("synth")
    pkg = root / "site" / "fakepkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(FAKE)
    stub = parse_stub(FAKE, module="fakepkg", file="fakepkg/__init__.py", python_version=(3, 12))
    surface = map_module([stub], dist="fakepkg", version="1.0", alias="fk", import_names=["fakepkg"], tier="py.typed")
    ws = render_workspace([surface])
    ws.write(root / "ws")
    sys.path[:0] = [str(root / "site"), str(root / "ws")]
    try:
        yield root / "ws"
    finally:
        sys.path.remove(str(root / "site"))
        sys.path.remove(str(root / "ws"))
        for name in [m for m in sys.modules if m.startswith(("fakepkg", "python_wrap", "_mochi_wrap"))]:
            del sys.modules[name]


def fake_surface() -> MappedSurface:
    stub = parse_stub(FAKE, module="fakepkg", file="fakepkg/__init__.py", python_version=(3, 12))
    return map_module([stub], dist="fakepkg", version="1.0", alias="fk", import_names=["fakepkg"], tier="py.typed")


def test_010_shim_declares_what_the_stateless_ffi_carries(workspace: Path) -> None:
    """The default dialect: the released Mochi's `import python` + `extern fun alias.name`,
    only functions whose values are JSON; the rest are skipped with SkipStatelessFfi."""
    shim = (workspace / "python_wrap" / "fk" / "fakepkg_shim.mochi").read_text()
    check_shim(shim, dialect="0.10")
    assert 'import python "python_wrap.fk.fakepkg_externs" as fk' in shim.splitlines()[2]
    assert "extern fun fk.fk_match(type_: string, set_: int): string" in shim
    assert "extern fun fk.fk_checksum(data: list<int>): list<int>" in shim
    assert "extern fun fk.fk_scale(p: Point, factor: int): Point" in shim          # records cross as objects
    assert "extern fun fk.fk_speed(m: Mode): Mode" in shim and "type Mode = string" in shim
    assert "extern fun fk.fk_slow_sync(seconds: float): string" in shim
    assert "extern python" not in shim
    for gone in ("fk_Counter_add", "fk_Counter_new", "fk_apply", "type Counter"):   # handles, callables
        assert gone not in shim
    skipped = {ln.split("\t")[2].split(":")[0]: ln.split("\t")[1]
               for ln in (workspace / "python_wrap" / "fk" / "SKIPPED.txt").read_text().splitlines()[1:]}
    assert skipped["fk_Counter_add"] == skipped["fk_apply"] == "SkipStatelessFfi"
    assert "fk_match" not in skipped


def test_mep71_shim_is_todays_output_and_declares_everything(workspace: Path) -> None:
    files = surface_files(fake_surface(), "mep-71")
    shim = files["fakepkg_shim.mochi"]
    check_shim(shim, dialect="mep-71")
    assert "SkipStatelessFfi" not in files["SKIPPED.txt"]
    assert "import python" not in shim
    assert "extern python fun fk_match(type_: string, set_: int): string" in shim
    assert "extern python fun fk_sha256_hex(text: string): string" not in shim  # digits then `_`
    assert "fk_sha_two_five_six_hex(text: string): string" in shim
    assert "type Mode = string" in shim and "type Counter = any" in shim
    assert "extern python fun fk_checksum(data: list<int>): list<int>" in shim
    assert "extern python fun fk_slow_sync(seconds: float): string" in shim


def test_wrapper_calls_convert_every_kind(workspace: Path) -> None:
    w = importlib.import_module("python_wrap.fk.fakepkg_externs")
    assert w.fk_scale({"x": 2, "label": "a"}, 3) == {"x": 6, "label": "a"}  # keyword-only passed by keyword
    assert w.fk_greet("ann") == "hello ann!"
    assert w.fk_greet_full("ann", "?") == "hello ann?"
    assert w.fk_greet_full("ann", None) == "hello ann!"                      # None = the package default
    assert w.fk_join_full(["a", "b"], None, True) == "A,B"
    assert w.fk_checksum([1, 2, 3]) == [6]                                   # bytes <-> list<int>
    assert w.fk_pair(1, "x") == {"t0": 1, "t1": "x"}                          # fixed tuple -> record
    assert w.fk_speed("fast") == "slow"                                       # enum <-> value
    assert w.fk_count(3) == [0, 1, 2]                                         # iterator materialised
    assert w.fk_apply(lambda v: v * 10, 4) == 40                              # callable bridged
    assert w.fk_maybe(None) is None and w.fk_maybe(1) == 2
    assert w.fk_match("a", 1) == "a:1"                                        # Mochi keywords keep Python names
    # a record field named like a Mochi keyword is `type_` in the shim: both spellings are accepted
    assert w.fk_retag({"type_": "a", "n": 1}) == {"type": "a!", "n": 1}
    assert w.fk_retag({"type": "a", "n": 1}) == {"type": "a!", "n": 1}
    assert w.fk_LIMIT() == 7
    c = w.fk_Counter_new_full(5)
    assert w.fk_Counter_add(c, 2) == 7 and w.fk_Counter_doubled(c) == 14
    assert w.fk_slow_sync(0.0) == "done"
    # Mochi lists and sets reach Python as the container each parameter declares
    assert w.fk_containers([1, 2], ["a", "b", "a"], [3]) == [1, 2, 2, 1]


def test_wrapper_rejects_bad_values_with_a_path(workspace: Path) -> None:
    w = importlib.import_module("python_wrap.fk.fakepkg_externs")
    wrap = importlib.import_module("_mochi_wrap")
    with pytest.raises(wrap.BoundaryTypeError, match=r"fk_scale: p.x: expected int, got str"):
        w.fk_scale({"x": "2", "label": "a"}, 3)
    with pytest.raises(wrap.BoundaryTypeError, match="unknown field"):
        w.fk_scale({"x": 2, "label": "a", "z": 1}, 3)
    with pytest.raises(wrap.BoundaryTypeError, match="'fast', 'slow'"):
        w.fk_speed("medium")
    with pytest.raises(wrap.BoundaryTypeError, match="expected a Counter handle"):
        w.fk_Counter_add(object(), 1)
    with pytest.raises(wrap.BoundaryTypeError, match="byte values"):
        w.fk_checksum([300])


def test_a_shared_converter_names_the_extern_that_called_it(workspace: Path) -> None:
    """One converter per distinct type: `int` in fk_count and fk_pair is the same converter,
    and each failure still names its own extern; a callable's converter is the extern's own."""
    w = importlib.import_module("python_wrap.fk.fakepkg_externs")
    wrap = importlib.import_module("_mochi_wrap")
    source = Path(w.__file__).read_text()
    shared = [ln for ln in source.splitlines() if ln.startswith("_wt_arg") and "{'kind': 'int'}" in ln
              and "'args'" not in ln]
    assert len(shared) == 1 and "where=" not in shared[0], shared
    with pytest.raises(wrap.BoundaryTypeError, match=r"^fk_count: n: expected int, got str"):
        w.fk_count("3")
    with pytest.raises(wrap.BoundaryTypeError, match=r"^fk_pair: a: expected int, got str"):
        w.fk_pair("1", "x")
    assert "where='fk_apply'" in source
    with pytest.raises(wrap.BoundaryTypeError, match=r"^fk_apply: f\(result\): expected int, got str"):
        w.fk_apply(lambda v: "ten", 4)


def test_async_timeout_cancels_and_reentry_is_reported(workspace: Path) -> None:
    import asyncio

    w = importlib.import_module("python_wrap.fk.fakepkg_externs")
    wrap = importlib.import_module("_mochi_wrap")
    wrap.configure(timeout=0.05)
    try:
        with pytest.raises(wrap.WrapperTimeoutError, match="cancelled"):
            w.fk_slow_sync(5.0)
    finally:
        wrap.configure(timeout=None)

    async def inside() -> None:
        with pytest.raises(wrap.AsyncReentryError):
            w.fk_slow_sync(0.0)
    asyncio.run(inside())
    wrap.configure(async_mode="persistent")
    try:
        assert w.fk_slow_sync(0.0) == "done"
    finally:
        wrap.configure(async_mode="per-call")


def test_wrapper_passes_mypy_strict(workspace: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent",
                           str(workspace / "python_wrap" / "fk" / "fakepkg_externs.py")],
                          capture_output=True, text=True, cwd=workspace, timeout=300,
                          env={"MYPYPATH": str(workspace), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stdout


# Forms the released Mochi rejects (parser or checker); each cites the Mochi syntax reference.
MOCHI_REJECTS = [
    ("extern python type Foo", "no `extern python type` form in any release"),
    ("extern python var x: int", "no `extern python var` form in any release"),
    ("extern python fun f(x: bytes): int", "`bytes` is not a Mochi type: checker error T025"),
    ("extern python fun f(x: int | string)", "no anonymous unions in type positions"),
    ("extern python fun f(x: int): async int", "`async T` is not a type"),
    ("extern python fun f(type: int)", "`type` is a keyword, not a parameter name"),
    ("extern python fun f(x: int = 1)", "extern parameters take no default values"),
    ("extern python fun f(x: Later)\ntype Later = any", "an alias used before its declaration: T025"),
    ("extern python fun f(x: int,)", "no trailing comma in a parameter list"),
]

# Forms Mochi accepts that our emitter refuses on purpose (stricter than the language).
WE_REFUSE = [
    ("extern python fun f(int, string): int", "Mochi reads two untyped parameters NAMED int and string"),
    ("extern python fun f(x: tuple<int, int>): int", "Mochi silently reads any `Name<..>` as any"),
    ("type A = any\ntype A = any", "we never declare a name twice"),
    ("extern python fun b64_x(x: int)", "we spell digit runs followed by a letter or `_` out"),
]


def in_dialect(text: str, dialect: str) -> str:
    """The same declaration in the 0.10 dialect (import + `extern fun a.name`)."""
    if dialect == "mep-71":
        return text + "\n"
    return 'import python "m.mod" as a\n' + text.replace("extern python fun ", "extern fun a.") + "\n"


@pytest.mark.parametrize("dialect", ["0.10", "mep-71"])
@pytest.mark.parametrize(("text", "why"), MOCHI_REJECTS, ids=[w for _, w in MOCHI_REJECTS])
def test_grammar_rejects_forms_the_released_mochi_rejects(text: str, why: str, dialect: str) -> None:
    with pytest.raises(ShimSyntaxError):
        check_shim(in_dialect(text, dialect), dialect=dialect)


@pytest.mark.parametrize("dialect", ["0.10", "mep-71"])
@pytest.mark.parametrize(("text", "why"), WE_REFUSE, ids=[w for _, w in WE_REFUSE])
def test_grammar_refuses_forms_our_emitter_never_writes(text: str, why: str, dialect: str) -> None:
    with pytest.raises(ShimSyntaxError):
        check_shim(in_dialect(text, dialect), dialect=dialect)


@pytest.mark.parametrize(("text", "dialect"), [
    ('import python "m.mod" as a\nextern python fun f(x: int)\n', "0.10"),   # mep-71 form in 0.10
    ("extern fun a.f(x: int)\n", "0.10"),                                     # no import line
    ('import python "m.mod" as a\nextern fun b.f(x: int)\n', "0.10"),         # another alias
    ('import python "m.mod" as a\nimport python "m.two" as b\n', "0.10"),     # two imports
    ('import python "m-x" as a\n', "0.10"),                                    # not a module path
    ('import python "m.mod" as type\n', "0.10"),                               # keyword alias
    ('import python "m.mod" as a\nextern fun a.f(x: int)\n', "mep-71"),       # 0.10 form in mep-71
])
def test_each_dialect_allows_only_its_own_extern_form(text: str, dialect: str) -> None:
    with pytest.raises(ShimSyntaxError):
        check_shim(text, dialect=dialect)


def test_both_dialects_accept_their_reference_forms() -> None:
    check_shim('import python "python_wrap.t.tomli_externs" as t\ntype R { a: int, b: string? }\n'
               "extern fun t.t_loads(s: string): map<string, any>\nextern fun t.t_r(r: R)\n", dialect="0.10")
    check_shim("type H = any\nextern python fun t_get(url: string, cb: fun(string): bool): H\n", dialect="mep-71")


IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)


@settings(max_examples=40, deadline=None)
@given(st.lists(IDENT, min_size=1, max_size=4, unique=True))
def test_spelled_names_are_accepted_by_the_grammar_in_both_dialects(names: list[str]) -> None:
    from wasmtool.typemap.lower import mochi_ident

    idents = list(dict.fromkeys(mochi_ident(n) for n in names))
    text = "\n".join(f"extern python fun f_{i}({p}: int): int" for i, p in enumerate(idents))
    for dialect in ("0.10", "mep-71"):
        check_shim(in_dialect(text, dialect), dialect=dialect)
    assert all(spell_inner_digits(i) == i for i in idents)




MODELS = '''
from typing import Optional
from pydantic import BaseModel

class User(BaseModel):
    name: str
    age: int
    email: Optional[str] = None
    tags: list[str] = []

def describe(user: User) -> str:
    return f"{user.name} ({user.age}) {user.email or '-'} {','.join(user.tags)}"

def birthday(user: User) -> User:
    return user.model_copy(update={"age": user.age + 1})
'''


def test_pydantic_models_are_records_validated_by_pydantic(tmp_path: Path) -> None:
    """A user package's pydantic model is a record: a dict from Mochi is validated (and
    coerced) by the real pydantic at the boundary, and a model comes back as a dict."""
    pkg = tmp_path / "site" / "usermodels"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(MODELS)
    (pkg / "py.typed").write_text("")
    stub = parse_stub(MODELS, module="usermodels", file="usermodels/__init__.py", python_version=(3, 12))
    surface = map_module([stub], dist="usermodels", version="1.0", alias="um", import_names=["usermodels"],
                         tier="py.typed")
    rec = next(r for r in surface.records if r.name == "User")
    assert rec.origin == "pydantic"
    assert {f.name: f.required for f in rec.fields} == {"name": True, "age": True, "email": False, "tags": False}
    ws = render_workspace([surface])
    ws.write(tmp_path / "ws")
    shim = ws.files["python_wrap/um/usermodels_shim.mochi"].decode()
    assert "type User {" in shim and "email: string?" in shim and "tags: list<string>?" in shim
    assert "extern fun um.um_birthday(user: User): User" in shim          # records cross the 0.10 FFI
    check_shim(shim, dialect="0.10")
    check_shim(surface_files(surface, "mep-71")["usermodels_shim.mochi"], dialect="mep-71")
    code = textwrap.dedent(f"""
        import json, sys
        sys.path[:0] = [{str(tmp_path / 'site')!r}, {str(tmp_path / 'ws')!r}]
        from python_wrap.um import usermodels_externs as um
        out = {{}}
        out["describe"] = um.um_describe({{"name": "ann", "age": "41", "tags": ["a", "b"]}})  # "41" coerced
        out["birthday"] = um.um_birthday({{"name": "bob", "age": 9, "email": None}})
        try:
            um.um_describe({{"name": "eve", "age": "old"}})
        except Exception as exc:
            out["invalid"] = [type(exc).__name__, "age" in str(exc)]
        print(json.dumps(out))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    import json

    out = json.loads(proc.stdout)
    assert out["describe"] == "ann (41) - a,b"
    assert out["birthday"] == {"name": "bob", "age": 10, "tags": []}   # None email left out of the record
    assert out["invalid"] == ["ValidationError", True]


def test_type_names_shared_by_two_shims_are_alias_prefixed() -> None:
    """phases.md check 39: two bound packages both declaring `Response` must not collide in a
    Mochi module that imports both shims."""
    src = "class Response:\n    def text(self) -> str: ...\ndef get(url: str) -> Response: ...\n"
    surfaces = []
    for alias in ("hx", "rq"):
        stub = parse_stub(src, module=f"{alias}pkg", file=f"{alias}pkg/__init__.pyi", python_version=(3, 12))
        surfaces.append(map_module([stub], dist=f"{alias}pkg", version="1", alias=alias,
                                   import_names=[f"{alias}pkg"], tier="py.typed"))
    ws = render_workspace(surfaces, dialect="mep-71")
    shims = [ws.files[f"python_wrap/{a}/{a}pkg_shim.mochi"].decode() for a in ("hx", "rq")]
    assert "type hx_Response = any" in shims[0] and "extern python fun hx_get(url: string): hx_Response" in shims[0]
    assert "type rq_Response = any" in shims[1]
    both = shims[0] + shims[1]
    check_shim(both, dialect="mep-71")
    alone = render_workspace(surfaces[:1], dialect="mep-71").files["python_wrap/hx/hxpkg_shim.mochi"].decode()
    assert "type Response = any" in alone   # no clash, no prefix
    # 0.10: handles do not cross, so neither shim declares Response; each imports its own module
    for alias in ("hx", "rq"):
        shim = render_workspace(surfaces).files[f"python_wrap/{alias}/{alias}pkg_shim.mochi"].decode()
        check_shim(shim, dialect="0.10")
        assert "Response" not in shim.split("// SKIPPED")[0].split("\n", 2)[2]
