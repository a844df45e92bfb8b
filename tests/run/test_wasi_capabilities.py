"""Least privilege under wasmtime: a real component (a tiny package built in the test) is
given exactly its grants. Reading a file outside its granted folders, or an unlisted
environment variable, fails with WT897 naming the capability; granted, it works; a refused
write leaves the host untouched.

Needs componentize-py and wasmtime (the ``wasi`` extra); without them the tests fail, naming
what is missing (tests/skip_policy.py).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pyodide.wheelmaker import make_wheel
from tests.wit.conftest import need_tools
from tests.wit.surfaces import I, S, fn
from wasmtool.lock.io import render_lock
from wasmtool.lock.model import LockedPackage, MochiLock, TargetInputs
from wasmtool.project.capabilities import Grants
from wasmtool.run.wasi import WasiComponentRuntime
from wasmtool.run.wasm_session import component_grants, component_runtime
from wasmtool.typemap.surface import MappedSurface
from wasmtool.wit.build import BuiltComponent, build_component
from wasmtool.wit.errors import CapabilityDeniedError, CapabilityGrantError, GuestPythonError

TARGET = "wasi-p2"

#: The package: plain Python file and environment access, nothing wasmtool-specific.
PACKAGE_SOURCE = '''\
import os


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write_text(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return len(text)


def get_env(name):
    return os.environ[name]
'''

EXTERNS_SOURCE = '''\
import capprobe


def capprobe_read_text(path):
    return capprobe.read_text(path)


def capprobe_write_text(path, text):
    return capprobe.write_text(path, text)


def capprobe_get_env(name):
    return capprobe.get_env(name)
'''


def _surface() -> MappedSurface:
    return MappedSurface(
        dist="capprobe", version="1.0", alias="capprobe", import_names=("capprobe",), tier="inline",
        functions=(fn("capprobe_read_text", "capprobe:read_text", [("path", S)], S),
                   fn("capprobe_write_text", "capprobe:write_text", [("path", S), ("text", S)], I),
                   fn("capprobe_get_env", "capprobe:get_env", [("name", S)], S)))


@pytest.fixture(scope="session")
def capprobe_component(tmp_path_factory: pytest.TempPathFactory) -> BuiltComponent:
    need_tools()
    base = tmp_path_factory.mktemp("capprobe")
    wheel = make_wheel(base / "wheels", "capprobe", "1.0", {"capprobe/__init__.py": PACKAGE_SOURCE})
    externs = base / "externs"
    externs.mkdir()
    (externs / "capprobe_externs.py").write_text(EXTERNS_SOURCE, encoding="utf-8")
    return build_component(_surface(), externs_dir=externs, wheels=[wheel.path], cache_dir=base / "cache")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "data").mkdir(parents=True)
    (root / "data" / "a.txt").write_text("hello from data\n", encoding="utf-8")
    (root / "out").mkdir()
    (root / "secret.txt").write_text("not for the package\n", encoding="utf-8")
    return root


Opener = Callable[[Grants | None, Path | None], WasiComponentRuntime]


@pytest.fixture
def open_runtime(capprobe_component: BuiltComponent) -> Iterator[Opener]:
    opened: list[WasiComponentRuntime] = []

    def make(grants: Grants | None, root: Path | None) -> WasiComponentRuntime:
        rt = WasiComponentRuntime(capprobe_component, grants=grants, root=root, grantee="capprobe")
        opened.append(rt)
        return rt

    yield make
    for rt in opened:
        rt.close()


def _denied(rt: WasiComponentRuntime, method: str, *args: str) -> CapabilityDeniedError:
    with pytest.raises(CapabilityDeniedError) as info:
        rt.call(method, list(args))
    err = info.value
    assert err.code == "WT897" and isinstance(err, GuestPythonError)
    return err


def test_read_outside_granted_folder_fails_naming_fs_read(open_runtime: Opener, project: Path) -> None:
    rt = open_runtime(Grants(fs_read=("data",)), project)
    assert rt.call("capprobe_read_text", ["data/a.txt"]) == "hello from data\n"
    for path in ("secret.txt", "data/../secret.txt", str(project / "secret.txt")):
        err = _denied(rt, "capprobe_read_text", path)
        assert (err.capability, err.subject) == ("fs-read", path)
        assert "capability fs-read denied" in err.message and repr(path) in err.message
        assert "[python.capabilities.capprobe]" in (err.hint or "")


def test_granted_whole_project_reads_it(open_runtime: Opener, project: Path) -> None:
    rt = open_runtime(Grants(fs_read=(".",)), project)
    assert rt.call("capprobe_read_text", ["secret.txt"]) == "not for the package\n"
    assert rt.call("capprobe_read_text", ["data/a.txt"]) == "hello from data\n"


def test_nothing_granted_is_todays_default(open_runtime: Opener, project: Path) -> None:
    rt = open_runtime(None, None)
    err = _denied(rt, "capprobe_read_text", "data/a.txt")
    assert err.capability == "fs-read"


def test_missing_file_inside_a_grant_is_the_packages_own_error(open_runtime: Opener, project: Path) -> None:
    rt = open_runtime(Grants(fs_read=("data",)), project)
    with pytest.raises(GuestPythonError) as info:
        rt.call("capprobe_read_text", ["data/nope.txt"])
    assert info.value.code == "WT873" and info.value.python_type == "FileNotFoundError"


def test_environment_variable_granted_or_not(open_runtime: Opener, project: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WT_CAP_GREETING", "hi")
    monkeypatch.setenv("WT_CAP_SECRET", "do not leak")
    rt = open_runtime(Grants(env=("WT_CAP_GREETING",)), project)
    assert rt.call("capprobe_get_env", ["WT_CAP_GREETING"]) == "hi"
    err = _denied(rt, "capprobe_get_env", "WT_CAP_SECRET")
    assert (err.capability, err.subject) == ("env", "WT_CAP_SECRET")
    assert "do not leak" not in str(err)
    # nothing is inherited: not even PATH or HOME
    assert os.environ.get("PATH")
    assert _denied(rt, "capprobe_get_env", "PATH").capability == "env"


def test_writes_outside_grants_leave_the_host_untouched(open_runtime: Opener, project: Path) -> None:
    rt = open_runtime(Grants(fs_read=("data",), fs_write=("out",)), project)
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    err = _denied(rt, "capprobe_write_text", "data/new.txt", "x")     # read-only folder
    assert (err.capability, err.subject) == ("fs-write", "data/new.txt")
    err = _denied(rt, "capprobe_write_text", "elsewhere.txt", "x")    # no folder at all
    assert err.capability == "fs-read" and err.subject == "elsewhere.txt"
    err = _denied(rt, "capprobe_write_text", "out/../secret.txt", "overwritten")
    assert err.subject == "out/../secret.txt"
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before
    assert (project / "secret.txt").read_text(encoding="utf-8") == "not for the package\n"
    # granted: the write lands in the project's folder
    assert rt.call("capprobe_write_text", ["out/new.txt", "written"]) == 7
    assert (project / "out" / "new.txt").read_text(encoding="utf-8") == "written"


def test_folder_that_cannot_be_granted(open_runtime: Opener, project: Path, tmp_path: Path) -> None:
    rt = open_runtime(Grants(fs_read=("nowhere",)), project)
    with pytest.raises(CapabilityGrantError) as info:
        rt.call("capprobe_read_text", ["nowhere/x"])
    assert info.value.code == "WT898" and "nowhere: no such folder in the project" in info.value.message
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.txt").write_text("outside", encoding="utf-8")
    os.symlink(outside, project / "link")
    rt = open_runtime(Grants(fs_read=("link",)), project)
    with pytest.raises(CapabilityGrantError, match="leads outside the project"):
        rt.call("capprobe_read_text", ["link/x.txt"])


def _install_layout(root: Path, component: BuiltComponent, capabilities: tuple[tuple[str, Grants], ...]) -> None:
    """What `wasmtool install --target=wasi-p2` leaves for the session: the component in
    .mochi/<target>/<alias>/ and a lock recording the grants."""
    shutil.copytree(component.directory, root / ".mochi" / TARGET / "capprobe")
    lock = MochiLock(
        packages=(LockedPackage(name="capprobe", version="1.0", target=TARGET, alias="capprobe"),
                  LockedPackage(name="other", version="1.0", target=TARGET)),
        inputs=(TargetInputs(TARGET, "3.14", ("capprobe",)),), capabilities=capabilities)
    (root / "mochi.lock").write_text(render_lock(lock), encoding="utf-8")


def test_session_runtime_takes_the_grants_from_the_lock(capprobe_component: BuiltComponent, project: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WT_CAP_GREETING", "hi")
    _install_layout(project, capprobe_component, (
        ("capprobe", Grants(fs_read=("data",), env=("WT_CAP_GREETING",))),
        ("other", Grants(fs_read=(".",))),       # not carried by the component: not given to it
    ))
    assert component_grants(project, TARGET, "capprobe") == (
        "capprobe", Grants(fs_read=("data",), env=("WT_CAP_GREETING",)))
    with component_runtime(project, TARGET, "capprobe") as rt:
        assert rt.call("capprobe_read_text", ["data/a.txt"]) == "hello from data\n"
        assert rt.call("capprobe_get_env", ["WT_CAP_GREETING"]) == "hi"
        assert _denied(rt, "capprobe_read_text", "secret.txt").capability == "fs-read"


def test_session_runtime_without_a_lock_grants_nothing(capprobe_component: BuiltComponent, project: Path) -> None:
    shutil.copytree(capprobe_component.directory, project / ".mochi" / TARGET / "capprobe")
    assert component_grants(project, TARGET, "capprobe") == ("", Grants())
    with component_runtime(project, TARGET, "capprobe") as rt:
        assert _denied(rt, "capprobe_read_text", "data/a.txt").capability == "fs-read"
