"""Atomic writes give files the mode a plain write gives under the umask, and keep the mode
of a file they replace."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from wasmtool.fsutil import atomic_write_text, current_umask


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
