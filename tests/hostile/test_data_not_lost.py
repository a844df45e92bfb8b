"""Hostile input that must not lose data: a hand-edited lock, a garbage pylock, a corrupted
cache entry, a shared or linked mochi.toml, concurrent installs of one project."""

from __future__ import annotations

import os
import stat
import subprocess
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_project
from tests.support.index_server import IndexServer
from wasmtool.lock.io import read_lock, render_lock
from wasmtool.lock.model import LockedPackage, MochiLock, TargetInputs
from wasmtool.lock.rules import coverage_gaps, uncovered, up_to_date

DEPS = {"attrs": ">=23", "tomli": "^2"}
SOURCES = {"main.mochi": 'import python "tomli@^2" as tomli\n'}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "proj", DEPS, sources=SOURCES)


def cli(project: Path, cache: Path, server: IndexServer, *args: str, check: bool = False
        ) -> subprocess.CompletedProcess[str]:
    return run_cli(["-C", str(project), *args], cache=cache, index_url=server.url, check=check)


def drop_entries(project: Path, *names: str) -> None:
    """Edit mochi.lock the way a person would: the entries go, the recorded inputs stay."""
    path = project / "mochi.lock"
    lock = read_lock(path)
    kept = tuple(p for p in lock.packages if names and p.name not in names)
    path.write_text(render_lock(replace(lock, packages=kept)))


def flip_one_byte(data: bytes) -> bytes:
    mid = len(data) // 2
    return data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]


def installed(project: Path) -> set[str]:
    site = next((project / ".mochi" / "venv" / "lib").glob("python*/site-packages"))
    return {d.name.partition("-")[0].lower() for d in site.glob("*.dist-info")}


# -- the pure rule ------------------------------------------------------------------------

def entry(name: str, *deps: str) -> LockedPackage:
    return LockedPackage(name=name, version="1.0", target="native", dependencies=deps)


INPUTS = TargetInputs("native", "3.12", ("a>=1", "b[x]", "c; sys_platform == 'win32'"), "http://i/simple")


@pytest.mark.parametrize(("entries", "missing"), [
    ((entry("a", "d==1.0"), entry("b"), entry("d")), []),
    ((entry("a"),), ["b"]),                                  # a direct requirement lost its entry
    ((), ["a", "b"]),                                        # every entry removed
    ((entry("a", "d==1.0"), entry("b")), ["d"]),             # not a closed set
    ((entry("A"), entry("B")), []),                          # names compare canonically
])
def test_coverage_gaps(entries: tuple[LockedPackage, ...], missing: list[str]) -> None:
    lock = MochiLock(packages=entries, inputs=(INPUTS,))
    assert uncovered(lock, INPUTS) == missing
    gaps = coverage_gaps(lock, INPUTS)
    assert len(gaps) == len(missing) and all(any(m in g for g in gaps) for m in missing)
    assert up_to_date(lock, INPUTS) is (not missing)   # `lock` re-resolves a lock that does not cover
    assert coverage_gaps(None, INPUTS) == []            # no lock at all is input_drift's business


# -- install and a hand-edited lock -------------------------------------------------------

@pytest.mark.slow
def test_a_lock_missing_a_direct_entry_is_relocked_or_refused(
    project: Path, cache_dir: Path, index_server: IndexServer
) -> None:
    cli(project, cache_dir, index_server, "install", check=True)
    assert {"attrs", "tomli"} <= installed(project)
    drop_entries(project, "attrs")
    proc = cli(project, cache_dir, index_server, "install", "--locked")
    assert proc.returncode == 1 and "WT410" in proc.stderr and "attrs" in proc.stderr
    proc = cli(project, cache_dir, index_server, "install", "--frozen")
    assert proc.returncode == 1 and "WT411" in proc.stderr and "attrs" in proc.stderr
    assert "attrs" in installed(project)                 # refusing touched nothing
    cli(project, cache_dir, index_server, "install", check=True)
    assert {"attrs", "tomli"} <= installed(project)      # re-locked, not uninstalled
    assert "attrs" in {p.name for p in read_lock(project / "mochi.lock").packages}


@pytest.mark.slow
def test_a_lock_without_entries_is_relocked_or_refused(
    project: Path, cache_dir: Path, index_server: IndexServer
) -> None:
    cli(project, cache_dir, index_server, "lock", check=True)
    drop_entries(project)
    for mode, code in (("--locked", "WT410"), ("--frozen", "WT411")):
        proc = cli(project, cache_dir, index_server, "install", mode)
        assert proc.returncode == 1 and code in proc.stderr and "attrs" in proc.stderr and "tomli" in proc.stderr
    assert not (project / ".mochi" / "venv").exists()
    cli(project, cache_dir, index_server, "install", check=True)
    assert {"attrs", "tomli"} <= installed(project)


# -- lock --check reads the pylock too ------------------------------------------------------

