"""The stubgen sandbox: no network, timeout kills the process group, import errors are skips."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stubs.conftest import WheelMaker
from wasmtool.skips import SkipReason
from wasmtool.stubs.discover import StubgenPolicy, discover, module_stubs
from wasmtool.stubs.stubgen import run_stubgen, sweep_stubgen_temps

NET = """import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("192.0.2.1", 80))
"""

HANG = """import subprocess, sys, time
from pathlib import Path
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
Path(__file__).with_name("child.pid").write_text(str(child.pid))
time.sleep(600)
"""

PLAIN = '''"""A plain untyped package."""

VERSION = "1.0"


def greet(name, punctuation="!"):
    return "hello " + name + punctuation


class Greeter:
    def __init__(self, prefix):
        self.prefix = prefix

    def greet(self, name):
        return self.prefix + name
'''


def _alive(pid: int) -> bool:
    """True if ``pid`` runs and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_socket_at_import_is_import_time_network(make_wheel: WheelMaker) -> None:
    """Phases check 21."""
    wheel = make_wheel("netpkg", "1.0", {"netpkg/__init__.py": NET})
    s = discover(wheel, dist="netpkg", version="1.0", typeshed=False, stubgen=StubgenPolicy(timeout=30))
    assert s.provenance == "none"
    assert s.files == ()
    (skip,) = s.skips
    assert (skip.path, skip.reason) == ("netpkg", SkipReason.SkipImportTimeNetwork)
    assert "192.0.2.1" in skip.detail


def test_swallowed_network_attempt_still_counts(make_wheel: WheelMaker) -> None:
    body = "import urllib.request\ntry:\n    urllib.request.urlopen('http://example.invalid/', timeout=1)\n" \
           "except Exception:\n    pass\n"
    wheel = make_wheel("quietnet", "1.0", {"quietnet/__init__.py": body})
    result = run_stubgen([wheel], packages=["quietnet"], timeout=30)
    assert [(k.path, k.reason) for k in result.skips] == [("quietnet", SkipReason.SkipImportTimeNetwork)]
    assert result.files == ()


#: An import that would finish after 60 s (so a sandbox without a working timeout ends with
#: status 0 instead of hanging the test), leaving a grandchild in its process group.
SLOW = """import os, subprocess, sys, time
from pathlib import Path
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
Path(MARKER).write_text(f"{os.getpid()} {child.pid}")
time.sleep(60)
"""


def _gone(pid: int) -> bool:
    """Whether ``pid`` has stopped (polled: a SIGKILLed process needs a moment to exit)."""
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def test_hang_is_killed_with_its_process_group(make_wheel: WheelMaker, tmp_path: Path) -> None:
    """Phases check 22 (with a short timeout): the sandbox is SIGKILLed at its timeout, before
    the import finishes, and the child it started (same process group) is gone too."""
    marker = tmp_path / "pids.txt"
    wheel = make_wheel("hangpkg", "1.0", {"hangpkg/__init__.py": SLOW.replace("MARKER", repr(str(marker)))})
    result = run_stubgen([wheel], packages=["hangpkg"], timeout=3)
    assert (result.timed_out, result.returncode) == (True, -signal.SIGKILL), result
    assert result.files == ()
    (skip,) = result.skips
    assert (skip.path, skip.reason) == ("hangpkg", SkipReason.SkipImportTimeError)
    assert skip.detail == "stubgen timed out after 3 s; its process group was killed"
    sandbox, child = (int(pid) for pid in marker.read_text().split())
    assert _gone(sandbox), f"the sandbox {sandbox} survived its timeout"
    assert _gone(child), f"the sandbox's child {child} survived the process-group kill"


def test_hang_leaves_no_orphan(make_wheel: WheelMaker, tmp_path: Path) -> None:
    # the package writes its grandchild's pid where the test can read it after the sandbox is gone
    marker = tmp_path / "pid.txt"
    body = HANG.replace('Path(__file__).with_name("child.pid")', f"Path({str(marker)!r})")
    wheel = make_wheel("hangpkg2", "1.0", {"hangpkg2/__init__.py": body})
    result = run_stubgen([wheel], packages=["hangpkg2"], timeout=3)
    assert result.timed_out
    pid = int(marker.read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), f"grandchild {pid} survived the sandbox"


