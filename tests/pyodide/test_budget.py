"""Cold-start budgets end to end (docs/budget.md): the real CLI over the hermetic index, the
bundle measured in real Pyodide under Node by its own loader.

Timings differ from run to run, so nothing here asserts one: a budget that is certainly
exceeded (1 ms, 1000 bytes) must fail naming its cause, a generous one must pass, and the
bytes, which do not vary, are checked against the gzip size of the bundle's own files.
"""

from __future__ import annotations

import gzip
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.support.session_cache import SharedIndex
from wasmtool.run.pyodide import pyodide_dir

pytestmark = pytest.mark.slow

TARGET = "pyodide-314"
GENEROUS = {"cold-start-ms": 600_000, "import-ms": 600_000, "bundle-bytes": 1_000_000_000}
EXCEEDED = {"cold-start-ms": 1, "import-ms": 1, "bundle-bytes": 1000}


def write_manifest(root: Path, deps: dict[str, str], budget: dict[str, int] | None,
                   budget_target: str = TARGET) -> None:
    root.mkdir(parents=True, exist_ok=True)
    lines = ['name = "budgeted"', "", "[python]", 'requires-python = ">=3.12"', 'python-version = "3.12"',
             f'targets = ["{TARGET}"]', "", "[python-dependencies]"]
    lines += [f'{k} = "{v}"' for k, v in deps.items()]
    if budget is not None:
        lines += ["", f"[python.budget.{budget_target}]", *(f"{k} = {v}" for k, v in budget.items())]
    (root / "mochi.toml").write_text("\n".join(lines) + "\n")


def recorded(root: Path) -> dict[str, Any]:
    lock = tomllib.loads((root / "mochi.lock").read_text())
    table: dict[str, Any] = lock["budget"][TARGET]
    return table


def wheel_gzip(bundle: Path, name: str) -> int:
    manifest = json.loads((bundle / "bundle.json").read_text())
    [pkg] = [p for p in manifest["packages"] if p["name"] == name]
    return len(gzip.compress((bundle / pkg["file"]).read_bytes(), compresslevel=9, mtime=0))


def test_a_project_over_budget_fails_install_smoke_naming_what_grew(
        tmp_path: Path, shared_cache: Path, shared_index: SharedIndex) -> None:
    # the session's cache: the budgets measure the project's bundle in Node, not the cache
    root, cache, index_server = tmp_path / "app", shared_cache, shared_index
    bundle = root / ".mochi" / TARGET

    def wasmtool(*args: str) -> Any:
        return run_cli(["-C", str(root), *args], cache=cache, index_url=index_server.url)

    # a generous budget: measured, within it, recorded in mochi.lock
    write_manifest(root, {"tomli": "^2"}, GENEROUS)
    ok = wasmtool("install", f"--target={TARGET}", "--smoke")
    assert ok.returncode == 0, ok.stderr
    assert f"cold start of {TARGET}: cold-start-ms " in ok.stderr
    first = recorded(root)
    by_name = {p["name"]: p for p in first["package"]}
    assert set(by_name) == {"tomli", "mochi-bindings"}
    assert by_name["tomli"]["bundle-bytes"] == wheel_gzip(bundle, "tomli")
    assert first["bundle-bytes"] == (sum(p["bundle-bytes"] for p in first["package"]) + first["runtime-bytes"]
                                     + first["snapshot-bytes"] + first["other-bytes"])
    assert first["import-ms"] == sum(p["import-ms"] for p in first["package"])
    assert first["runtime-bytes"] > 0
    assert first["snapshot"] is (bundle / "snapshot.bin").exists()
    version = json.loads((pyodide_dir() / "package.json").read_text())["version"]
    assert first["measured-with"].startswith(f"pyodide {version}, node v")

    # a package more and a budget that is certainly exceeded: the install fails naming what grew
    write_manifest(root, {"tomli": "^2", "attrs": ">=23"}, EXCEEDED)
    over = wasmtool("install", f"--target={TARGET}", "--smoke")
    assert over.returncode != 0
    assert "WT661" in over.stderr and "over the cold-start budget" in over.stderr
    assert f"python.budget.{TARGET}.cold-start-ms" in over.stderr
    assert f"attrs is new ({wheel_gzip(bundle, 'attrs')} bytes)" in over.stderr
    for key in ("cold-start-ms", "import-ms"):
        assert f"{key}: measured " in over.stderr and " ms, budget 1 ms (over by " in over.stderr
    assert f"previous measurement {first['bundle-bytes']} bytes" in over.stderr
    assert recorded(root) == first  # mochi.lock keeps the previous measurement

    # lock --check runs Node only when asked: a broken loader goes unnoticed without --budget
    loader = bundle / "loader.mjs"
    good = loader.read_bytes()
    loader.write_text('throw new Error("broken loader");\n')
    lock_text = (root / "mochi.lock").read_bytes()
    plain = wasmtool("lock", "--check")
    assert plain.returncode == 0, plain.stderr
    measured = wasmtool("lock", "--check", "--budget")
    assert measured.returncode != 0
    assert "WT663" in measured.stderr and "loader.mjs" in measured.stderr
    loader.write_bytes(good)

    # over budget again, now at lock --check --budget; then a generous budget passes; nothing is written
    checked = wasmtool("lock", "--check", "--budget")
    assert checked.returncode != 0 and "WT661" in checked.stderr and "attrs" in checked.stderr
    write_manifest(root, {"tomli": "^2", "attrs": ">=23"}, GENEROUS)
    passed = wasmtool("lock", "--check", "--budget")
    assert passed.returncode == 0, passed.stderr
    assert f"cold start of {TARGET}: cold-start-ms " in passed.stderr
    assert (root / "mochi.lock").read_bytes() == lock_text

    # --budget belongs to --check; a budget for a target that is not Pyodide is refused
    usage = wasmtool("lock", "--budget")
    assert usage.returncode != 0 and "--budget" in usage.stderr
    write_manifest(root, {"tomli": "^2", "attrs": ">=23"}, GENEROUS, budget_target="native")
    native = wasmtool("lock", "--check", "--budget")
    assert native.returncode != 0
    assert "WT662" in native.stderr and "python.budget.native" in native.stderr


def test_a_budget_without_limits_only_records(tmp_path: Path, shared_cache: Path, shared_index: SharedIndex) -> None:
    root, cache, index_server = tmp_path / "app", shared_cache, shared_index
    write_manifest(root, {"tomli": "^2"}, {})
    proc = run_cli(["-C", str(root), "install", f"--target={TARGET}", "--smoke"], cache=cache,
                   index_url=index_server.url)
    assert proc.returncode == 0, proc.stderr
    assert "(budget" not in proc.stderr
    assert recorded(root)["bundle-bytes"] > 0
    # without a [python.budget] table install --smoke measures nothing and leaves no record
    write_manifest(root, {"tomli": "^2"}, None)
    (root / "mochi.lock").unlink()
    again = run_cli(["-C", str(root), "install", f"--target={TARGET}", "--smoke"], cache=cache,
                    index_url=index_server.url)
    assert again.returncode == 0, again.stderr
    assert "cold start" not in again.stderr
    assert "budget" not in tomllib.loads((root / "mochi.lock").read_text())
