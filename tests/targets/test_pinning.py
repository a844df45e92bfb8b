"""Pinning wheels: artefacts from the verified cache, lock entries from wheel summaries."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from wasmtool.cache import CachedArtifact
from wasmtool.context import Context
from wasmtool.index.config import IndexUrls
from wasmtool.project.manifest import parse_manifest
from wasmtool.project.model import build_project
from wasmtool.resolve.wheelinfo import WheelSummary
from wasmtool.targets.pinning import ChosenWheel, build_entries, fetch_all
from wasmtool.targets.profile import load_profile

INDEX = "http://index.invalid/simple/"


def context(tmp_path: Path, deps: str = "") -> Context:
    manifest = parse_manifest(f'name = "p"\n[python]\n[python-dependencies]\n{deps}\n',
                              file=str(tmp_path / "mochi.toml"))
    return Context(root=tmp_path, project=build_project(manifest, [], tmp_path), index_urls=IndexUrls(INDEX),
                   cache_dir=tmp_path / "cache", progress=False)


def stored(ctx: Context, name: str, data: bytes) -> tuple[ChosenWheel, CachedArtifact]:
    dist = name.replace("-", "_")
    source = ctx.root / f"{dist}-1.0-py3-none-any.whl"
    # a real (tiny) wheel around ``data``: the context's cache refuses bytes that are not one
    members = {f"{dist}/data.bin": data, f"{dist}-1.0.dist-info/METADATA": f"Name: {name}\nVersion: 1.0\n".encode()}
    with zipfile.ZipFile(source, "w") as zf:
        for member, body in members.items():
            zf.writestr(zipfile.ZipInfo(member, (2020, 1, 1, 0, 0, 0)), body)
        zf.writestr(zipfile.ZipInfo(f"{dist}-1.0.dist-info/RECORD", (2020, 1, 1, 0, 0, 0)),
                    "".join(f"{member},,\n" for member in [*members, f"{dist}-1.0.dist-info/RECORD"]))
    art = ctx.cache.add_file(source, package=name)
    return ChosenWheel(name, "1.0", source.name, INDEX + source.name, art.sha256), art


def test_everything_cached_needs_no_index_and_keeps_the_order(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = context(tmp_path)
    pairs = [stored(ctx, name, name.encode() * 100) for name in ("b", "a", "c")]

    def no_client(*args: object, **kw: object) -> None:
        raise AssertionError("an index client was built although every wheel is cached")

    monkeypatch.setattr("wasmtool.index.client.IndexClient", no_client)
    got = fetch_all(ctx, [w for w, _ in pairs])
    assert list(got) == ["b", "a", "c"]
    assert got == {w.name: art for w, art in pairs}


@pytest.mark.parametrize(("requires", "extras", "expected"), [
    (("b>=1", "c; extra == 'x'", "zz-not-resolved>=2", "d; sys_platform == 'win32'"), "", ("b==1.0",)),
    (("b>=1", "c; extra == 'x'", "C_x ; extra == 'x'"), "x", ("b==1.0", "c==1.0")),
    (("B.B_b[all]>=1; python_version >= '3'", "  c"), "", ("b-b-b==1.0", "c==1.0")),
])
def test_dependencies_are_the_resolved_ones_under_the_target_markers(
        tmp_path: Path, requires: tuple[str, ...], extras: str, expected: tuple[str, ...]) -> None:
    ctx = context(tmp_path, f'a = {{ version = "*", extras = ["{extras}"] }}' if extras else 'a = "*"')
    names = ("a", "b", "c", "b-b-b")
    pairs = [stored(ctx, name, name.encode() * 100) for name in names]
    chosen = [w for w, _ in pairs]
    artefacts = {w.name: art for w, art in pairs}
    infos = {n: WheelSummary((n,), requires if n == "a" else (), "", False) for n in names}
    entries = {e.name: e for e in build_entries(ctx, load_profile("native"), "3.12", chosen, artefacts, infos)}
    assert entries["a"].dependencies == expected
    assert entries["b"].dependencies == ()
