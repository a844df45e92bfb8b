"""The stubgen sandbox: no network, timeout kills the process group, import errors are skips."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.stubs.conftest import WheelMaker
from wasmtool.skips import SkipReason
from wasmtool.stubs.discover import StubgenPolicy, discover, module_stubs
from wasmtool.stubs.stubgen import run_stubgen

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
