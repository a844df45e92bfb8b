"""What a cold ``bind`` does not redo: stub files already parsed in this process, the mapping of
a surface already mapped for the other shim dialect, and the surfaces of packages whose
settings an edit of another package's ``allow-any``/``monomorphise`` entries does not touch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_project
from tests.support.index_server import IndexServer
from wasmtool.errors import StubError
from wasmtool.ops import bind as bind_module
from wasmtool.ops.bind import BindOutcome, _may_name, bind
from wasmtool.ops.context import Context
from wasmtool.ops.lock import run_lock
from wasmtool.stubs import discover as discover_module
from wasmtool.stubs.discover import StubSet, module_stubs, stub_sha256


def _stubs(files: dict[str, bytes]) -> StubSet:
    items = tuple(files.items())
    return StubSet(dist="mini", version="1", provenance="py.typed", source="mini", import_names=("mini",),
                   files=items, sha256=stub_sha256(items))


def _counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[str]:
    calls: list[str] = []
    real: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(str(kwargs.get("dist") or kwargs.get("module") or ""))
        return real(*args, **kwargs)
    monkeypatch.setattr(owner, name, counted)
    return calls


def test_a_stub_set_is_parsed_once_per_version_and_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = _counting(monkeypatch, discover_module, "parse_stub")
    files = {"mini/__init__.pyi": b"import sys\nif sys.platform == 'win32':\n    def w() -> int: ...\n"
                                  b"def f(x: int) -> str: ...\n",
             "mini/sub.pyi": b"def g() -> None: ...\n"}
    first = module_stubs(_stubs(files), python_version="3.12", platform="linux")
    again = module_stubs(_stubs(dict(files)), python_version=(3, 12), platform="linux")
    assert again == first and [m.name for m in first] == ["mini", "mini.sub"] and len(parsed) == 2
    windows = module_stubs(_stubs(files), python_version="3.12", platform="win32")
    assert windows[0].function("w") is not None and first[0].function("w") is None and len(parsed) == 4
    # the same files in another order are another parse: the modules come back in the files' order
    reordered = module_stubs(_stubs(dict(reversed(files.items()))), python_version="3.12", platform="linux")
    assert [m.name for m in reordered] == ["mini.sub", "mini"]


def test_parse_failures_are_reported_again_from_the_memo() -> None:
    broken = _stubs({"bad/__init__.pyi": b"def f(:\n", "bad/ok.pyi": b"X: int\n"})
    for _ in range(2):
        skips: list[Any] = []
        assert [m.name for m in module_stubs(broken, python_version="3.12", skips=skips)] == ["bad.ok"]
        assert [s.path for s in skips] == ["bad"]
        with pytest.raises(StubError):
            module_stubs(broken, python_version="3.12")


@pytest.mark.parametrize(("pattern", "expected"), [
    ("tomli.loads", False), ("yaml.safe_load.stream", True), ("yaml.*", True), ("T", True),
    ("*.loads", True), ("ya?l.x", True), ("[y]aml.x", True), ("yaml", True), ("tomli", True),
])
def test_an_item_pattern_names_a_package_by_its_first_part(pattern: str, expected: bool) -> None:
    assert _may_name(pattern, frozenset({"yaml", "_yaml"})) is expected


def _counting_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The distributions whose alias folder ``bind`` renders from here on, in order."""
    rendered: list[str] = []
    real = bind_module.surface_files

    def counted(surface: Any, *args: Any, **kwargs: Any) -> Any:
        rendered.append(surface.dist)
        return real(surface, *args, **kwargs)
    monkeypatch.setattr(bind_module, "surface_files", counted)
    return rendered


