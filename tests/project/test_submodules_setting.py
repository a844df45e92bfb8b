"""A package's public submodules are part of its surface: which modules (the dependency's
``submodules`` setting, ``import-names``), which of them a target can import (decided from
the stubs' module-level imports and the target's standard library), how the surface is
grouped by module, and ``submodules = false`` giving back the surface of before, byte for byte.

Everything here is pure or reads recorded artefacts; the end-to-end calls are in
tests/e2e/test_submodules.py.
"""

from __future__ import annotations

import sys

import pytest
from packaging.utils import parse_wheel_filename

from tests.corpus.pipeline import (
    CORPUS,
    GOLDEN,
    CorpusResult,
    corpus_result,
    golden_text,
    native_wheel,
    wheel_import_names,
)
from wasmtool.errors import UsageError
from wasmtool.ops.bind import (
    candidate_submodules,
    importable_submodules,
    map_package,
    public_import_names,
    surface_modules,
)
from wasmtool.project.errors import ManifestError
from wasmtool.project.manifest import PythonSettings, parse_manifest
from wasmtool.skips import SkipReason, SkipReport
from wasmtool.stubs.discover import (
    StubSet,
    module_imports,
    module_stubs,
    public_submodules,
    stdlib_blocker,
    stub_sha256,
    unimportable_modules,
)
from wasmtool.synth.workspace import surface_files
from wasmtool.targets.backend import backend_named
from wasmtool.targets.profile import load_profile
from wasmtool.targets.stdlib import Stdlib
from wasmtool.typemap.lower import map_module
from wasmtool.typemap.surface import Function, MappedSurface

# -- the setting -------------------------------------------------------------------------------


def _deps(text: str) -> dict[str, object]:
    m = parse_manifest(f'name = "x"\n[python-dependencies]\n{text}\n', file="mochi.toml")
    return {d.name: d.submodules for d in m.dependencies}


def test_submodules_setting_values() -> None:
    assert _deps('a = "*"') == {"a": None}
    assert _deps('a = { version = "*", submodules = false }') == {"a": False}
    assert _deps('a = { version = "*", submodules = true }') == {"a": True}
    # a list narrows: sorted, deduplicated, relative to the package
    assert _deps('a = { version = "*", submodules = ["tz", "parser", "tz", "tz.tz"] }') == {
        "a": ("parser", "tz", "tz.tz")}


