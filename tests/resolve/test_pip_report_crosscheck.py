"""Cross-check the wasm resolver against pip's own resolver on the hermetic index (127.0.0.1).

pip (>= 24) accepts any ``--platform`` string, so ``pip install --dry-run --report`` with
``--platform pyemscripten_2026_0_wasm32 --python-version 3.14 --implementation cp
--only-binary=:all:`` chooses wheels for Pyodide 314 -- the same question our resolver
answers. pip evaluates markers against the *host* (recipes.md §2); the package sets
below have no dependency whose marker differs between the host and the targets.

Packages used (everything the hermetic index carries for these platforms):
pyodide-314: pydantic, pydantic-core, annotated-types, typing-extensions, typing-inspection,
attrs, tomli, msgpack (compiled), packaging, click, toml; wasi-p2 and pyodide-2025: the pure
ones of those.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.support.index_server import IndexServer
from wasmtool.index.client import IndexClient
from wasmtool.resolve.errors import NoTargetWheelError
from wasmtool.resolve.wasm import resolve
from wasmtool.targets.profile import load_profile

PYTHON = Path(sys.executable)
PURE = ["annotated-types", "attrs", "click", "packaging", "toml", "tomli", "typing-extensions",
        "typing-inspection"]
PYODIDE_SET = [*PURE, "msgpack", "pydantic", "pydantic-core"]

CASES = {
    # profile: (pip --platform, pip --python-version, requirements)
    "pyodide-314": ("pyemscripten_2026_0_wasm32", "3.14", PYODIDE_SET),
    "wasi-p2": ("wasi_0_0_0_wasm32", "3.14", PURE),
    "pyodide-2025": ("pyodide_2025_0_wasm32", "3.13", PURE),
}


def pip_env() -> dict[str, str]:
    """No machine pip configuration (its extra indexes), no PIP_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1",
               PIP_NO_CACHE_DIR="1")
    return env


def pip_report(index_url: str, platform: str, python_version: str, reqs: list[str],
               out: Path) -> subprocess.CompletedProcess[str]:
    argv = [str(PYTHON), "-m", "pip", "install", "--dry-run", "--report", str(out), "--quiet",
            "--ignore-installed", "--only-binary=:all:", "--platform", platform, "--python-version", python_version,
            "--implementation", "cp", "--index-url", index_url, *reqs]
    return subprocess.run(argv, capture_output=True, text=True, env=pip_env(), timeout=300,
                          stdin=subprocess.DEVNULL)


def pip_choice(report: Path) -> dict[str, tuple[str, str]]:
    data = json.loads(report.read_text())
    assert all(item["download_info"]["url"].startswith("http://127.0.0.1:") for item in data["install"])
    return {str(canonicalize_name(item["metadata"]["name"])): (
        item["metadata"]["version"], item["download_info"]["url"].rsplit("/", 1)[-1])
        for item in data["install"]}


@pytest.mark.parametrize("target", sorted(CASES))
def test_same_choice_as_pip(target: str, index_server: IndexServer, tmp_path: Path) -> None:
    platform, pyver, reqs = CASES[target]
    proc = pip_report(index_server.url, platform, pyver, reqs, tmp_path / "report.json")
    assert proc.returncode == 0, proc.stderr
    expected = pip_choice(tmp_path / "report.json")
    with IndexClient(index_server.url, retries=0) as client:
        ours = resolve(reqs, load_profile(target), client)
    assert {w.name: (w.version, w.filename) for w in ours} == expected
    assert len(expected) >= len(reqs)
    if target == "pyodide-314":
        assert expected["pydantic-core"][1].endswith("-cp314-cp314-pyemscripten_2026_0_wasm32.whl")
        assert expected["msgpack"][1].endswith("-cp314-cp314-pyemscripten_2026_0_wasm32.whl")


@pytest.mark.parametrize(("target", "package"), [("wasi-p2", "numpy"), ("wasi-p2", "pydantic"),
                                                 ("pyodide-2025", "msgpack")])
def test_both_refuse_compiled_packages_without_a_build(target: str, package: str, index_server: IndexServer,
                                                       tmp_path: Path) -> None:
    platform, pyver, _ = CASES[target]
    proc = pip_report(index_server.url, platform, pyver, [package], tmp_path / "report.json")
    assert proc.returncode != 0
    assert "No matching distribution" in proc.stderr or "ResolutionImpossible" in proc.stderr
    with IndexClient(index_server.url, retries=0) as client, pytest.raises(NoTargetWheelError):
        resolve([package], load_profile(target), client)