def _renders_as_a_cold_bind(project: Path, cold_cache: Path, index_server: IndexServer, warm: BindOutcome) -> None:
    """What a warm bind rendered is what a bind of the same project into an empty cache renders."""
    with Context.open(project, cache_dir=cold_cache, index_url=index_server.url, progress=False) as ctx:
        cold = bind(ctx, write=False)
    assert dict(cold.workspace.files) == dict(warm.workspace.files)
    assert (cold.workspace.wrapper_sha256, cold.workspace.shim_sha256) == (
        warm.workspace.wrapper_sha256, warm.workspace.shim_sha256)


def _manifest(project: Path, old: str, new: str) -> None:
    path = project / "mochi.toml"
    path.write_text(path.read_text().replace(old, new, 1))


def test_settings_of_another_package_and_the_dialect_do_not_map_a_surface_again(
        tmp_path: Path, index_server: IndexServer, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = write_project(tmp_path / "proj", {"attrs": "==26.1.0", "tomli": "*"})
    with Context.open(project, cache_dir=cache_dir, index_url=index_server.url, progress=False) as ctx:
        run_lock(ctx)
        bind(ctx)
    mapped = _counting(monkeypatch, bind_module, "map_package")
    # tomli's opt-in changes tomli's surface only
    _manifest(project, "[python]\n", '[python]\nallow-any = ["tomli.loads"]\n')
    with Context.open(project, cache_dir=cache_dir, index_url=index_server.url, progress=False) as ctx:
        opted = bind(ctx)
    assert mapped == ["tomli"]
    assert "extern fun tomli.tomli_loads(" in (opted.directory / "python_wrap/tomli/tomli_shim.mochi").read_text()
    # the other dialect renders the surfaces mapped for this one, and what a cold bind renders
    _manifest(project, "[python]\n", '[python]\nmochi-dialect = "mep-71"\n')
    with Context.open(project, cache_dir=cache_dir, index_url=index_server.url, progress=False) as ctx:
        reused = bind(ctx)
    assert mapped == ["tomli"] and reused.changed
    monkeypatch.undo()
    _renders_as_a_cold_bind(project, tmp_path / "cold", index_server, reused)


def test_the_lock_check_renders_its_surfaces_once(
        tmp_path: Path, index_server: IndexServer, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wasmtool.lock.io import read_lock
    from wasmtool.ops.bind import binding_fields
    from wasmtool.ops.lock import check_bindings

    project = write_project(tmp_path / "proj", {"attrs": "==26.1.0", "tomli": "*"})
    with Context.open(project, cache_dir=cache_dir, index_url=index_server.url, progress=False) as ctx:
        run_lock(ctx)
        outcome = bind(ctx)
        expected = binding_fields(outcome.bound, outcome.workspace)
        lock = read_lock(ctx.lock_path)
        assert lock is not None
        names = [b.package.name for b in outcome.bound]
        assert binding_fields(*bind_module.bound_for_check(ctx, lock, "native", names)) == expected
        renders: list[object] = []
        real = bind_module.render_workspace

        def counted(*args: Any, **kwargs: Any) -> Any:
            renders.append(args)
            return real(*args, **kwargs)
        monkeypatch.setattr(bind_module, "render_workspace", counted)
        assert check_bindings(ctx, lock, ["native"]) == []    # nothing drifted
        assert len(renders) == 1


def test_a_settings_edit_renders_again_only_the_package_it_touches(
        tmp_path: Path, index_server: IndexServer, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx and requests both declare `Request` and `Response`: each renders its folder with
    the names renamed. An edit of tomli's settings renders tomli again and neither of them."""
    project = write_project(tmp_path / "proj", {"httpx": "*", "requests": "*", "tomli": "*"})
    with Context.open(project, cache_dir=cache_dir, index_url=index_server.url, progress=False) as ctx:
        run_lock(ctx)
        first = bind(ctx)
    stubs = {a: (first.directory / f"python_wrap/{a}/{a}_externs.pyi").read_text() for a in ("httpx", "requests")}
    assert "\nhttpx_Request: " in stubs["httpx"] and "\nrequests_Request: " in stubs["requests"]
    rendered = _counting_renders(monkeypatch)
    _manifest(project, "[python]\n", '[python]\nallow-any = ["tomli.loads"]\n')
    with Context.open(project, cache_dir=cache_dir, index_url=index_server.url, progress=False) as ctx:
        edited = bind(ctx)
    assert rendered == ["tomli"]
    assert {p.name for p in edited.changed} <= {"tomli_shim.mochi", "tomli_externs.py", "tomli_externs.pyi",
                                                 "SKIPPED.txt", "WIDENED.txt", "surface.json", "bindings.json",
                                                 "mochi.lock"}, edited.changed
    # what the warm renders give is what a cold bind of the same project renders
    monkeypatch.undo()
    _renders_as_a_cold_bind(project, tmp_path / "cold", index_server, edited)


def test_a_package_that_shares_type_names_is_rendered_once_renamed_and_later_as_it_is(
        tmp_path: Path, index_server: IndexServer, cache_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """httpx and requests both declare `Request`: a cold bind renders their folders renamed and
    never as they are; the mapping is still cached, so when requests leaves the project httpx's
    own folder is rendered from it without mapping httpx again, as a cold bind renders it. A
    warm bind renders nothing and prints its counts without reading any surface."""
    import json

    project = write_project(tmp_path / "proj", {"httpx": "*", "requests": "*", "tomli": "*"})
    mapped = _counting(monkeypatch, bind_module, "map_package")
    rendered_names = _counting_renders(monkeypatch)
    with Context.open(project, cache_dir=cache_dir, index_url=index_server.url, progress=False) as ctx:
        run_lock(ctx)
        first = bind(ctx)
    assert sorted(rendered_names) == ["httpx", "requests", "tomli"]     # each folder once
    assert sorted(mapped) == ["httpx", "requests", "tomli"]
    assert "\nhttpx_Request: " in (first.directory / "python_wrap/httpx/httpx_externs.pyi").read_text()
    heads = [json.loads(p.read_text()) for p in (cache_dir / "surfaces").glob("*.json")
             if not p.name.endswith(".files.json")]
    partial = [h for h in heads if h.get("rendered") is False]
    assert len(heads) == 3 and len(partial) == 2                       # httpx and requests: the mapping alone
    assert all(set(h["digests"]) == {"surface.json"} and h["mapped"] is True for h in partial)

    # a warm bind of the same project renders and maps nothing
    rendered_names.clear()
    mapped.clear()
    with Context.open(project, cache_dir=cache_dir, index_url=index_server.url, progress=False) as ctx:
        again = bind(ctx)
    assert (rendered_names, mapped) == ([], []) and dict(again.workspace.files) == dict(first.workspace.files)
    # and what it prints comes from the counts kept beside the mapping: no surface is read for it
    from wasmtool.cli.main import _report_bind
    from wasmtool.typemap.surface import MappedSurface

    expected = [f"bound {s.alias}: {s.dist} {s.version} ({s.tier}) -> {len(s.functions)} externs, "
                f"{len(s.skips)} skipped" for s in (b.surface for b in first.bound)]
    with monkeypatch.context() as patch:
        patch.setattr(MappedSurface, "from_dict", classmethod(lambda cls, data: pytest.fail("a surface was read")))
        _report_bind(again)
    assert capsys.readouterr().err.splitlines()[:-1] == expected

    # without requests, httpx keeps its names: its own folder is rendered from the cached mapping
    _manifest(project, 'requests = "*"\n', "")
    with Context.open(project, cache_dir=cache_dir, index_url=index_server.url, progress=False) as ctx:
        run_lock(ctx)
        alone = bind(ctx)
    assert (rendered_names, mapped) == (["httpx"], [])
    stub = (alone.directory / "python_wrap/httpx/httpx_externs.pyi").read_text()
    assert "\nRequest: " in stub and "\nhttpx_Request: " not in stub
    monkeypatch.undo()
    _renders_as_a_cold_bind(project, tmp_path / "cold", index_server, alone)
