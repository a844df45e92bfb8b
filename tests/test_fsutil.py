"""Atomic writes give files the mode a plain write gives under the umask, and keep the mode
of a file they replace."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from wasmtool.fsutil import atomic_write_text, current_umask, escaping_link


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_gets_the_mode_of_a_plain_write(tmp_path: Path, umask: int) -> None:
    plain = tmp_path / "plain.toml"
    plain.write_text("x = 1\n")
    atomic_write_text(tmp_path / "mochi.lock", "x = 1\n")
    assert current_umask() == umask
    assert mode(tmp_path / "mochi.lock") == mode(plain) == 0o666 & ~umask


def test_replaced_file_keeps_its_mode(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "mochi.lock"
    path.write_text("old\n")
    path.chmod(0o640)
    atomic_write_text(path, "new\n")
    assert path.read_text() == "new\n" and mode(path) == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``proj/`` with links: ``out`` (to a folder outside), ``in`` (to ``proj/real``), ``dangling``
    (to a missing file outside), ``chain`` (to ``in/../../outside``), ``up`` (to ``..``)."""
    project = tmp_path / "proj"
    (project / "real" / "sub").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (project / "out").symlink_to(tmp_path / "outside", target_is_directory=True)
    (project / "in").symlink_to(project / "real", target_is_directory=True)
    (project / "rel_in").symlink_to("real/sub", target_is_directory=True)
    (project / "dangling").symlink_to(tmp_path / "outside" / "missing.lock")
    (project / "up").symlink_to("..", target_is_directory=True)
    (project / "real" / "back_out").symlink_to("../../outside", target_is_directory=True)
    return project


@pytest.mark.parametrize(("rel", "escapes_at"), [
    ("file.txt", None),
    ("new/folder/file.txt", None),           # parts that do not exist yet are fine
    ("real/sub/file.txt", None),
    ("in/sub/file.txt", None),               # a link that stays inside is followed
    ("rel_in/file.txt", None),
    ("out", "out"),
    ("out/file.txt", "out"),
    ("dangling", "dangling"),                # a dangling link to outside: writing would create it there
    ("up/proj/file.txt", "up"),              # leaves, even though it comes back
    ("in/back_out/x", "in/back_out"),        # a link inside a followed link
    ("real/../out/x", "real/../out"),
    ("../outside/x", ".."),
])
def test_escaping_link(tree: Path, rel: str, escapes_at: str | None) -> None:
    found = escaping_link(tree, tree / rel)
    assert found == (None if escapes_at is None else tree / escapes_at)


def test_escaping_link_outside_root_and_relative_paths(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tree.parent / "outside" / "x"
    assert escaping_link(tree, elsewhere) == elsewhere
    monkeypatch.chdir(tree.parent)
    assert escaping_link(Path("proj"), Path("proj/out/x")) == Path("proj/out")
    assert escaping_link(Path("proj"), Path("proj/in/x")) is None


def test_a_root_that_is_itself_a_link_is_fine(tree: Path) -> None:
    alias = tree.parent / "alias"
    alias.symlink_to(tree, target_is_directory=True)
    assert escaping_link(alias, alias / "in" / "x") is None
    assert escaping_link(alias, alias / "out" / "x") == alias / "out"
