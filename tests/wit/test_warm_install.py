"""A warm WASI install (wasmtool.wit.reuse): a second project installing from the same cache
entry copies the compiled ``.cwasm`` and takes the self-check's verdict, so it neither compiles
nor instantiates; a verdict that does not parse, or was recorded for other bytes or another
engine, is ignored and the check runs again."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.support.session_cache import SharedIndex
from wasmtool.wit.build import BuiltComponent, build_stats, engine_key, run_selfcheck
from wasmtool.wit.reuse import VERDICT_FORMAT, read_verdict, verdict_path

pytestmark = pytest.mark.slow

MANIFEST = textwrap.dedent("""
    name = "warm"

    [python]
    requires-python = ">=3.12"
    python-version = "3.12"
    targets = ["native", "wasi-p2"]

    [python-dependencies]
    tomli = "^2"
""")


def _install(project: Path, cache: Path, index_url: str) -> tuple[BuiltComponent, Path]:
    from wasmtool.ops.context import Context
    from wasmtool.ops.wasi_install import install_wasi

    with Context.open(project, cache_dir=cache, index_url=index_url) as ctx:
        outcome = install_wasi(ctx)
    (info,) = outcome.components
    return info.built, info.path.parent


def _project(root: Path, cache: Path, index_url: str) -> Path:
    root.mkdir()
    (root / "mochi.toml").write_text(MANIFEST)
    run_cli(["-C", str(root), "lock"], cache=cache, index_url=index_url, check=True)
    return root


def test_a_second_project_takes_the_cwasm_and_the_verdict_from_the_cache(
        wit_tools: None, tmp_path: Path, shared_cache: Path, shared_index: SharedIndex) -> None:
    # whatever the shared cache held before, after the first install its entry has both
    first, first_dir = _install(_project(tmp_path / "a", shared_cache, shared_index.url), shared_cache,
                                shared_index.url)
    entry = first.directory
    cached_cwasm = entry / first.cwasm_path.name
    assert cached_cwasm.is_file()
    assert read_verdict(entry, engine_key(), entry / "component.wasm") is not None

    second_root = _project(tmp_path / "b", shared_cache, shared_index.url)
    stats = build_stats()
    before = (stats.componentize_runs, stats.compiles, stats.selfcheck_runs, stats.selfcheck_reused)
    second, second_dir = _install(second_root, shared_cache, shared_index.url)
    after = (stats.componentize_runs, stats.compiles, stats.selfcheck_runs, stats.selfcheck_reused)
    assert second.directory == entry and second.from_cache
    # nothing built, compiled or instantiated: the verdict was taken once
    assert [b - a for a, b in zip(before, after, strict=True)] == [0, 0, 0, 1]
    published = second_dir / first.cwasm_path.name
    assert published.is_file() and not published.is_symlink()
    assert published.read_bytes() == cached_cwasm.read_bytes()
    assert published.stat().st_ino != cached_cwasm.stat().st_ino       # a copy, not a hard link
    # install still records the self-check in the project's modules.json, the same as the first
    first_report = json.loads((first_dir / "modules.json").read_text())
    second_report = json.loads((second_dir / "modules.json").read_text())
    assert "failed" in second_report and second_report["failed"] == first_report["failed"]


@pytest.fixture(scope="module")
def checked_tomli(tomli_component: BuiltComponent) -> BuiltComponent:
    """The session's tomli build with its ``.cwasm`` compiled (once) into its shared entry."""
    run_selfcheck(tomli_component, entry=tomli_component.directory)
    assert tomli_component.cwasm_path.is_file()
    return tomli_component


@pytest.fixture
def private_entry(checked_tomli: BuiltComponent, tmp_path: Path) -> tuple[Path, BuiltComponent]:
    """A private cache entry holding the tomli build and its ``.cwasm`` (no verdict) and a
    project folder published from it (no ``.cwasm``): what the tests below damage stays theirs."""
    entry = tmp_path / "entry"
    entry.mkdir()
    for name in ("component.wasm", "build.json", "plan.json", "modules.json"):
        shutil.copyfile(checked_tomli.directory / name, entry / name)
    shutil.copytree(checked_tomli.directory / "wit", entry / "wit")
    project = tmp_path / "project"
    shutil.copytree(entry, project)
    shutil.copyfile(checked_tomli.cwasm_path, entry / checked_tomli.cwasm_path.name)
    return entry, BuiltComponent.load(project)


