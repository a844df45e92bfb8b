"""Names users type (docs/value-encoding.md, `wasmtool call`): an alias with digits keeps
``j2.render`` callable as written; a dotted submodule path resolves through the functions'
Python targets; a name several functions share (split ``@overload`` arms) lists them; and
calling something ``wasmtool bind`` skipped says why and which setting would bind it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from wasmtool.ops.session import open_session
from wasmtool.run.errors import UnknownFunctionError
from wasmtool.run.modes import ModeRuntime, RuntimeMode
from wasmtool.run.protocol import Runtime
from wasmtool.run.session import Session, call_name, load_aliases
from wasmtool.run.skipped import PARTIAL_TIERS, SkippedItem, read_skipped, remedy, submodule_remedy
from wasmtool.run.workspace import BoundAlias
from wasmtool.stubs.pyi import parse_stub
from wasmtool.synth.workspace import render_workspace
from wasmtool.typemap import table
from wasmtool.typemap.lower import map_module
from wasmtool.typemap.surface import MappedSurface

from .conftest import wrappers_forgotten
from .test_session_dispatch import make_venv

#: bound as `j2` (an alias with a digit: its externs are spelled `j_two_...`)
JINJA = '''
from typing import Any, overload


def render(text: str) -> str:
    return f"<{text}>"


def sha256_hex(text: str) -> str:
    import hashlib
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def load(x: Any) -> int:
    return 1


def root(z: complex) -> int:
    return 0


@overload
def pick(x: int) -> int: ...
@overload
def pick(x: str) -> str: ...
@overload
def pick(x: complex) -> complex: ...
def pick(x):
    return x * 2


@overload
def span(n: int) -> int: ...
@overload
def span(text: str, times: int) -> str: ...
def span(*args, **kwargs):
    values = [*args, *kwargs.values()]
    return values[0] if len(values) == 1 else values[0] * values[1]


class Meta(type):
    def __call__(cls, *args, **kwargs):   # makes instances its own way: the class stays skipped
        return super().__call__(*args, **kwargs)


class Weird(metaclass=Meta):
    def go(self) -> int:
        return 1


class Env:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def render2(self, x: int) -> str:
        return f"{self.prefix}{x}"
'''

#: bound as `du` with only two of its submodules
DATE_PARSER = '''
def parse(text: str) -> str:
    return "parsed:" + text
'''
DATE_RELATIVE = '''
class relativedelta:
    def __init__(self, days: int) -> None:
        self.days = days

    def total(self) -> int:
        return self.days * 24
'''
DATE_TZ = '''
def gettz(name: str) -> str:
    return name
'''
DATE_FILES = {"dateish/__init__.py": "", "dateish/parser.py": DATE_PARSER,
              "dateish/relativedelta.py": DATE_RELATIVE, "dateish/tz.py": DATE_TZ}


def jinja_surface() -> MappedSurface:
    stub = parse_stub(JINJA, module="jinjaish", file="jinjaish/__init__.py", python_version=(3, 12))
    # stubgen tier: a declared `Any` is skipped unless allow-partial / allow-any
    return map_module([stub], dist="jinjaish", version="1.0", alias="j2", import_names=["jinjaish"],
                      tier="stubgen")


def date_surface() -> MappedSurface:
    stubs = [parse_stub(text, module=path.removesuffix(".py").removesuffix("/__init__").replace("/", "."),
                        file=path, python_version=(3, 12)) for path, text in DATE_FILES.items()]
    return map_module(stubs, dist="dateish", version="2.9", alias="du",
                      import_names=["dateish.parser", "dateish.relativedelta"], tier="py.typed")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("skippedcalls") / "proj"
    venv = make_venv(root.parent / "venv")
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "jinjaish").mkdir()
    (site / "jinjaish" / "__init__.py").write_text(JINJA)
    for path, text in DATE_FILES.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(text)
    root.mkdir()
    (root / "mochi.toml").write_text(f'name = "skipped-calls"\n\n[python]\nrequires-python = ">=3.12"\n'
                                     f'venv = "{venv}"\n')
    render_workspace([jinja_surface(), date_surface()]).write(root / ".mochi" / "python_workspace")
    return root


@pytest.fixture(autouse=True)
def _no_leftover_wrappers() -> Iterator[None]:
    with wrappers_forgotten("jinjaish"), wrappers_forgotten("dateish"):
        yield


def unknown(session: Session, name: str) -> UnknownFunctionError:
    with pytest.raises(UnknownFunctionError) as info:
        session.resolve(name)
    return info.value


# -- an alias with digits --------------------------------------------------------------------------------


def test_an_alias_with_digits_is_called_as_written(project: Path) -> None:
    externs = {f.extern_name for f in jinja_surface().functions}
    assert {"j_two_render", "j_two_sha_two_five_six_hex", "j_two_Env_render2"} <= externs
    with open_session(project, mode="embedded") as session:
        assert session.resolve("j2.render").name == "j_two_render"
        assert session.call("j2.render", ["x"]) == "<x>"
        assert session.call("j2_render", ["y"]) == "<y>"            # the extern as if unspelled
        assert session.call("j_two_render", ["z"]) == "<z>"         # the extern itself
        assert session.resolve("j2.sha256_hex").name == "j_two_sha_two_five_six_hex"
        env = session.call("j2.Env.new", ["#"])
        assert session.call("j2.Env.render2", [env, 4]) == "#4"
        # suggestions are typeable names
        assert "j2.render" in unknown(session, "j2.rendr").suggestions


def test_call_name_is_the_typeable_form() -> None:
    assert call_name("j2", "j_two_render") == "j2.render"
    assert call_name("j2", "j2_render") == "j2.render"
    assert call_name("tomli", "tomli_loads_full") == "tomli.loads_full"
    assert call_name("tomli", "other_loads") == "other_loads"
    assert call_name("a1b", "a_one_b_x") == "a1b.x"


def test_cli_call_takes_the_alias_as_written(project: Path, run_cli: Any) -> None:
    code, out, err = run_cli("-C", str(project), "call", "--runtime", "embedded", "j2.render", "--args", '["cli"]')
    assert code == 0, err
    assert json.loads(out) == "<cli>"


# -- dotted submodule paths ------------------------------------------------------------------------------


def test_dotted_submodule_paths_resolve_by_python_target(project: Path) -> None:
    with open_session(project, mode="embedded") as session:
        parse = session.resolve("du.parser.parse")
        assert parse.target == "dateish.parser:parse" and not parse.full
        assert session.call("du.parser.parse", ["x"]) == "parsed:x"
        new = session.resolve("du.relativedelta.relativedelta")
        assert new.target == "dateish.relativedelta:relativedelta"
        delta = session.call("du.relativedelta.relativedelta", [2])
        assert session.call("du.relativedelta.relativedelta.total", [delta]) == 48
        assert session.call("du.relativedelta.total", [delta]) == 48      # by the qualified name
        # the exact extern wins over any dotted reading
        for f in session.functions("du"):
            assert session.resolve(f.name) == f


def test_an_unbound_submodule_names_the_setting(project: Path) -> None:
    with open_session(project, mode="embedded") as session:
        err = unknown(session, "du.tz.gettz")
    assert "no such bound function" in err.message
    assert err.remedy is not None and err.remedy.setting == 'submodules = ["tz"]'
    assert ('`import-names = ["dateish.parser", "dateish.relativedelta", "dateish.tz"]` in the dateish entry '
            "of [python-dependencies]") in err.message
    with open_session(project, mode="embedded") as session:
        # a method of a bound class is not a submodule: plain "no such bound function"
        err = unknown(session, "du.relativedelta.nothing")
    assert err.remedy is None and err.message == "du.relativedelta.nothing: no such bound function"


# -- split overloads -------------------------------------------------------------------------------------


def test_a_name_of_several_overload_externs_lists_them(project: Path) -> None:
    with open_session(project, mode="embedded") as session:
        err = unknown(session, "j2.pick")
        assert err.candidates == ("j2.pick_int", "j2.pick_string")
        assert "ambiguous: the @overload arms of jinjaish:pick are bound separately" in err.message
        assert err.hint == "call one of j2.pick_int, j2.pick_string"
        assert session.call("j2.pick_int", [2]) == 4
        assert session.call("j2.pick_string", ["ab"]) == "abab"
    assert {i.path for i in read_skipped(project / ".mochi" / "python_workspace" / "python_wrap" / "j2")
            if i.path.startswith("jinjaish.pick")} == {"jinjaish.pick#3"}


def test_a_call_by_the_item_name_picks_the_one_overload_arm_its_arguments_fit(project: Path) -> None:
    with open_session(project, mode="embedded") as session:
        assert session.call("j2.span", [3]) == 3                   # span(n: int)
        assert session.call("j2.span", ["ab", 2]) == "abab"        # span(text: str, times: int)
        assert session.call("j2.span", ["ab"], {"times": 3}) == "ababab"
        with pytest.raises(UnknownFunctionError, match="ambiguous"):
            session.call("j2.pick", [2])                           # two arms take one value: still ambiguous


# -- calling what was skipped ------------------------------------------------------------------------------


def test_calling_a_skipped_item_says_why_and_which_setting_binds_it(project: Path) -> None:
    with open_session(project, mode="embedded") as session:
        anyed = unknown(session, "j2.load")
        assert anyed.skipped is not None and anyed.skipped.path == "jinjaish.load"
        assert anyed.skipped.tier == "stubgen"
        assert anyed.remedy is not None
        assert anyed.remedy.setting == 'allow-partial = true or allow-any = ["jinjaish.load"]'
        assert anyed.message.startswith("j2.load: not bound: `wasmtool bind` skipped jinjaish.load "
                                        "(python_wrap/j2/SKIPPED.txt): SkipUnsupportedTypingConstruct (Any); "
                                        "to bind it as `any`: `allow-partial = true` or ")
        for name in ("j2_load", "j_two_load"):       # the extern spellings find the same line
            assert unknown(session, name).skipped == anyed.skipped
        cplx = unknown(session, "j2.root")
        assert cplx.remedy is not None and cplx.remedy.setting == ""
        assert cplx.message.endswith("; no setting binds it: Mochi has no complex type")
        member = unknown(session, "j2.Weird.go")      # inside a skipped class: the class's line
        assert member.skipped is not None and member.skipped.path == "jinjaish.Weird"
        assert member.message.endswith("no setting binds it: classes with a custom metaclass are not bound")
        plain = unknown(session, "j2.nothing_like_this")
        assert plain.message == "j2.nothing_like_this: no such bound function" and plain.remedy is None


class _ExportsOnly(ModeRuntime):
    """A runtime that cannot call ``hidden`` (like a component without that function's WIT form)."""

    mode: RuntimeMode = "component"

    def __init__(self, hidden: str) -> None:
        super().__init__()
        self.hidden = hidden

    def restrict(self, aliases: Mapping[str, BoundAlias]) -> tuple[dict[str, BoundAlias], dict[str, str]]:
        kept = {n: BoundAlias(a.alias, a.dist, a.version, a.module,
                              tuple(f for f in a.functions if f.name != self.hidden), a.import_names, a.directory)
                for n, a in aliases.items()}
        return kept, {self.hidden: "not exported by the wasi-p2 component (no WIT form)"}

    def _open(self, alias: BoundAlias) -> Runtime:
        raise AssertionError("nothing is called")


def test_a_function_the_target_cannot_call_says_try_native(project: Path) -> None:
    workspace = project / ".mochi" / "python_workspace"
    session = Session(project, target="wasi-p2", workspace=workspace, aliases=load_aliases(workspace),
                      runtime=_ExportsOnly("j_two_render"), async_mode="per-call", timeout=None)
    for name in ("j2.render", "j_two_render"):
        err = unknown(session, name)
        assert err.message == (f"{name}: not exported by the wasi-p2 component (no WIT form); not available on "
                               "target wasi-p2; try --target native (`wasmtool surface j2 --target=wasi-p2` "
                               "shows why)")
    assert session.resolve("j2.sha256_hex").name == "j_two_sha_two_five_six_hex"


# -- the remedy table (pure) -------------------------------------------------------------------------------


def item(reason: str, detail: str = "", hint: str = "", tier: str = "py.typed", path: str = "pkg.f") -> SkippedItem:
    return SkippedItem(path, reason, detail, hint, tier)


@pytest.mark.parametrize(("skipped", "setting"), [
    (item("SkipUnsupportedTypingConstruct", "Any", "`Any` (...)", tier="stubgen"),
     'allow-partial = true or allow-any = ["pkg.f"]'),
    (item("SkipUnsupportedTypingConstruct", "Any", "`Any` (...)", tier="py.typed-partial"),
     'allow-partial = true or allow-any = ["pkg.f"]'),
    # a complete tier skips a declared Any only under `any = "skip"`
    (item("SkipUnsupportedTypingConstruct", "Any", "`Any` (...)"), 'any = "map" or allow-any = ["pkg.f"]'),
    (item("SkipUnsupportedTypingConstruct", "x", "parameter `x` has no annotation", tier="stubgen"),
     'allow-partial = true or allow-any = ["pkg.f"]'),
    (item("SkipUnsupportedTypingConstruct", "", "missing return annotation"), 'allow-any = ["pkg.f"]'),
    (item("SkipUnsupportedTypingConstruct", "T", "TypeVar `T` (instantiate it with a monomorphise setting)"),
     'monomorphise = [{ item = "pkg.f", T = "<type>" }]'),
    (item("SkipUnsupportedTypingConstruct", "object", "`object` outside a Protocol parameter"), 'any = "map"'),
    (item("SkipUnsupportedTypingConstruct", "object", "`object` outside a Protocol parameter", tier="stubgen"), ""),
    (item("SkipUnsupportedTypingConstruct", "IO[bytes]", "`IO` is not in the type table"), ""),
    # an overload arm: the item without `#n`
    (item("SkipUnsupportedTypingConstruct", "Any", "`Any` (...)", tier="stubgen", path="pkg.f#2"),
     'allow-partial = true or allow-any = ["pkg.f"]'),
    # no arm maps: what would make the covering arm map
    (item("SkipOverloadAmbiguity", "def f(x: T) -> T", "superset arm does not map: SkipUnsupportedTypingConstruct "
          "TypeVar `T` (instantiate it with a monomorphise setting)"),
     'monomorphise = [{ item = "pkg.f", T = "<type>" }]'),
    (item("SkipOverloadAmbiguity", "def f ...", "maps to the same extern as arm 1 (p_f_int)"), ""),
    (item("SkipUntypedPackage", "no stubs package, py.typed or typeshed stubs; stubgen fallback is off"),
     "fallback = true"),
    (item("SkipUntypedPackage", "no stubs found in any tier"), ""),
    (item("SkipTargetUnrepresentable", "p_f: parameter x: any", "not exported on wasi-p2"), "--target native"),
    (item("SkipStatelessFfi", "p_f: takes a handle"), 'mochi-dialect = "mep-71"'),
    (item("SkipNoComplexType", "complex"), ""),
    (item("SkipPrivateName"), ""),
    (item("SkipNotAReason"), ""),
])
def test_remedy_table(skipped: SkippedItem, setting: str) -> None:
    fix = remedy(skipped, target="wasi-p2", dist="pkg")
    assert fix.setting == setting
    if setting and setting != "--target native":
        assert fix.text.startswith("to bind it")
        assert all(f"`{s}`" in fix.text for s in setting.split(" or "))
    elif not setting:
        assert fix.text.startswith("no setting binds it: ")


def test_target_remedy_names_the_target() -> None:
    fix = remedy(item("SkipTargetUnrepresentable"), target="wasi-p2")
    assert fix.text == "not available on target wasi-p2; try --target native"


def test_every_skip_reason_has_a_remedy_rule() -> None:
    from wasmtool.run.skipped import REMEDIES
    from wasmtool.skips import SkipReason

    assert set(REMEDIES) == {r.token for r in SkipReason}
    assert PARTIAL_TIERS == table.PARTIAL_TIERS


def test_submodule_remedy() -> None:
    fix = submodule_remedy("dateutil.relativedelta", "dateutil", "python-dateutil", ("dateutil.parser",))
    assert fix.setting == 'submodules = ["relativedelta"]'
    assert fix.text == ('`dateutil.relativedelta` is not bound: if it is a submodule, bind it with '
                        '`submodules = ["relativedelta"]` or `import-names = ["dateutil.parser", '
                        '"dateutil.relativedelta"]` in the python-dateutil entry of [python-dependencies], '
                        "then `wasmtool bind`")


def test_read_skipped_keeps_the_tier_and_short_lines(tmp_path: Path) -> None:
    (tmp_path / "SKIPPED.txt").write_text("# wasmtool SKIPPED pkg 1.0 tier=stubgen\npkg.a\tSkipDunder\n"
                                          "pkg.b\tSkipNoComplexType\tcomplex\n")
    assert read_skipped(tmp_path) == (SkippedItem("pkg.a", "SkipDunder", "", "", "stubgen"),
                                      SkippedItem("pkg.b", "SkipNoComplexType", "complex", "", "stubgen"))