@pytest.mark.slow
def test_lock_check_compares_the_pylock_file(project: Path, cache_dir: Path, index_server: IndexServer) -> None:
    cli(project, cache_dir, index_server, "lock", check=True)
    cli(project, cache_dir, index_server, "lock", "--check", check=True)
    (project / "pylock.toml").write_bytes(os.urandom(256))
    proc = cli(project, cache_dir, index_server, "lock", "--check")
    assert proc.returncode == 1 and "WT410" in proc.stderr and "pylock.toml differs" in proc.stderr
    (project / "pylock.toml").unlink()
    proc = cli(project, cache_dir, index_server, "lock", "--check")
    assert proc.returncode == 1 and "pylock.toml is missing" in proc.stderr
    cli(project, cache_dir, index_server, "lock", check=True)   # `lock` writes it again
    cli(project, cache_dir, index_server, "lock", "--check", check=True)


# -- a corrupted cache entry ------------------------------------------------------------------

@pytest.mark.slow
def test_a_corrupted_cache_entry_is_reported_evicted_and_fetched_again(
    project: Path, cache_dir: Path, index_server: IndexServer
) -> None:
    cli(project, cache_dir, index_server, "lock", check=True)
    info = cli(project, cache_dir, index_server, "cache", "info", check=True).stdout
    assert "0 temp file(s)" in info and "not verified" in info
    pkg = next(p for p in read_lock(project / "mochi.lock").packages if p.name == "tomli")
    stored = next((cache_dir / "wheels").glob(f"*/{pkg.wheel_filename}"))
    stored.write_bytes(flip_one_byte(stored.read_bytes()))

    proc = cli(project, cache_dir, index_server, "cache", "verify")
    assert proc.returncode == 1 and "WT301" in proc.stderr and pkg.wheel_filename in proc.stderr
    assert "1 problem(s)" in cli(project, cache_dir, index_server, "cache", "info", check=True).stdout
    before = index_server.downloads(pkg.wheel_filename)
    cli(project, cache_dir, index_server, "install", check=True)
    assert index_server.downloads(pkg.wheel_filename) == before + 1     # fetched again, once
    assert "tomli" in installed(project)
    cli(project, cache_dir, index_server, "cache", "verify", check=True)
    assert "0 problem(s)" in cli(project, cache_dir, index_server, "cache", "info", check=True).stdout


@pytest.mark.slow
def test_cache_verify_fix_evicts_the_bad_entry(project: Path, cache_dir: Path, index_server: IndexServer) -> None:
    cli(project, cache_dir, index_server, "lock", check=True)
    stored = next((cache_dir / "wheels").glob("*/tomli-*.whl"))
    stored.write_bytes(flip_one_byte(stored.read_bytes()))
    proc = cli(project, cache_dir, index_server, "cache", "verify", "--fix")
    assert proc.returncode == 0 and "evicted 1 entry" in proc.stderr
    assert not stored.exists()
    cli(project, cache_dir, index_server, "cache", "verify", check=True)


# -- add python keeps the manifest's mode and link ----------------------------------------------

@pytest.mark.slow
def test_add_python_keeps_the_mode(project: Path, cache_dir: Path, index_server: IndexServer) -> None:
    manifest = project / "mochi.toml"
    manifest.chmod(0o664)
    cli(project, cache_dir, index_server, "add", "python", "packaging@>=24", check=True)
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o664
    assert "packaging" in tomllib.loads(manifest.read_text())["python-dependencies"]


@pytest.mark.slow
def test_add_python_edits_the_file_a_link_points_at(
    project: Path, tmp_path: Path, cache_dir: Path, index_server: IndexServer
) -> None:
    real = tmp_path / "shared" / "mochi.toml"
    real.parent.mkdir()
    (project / "mochi.toml").rename(real)
    real.chmod(0o640)
    (project / "mochi.toml").symlink_to(real)
    cli(project, cache_dir, index_server, "add", "python", "packaging@>=24", check=True)
    assert (project / "mochi.toml").is_symlink() and (project / "mochi.toml").resolve() == real
    assert "packaging" in tomllib.loads(real.read_text())["python-dependencies"]
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["mochi.toml"]   # no temp file left


# -- concurrent installs of one project ------------------------------------------------------------

@pytest.mark.slow
def test_concurrent_installs_of_one_project_all_succeed(
    project: Path, cache_dir: Path, index_server: IndexServer
) -> None:
    # the venv is ready and nothing is bound yet: every install goes straight to a first bind
    cli(project, cache_dir, index_server, "install", "--no-bind", check=True)
    with ThreadPoolExecutor(max_workers=6) as pool:
        procs = list(pool.map(lambda _: cli(project, cache_dir, index_server, "install"), range(6)))
    assert [p.returncode for p in procs] == [0] * 6, "\n".join(p.stderr for p in procs if p.returncode)


@pytest.mark.slow
def test_install_waits_for_the_projects_bind_lock(project: Path, cache_dir: Path, index_server: IndexServer) -> None:
    from filelock import FileLock

    from tests.conftest import VENV_BIN, cli_env
    from wasmtool.ops.bind import bind_lock_path

    cli(project, cache_dir, index_server, "install", "--no-bind", check=True)
    lock_file = bind_lock_path(project)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_file)):
        proc = subprocess.Popen([str(VENV_BIN / "wasmtool"), "-C", str(project), "install"],
                                env=cli_env(cache_dir, index_server.url), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(timeout=4)                      # held back while another bind runs
            assert not (project / ".mochi" / "python_workspace" / "bindings.json").exists()
        except BaseException:
            proc.kill()
            raise
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert (project / ".mochi" / "python_workspace" / "bindings.json").exists()
