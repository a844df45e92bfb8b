"""A warm ``bind`` reads no generated text: rendered folders come from the cache as names and
digests (:class:`~wasmtool.synth.files.RenderedFiles`), and the workspace's record stamps
every file it wrote, so an unchanged workspace is neither read nor written again, while a file
the user edited is compared and restored."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import write_project
from tests.support.index_server import IndexServer
from wasmtool.ops.bind import bind
from wasmtool.ops.context import Context
from wasmtool.ops.lock import run_lock
from wasmtool.synth.errors import WorkspaceError
from wasmtool.synth.files import RenderedFiles, text_digest
from wasmtool.synth.workspace import MANIFEST_NAME, Workspace, WorkspaceFiles

TEXTS = {"a_externs.py": "def f() -> int:\n    return 1\n", "a_shim.mochi": "extern fun a_f(): int\n",
         "SKIPPED.txt": "# nothing\n"}


class Loader:
    """Hands out ``texts`` and counts the calls; ``fail`` makes a call an error of the test."""

    def __init__(self, texts: Mapping[str, str], *, fail: bool = False) -> None:
        self.texts, self.fail, self.calls = dict(texts), fail, 0

    def __call__(self) -> Mapping[str, str]:
        self.calls += 1
        if self.fail:
            raise AssertionError("the texts were read")
        return self.texts


def lazy(texts: Mapping[str, str], *, fail: bool = False) -> tuple[RenderedFiles, Loader]:
    loader = Loader(texts, fail=fail)
    return RenderedFiles({k: text_digest(v) for k, v in texts.items()}, loader, origin="cache/x.files.json"), loader


def workspace(folder: RenderedFiles) -> Workspace:
    files = WorkspaceFiles({"python_wrap/__init__.py": b"# top\n"}, {"a": folder})
    return Workspace(files=files, wrapper_sha256={"a": folder.digest("a_externs.py")},
                     shim_sha256={"a": folder.digest("a_shim.mochi")})


def test_names_digests_and_membership_need_no_text() -> None:
    files, loader = lazy(TEXTS, fail=True)
    assert sorted(files) == sorted(TEXTS) and len(files) == 3 and "a_shim.mochi" in files
    assert files.digest("a_shim.mochi") == text_digest(TEXTS["a_shim.mochi"])
    assert not files.loaded and loader.calls == 0


def test_texts_are_read_once_and_checked() -> None:
    files, loader = lazy(TEXTS)
    assert files["a_externs.py"] == TEXTS["a_externs.py"]
    assert dict(files) == TEXTS and files.loaded and loader.calls == 1


@pytest.mark.parametrize("damage", [
    lambda t: {**t, "a_shim.mochi": "extern fun a_g(): int\n"},      # changed text
    lambda t: {k: v for k, v in t.items() if k != "SKIPPED.txt"},    # a file missing
    lambda t: {**t, "extra.txt": "x"},                               # a file too many
])
def test_texts_that_do_not_match_their_digests_are_refused(damage: object) -> None:
    files = RenderedFiles({k: text_digest(v) for k, v in TEXTS.items()}, lambda: damage(TEXTS),  # type: ignore[operator]
                          origin="cache/x.files.json")
    with pytest.raises(WorkspaceError) as info:
        files.texts()
    assert info.value.code == "WT622" and info.value.file == "cache/x.files.json"
    assert not files.loaded


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}\.txt", fullmatch=True), st.text(max_size=40), max_size=6))
def test_of_keeps_every_text_and_its_digest(texts: dict[str, str]) -> None:
    files = RenderedFiles.of(texts)
    assert dict(files) == texts and files.loaded
    assert {k: files.digest(k) for k in files} == {k: text_digest(v) for k, v in texts.items()}


def test_workspace_hashes_come_from_digests_and_an_unchanged_write_reads_nothing(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    first, loader = lazy(TEXTS)
    changed = workspace(first).write(root)
    assert loader.calls == 1 and len(changed) == 4
    assert (root / "python_wrap/a/a_shim.mochi").read_text() == TEXTS["a_shim.mochi"]
    record = json.loads((root / MANIFEST_NAME).read_text())
    assert sorted(record["stamps"]) == sorted(record["files"])
    again, unread = lazy(TEXTS, fail=True)
    assert workspace(again).write(root) == [] and unread.calls == 0 and not again.loaded


def test_a_file_edited_since_is_compared_and_restored(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    workspace(lazy(TEXTS)[0]).write(root)
    shim = root / "python_wrap/a/a_shim.mochi"
    shim.write_text("extern fun a_f(): string   // edited by hand\n")
    again, loader = lazy(TEXTS)
    assert workspace(again).write(root) == [shim] and loader.calls == 1
    assert shim.read_text() == TEXTS["a_shim.mochi"]


def test_a_stamp_that_no_longer_matches_the_file_is_not_trusted(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    workspace(lazy(TEXTS)[0]).write(root)
    shim = root / "python_wrap/a/a_shim.mochi"
    before = shim.stat()
    shim.write_text("extern fun a_g(): int\n")   # same size, other bytes
    os.utime(shim, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
    again, loader = lazy(TEXTS)
    assert workspace(again).write(root) == [shim] and loader.calls == 1
    assert shim.read_text() == TEXTS["a_shim.mochi"]


def test_a_damaged_record_only_costs_a_comparison(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    workspace(lazy(TEXTS)[0]).write(root)
    record = json.loads((root / MANIFEST_NAME).read_text())
    record["stamps"] = {rel: ["0" * 64, "big", None] for rel in record["stamps"]}
    (root / MANIFEST_NAME).write_text(json.dumps(record))
    again, loader = lazy(TEXTS)
    assert workspace(again).write(root) == [] and loader.calls == 1


def test_with_files_adds_files_without_reading_the_folders() -> None:
    folder, loader = lazy(TEXTS, fail=True)
    ws = workspace(folder).with_files({"python_wrap/a/a.d.ts": b"// a\n"})
    assert "python_wrap/a/a.d.ts" in ws.files and "python_wrap/a/a_shim.mochi" in ws.files
    assert ws.files["python_wrap/a/a.d.ts"] == b"// a\n" and loader.calls == 0


def test_a_warm_bind_reads_no_rendered_text(tmp_path: Path, index_server: IndexServer, cache_dir: Path) -> None:
    project = write_project(tmp_path / "proj", {"attrs": "==26.1.0", "tomli": "*"})
    with Context.open(project, cache_dir=cache_dir, index_url=index_server.url, progress=False) as ctx:
        run_lock(ctx)
        cold = bind(ctx)
    assert cold.changed
    written = {p: p.read_bytes() for p in cold.directory.rglob("*") if p.is_file()}
    with Context.open(project, cache_dir=cache_dir, index_url=index_server.url, progress=False) as ctx:
        warm = bind(ctx)
    assert warm.changed == ()
    assert [b.files.loaded for b in warm.bound] == [False] * len(warm.bound)
    assert {p: p.read_bytes() for p in warm.directory.rglob("*") if p.is_file()} == written
    assert (warm.workspace.wrapper_sha256, warm.workspace.shim_sha256) == (
        cold.workspace.wrapper_sha256, cold.workspace.shim_sha256)
    # the cached texts are what a cold bind renders, and what the workspace holds
    for b in warm.bound:
        for name, text in b.files.items():
            assert (warm.directory / "python_wrap" / b.alias / name).read_text("utf-8") == text


@pytest.mark.parametrize("same_size", [True, False])
def test_a_damaged_cached_rendering_is_never_used(tmp_path: Path, index_server: IndexServer, cache_dir: Path,
                                                  same_size: bool) -> None:
    """A body of another size is seen when the entry is opened and rendered again at once; one
    of the same size is seen when its texts are read: the error names it, and it is removed."""
    project = write_project(tmp_path / "proj", {"tomli": "*"})
    with Context.open(project, cache_dir=cache_dir, index_url=index_server.url, progress=False) as ctx:
        run_lock(ctx)
        cold = bind(ctx)
    (body,) = (cache_dir / "surfaces").glob("*.files.json")
    texts = json.loads(body.read_text())
    name = next(n for n in texts if n.endswith("_shim.mochi"))
    damaged = texts[name].replace("extern fun", "extern_fun" if same_size else "extern  fun", 1)
    body.write_text(json.dumps({**texts, name: damaged}, sort_keys=True))
    (cold.directory / "python_wrap" / cold.bound[0].alias / name).write_text("edited\n")  # must be read again
    if same_size:
        with (Context.open(project, cache_dir=cache_dir, index_url=index_server.url, progress=False) as ctx,
              pytest.raises(WorkspaceError) as info):
            bind(ctx)
        assert info.value.code == "WT622" and info.value.file == str(body) and name in info.value.message
        assert not body.exists()
    with Context.open(project, cache_dir=cache_dir, index_url=index_server.url, progress=False) as ctx:
        again = bind(ctx)
    assert again.workspace.shim_sha256 == cold.workspace.shim_sha256
    assert json.loads(body.read_text()) == texts
    assert (again.directory / "python_wrap" / again.bound[0].alias / name).read_text() == texts[name]


def test_a_partial_write_keeps_the_other_files_stamps(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    workspace(lazy(TEXTS)[0]).write(root)
    before = json.loads((root / MANIFEST_NAME).read_text())["stamps"]
    other = Workspace(files={"python_wrap/b/b.txt": b"b\n"}, wrapper_sha256={}, shim_sha256={})
    other.write(root, prune=False)
    after = json.loads((root / MANIFEST_NAME).read_text())["stamps"]
    assert {k: v for k, v in after.items() if k in before} == before and "python_wrap/b/b.txt" in after
    again, unread = lazy(TEXTS, fail=True)
    assert workspace(again).write(root, prune=False) == [] and unread.calls == 0