@pytest.mark.parametrize(("value", "message"), [
    ("3", "python-dependencies.a.submodules: expected bool or list, got int"),
    ('"parser"', "python-dependencies.a.submodules: expected bool or list, got str"),
    ('["1x"]', "python-dependencies.a.submodules[0]: expected a submodule path relative to the package"),
    ('["parser", "dateutil.parser."]', "python-dependencies.a.submodules[1]: expected a submodule path"),
    ("[3]", "python-dependencies.a.submodules[0]: expected a submodule path"),
])
def test_submodules_setting_is_validated(value: str, message: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(f'name = "x"\n[python-dependencies]\na = {{ version = "*", submodules = {value} }}\n',
                       file="mochi.toml")
    assert message in str(info.value)


def test_any_setting() -> None:
    assert parse_manifest('name = "x"\n', file="m").python.any_policy == "map"
    assert parse_manifest('name = "x"\n[python]\nany = "skip"\n', file="m").python.any_policy == "skip"
    with pytest.raises(ManifestError) as info:
        parse_manifest('name = "x"\n[python]\nany = "widen"\n', file="m")
    assert "python.any: expected one of map, skip, got 'widen'" in str(info.value)


# -- which modules -----------------------------------------------------------------------------


def test_public_submodules() -> None:
    modules = ["du", "du.parser", "du.parser._parser", "du.parser.isoparser", "du._common", "du.tz",
               "du.tests", "du.tests.test_x", "du.testing.util", "du.conftest", "du.test", "du.__main__",
               "other.thing", "du.zoneinfo.rebuild"]
    assert public_submodules(modules, ["du"]) == (
        "du.parser", "du.parser.isoparser", "du.tz", "du.zoneinfo.rebuild")
    assert public_submodules(modules, ["other"]) == ("other.thing",)
    assert public_submodules(modules, []) == ()


def _stubset(files: dict[str, str]) -> StubSet:
    items = tuple(sorted((p, t.encode()) for p, t in files.items()))
    return StubSet("pkg", "1.0", "py.typed", "test", ("pkg",), items, stub_sha256(items))


PKG = _stubset({
    "pkg/__init__.py": "from pkg import core\n",
    "pkg/core.py": "import json\n",
    "pkg/net.py": "import ssl\nfrom pkg import core\n",
    "pkg/web/__init__.py": "from ..net import fetch\n",
    "pkg/web/page.py": "",
    "pkg/guarded.py": "try:\n    import ssl\nexcept ImportError:\n    ssl = None\n",
    "pkg/typed.pyi": "import sys\nif sys.platform == 'win32':\n    import winreg\n",
    "pkg/_private.py": "import ssl\n",
    "pkg/tests/test_core.py": "import pytest\n",
})


def test_candidate_submodules_follow_the_setting() -> None:
    every = ("pkg.core", "pkg.guarded", "pkg.net", "pkg.typed", "pkg.web", "pkg.web.page")
    assert candidate_submodules(PKG, ["pkg"], None, explicit_imports=False, package="pkg") == every
    assert candidate_submodules(PKG, ["pkg"], True, explicit_imports=False, package="pkg") == every
    assert candidate_submodules(PKG, ["pkg"], False, explicit_imports=False, package="pkg") == ()
    # import-names keep working as before: exactly those modules, unless submodules is set too
    assert candidate_submodules(PKG, ["pkg", "pkg.net"], None, explicit_imports=True, package="pkg") == ()
    assert candidate_submodules(PKG, ["pkg", "pkg.net"], True, explicit_imports=True, package="pkg") == tuple(
        m for m in every if m != "pkg.net")
    # a list narrows (a private module may be named explicitly)
    assert candidate_submodules(PKG, ["pkg"], ("web", "_private"), explicit_imports=False,
                                package="pkg") == ("pkg.web", "pkg._private")
    with pytest.raises(UsageError) as info:
        candidate_submodules(PKG, ["pkg"], ("parser",), explicit_imports=False, package="pkg")
    assert info.value.field == "python-dependencies.pkg.submodules"
    assert "'parser' is not a module of pkg" in info.value.message
    assert "core, guarded, net, typed, web, web.page" in (info.value.hint or "")


def test_module_imports_are_module_level_and_absolute() -> None:
    text = ("import os, sys as system\nfrom . import a, b as c\nfrom ..x import (y,\n    z)\n"
            "if True:\n    import indented\ntry:\n    import guarded\nexcept ImportError:\n    pass\n"
            "from .q import *  # comment\n")
    assert module_imports(text, module="p.sub.m", is_package=False) == (
        "os", "sys", "p.sub", "p.sub.a", "p.sub.b", "p.x", "p.x.y", "p.x.z", "p.sub.q")
    assert module_imports("from . import m\n", module="p.sub", is_package=True) == ("p.sub", "p.sub.m")
    assert module_imports("from .... import m\n", module="p.sub", is_package=True) == ()


def _blocker(available: set[str], sources: dict[str, str]) -> object:
    def source(name: str) -> tuple[bool, str] | None:
        return (False, sources[name]) if name in sources else None

    universe = frozenset({"ssl", "_ssl", "json", "socket", "_socket", "winreg", "sys", "pickle", "copyreg"})
    return stdlib_blocker(target="t1", available=frozenset(available), universe=universe, source=source)


def test_stdlib_blocker_follows_the_target_stdlib_sources() -> None:
    blocked = _blocker({"ssl", "json", "socket", "_socket", "sys", "pickle", "copyreg"},
                       {"ssl": "import _ssl\nimport socket\n", "json": "import sys\n", "pickle": "import copyreg\n",
                        "copyreg": "import pickle\n"})
    assert callable(blocked)
    assert blocked("ssl") == "ssl -> _ssl: not in t1's standard library"
    assert blocked("_ssl") == "_ssl: not in t1's standard library"
    assert blocked("json") is None
    assert blocked("pickle") is None                     # an import cycle imports fine
    assert blocked("numpy") is None                      # another distribution's: the lock provides it
    assert blocked("winreg") == "winreg: not in t1's standard library"


def test_unimportable_modules_name_the_chain() -> None:
    blocked = _blocker({"json", "sys"}, {})
    assert callable(blocked)
    found = unimportable_modules(PKG.files, ["pkg.core", "pkg.net", "pkg.web", "pkg.web.page", "pkg.guarded",
                                             "pkg.typed", "pkg.missing"], stdlib_blocker=blocked)
    assert found == {
        "pkg.net": "ssl: not in t1's standard library",
        "pkg.web": "pkg.net -> ssl: not in t1's standard library",
        "pkg.web.page": "pkg.web -> pkg.net -> ssl: not in t1's standard library",
    }


def _stdlib(names: set[str], sources: dict[str, str]) -> Stdlib:
    files = {f"{k}.py": v.encode() for k, v in sources.items()}
    return Stdlib("3.14", "3.14.0", frozenset(names), files)


@pytest.mark.parametrize(("target", "reason"), [("wasi-p2", SkipReason.SkipWasiUnavailable),
                                                ("pyodide-314", SkipReason.SkipPyodideUnavailable)])
def test_a_submodule_the_target_cannot_import_is_skipped_there(target: str, reason: SkipReason) -> None:
    names = set(sys.stdlib_module_names) - {"_ssl"}
    stdlib = _stdlib(names, {"ssl": "import _ssl\n"})
    candidates = ("pkg.core", "pkg.net", "pkg.web", "pkg.web.page")
    kept, skips = importable_submodules(PKG, candidates, load_profile(target), stdlib)
    assert kept == ("pkg.core",)
    assert skips == tuple(
        SkipReport(m, reason, f"cannot be imported on {target}: imports {chain}ssl -> _ssl: not in {target}'s "
                   "standard library", "bound on the targets whose standard library has it")
        for m, chain in (("pkg.net", ""), ("pkg.web", "pkg.net -> "), ("pkg.web.page", "pkg.web -> pkg.net -> ")))
    # the native CPython is complete: nothing to check, everything bound
    assert importable_submodules(PKG, candidates, load_profile("native"), None) == (candidates, ())


def test_the_wasi_guest_stdlib_lacks_ssl_but_has_json() -> None:
    stdlib = backend_named("wasi-p2").partial_stdlib()
    assert stdlib is not None
    kept, skips = importable_submodules(PKG, ("pkg.core", "pkg.guarded", "pkg.net"), load_profile("wasi-p2"),
                                        stdlib)
    assert kept == ("pkg.core", "pkg.guarded")
    assert [(s.path, s.reason) for s in skips] == [("pkg.net", SkipReason.SkipWasiUnavailable)]
    assert "ssl -> _ssl: not in wasi-p2's standard library" in skips[0].detail
    assert backend_named("native").partial_stdlib() is None


# -- grouping ----------------------------------------------------------------------------------


def _fn(extern: str, target: str) -> Function:
    return Function(extern, target, "function", (), None)


def test_surface_modules_groups_externs_and_skips_by_module() -> None:
    surface = MappedSurface("python-dateutil", "1", "du", ("dateutil",), "stubs-package", functions=(
        _fn("du_parser_parse", "dateutil.parser:parse"),
        _fn("du_relativedelta_new", "dateutil.relativedelta:relativedelta"),
        _fn("du_relativedelta_days", "dateutil.relativedelta:relativedelta.days"), _fn("du_x", "dateutil:x")),
        skips=(SkipReport("dateutil.parser.isoparse", SkipReason.SkipForwardRef),
               SkipReport("dateutil.tz.win", SkipReason.SkipWasiUnavailable),
               SkipReport("dateutil.__version__", SkipReason.SkipDunder)))
    assert surface_modules(surface) == {
        "dateutil": {"externs": ["du_x"], "skips": ["dateutil.__version__", "dateutil.tz.win"]},
        "dateutil.parser": {"externs": ["du_parser_parse"], "skips": ["dateutil.parser.isoparse"]},
        "dateutil.relativedelta": {"externs": ["du_relativedelta_days", "du_relativedelta_new"], "skips": []},
    }


# -- submodules = false: the surface of before, byte for byte ------------------------------------


def _bind_surface(dist: str, setting: bool | None) -> CorpusResult:
    """What ``bind`` maps for ``dist`` (its mapping step, :func:`map_package`) with the corpus
    pipeline's stubs and the default settings."""
    stubs = corpus_result(dist).stubs
    wheel = native_wheel(dist)
    names = public_import_names(tuple(n for n in wheel_import_names(wheel) if "__mypyc" not in n))
    subs = candidate_submodules(stubs, names, setting, explicit_imports=False, package=dist)
    kept, target_skips = importable_submodules(stubs, subs, load_profile("native"), None)
    parse_skips: list[SkipReport] = []
    modules = module_stubs(stubs, python_version=(3, 12), platform="linux", skips=parse_skips)
    surface = map_package(modules, stubs, dist=dist, version=str(parse_wheel_filename(wheel.name)[1]),
                          alias=CORPUS[dist], import_names=names, submodules=kept, target="native",
                          callables_cross=backend_named("native").callables_cross, settings=PythonSettings(),
                          extra_skips=(*parse_skips, *target_skips))
    return CorpusResult(stubs, surface, surface_files(surface, "0.10"), surface_files(surface, "mep-71"))


def _top_level_only(dist: str) -> CorpusResult:
    """The mapping before submodules were bound: :func:`map_module` over the top-level modules,
    the stubs' skips merged in, exactly as the pipeline did it then."""
    stubs = corpus_result(dist).stubs
    wheel = native_wheel(dist)
    names = public_import_names(tuple(n for n in wheel_import_names(wheel) if "__mypyc" not in n))
    parse_skips: list[SkipReport] = []
    modules = module_stubs(stubs, python_version=(3, 12), platform="linux", skips=parse_skips)
    s = map_module(modules, dist=dist, version=str(parse_wheel_filename(wheel.name)[1]), alias=CORPUS[dist],
                   import_names=names, target="native", tier=stubs.provenance)
    extra = tuple(sorted({*s.skips, *stubs.skips, *parse_skips}))
    s = MappedSurface(s.dist, s.version, s.alias, s.import_names, s.tier, s.functions, s.records, s.enums,
                      s.handles, extra)
    return CorpusResult(stubs, s, surface_files(s, "0.10"), surface_files(s, "mep-71"))


@pytest.mark.parametrize("dist", ["tomli", "toml", "rich"])
def test_submodules_false_gives_the_surface_without_submodules_byte_for_byte(dist: str) -> None:
    result = _bind_surface(dist, False)
    before = _top_level_only(dist)
    assert result.files == before.files and result.mep71_files == before.mep71_files
    assert golden_text(result) == golden_text(before)
    # a package with no public submodule: the default surface (the committed golden) is the same
    if not candidate_submodules(result.stubs, result.surface.import_names, None, explicit_imports=False,
                                package=dist):
        assert golden_text(result) == (GOLDEN / f"{dist}.txt").read_text(encoding="utf-8")
    else:
        assert golden_text(result) != golden_text(corpus_result(dist))


def test_default_adds_the_public_submodules_and_keeps_the_top_level_names() -> None:
    before = _bind_surface("rich", False).surface
    after = _bind_surface("rich", None).surface
    names_before = {f.extern_name for f in before.functions}
    names_after = {f.extern_name for f in after.functions}
    assert names_before < names_after
    assert {f.target for f in after.functions if f.extern_name == "rich_markup_escape"} == {"rich.markup:escape"}
    assert after.import_names == before.import_names == ("rich",)   # submodules load on first use
    assert {"rich.markup", "rich.console", "rich.table"} <= set(surface_modules(after))


def test_submodules_that_do_not_render_are_skipped_with_the_reason() -> None:
    from wasmtool.ops.bind import unrendered_submodules

    skips = unrendered_submodules(("pkg.a", "pkg.b"), "WT620 extern 'x_File' clashes with a type")
    assert [s.path for s in skips] == ["pkg.a", "pkg.b"]
    assert {s.reason for s in skips} == {SkipReason.SkipUnknown}
    assert skips[0].detail == ("the surface with the public submodules does not render: "
                               "WT620 extern 'x_File' clashes with a type")
    assert "submodules = false" in skips[0].hint


def test_what_lives_in_an_unimportable_submodule_is_dropped_with_what_names_it() -> None:
    from wasmtool.ops.bind import without_modules
    from wasmtool.typemap.surface import Handle, Param, TypeRef

    tls = TypeRef("handle", name="TLSStream", py="pkg.tls:TLSStream")
    surface = MappedSurface("pkg", "1", "pkg", ("pkg",), "py.typed", functions=(
        Function("pkg_TLSStream_send", "pkg.tls:TLSStream.send", "method", (Param("self", "self", tls),), None),
        Function("pkg_connect", "pkg:connect", "function", (), TypeRef("option", (tls,))),
        Function("pkg_memory_send", "pkg.memory:send", "function", (), TypeRef("int")),
    ), handles=(Handle("TLSStream", "pkg.tls:TLSStream"),))
    blocked = SkipReport("pkg.tls", SkipReason.SkipWasiUnavailable, "cannot be imported on wasi-p2: imports ssl",
                         "bound on the targets whose standard library has it")
    out = without_modules(surface, (blocked,))
    assert [f.extern_name for f in out.functions] == ["pkg_memory_send"]
    assert out.handles == ()
    assert {(s.path, s.reason) for s in out.skips} == {("pkg.tls.TLSStream.send", SkipReason.SkipWasiUnavailable),
                                                       ("pkg.connect", SkipReason.SkipWasiUnavailable)}
    assert all(s.detail == "needs pkg.tls, which cannot be imported on wasi-p2: imports ssl" for s in out.skips)


def test_the_pyodide_stdlib_is_read_although_its_build_vars_hold_an_f_string() -> None:
    # Pyodide 314 writes a value of `build_time_vars` as an f-string: that entry is left out,
    # the version and the module list are still read, so the per-target check runs there too
    stdlib = backend_named("pyodide-314").partial_stdlib()
    assert stdlib is not None and stdlib.version == "3.14"
    assert {"json", "asyncio"} <= stdlib.module_names