def _runs(component: BuiltComponent, entry: Path) -> tuple[list[tuple[str, str, str]], int, int]:
    stats = build_stats()
    runs, reused = stats.selfcheck_runs, stats.selfcheck_reused
    failures = run_selfcheck(component, entry=entry)
    return failures, stats.selfcheck_runs - runs, stats.selfcheck_reused - reused


def test_the_verdict_is_kept_and_reused_and_a_bad_one_is_ignored(
        wit_tools: None, private_entry: tuple[Path, BuiltComponent]) -> None:
    entry, comp = private_entry
    verdict = verdict_path(entry, engine_key())
    failures, ran, reused = _runs(comp, entry)
    assert (ran, reused) == (1, 0) and verdict.is_file()
    assert comp.cwasm_path.read_bytes() == (entry / comp.cwasm_path.name).read_bytes()   # published
    assert _runs(comp, entry) == (failures, 0, 1)

    good = json.loads(verdict.read_text())
    assert good["format"] == VERDICT_FORMAT and good["engine"] == engine_key()
    # garbage: the check runs again and the verdict is rewritten
    verdict.write_text("\x00garbage{")
    assert _runs(comp, entry) == (failures, 1, 0)
    assert json.loads(verdict.read_text()) == good
    assert read_verdict(entry, engine_key(), comp.path) == failures
    for bad in [{**good, "component_sha256": "0" * 64},                   # other component bytes
                {**good, "engine": "0" * 16},                             # another engine
                {**good, "format": "wasmtool-selfcheck-verdict/0"},       # another format
                {**good, "failures": [["only", "two"]]},                  # not a failure list
                [good]]:                                                  # not an object
        verdict.write_text(json.dumps(bad))
        assert read_verdict(entry, engine_key(), comp.path) is None, bad
    verdict.write_bytes(b"\xff\xfe{}")                                   # not UTF-8
    assert read_verdict(entry, engine_key(), comp.path) is None
    # a well-formed verdict for these bytes is what install gets: it is read, not re-derived
    verdict.write_text(json.dumps({**good, "failures": [["m", "build", "E"]]}))
    assert _runs(comp, entry) == ([("m", "build", "E")], 0, 1)


def test_a_verdict_is_tied_to_the_component_bytes_and_needs_a_cwasm(
        wit_tools: None, private_entry: tuple[Path, BuiltComponent]) -> None:
    entry, comp = private_entry
    failures, _ran, _reused = _runs(comp, entry)
    assert read_verdict(entry, engine_key(), comp.path) == failures
    changed = comp.path.with_name("other.wasm")
    changed.write_bytes(comp.path.read_bytes() + b"\x00")
    assert read_verdict(entry, engine_key(), changed) is None
    # the project lost its .cwasm: the entry's comes back, and the verdict still holds
    comp.cwasm_path.unlink()
    assert _runs(comp, entry) == (failures, 0, 1)
    assert comp.cwasm_path.read_bytes() == (entry / comp.cwasm_path.name).read_bytes()
    # no usable .cwasm anywhere (a damaged one is published, fails to load): compile and check again
    comp.cwasm_path.unlink()
    (entry / comp.cwasm_path.name).write_bytes(b"not a cwasm")
    verdict_path(entry, engine_key()).unlink()
    compiles = build_stats().compiles
    assert _runs(comp, entry) == (failures, 1, 0)
    assert build_stats().compiles == compiles + 1
    assert comp.cwasm_path.read_bytes() != b"not a cwasm"
    assert (entry / comp.cwasm_path.name).read_bytes() == comp.cwasm_path.read_bytes()    # replaced
