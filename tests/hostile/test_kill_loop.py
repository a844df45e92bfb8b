"""SIGKILL at any moment leaves nothing behind once the next command has run.

``lock``, ``install`` and ``bind`` of a small real project (pycparser: no stubs
package, no ``py.typed``, so ``bind`` runs stubgen in its sandbox) are each killed with
``SIGKILL`` at points spread over the command's measured duration, then run again normally.
Each re-run must succeed; at the end the lock must check, the cache's ``tmp/`` must be empty
(the sweep when a command opens the cache), no ``wasmtool-stubgen-*`` folder may remain in
the temp dir (``TMPDIR`` points at a per-test folder) and no sandbox process may survive.

The loop is bounded (about a minute): the cache stays warm between kill points except for
what the command under test has to redo (the lock; the venv and downloads; the stubgen run).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import VENV_BIN, cli_env, write_project
from tests.support.index_server import IndexServer
from wasmtool.cache import ArtifactCache
from wasmtool.cache.sweep import UNOWNED_MAX_AGE, sweep_stale

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="not on this operating system")

#: Kill points per command (21 in all); the delays are i/(n+1) of the command's duration.
KILLS = {"lock": 9, "install": 6, "bind": 6}
SHA = "a" * 64


@pytest.fixture
def short_temp() -> Iterator[Path]:
    """The per-test temp dir (``TMPDIR`` of every command). Short: the stubgen sandbox lives
    inside it, and multiprocessing's AF_UNIX socket paths there must stay under 108 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="wt-kl-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _sandbox_processes(temp: Path) -> list[str]:
    """Live processes of a stubgen sandbox under ``temp``: command line, working folder or
    environment inside one of its ``wasmtool-stubgen-*`` folders."""
    needle = f"{temp}{os.sep}wasmtool-stubgen-".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            cmdline = (entry / "cmdline").read_bytes()
            cwd = os.readlink(entry / "cwd").encode()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in cmdline or cwd.startswith(needle) or needle in environ:
            argv = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{entry.name}: {argv}")
    return found


def _wait_no_sandbox(temp: Path, seconds: float = 10) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := _sandbox_processes(temp)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.slow
def test_kill_nine_anywhere_leaves_nothing_behind(tmp_path: Path, short_temp: Path,
                                                   index_server: IndexServer) -> None:
    project = write_project(tmp_path / "proj", {"pycparser": "*"})
    cache = tmp_path / "cache"
    env = {**cli_env(cache, index_server.url), "TMPDIR": str(short_temp)}
    command = [str(VENV_BIN / "wasmtool"), "-C", str(project)]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*command, *args], env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300)
        assert proc.returncode == 0, f"wasmtool {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}"
        return proc

    def remove(*paths: Path) -> None:
        for path in paths:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    # what each command has to redo at every kill point (the rest of the cache stays warm)
    resets: dict[str, Callable[[], None]] = {
        "lock": lambda: remove(project / "mochi.lock"),
        # a fresh venv and the downloads (its stubgen run is bind's: the stubs stay cached)
        "install": lambda: remove(project / ".mochi", cache / "wheels", cache / "by-sha256"),
        "bind": lambda: remove(project / ".mochi" / "python_workspace", cache / "stubs", cache / "surfaces"),
    }
    kill_points = 0
    for name, kills in KILLS.items():
        resets[name]()
        started = time.monotonic()
        run(name)
        duration = time.monotonic() - started
        for i in range(1, kills + 1):
            resets[name]()
            proc = subprocess.Popen([*command, name], env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(duration * i / (kills + 1))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kill_points += 1
            run(name)  # the next run after the kill succeeds
    assert kill_points >= 20

    # one more stubgen run (what a kill left is swept when the sandbox is next used) and a
    # command that opens the cache (its tmp/ is swept), then nothing may be left
    resets["bind"]()
    run("bind")
    run("lock", "--check")
    run("cache", "info")
    assert _wait_no_sandbox(short_temp) == [], "stubgen processes outlived their killed wasmtool"
    assert sorted(p.name for p in short_temp.glob("wasmtool-stubgen-*")) == []
    leftovers = sorted(p.name for p in (cache / "tmp").iterdir()) if (cache / "tmp").is_dir() else []
    assert leftovers == [], "temp files of killed runs were not swept"


# -- the cache sweep on its own -------------------------------------------------------------


def _hold_lock(path: Path) -> subprocess.Popen[str]:
    """Another process holding the artefact lock at ``path`` (a live writer), until killed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time\nfh = open(sys.argv[1], 'a')\nfcntl.flock(fh, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\ntime.sleep(600)\n"), str(path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_sweep_removes_abandoned_temp_files_and_keeps_live_ones(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    cache.tmp_dir.mkdir(parents=True)
    abandoned = cache.tmp_dir / f"{SHA}.x1.part"
    abandoned.write_bytes(b"x" * 1000)
    ref = cache.tmp_dir / f"{SHA}.x2.ref"
    ref.write_text("{}")
    live_sha = "b" * 64
    live = cache.tmp_dir / f"{live_sha}.x3.part"
    live.write_bytes(b"y" * 1000)
    holder = _hold_lock(cache.locks_dir / f"{live_sha}.lock")
    try:
        assert sweep_stale(cache) == 2  # a fresh file of a dead writer goes at once
        assert sorted(p.name for p in cache.tmp_dir.iterdir()) == [live.name]  # a live writer's stays
    finally:
        holder.kill()
        holder.wait()
    assert sweep_stale(cache) == 1  # its writer died: now it goes
    assert list(cache.tmp_dir.iterdir()) == []


def test_sweep_keeps_young_files_it_cannot_tie_to_a_lock(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    cache.tmp_dir.mkdir(parents=True)
    foreign = cache.tmp_dir / "not-a-digest.part"
    foreign.write_text("?")
    part = cache.tmp_dir / f"{SHA}.x1.part"
    part.write_text("x")
    assert sweep_stale(cache) == 0  # the one-hour rule for all while an unknown file is young
    old = time.time() - UNOWNED_MAX_AGE - 60
    os.utime(foreign, (old, old))
    assert sweep_stale(cache) == 2  # abandoned by now, and nothing young is left unknown
    assert list(cache.tmp_dir.iterdir()) == []


def test_sweep_is_quiet_and_never_waits(tmp_path: Path) -> None:
    assert sweep_stale(ArtifactCache(tmp_path / "absent")) == 0
    cache = ArtifactCache(tmp_path / "cache")
    cache.tmp_dir.mkdir(parents=True)
    (cache.tmp_dir / f"{SHA}.x1.part").write_text("x")
    holder = _hold_lock(cache.locks_dir / "cache.lock")  # `cache clean` holds the cache exclusively
    try:
        started = time.monotonic()
        assert sweep_stale(cache) == 0
        assert time.monotonic() - started < 2
    finally:
        holder.kill()
        holder.wait()
    assert sweep_stale(cache) == 1
