"""``wasmtool lock`` records ``[python.capabilities]`` in mochi.lock, refuses a capability
growth until ``--accept-capabilities``, and reports the grants (the real console script, the
hermetic index)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.conftest import run_cli, tree_snapshot
from tests.support.index_server import IndexServer

HEAD = """name = "caps"

[python]
requires-python = ">=3.12"
python-version = "3.12"

[python-dependencies]
tomli = "==2.5.0"
"""


def _write(root: Path, grants: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mochi.toml").write_text(HEAD + grants, encoding="utf-8")


def test_grants_are_recorded_and_growth_needs_acceptance(index_server: IndexServer, tmp_path: Path) -> None:
    root, cache, url = tmp_path / "proj", tmp_path / "cache", index_server.url
    _write(root, '\n[python.capabilities.tomli]\nfs-read = ["data/"]\n')
    first = run_cli(["-C", str(root), "lock"], cache=cache, index_url=url, check=True)
    lock = tomllib.loads((root / "mochi.lock").read_text(encoding="utf-8"))
    assert lock["python-capabilities"] == {"tomli": {"fs-read": ["data"]}}
    assert 'capabilities of tomli: fs-read "data" (enforced under wasmtime; recorded, not enforced, on native' \
        in first.stderr

    # more than the lock records: refused, nothing written
    _write(root, '\n[python.capabilities.tomli]\nfs-read = ["data"]\nfs-write = ["data/out"]\nenv = ["HOME"]\n')
    before = tree_snapshot(root)
    grown = run_cli(["-C", str(root), "lock"], cache=cache, index_url=url)
    assert grown.returncode != 0
    assert "WT896" in grown.stderr and 'tomli: fs-write "data/out", env "HOME"' in grown.stderr
    assert "--accept-capabilities" in grown.stderr and "Traceback" not in grown.stderr
    assert tree_snapshot(root) == before
    check = run_cli(["-C", str(root), "lock", "--check"], cache=cache, index_url=url)
    assert check.returncode == 1 and "WT410" in check.stderr
    assert 'capability granted in mochi.toml, not recorded in the lock: tomli env "HOME"' in check.stderr
    locked = run_cli(["-C", str(root), "install", "--locked", "--no-bind"], cache=cache, index_url=url)
    assert locked.returncode != 0 and "WT410" in locked.stderr and 'tomli env "HOME"' in locked.stderr

    run_cli(["-C", str(root), "lock", "--accept-capabilities"], cache=cache, index_url=url, check=True)
    lock = tomllib.loads((root / "mochi.lock").read_text(encoding="utf-8"))
    assert lock["python-capabilities"] == {"tomli": {"fs-read": ["data"], "fs-write": ["data/out"], "env": ["HOME"]}}
    run_cli(["-C", str(root), "lock", "--check"], cache=cache, index_url=url, check=True)

    # a subfolder of a recorded folder, and fewer grants, are no growth
    _write(root, '\n[python.capabilities.tomli]\nfs-read = ["data/sub"]\n')
    run_cli(["-C", str(root), "lock"], cache=cache, index_url=url, check=True)
    lock = tomllib.loads((root / "mochi.lock").read_text(encoding="utf-8"))
    assert lock["python-capabilities"] == {"tomli": {"fs-read": ["data/sub"]}}

    # dropping the table: nothing granted, nothing recorded
    _write(root, "")
    run_cli(["-C", str(root), "lock"], cache=cache, index_url=url, check=True)
    assert "python-capabilities" not in tomllib.loads((root / "mochi.lock").read_text(encoding="utf-8"))
    # and adding one back to an existing lock is a growth again
    _write(root, '\n[python.capabilities.tomli]\nclocks = true\n')
    again = run_cli(["-C", str(root), "lock"], cache=cache, index_url=url)
    assert again.returncode != 0 and "WT896" in again.stderr and "tomli: clocks" in again.stderr


def test_grants_for_a_package_not_locked(index_server: IndexServer, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    _write(root, '\n[python.capabilities.tomly]\nenv = ["HOME"]\n')
    proc = run_cli(["-C", str(root), "lock"], cache=tmp_path / "cache", index_url=index_server.url)
    assert proc.returncode != 0 and "WT899" in proc.stderr and "tomly" in proc.stderr
    assert not (root / "mochi.lock").exists()


def test_bad_table_is_a_manifest_error(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    _write(root, '\n[python.capabilities.tomli]\nfs-read = ["../outside"]\n')
    proc = run_cli(["-C", str(root), "lock"], cache=tmp_path / "cache", index_url="http://127.0.0.1:9/simple")
    assert proc.returncode != 0 and "WT054" in proc.stderr
    assert "python.capabilities.tomli.fs-read[0]" in proc.stderr
