"""Issue 3 acceptance, end to end through the real CLI, real uv and the hermetic index."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_DEPS, VENV_BIN, cli_env, run_cli, tree_snapshot, write_project
from tests.support.index_server import IndexServer

pytestmark = pytest.mark.slow


def flip_one_byte(data: bytes) -> bytes:
    mid = len(data) // 2
    return data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]


def lock_ok(project: Path, cache: Path, server: IndexServer, *extra: str) -> None:
    run_cli(["-C", str(project), "lock", *extra], cache=cache, index_url=server.url, check=True)


def test_lock_writes_deterministic_files_and_check_detects_drift(
    example_project: Path, cache_dir: Path, index_server: IndexServer
) -> None:
    lock_ok(example_project, cache_dir, index_server)
    lock1 = (example_project / "mochi.lock").read_bytes()
    pylock1 = (example_project / "pylock.toml").read_bytes()
    data = tomllib.loads(lock1.decode())
    names = {p["name"]: p for p in data["python-package"]}
    assert {"pydantic", "pydantic-core", "attrs", "tomli", "typing-extensions"} <= set(names)
    core = names["pydantic-core"]
    assert core["target"] == "native"
    assert core["wheel-filename"].startswith("pydantic_core-") and "cp312" in core["wheel-filename"]
    assert core["wheel-sha256"] == core["index-sha256"] and len(core["wheel-blake3"]) == 64
    assert names["tomli"]["alias"] == "tomli" and names["tomli"]["specifier"] == "<3,>=2"
    assert names["attrs"]["import-names"] == ["attr", "attrs"]
    assert "pydantic-core==" + core["version"] in names["pydantic"]["dependencies"]
    # tomli has a compiled and a pure wheel: the profile's tag priority picks the compiled one
    assert "manylinux" in names["tomli"]["wheel-filename"]

    # same inputs -> byte-identical outputs; an up-to-date lock is kept without asking the index
    before = len(index_server.behaviour.requests)
    lock_ok(example_project, cache_dir, index_server)
    assert len(index_server.behaviour.requests) == before
    assert (example_project / "mochi.lock").read_bytes() == lock1
    assert (example_project / "pylock.toml").read_bytes() == pylock1
    # a full re-resolution (--upgrade) with a warm cache gives the same bytes too
    lock_ok(example_project, cache_dir, index_server, "--upgrade")
    assert len(index_server.behaviour.requests) > before
    assert (example_project / "mochi.lock").read_bytes() == lock1
    assert (example_project / "pylock.toml").read_bytes() == pylock1
    # and so does a lock from scratch
    (example_project / "mochi.lock").unlink()
    lock_ok(example_project, cache_dir, index_server)
    assert (example_project / "mochi.lock").read_bytes() == lock1

    ok = run_cli(["-C", str(example_project), "lock", "--check"], cache=cache_dir, index_url=index_server.url)
    assert ok.returncode == 0, ok.stderr

    run_cli(["-C", str(example_project), "add", "python", "packaging@>=24"], cache=cache_dir,
            index_url=index_server.url, check=True)
    drift = run_cli(["-C", str(example_project), "lock", "--check"], cache=cache_dir, index_url=index_server.url)
    assert drift.returncode != 0
    assert "WT410" in drift.stderr
    assert "requirement added: packaging>=24" in drift.stderr
    assert "added packaging 26.3" in drift.stderr
    # --check never writes
    assert (example_project / "mochi.lock").read_bytes() == lock1


def test_export_pylock_round_trip_and_installs_with_uv(
    example_project: Path, cache_dir: Path, index_server: IndexServer, tmp_path: Path
) -> None:
    lock_ok(example_project, cache_dir, index_server)
    out = run_cli(["-C", str(example_project), "export", "pylock"], cache=cache_dir, index_url=index_server.url,
                  check=True)
    written = (example_project / "pylock.toml").read_text()
    assert out.stdout == written
    lock = tomllib.loads((example_project / "mochi.lock").read_text())
    pins = {(p["name"], p["version"], p["wheel-sha256"]) for p in lock["python-package"]}
    exported = tomllib.loads(written)
    assert {(p["name"], p["version"], p["wheels"][0]["hashes"]["sha256"]) for p in exported["packages"]} == pins
    # a PEP 751 consumer (uv) installs it into a fresh environment
    from wasmtool.install.interpreter import find_interpreter
    from wasmtool.resolve.uv import find_uv, uv_environment

    venv = tmp_path / "fresh"
    uv = find_uv()
    env = uv_environment()
    subprocess.run([uv, "venv", "-q", "--python", find_interpreter("3.12"), str(venv)], check=True, env=env)
    proc = subprocess.run([uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
                           "-r", str(example_project / "pylock.toml")], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    got = subprocess.run([str(venv / "bin" / "python"), "-c", "import pydantic, attrs, tomli; print(pydantic.VERSION)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert got == next(v for n, v, _ in pins if n == "pydantic")


def test_install_then_import_in_project_environment(
    example_project: Path, cache_dir: Path, index_server: IndexServer
) -> None:
    lock_ok(example_project, cache_dir, index_server)
    run_cli(["-C", str(example_project), "install"], cache=cache_dir, index_url=index_server.url, check=True)
    py = example_project / ".mochi" / "venv" / "bin" / "python"
    out = subprocess.run([str(py), "-c", "import pydantic, attrs, tomli, sys; print(sys.version_info[:2], "
                          "pydantic.TypeAdapter(int).validate_python('42'))"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "(3, 12) 42"


def test_wrong_hash_is_refused_and_nothing_changes(
    example_project: Path, cache_dir: Path, index_server: IndexServer
) -> None:
    lock_ok(example_project, cache_dir, index_server)
    run_cli(["-C", str(example_project), "install"], cache=cache_dir, index_url=index_server.url, check=True)
    # a dependency is added, and the index now serves different bytes for it
    run_cli(["-C", str(example_project), "add", "python", "packaging"], cache=cache_dir,
            index_url=index_server.url, check=True)
    wheel = "packaging-26.3-py3-none-any.whl"
    index_server.behaviour.tamper[wheel] = flip_one_byte(index_server.by_name[wheel].path.read_bytes())
    before = {d: tree_snapshot(example_project / d) for d in (".mochi",)}
    lock_before = (example_project / "mochi.lock").read_bytes()
    cache_before = tree_snapshot(cache_dir)
    proc = run_cli(["-C", str(example_project), "lock"], cache=cache_dir, index_url=index_server.url)
    assert proc.returncode != 0
    assert "WT301" in proc.stderr and "packaging" in proc.stderr
    expected = index_server.by_name[wheel].sha256
    import hashlib

    actual = hashlib.sha256(index_server.behaviour.tamper[wheel]).hexdigest()
    assert expected in proc.stderr and actual in proc.stderr
    assert (example_project / "mochi.lock").read_bytes() == lock_before
    assert tree_snapshot(cache_dir) == cache_before
    assert {d: tree_snapshot(example_project / d) for d in (".mochi",)} == before


def test_install_refuses_wheel_differing_from_lock(
    example_project: Path, cache_dir: Path, index_server: IndexServer, tmp_path: Path
) -> None:
    lock_ok(example_project, cache_dir, index_server)
    # a fresh cache and an index that now serves other bytes for a locked wheel
    other_cache = tmp_path / "other-cache"
    wheel = "attrs-26.1.0-py3-none-any.whl"
    tampered = index_server.by_name[wheel].path.read_bytes() + b"x"
    index_server.behaviour.tamper[wheel] = tampered
    proc = run_cli(["-C", str(example_project), "install"], cache=other_cache, index_url=index_server.url)
    assert proc.returncode != 0
    assert "WT301" in proc.stderr and "attrs" in proc.stderr
    assert not (example_project / ".mochi" / "venv").exists()
    # the other bytes were downloaded, and refused: no copy of them anywhere in the cache
    # (not under wheels/, not left in tmp/), nor any attrs file, and what is there verifies
    assert index_server.downloads(wheel) >= 1
    stored = [p for p in other_cache.rglob("*") if p.is_file()]
    assert [p for p in stored if p.read_bytes() == tampered] == []
    assert [p for p in stored if p.name.startswith("attrs-")] == []
    from wasmtool.cache import ArtifactCache

    assert ArtifactCache(other_cache).verify_all() == []


def test_killed_install_leaves_no_partial_file(
    example_project: Path, cache_dir: Path, index_server: IndexServer
) -> None:
    lock_ok(example_project, cache_dir, index_server)
    big = next(f for f in index_server.by_name if f.startswith("pydantic_core-") and "cp312" in f)
    shutil.rmtree(cache_dir)
    index_server.behaviour.stall_after[big] = 300_000
    proc = subprocess.Popen([str(VENV_BIN / "wasmtool"), "-C", str(example_project), "install"],
                            env=cli_env(cache_dir, index_server.url), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            tmp = cache_dir / "tmp"
            if tmp.exists() and any(p.stat().st_size >= 300_000 for p in tmp.rglob("*") if p.is_file()):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the download never reached the stall point")
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    wheels_dir = cache_dir / "wheels"
    visible = [p.name for p in wheels_dir.rglob("*") if p.is_file()] if wheels_dir.exists() else []
    assert big not in visible
    index_server.behaviour.stall_after.clear()
    run_cli(["-C", str(example_project), "install"], cache=cache_dir, index_url=index_server.url, check=True)
    assert any(p.name == big for p in (cache_dir / "wheels").rglob("*"))


def test_four_concurrent_installs_share_one_cache(
    tmp_path: Path, cache_dir: Path, index_server: IndexServer
) -> None:
    base = write_project(tmp_path / "p0", EXAMPLE_DEPS)
    lock_ok(base, cache_dir, index_server)
    shutil.rmtree(cache_dir)
    projects = [base]
    for i in range(1, 4):
        dst = tmp_path / f"p{i}"
        shutil.copytree(base, dst)
        projects.append(dst)

    def install(p: Path) -> subprocess.CompletedProcess[str]:
        return run_cli(["-C", str(p), "install"], cache=cache_dir, index_url=index_server.url)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(install, projects))
    for r in results:
        assert r.returncode == 0, r.stderr
    # consistent cache: every entry verifies, each artefact stored once
    from wasmtool.cache import ArtifactCache

    cache = ArtifactCache(cache_dir)
    assert cache.verify_all() == []
    lock = tomllib.loads((base / "mochi.lock").read_text())
    for pkg in lock["python-package"]:
        art = cache.lookup(pkg["wheel-sha256"], verify=True)
        assert art is not None and art.blake3 == pkg["wheel-blake3"]
    names = [p.name for p in (cache_dir / "wheels").rglob("*.whl")]
    assert len(names) == len(set(names)) == len(lock["python-package"])


def test_malformed_lock_is_a_typed_error_naming_the_file(
    example_project: Path, cache_dir: Path, index_server: IndexServer
) -> None:
    (example_project / "mochi.lock").write_text("schema-version = 1\n[[python-package]]\nname = 3\n")
    proc = run_cli(["-C", str(example_project), "install"], cache=cache_dir, index_url=index_server.url)
    assert proc.returncode != 0
    assert "WT402" in proc.stderr and "mochi.lock" in proc.stderr and "python-package[0].name" in proc.stderr


def test_malformed_manifest_is_a_typed_error(tmp_path: Path, cache_dir: Path, index_server: IndexServer) -> None:
    proj = tmp_path / "bad"
    proj.mkdir()
    (proj / "mochi.toml").write_text('[python-dependencies]\npydantic = { version = 3 }\n')
    proc = run_cli(["-C", str(proj), "lock"], cache=cache_dir, index_url=index_server.url)
    assert proc.returncode != 0
    assert "mochi.toml" in proc.stderr and "python-dependencies.pydantic.version" in proc.stderr
    assert "WT0" in proc.stderr


def test_cli_help_and_cache_info(cache_dir: Path, index_server: IndexServer) -> None:
    out = run_cli(["--help"], cache=cache_dir, index_url=index_server.url, check=True).stdout
    for verb in ("lock", "install", "add", "export", "cache"):
        assert verb in out
    info = run_cli(["cache", "info", "--json"], cache=cache_dir, index_url=index_server.url, check=True).stdout
    assert '"artefacts": 0' in info