def test_import_error_is_import_time_error(make_wheel: WheelMaker) -> None:
    wheel = make_wheel("badpkg", "1.0", {"badpkg/__init__.py": "raise RuntimeError('boom at import')\n"})
    s = discover(wheel, dist="badpkg", version="1.0", typeshed=False, stubgen=StubgenPolicy(timeout=30))
    assert s.provenance == "none"
    (skip,) = s.skips
    assert (skip.path, skip.reason) == ("badpkg", SkipReason.SkipImportTimeError)
    assert skip.detail == "RuntimeError: boom at import"


def test_plain_package_gets_parseable_stubs(make_wheel: WheelMaker) -> None:
    wheel = make_wheel("plainpkg", "1.0", {"plainpkg/__init__.py": PLAIN, "plainpkg/util.py": "def helper(x):\n"
                                           "    return x\n"})
    s = discover(wheel, dist="plainpkg", version="1.0", typeshed=False, stubgen=StubgenPolicy(timeout=60))
    assert s.provenance == "stubgen"
    assert s.skips == ()
    assert [p for p, _ in s.files] == ["plainpkg/__init__.pyi", "plainpkg/util.pyi"]
    mods = {m.name: m for m in module_stubs(s, python_version="3.12")}
    assert mods["plainpkg"].function("greet") is not None
    assert any(c.name == "Greeter" for c in mods["plainpkg"].classes)
    assert mods["plainpkg.util"].function("helper") is not None


