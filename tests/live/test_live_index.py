"""Tests against the real package index (deselected by default; run with `-m live`)."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXAMPLE_DEPS, VENV_BIN, write_project
from wasmtool.index import IndexClient
from wasmtool.index.config import resolve_index_urls

pytestmark = pytest.mark.live


def test_default_index_serves_json_and_metadata(tmp_path: Path) -> None:
    urls = resolve_index_urls(manifest_url=None, env={})
    with IndexClient(urls) as client:
        page = client.get_project("tomli")
        assert page.source == "json"
        wheel = next(f for f in page.files if f.filename == "tomli-2.5.0-py3-none-any.whl")
        assert len(wheel.sha256) == 64

        def download() -> Path:  # used only when the index offers no PEP 658 file
            from wasmtool.cache import ArtifactCache

            cache = ArtifactCache(tmp_path / "cache")
            with httpx.Client(follow_redirects=True) as http:
                return cache.fetch(wheel.url, package="tomli", filename=wheel.filename,
                                   expected_sha256=wheel.sha256, opener=http).path

        meta = client.get_metadata(wheel, fallback=download)
        assert str(meta.version) == "2.5.0"


def test_lock_example_against_the_real_index(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", EXAMPLE_DEPS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASMTOOL_INDEX")}
    env["WASMTOOL_CACHE_DIR"] = str(tmp_path / "cache")
    proc = subprocess.run([str(VENV_BIN / "wasmtool"), "-C", str(project), "lock"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lock = tomllib.loads((project / "mochi.lock").read_text())
    core = next(p for p in lock["python-package"] if p["name"] == "pydantic-core")
    assert "cp312" in core["wheel-filename"] and core["wheel-sha256"] == core["index-sha256"]
    check = subprocess.run([str(VENV_BIN / "wasmtool"), "-C", str(project), "lock", "--check"], capture_output=True,
                           text=True, env=env, timeout=300)
    assert check.returncode == 0, check.stderr
