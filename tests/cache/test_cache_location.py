"""default_cache_dir precedence (formats.md §6)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.skip_policy import POSIX_ONLY
from wasmtool.cache import default_cache_dir

CASES: list[tuple[dict[str, str], Path]] = [
    (
        {"WASMTOOL_CACHE_DIR": "/w", "XDG_CACHE_HOME": "/x", "HOME": "/h", "TMPDIR": "/t"},
        Path("/w"),
    ),
    ({"WASMTOOL_CACHE_DIR": "~/wc", "HOME": "/h"}, Path("/h/wc")),
    ({"WASMTOOL_CACHE_DIR": "", "XDG_CACHE_HOME": "/x", "HOME": "/h", "TMPDIR": "/t"}, Path("/x/wasmtool")),
    ({"XDG_CACHE_HOME": "/x", "HOME": "/h"}, Path("/x/wasmtool")),
    ({"XDG_CACHE_HOME": "relative/cache", "HOME": "/h"}, Path("/h/.cache/wasmtool")),
    ({"XDG_CACHE_HOME": "", "HOME": "/h", "TMPDIR": "/t"}, Path("/h/.cache/wasmtool")),
    ({"HOME": "/h"}, Path("/h/.cache/wasmtool")),
    ({"HOME": "", "TMPDIR": "/t"}, Path("/t/wasmtool-cache")),
    ({"TMPDIR": "/t"}, Path("/t/wasmtool-cache")),
    ({}, Path(tempfile.gettempdir()) / "wasmtool-cache"),
]


@POSIX_ONLY  # POSIX paths
@pytest.mark.parametrize(("env", "expected"), CASES)
def test_precedence(env: dict[str, str], expected: Path) -> None:
    assert default_cache_dir(env) == expected


def test_real_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WASMTOOL_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("WASMTOOL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "wasmtool"