def test_environment_is_scrubbed(make_wheel: WheelMaker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:1")
    monkeypatch.setenv("PIP_INDEX_URL", "http://index.invalid/")
    monkeypatch.setenv("UV_INDEX_URL", "http://index.invalid/")
    body = "import os\nleaked = sorted(k for k in os.environ if k.startswith(('HTTPS_PROXY', 'PIP_', 'UV_')))\n" \
           "if leaked or not os.environ['HOME'].startswith(os.environ['TMPDIR']):\n" \
           "    raise RuntimeError('leaked ' + ' '.join(leaked))\n"
    wheel = make_wheel("envpkg", "1.0", {"envpkg/__init__.py": body})
    result = run_stubgen([wheel], packages=["envpkg"], timeout=60)
    assert result.skips == ()
    assert [p for p, _ in result.files] == ["envpkg/__init__.pyi"]


# -- nothing outlives a killed wasmtool ---------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _folders(temp: Path) -> list[Path]:
    return sorted(temp.glob("wasmtool-stubgen-*"))


@pytest.mark.skipif(sys.platform != "linux", reason="not on this operating system")
@pytest.mark.parametrize("prctl", [True, False], ids=["pdeathsig", "watchdog-only"])
def test_sandbox_dies_with_a_killed_parent(make_wheel: WheelMaker, tmp_path: Path, prctl: bool) -> None:
    """wasmtool SIGKILLed mid-stubgen: the driver and the package's child go too (the kernel's
    PDEATHSIG, or without it the driver's parent watchdog), and the next run sweeps the
    throwaway folder its dead creator left behind."""
    marker = tmp_path / "pids.txt"
    wheel = make_wheel("orphanpkg", "1.0", {"orphanpkg/__init__.py": SLOW.replace("MARKER", repr(str(marker)))})
    temp = tmp_path / "temp"
    temp.mkdir()
    script = ("import sys\nfrom pathlib import Path\nimport wasmtool.stubs.stubgen as sg\n"
              # without prctl (as off Linux): the call fails, the watchdog alone must do
              + ("" if prctl else "sg._GUARD = sg._GUARD.replace('libc.prctl(', 'libc.no_such_function(')\n")
              + "sg.run_stubgen([Path(sys.argv[1])], packages=['orphanpkg'], timeout=120)\n")
    parent = subprocess.Popen([sys.executable, "-c", script, str(wheel)], cwd=ROOT,
                              env={**os.environ, "TMPDIR": str(temp)}, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and len(marker.read_text().split()) == 2):
            assert parent.poll() is None and time.monotonic() < deadline, "the package was never imported"
            time.sleep(0.05)
        (folder,) = _folders(temp)
        assert json.loads((folder / "owner.json").read_text())["pid"] == parent.pid
    finally:
        parent.kill()
        parent.wait()
    driver, child = (int(pid) for pid in marker.read_text().split())
    assert _gone(driver), f"the stubgen driver {driver} outlived its killed parent"
    assert _gone(child), f"the package's child {child} outlived the killed wasmtool"
    assert _folders(temp) == [folder]  # left behind by the kill ...
    assert sweep_stubgen_temps(temp) == 1  # ... and swept by the next run
    assert _folders(temp) == []


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.skipif(sys.platform != "linux", reason="not on this operating system")
def test_sweep_removes_only_folders_of_dead_creators(tmp_path: Path) -> None:
    me, dead = os.getpid(), _dead_pid()
    start = Path(f"/proc/{me}/stat").read_text().rsplit(")", 1)[1].split()[19]
    two_hours_ago = time.time() - 7200

    def folder(name: str, owner: dict[str, object] | None = None, *, old: bool = False) -> Path:
        path = tmp_path / f"wasmtool-stubgen-{name}"
        path.mkdir()
        (path / "site").mkdir()
        (path / "site" / "big.bin").write_bytes(b"x" * 1000)
        if owner is not None:
            (path / "owner.json").write_text(json.dumps(owner))
        if old:
            os.utime(path, (two_hours_ago, two_hours_ago))
        return path

    keep = [
        folder(f"{me}-live", {"pid": me, "start": start}),             # this process: running
        folder(f"{me}-claiming"),                                     # live creator, marker not yet written
        folder("legacy-young"),                                       # an older wasmtool's, maybe running
    ]
    gone = [
        folder(f"{dead}-dead", {"pid": dead, "start": "1"}),           # creator exited
        folder(f"{me}-reused", {"pid": me, "start": str(int(start) + 1)}),  # pid reused by another process
        folder(f"{dead}-unclaimed"),                                  # killed before writing its marker
        folder("legacy-old", old=True),                               # an older wasmtool's, abandoned
    ]
    (tmp_path / "wasmtool-stubgen-file").write_text("not a folder")
    (tmp_path / "unrelated").mkdir()
    assert sweep_stubgen_temps(tmp_path) == len(gone)
    assert [p for p in keep if p.exists()] == keep
    assert [p for p in gone if p.exists()] == []
    assert (tmp_path / "wasmtool-stubgen-file").exists() and (tmp_path / "unrelated").exists()


@pytest.fixture
def short_temp() -> Iterator[Path]:
    """A temp dir with a short path: the sandbox's own temp dir lies inside it, and
    multiprocessing's AF_UNIX socket paths there must stay under 108 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="wt-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(sys.platform != "linux", reason="not on this operating system")
def test_a_run_claims_its_folder_and_removes_it(make_wheel: WheelMaker, short_temp: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    temp = short_temp
    stale = temp / f"wasmtool-stubgen-{_dead_pid()}-abc"
    stale.mkdir()
    (stale / "owner.json").write_text(json.dumps({"pid": _dead_pid(), "start": None}))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    seen = short_temp.parent / f"{short_temp.name}-seen.json"
    body = ("import os, pathlib\nif not os.path.exists(SEEN):\n"
            "    pathlib.Path(SEEN).write_text((pathlib.Path.cwd() / 'owner.json').read_text())\n"
            ).replace("SEEN", repr(str(seen)))
    wheel = make_wheel("claimpkg", "1.0", {"claimpkg/__init__.py": body})
    try:
        result = run_stubgen([wheel], packages=["claimpkg"], timeout=60)
        owner = json.loads(seen.read_text())
    finally:
        seen.unlink(missing_ok=True)
    assert (result.skips, [p for p, _ in result.files]) == ((), ["claimpkg/__init__.pyi"])
    assert owner["pid"] == os.getpid()
    assert owner["start"] == Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()[19]
    assert _folders(temp) == []  # the dead creator's folder swept first, its own removed after
