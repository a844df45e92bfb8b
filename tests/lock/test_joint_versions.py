"""One lock, one version where possible: `wasmtool lock` for two targets (native and
wasi-p2) against a synthetic index where the newest ``jointdemo`` needs a compiled-only
dependency. Each target resolves alone first; then the version every target can have is
tried on the others, and what must differ is printed with the resolver's reason.
"""

from __future__ import annotations

import hashlib
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_project
from tests.support.index_server import IndexServer, ServedFile

pytestmark = pytest.mark.slow


def wheel(folder: Path, dist: str, version: str, *, tag: str = "py3-none-any", requires: tuple[str, ...] = ()
          ) -> ServedFile:
    norm = dist.replace("-", "_")
    path = folder / f"{norm}-{version}-{tag}.whl"
    info = f"{norm}-{version}.dist-info"
    metadata = "".join([f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
                        *(f"Requires-Dist: {r}\n" for r in requires)])
    members = {
        f"{norm}/__init__.py": f"VERSION = {version!r}\n",
        f"{info}/METADATA": metadata,
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n",
    }
    members[f"{info}/RECORD"] = "".join(f"{n},,\n" for n in sorted(members)) + f"{info}/RECORD,,\n"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name in sorted(members):
            zf.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), members[name])
    data = path.read_bytes()
    return ServedFile(dist, path.name, hashlib.sha256(data).hexdigest(), path, metadata.encode(), None)


@pytest.fixture
def joint_index(tmp_path: Path) -> IndexServer:
    w = tmp_path / "wheels"
    files = {
        # 2.0 needs fastdep, which has a CPython/Linux build only; 1.0 needs nothing
        "jointdemo": [wheel(w, "jointdemo", "1.0"), wheel(w, "jointdemo", "2.0", requires=("fastdep>=2",))],
        "fastdep": [wheel(w, "fastdep", "2.0", tag="cp312-cp312-manylinux_2_17_x86_64")],
        # on Linux only, newer wants jointdemo 2: there the versions cannot be one
        "newer": [wheel(w, "newer", "1.0", requires=('jointdemo>=2; sys_platform == "linux"',))],
    }
    return IndexServer(files)


def pins(project: Path) -> dict[tuple[str, str], str]:
    lock = tomllib.loads((project / "mochi.lock").read_text())
    return {(p["target"], p["name"]): p["version"] for p in lock["python-package"]}


TARGETS = 'targets = ["native", "wasi-p2"]'


def test_one_version_across_targets_where_the_targets_allow_it(
        joint_index: IndexServer, tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj", {"jointdemo": "*"}, extra_python=TARGETS)
    with joint_index as server:
        proc = run_cli(["-C", str(project), "lock"], cache=tmp_path / "cache", index_url=server.url, check=True)
        got = pins(project)
        # alone, native would take jointdemo 2.0 (+ fastdep); WASI can only have 1.0: both get 1.0
        assert got == {("native", "jointdemo"): "1.0", ("wasi-p2", "jointdemo"): "1.0"}, got
        # packages per target, not a count of pins
        assert "native: 1 package(s): jointdemo 1.0" in proc.stderr
        assert "wasi-p2: 1 package(s): jointdemo 1.0" in proc.stderr
        assert "differs" not in proc.stderr
        # the lock records the project's requirement, not the pin the join tried
        lock = tomllib.loads((project / "mochi.lock").read_text())
        assert {tuple(t["requirements"]) for t in lock["target"]} == {("jointdemo",)}
        entry = next(p for p in lock["python-package"] if p["target"] == "native")
        assert entry.get("specifier", "") == ""
        # the same inputs give the same answer: --check agrees, and a re-lock keeps the bytes
        before = (project / "mochi.lock").read_bytes()
        run_cli(["-C", str(project), "lock", "--check"], cache=tmp_path / "cache", index_url=server.url, check=True)
        run_cli(["-C", str(project), "lock", "--upgrade"], cache=tmp_path / "cache", index_url=server.url,
                check=True)
        assert (project / "mochi.lock").read_bytes() == before


def test_versions_that_must_differ_are_named_with_the_reason(joint_index: IndexServer, tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj", {"jointdemo": "*", "newer": "*"}, extra_python=TARGETS)
    with joint_index as server:
        proc = run_cli(["-C", str(project), "lock"], cache=tmp_path / "cache", index_url=server.url, check=True)
    got = pins(project)
    assert got[("native", "jointdemo")] == "2.0" and got[("native", "fastdep")] == "2.0"
    assert got[("wasi-p2", "jointdemo")] == "1.0" and ("wasi-p2", "fastdep") not in got
    line = next(ln for ln in proc.stderr.splitlines() if "differs" in ln)
    assert "jointdemo differs: 1.0 on wasi-p2, 2.0 on native" in line
    # the reason, in the native resolver's own words
    assert "jointdemo 1.0 does not lock for native: Because all versions of newer depend on jointdemo" in line
    assert "native: 3 package(s): fastdep 2.0, jointdemo 2.0, newer 1.0" in proc.stderr
