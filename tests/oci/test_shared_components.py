"""Two projects with separate local caches share one remote: the second one's
``install --target=wasi-p2`` builds nothing (its component and precompiled form come from the
registry), with the counts of built and fetched items recorded."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.support.index_server import IndexServer
from tests.support.oci_registry import Registry

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

MANIFEST = """
name = "shared"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["native", "wasi-p2"]

[python-dependencies]
tomli = {{ version = "*", import-names = ["tomli"] }}

[cache]
remote = "{remote}"
remote-timeout = 10
"""


def _install(project: Path, cache: Path, index: IndexServer) -> None:
    from wasmtool.context import Context
    from wasmtool.ops.install import install

    with Context.open(project, cache_dir=cache, index_url=index.url) as ctx:
        install(ctx, "wasi-p2", lock_mode="frozen")


def test_the_second_project_builds_nothing(tmp_path: Path, registry: Registry, index_server: IndexServer) -> None:
    from tests.wit.conftest import need_tools
    from wasmtool.cache.remote import remote_stats
    from wasmtool.wit.build import build_stats

    need_tools()
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    (first / "mochi.toml").write_text(textwrap.dedent(MANIFEST.format(remote=registry.url("team/wasmtool-cache"))))
    run_cli(["-C", str(first), "lock"], cache=tmp_path / "lock-cache", index_url=index_server.url, check=True)
    second.mkdir()
    for name in ("mochi.toml", "mochi.lock", "pylock.toml"):
        if (first / name).is_file():
            shutil.copyfile(first / name, second / name)

    builds, stats = build_stats(), remote_stats()
    runs0, pushed0, warned0 = builds.componentize_runs, stats.pushed, len(stats.warnings)
    _install(first, tmp_path / "cache-1", index_server)
    built_first = builds.componentize_runs - runs0
    assert built_first >= 1
    assert stats.pushed > pushed0
    assert stats.warnings[warned0:] == []       # the remote answered every request

    runs1, fetched1 = builds.componentize_runs, stats.fetched
    _install(second, tmp_path / "cache-2", index_server)
    counts = {"built_first": built_first, "built_second": builds.componentize_runs - runs1,
              "fetched_second": stats.fetched - fetched1}
    (tmp_path / "counts.json").write_text(json.dumps(counts))
    print("remote cache counts:", counts)
    assert stats.warnings[warned0:] == []
    assert counts["built_second"] == 0
    assert counts["fetched_second"] >= 1
    a = sorted(p.relative_to(first) for p in (first / ".mochi" / "wasi-p2").rglob("component.wasm"))
    b = sorted(p.relative_to(second) for p in (second / ".mochi" / "wasi-p2").rglob("component.wasm"))
    assert a == b and a
    for rel in a:
        assert (first / rel).read_bytes() == (second / rel).read_bytes()
    # the precompiled form came from the remote too (same bytes; the second install compiled nothing)
    cwasm_a = sorted(p.relative_to(first) for p in (first / ".mochi" / "wasi-p2").rglob("*.cwasm"))
    cwasm_b = sorted(p.relative_to(second) for p in (second / ".mochi" / "wasi-p2").rglob("*.cwasm"))
    assert cwasm_a == cwasm_b and cwasm_a
    for rel in cwasm_a:
        assert (first / rel).read_bytes() == (second / rel).read_bytes()
    assert counts["fetched_second"] >= 2          # the component and its precompiled form
