"""The resolvelib resolver for wasm targets, against the hermetic index on 127.0.0.1.

Real wheels come from tests/data/artefacts (pydantic-core's and msgpack's
``pyemscripten_2026_0_wasm32`` builds, pure wheels, manylinux-only numpy); small synthetic
wheels are served beside them for markers, extras, preferences and conflicts. The Pyodide
distribution lock is the real ``node_modules/pyodide/pyodide-lock.json``.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from packaging.specifiers import SpecifierSet

from tests.conftest import write_project
from tests.support.index_server import IndexServer, ServedFile
from wasmtool.index.client import IndexClient
from wasmtool.lock.model import LockedPackage, MochiLock, TargetInputs
from wasmtool.lock.pylock import to_pylock_dict
from wasmtool.ops.context import Context
from wasmtool.ops.wasm import lock_wasm, parse_preferences
from wasmtool.resolve.errors import (
    DistributionLockMismatchError,
    NoTargetWheelError,
    ResolutionConflictError,
)
from wasmtool.resolve.wasm import DistributionLock, ResolvedWheel, resolve
from wasmtool.targets.profile import TargetProfile, load_profile
from wasmtool.targets.pyodide import load_distribution_lock

ROOT = Path(__file__).resolve().parents[2]
DIST_LOCK = ROOT / "node_modules" / "pyodide" / "pyodide-lock.json"
PYODIDE = load_profile("pyodide-314")
PYODIDE_2025 = load_profile("pyodide-2025")
WASI = load_profile("wasi-p2")


# --------------------------------------------------------------------------- helpers


def make_wheel(folder: Path, name: str, version: str, *, requires: tuple[str, ...] = (),
               requires_python: str | None = None, tag: str = "py3-none-any") -> ServedFile:
    """A tiny, byte-stable wheel served by the index as ``project`` ``name``."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    if requires_python:
        meta += f"Requires-Python: {requires_python}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {f"{dist}/__init__.py": "", f"{info}/METADATA": meta,
             f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tag}\n",
             f"{info}/RECORD": ""}
    # every member listed (the cache refuses a wheel whose RECORD leaves one out)
    files[f"{info}/RECORD"] = "".join(f"{p},,\n" for p in files)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dist}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for p, text in files.items():
            zf.writestr(zipfile.ZipInfo(p, date_time=(1980, 1, 1, 0, 0, 0)), text)
    return ServedFile(name, path.name, hashlib.sha256(path.read_bytes()).hexdigest(), path, meta.encode(),
                      requires_python)


def synthetic(folder: Path) -> dict[str, list[ServedFile]]:
    wheels = [
        make_wheel(folder, "wt-markers", "1.0", requires=(
            'wt-win-only; sys_platform == "win32"', 'wt-emscripten-only; sys_platform == "emscripten"',
            'wt-old-py; python_version < "3.12"', 'wt-extra-dep>=1; extra == "fancy"')),
        make_wheel(folder, "wt-emscripten-only", "1.0"),
        make_wheel(folder, "wt-extra-dep", "1.0"),
        make_wheel(folder, "wt-pref", "1.0"),
        make_wheel(folder, "wt-pref", "1.1"),
        make_wheel(folder, "wt-pref", "2.0"),
        make_wheel(folder, "wt-a", "1.0", requires=("wt-b<2",)),
        make_wheel(folder, "wt-b", "1.0"),
        make_wheel(folder, "wt-b", "2.0"),
        make_wheel(folder, "wt-newpy", "1.0", requires_python=">=3.15"),
        make_wheel(folder, "wt-newpy", "0.9", requires_python=">=3.8"),
        make_wheel(folder, "wt-future", "1.0", requires_python=">=3.15"),
        make_wheel(folder, "wt-native", "1.0", tag="cp314-cp314-manylinux_2_17_x86_64"),
        make_wheel(folder, "wt-native", "1.1", tag="cp312-cp312-pyemscripten_2026_0_wasm32"),
    ]
    nometa = make_wheel(folder, "wt-nometa", "1.0", requires=("wt-b",))
    wheels.append(ServedFile(nometa.project, nometa.filename, nometa.sha256, nometa.path, None, None))
    out: dict[str, list[ServedFile]] = {}
    for w in wheels:
        out.setdefault(w.project, []).append(w)
    return out


@pytest.fixture
def server(served_files: dict[str, list[ServedFile]], tmp_path: Path) -> Iterator[IndexServer]:
    with IndexServer({**served_files, **synthetic(tmp_path / "synthetic")}) as srv:
        yield srv


@pytest.fixture(scope="module")
def dist_lock() -> DistributionLock:
    if not DIST_LOCK.is_file():
        pytest.fail(f"{DIST_LOCK} is missing (scripts/setup.sh installs the pyodide npm package)")
    return load_distribution_lock(DIST_LOCK)


def run(server: IndexServer, reqs: list[str], profile: TargetProfile = PYODIDE,
        **kw: object) -> list[ResolvedWheel]:
    with IndexClient(server.url, retries=0) as client:
        return resolve(reqs, profile, client, **kw)  # type: ignore[arg-type]


def pins(wheels: list[ResolvedWheel]) -> dict[str, str]:
    return {w.name: w.version for w in wheels}


def project_requests(server: IndexServer) -> set[str]:
    with server.behaviour.lock:
        return {p.split("/")[2] for _, p in server.behaviour.requests if p.startswith("/simple/") and p != "/simple/"}


# --------------------------------------------------------------------------- pyodide-314 from the index


def test_pydantic_attrs_tomli_for_pyodide_314(server: IndexServer) -> None:
    got = run(server, ["pydantic>=2.9,<3", "attrs", "tomli"])
    by = {w.name: w for w in got}
    assert pins(got) == {"annotated-types": "0.8.0", "attrs": "26.1.0", "pydantic": "2.14.4",
                         "pydantic-core": "2.50.5", "tomli": "2.5.0", "typing-extensions": "4.16.0",
                         "typing-inspection": "0.4.5"}
    core = by["pydantic-core"]
    assert core.filename == "pydantic_core-2.50.5-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
    assert core.platform_tag == "cp314-cp314-pyemscripten_2026_0_wasm32"
    assert core.sha256 == server.by_name[core.filename].sha256 and core.url.endswith(f"/files/{core.filename}")
    assert all(w.origin == "index" for w in got)
    assert by["pydantic"].dependencies == ("annotated-types==0.8.0", "pydantic-core==2.50.5",
                                           "typing-extensions==4.16.0", "typing-inspection==0.4.5")
    assert by["pydantic"].requires_python.startswith(">=")
    assert [w.name for w in got] == sorted(w.name for w in got)
    # never the manylinux build, although the index lists it
    assert not any("manylinux" in w.filename for w in got)


def test_compiled_wheel_for_pyodide_314(server: IndexServer) -> None:
    (msgpack,) = run(server, ["msgpack"])
    assert msgpack.filename == "msgpack-1.2.4-cp314-cp314-pyemscripten_2026_0_wasm32.whl"


def test_resolution_is_deterministic(server: IndexServer) -> None:
    reqs = ["pydantic>=2.9,<3", "attrs", "tomli", "msgpack", "click", "toml", "packaging"]
    first = run(server, reqs)
    assert run(server, list(reversed(reqs))) == first
    assert run(server, reqs) == first


# --------------------------------------------------------------------------- distribution lock
# (index_first=False: `[python] pyodide-packages = "distribution"`; index-first is the default)


def test_numpy_from_the_distribution_lock_without_asking_the_index(server: IndexServer,
                                                                   dist_lock: DistributionLock) -> None:
    (numpy,) = run(server, ["numpy"], dist_lock=dist_lock, index_first=False)
    entry = json.loads(DIST_LOCK.read_text())["packages"]["numpy"]
    assert (numpy.version, numpy.filename, numpy.sha256) == (entry["version"], entry["file_name"], entry["sha256"])
    assert numpy.origin == "pyodide-lock"
    version = json.loads((DIST_LOCK.parent / "package.json").read_text())["version"]
    assert numpy.url == f"https://cdn.jsdelivr.net/pyodide/v{version}/full/{entry['file_name']}"
    assert "numpy" not in project_requests(server)


def test_distribution_packages_win_over_the_index(server: IndexServer, dist_lock: DistributionLock) -> None:
    got = run(server, ["pydantic>=2.9,<3", "attrs", "toml"], dist_lock=dist_lock, index_first=False)
    lock = json.loads(DIST_LOCK.read_text())["packages"]
    by = {w.name: w for w in got}
    for name in ("pydantic", "pydantic-core", "attrs", "six", "typing-extensions"):
        assert by[name].origin == "pyodide-lock"
        assert by[name].version == lock[name]["version"] and by[name].sha256 == lock[name]["sha256"]
    assert by["attrs"].dependencies == (f"six=={lock['six']['version']}",)  # the lock's depends
    assert by["toml"].origin == "index"  # not in the distribution: from the index
    assert project_requests(server) == {"toml"}


def test_distribution_pin_conflict_is_readable(server: IndexServer, dist_lock: DistributionLock) -> None:
    with pytest.raises(ResolutionConflictError) as info:
        run(server, ["pydantic>=2.14"], dist_lock=dist_lock, index_first=False)
    text = str(info.value)
    assert info.value.code == "WT232"
    assert "pydantic>=2.14 (requested)" in text and "distribution lock pins pydantic 2.12.5" in text


def test_index_first_by_default_and_the_distribution_for_the_rest(server: IndexServer,
                                                                 dist_lock: DistributionLock) -> None:
    """No setting: every package the index has a build of for the target comes from the index
    (pydantic-core's PEP 783 wheel, pure wheels), although the distribution lock lists it; the
    distribution lock pins the rest: numpy (the index has only a manylinux build) and regex
    (the index has no page for it)."""
    got = run(server, ["pydantic>=2.9,<3", "attrs", "idna", "python-dateutil", "numpy", "regex"],
              dist_lock=dist_lock)
    by = {w.name: w for w in got}
    lock = json.loads(DIST_LOCK.read_text())["packages"]
    assert {n: (w.version, w.origin) for n, w in by.items()} == {
        "annotated-types": ("0.8.0", "index"), "attrs": ("26.1.0", "index"), "idna": ("3.20", "index"),
        "numpy": (lock["numpy"]["version"], "pyodide-lock"), "pydantic": ("2.14.4", "index"),
        "pydantic-core": ("2.50.5", "index"), "python-dateutil": ("4.0.0", "index"),
        "regex": (lock["regex"]["version"], "pyodide-lock"), "typing-extensions": ("4.16.0", "index"),
        "typing-inspection": ("0.4.5", "index"), "tzdata": ("2026.6", "index")}
    assert by["pydantic-core"].filename == "pydantic_core-2.50.5-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
    for name in ("numpy", "regex"):
        assert (by[name].filename, by[name].sha256) == (lock[name]["file_name"], lock[name]["sha256"])
        assert by[name].url == dist_lock.base_url + lock[name]["file_name"]
    assert {"numpy", "regex"} <= project_requests(server)  # the index was asked first


def test_distribution_lock_of_another_abi_is_refused(server: IndexServer, dist_lock: DistributionLock) -> None:
    with pytest.raises(DistributionLockMismatchError):
        run(server, ["attrs"], PYODIDE_2025, dist_lock=dist_lock)


# --------------------------------------------------------------------------- errors


def test_missing_wheel_names_package_versions_and_tags(server: IndexServer, dist_lock: DistributionLock) -> None:
    # wt-native: a manylinux build and a build for another Python; not in Pyodide's distribution
    with pytest.raises(NoTargetWheelError) as info:
        run(server, ["wt-native"], dist_lock=dist_lock)
    err = info.value
    text = str(err)
    assert err.code == "WT231" and err.package == "wt-native" and err.compiled
    assert err.versions_tried == ("1.1", "1.0")
    assert "wt-native has no wheel for target pyodide-314 (Python 3.14)" in text
    assert "compiled extension with no build for pyemscripten_2026_0_wasm32" in text
    assert "distribution lock does not list it" in text
    assert "Versions tried: 1.1 (wt_native-1.1-cp312-cp312-pyemscripten_2026_0_wasm32.whl" in text
    assert "; 1.0 (wt_native-1.0-cp314-cp314-manylinux_2_17_x86_64.whl" in text
    assert "Accepted tags: cp314-cp314-pyemscripten_2026_0_wasm32" in text and "py3-none-any" in text
    assert "cp314-cp314-pyemscripten_2026_0_wasm32" in err.accepted_tags


def test_wasi_rejects_numpy_as_compiled_extension(server: IndexServer) -> None:
    with pytest.raises(NoTargetWheelError) as info:
        run(server, ["numpy"], WASI)
    text = str(info.value)
    assert info.value.package == "numpy" and info.value.target == "wasi-p2"
    assert "compiled extension with no WASI build" in text
    assert "Versions tried: 2.5.5" in text and "cp314-cp314-wasi_0_0_0_wasm32" in text


def test_wasi_rejects_pydantic_core_through_pydantic(server: IndexServer) -> None:
    with pytest.raises(NoTargetWheelError) as info:
        run(server, ["pydantic"], WASI)
    assert info.value.package == "pydantic-core"
    assert "compiled extension with no WASI build" in str(info.value)


def test_wasi_takes_pure_wheels(server: IndexServer) -> None:
    got = run(server, ["attrs", "tomli", "click"], WASI)
    assert pins(got) == {"attrs": "26.1.0", "click": "8.5.1", "tomli": "2.5.0"}
    assert all(w.filename.endswith("-none-any.whl") for w in got)


def test_pyodide_2025_takes_only_pure_wheels(server: IndexServer) -> None:
    assert pins(run(server, ["attrs", "tomli"], PYODIDE_2025)) == {"attrs": "26.1.0", "tomli": "2.5.0"}
    with pytest.raises(NoTargetWheelError) as info:
        run(server, ["msgpack"], PYODIDE_2025)
    assert "only pure wheels and the Pyodide distribution lock apply" in str(info.value)


def test_conflict_lists_the_requirements(server: IndexServer) -> None:
    with pytest.raises(ResolutionConflictError) as info:
        run(server, ["wt-a", "wt-b>=2"])
    text = str(info.value)
    assert "wt-b>=2 (requested)" in text and "wt-b<2 (required by wt-a 1.0)" in text


def test_requires_python_is_checked_for_the_target(server: IndexServer) -> None:
    assert pins(run(server, ["wt-newpy"])) == {"wt-newpy": "0.9"}  # 1.0 needs Python >= 3.15
    with pytest.raises(NoTargetWheelError) as info:
        run(server, ["wt-future"])
    assert "requires Python >=3.15" in str(info.value)


def test_bad_requirement_is_typed(server: IndexServer) -> None:
    from wasmtool.resolve.errors import BadRequirementError

    with pytest.raises(BadRequirementError):
        run(server, ["not a requirement!!"])


# --------------------------------------------------------------------------- markers, extras, preferences


def test_markers_use_the_target_environment(server: IndexServer) -> None:
    got = run(server, ["wt-markers"])
    assert pins(got) == {"wt-markers": "1.0", "wt-emscripten-only": "1.0"}
    assert {w.name: w.marker for w in got}["wt-emscripten-only"] == 'sys_platform == "emscripten"'
    # the win32 and python<3.12 dependencies are dropped without even asking the index
    assert not {"wt-win-only", "wt-old-py"} & project_requests(server)
    got = run(server, ["wt-markers"], WASI)
    assert pins(got) == {"wt-markers": "1.0"}


def test_root_markers_and_extras(server: IndexServer) -> None:
    got = run(server, ["wt-markers[fancy]", 'attrs; sys_platform == "win32"'])
    by = {w.name: w for w in got}
    assert set(by) == {"wt-markers", "wt-emscripten-only", "wt-extra-dep"}
    assert by["wt-markers"].extras == ("fancy",)
    assert "wt-extra-dep==1.0" in by["wt-markers"].dependencies


def test_preferences_keep_a_pinned_version(server: IndexServer) -> None:
    assert pins(run(server, ["wt-pref"])) == {"wt-pref": "2.0"}
    assert pins(run(server, ["wt-pref"], preferences={"wt-pref": "1.0"})) == {"wt-pref": "1.0"}
    # a preference the requirements no longer allow is dropped, newest wins again
    assert pins(run(server, ["wt-pref>=1.1"], preferences={"wt-pref": "1.0"})) == {"wt-pref": "2.0"}


def test_yanked_files_only_when_pinned() -> None:
    """PEP 592, on a mocked PEP 691 page (the loopback server has no yanked files)."""
    wheel = "wt_y-2.0-py3-none-any.whl"
    meta = b"Metadata-Version: 2.1\nName: wt-y\nVersion: 2.0\n"
    meta1 = b"Metadata-Version: 2.1\nName: wt-y\nVersion: 1.0\n"
    page = {"meta": {"api-version": "1.1"}, "name": "wt-y", "files": [
        {"filename": "wt_y-1.0-py3-none-any.whl", "url": "https://i.invalid/f/wt_y-1.0-py3-none-any.whl",
         "hashes": {"sha256": "1" * 64}, "core-metadata": True},
        {"filename": wheel, "url": f"https://i.invalid/f/{wheel}", "hashes": {"sha256": "2" * 64},
         "core-metadata": True, "yanked": "broken"}]}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/simple/wt-y/":
            return httpx.Response(200, json=page, headers={"content-type": "application/vnd.pypi.simple.v1+json"})
        if path.endswith(".metadata"):
            return httpx.Response(200, content=meta if "2.0" in path else meta1)
        return httpx.Response(404)

    def go(req: str, **kw: object) -> dict[str, str]:
        with IndexClient("https://i.invalid/simple/", transport=httpx.MockTransport(handler)) as client:
            return pins(resolve([req], PYODIDE, client, **kw))  # type: ignore[arg-type]

    assert go("wt-y") == {"wt-y": "1.0"}
    assert go("wt-y==2.0") == {"wt-y": "2.0"}
    assert go("wt-y>=1", pinned_files={wheel}, preferences={"wt-y": "2.0"}) == {"wt-y": "2.0"}


def test_metadata_from_the_wheel_when_the_index_has_no_pep658(server: IndexServer, tmp_path: Path) -> None:
    from wasmtool.cache import ArtifactCache
    from wasmtool.index.errors import MetadataUnavailableError
    from wasmtool.index.models import IndexFile

    with pytest.raises(MetadataUnavailableError):
        run(server, ["wt-nometa"])
    cache = ArtifactCache(tmp_path / "cache")
    fetched: list[str] = []

    def fetch(f: IndexFile) -> Path:
        fetched.append(f.filename)
        with httpx.Client() as http:
            return cache.fetch(f.url, package="wt-nometa", filename=f.filename, expected_sha256=f.sha256,
                               opener=http, progress=False).path

    assert pins(run(server, ["wt-nometa"], fetch_wheel=fetch)) == {"wt-nometa": "1.0", "wt-b": "2.0"}
    assert fetched == ["wt_nometa-1.0-py3-none-any.whl"]


# --------------------------------------------------------------------------- ops.lock_wasm


def _ctx(tmp_path: Path, server: IndexServer, deps: dict[str, str], sources: dict[str, str] | None = None,
         extra_python: str = "") -> Context:
    root = write_project(tmp_path / "proj", deps, sources=sources, extra_python=extra_python)
    return Context.open(root, cache_dir=tmp_path / "cache", progress=False, index_url=server.url)


def _roundtrip(inputs: TargetInputs, packages: list[LockedPackage]) -> None:
    lock = MochiLock(packages=tuple(packages), inputs=(inputs,), requires_python=">=3.12")
    assert MochiLock.from_dict(lock.to_dict()) == lock
    to_pylock_dict(packages, requires_python=">=3.12")  # validates with packaging.pylock


def test_lock_wasm_pyodide_314_distribution(tmp_path: Path, server: IndexServer) -> None:
    """`pyodide-packages = "distribution"`: what the distribution lock lists is pinned from it."""
    main = 'import python "pydantic@^2.9" as pyd\n'
    with _ctx(tmp_path, server, {"pydantic": "^2.9", "toml": ">=0.10"}, {"main.mochi": main},
              extra_python='pyodide-packages = "distribution"') as ctx:
        inputs, packages = lock_wasm(ctx, PYODIDE, preferences=None)
    assert inputs.target == "pyodide-314" and inputs.python_version == "3.14"
    by = {p.name: p for p in packages}
    lock = json.loads(DIST_LOCK.read_text())["packages"]
    core = by["pydantic-core"]
    assert (core.origin, core.source, core.version, core.wheel_sha256) == (
        "pyodide-lock", "distribution", lock["pydantic-core"]["version"], lock["pydantic-core"]["sha256"])
    assert core.wheel_url.startswith("https://cdn.jsdelivr.net/pyodide/v") and not core.wheel_blake3
    assert core.capabilities_declared == ("cextension",) and core.import_names == ("pydantic_core",)
    assert by["pydantic"].alias == "pyd" and SpecifierSet(by["pydantic"].specifier) == SpecifierSet(">=2.9,<3")
    toml = by["toml"]
    assert toml.origin == "index" and toml.wheel_blake3 and toml.wheel_sha256 == toml.index_sha256
    assert toml.import_names == ("toml",)
    assert server.downloads(toml.wheel_filename) == 1
    assert not any(server.downloads(p.wheel_filename) for p in packages if p.origin == "pyodide-lock")
    _roundtrip(inputs, packages)


def test_lock_wasm_pyodide_314_index_first_by_default(tmp_path: Path, server: IndexServer) -> None:
    """No setting: target builds from the index (fetched, blake3 recorded); numpy, which the
    index has no build of for the target, pinned from the distribution lock with the URL of the
    distribution's CDN (the pyodide npm package's own) and not downloaded by lock."""
    with _ctx(tmp_path, server, {"pydantic": "^2.9", "numpy": "*"}) as ctx:
        assert ctx.project.manifest.python.pyodide_packages == "index-first"
        inputs, packages = lock_wasm(ctx, PYODIDE, preferences=None)
    by = {p.name: p for p in packages}
    core = by["pydantic-core"]
    assert (core.origin, core.version, core.wheel_filename) == (
        "index", "2.50.5", "pydantic_core-2.50.5-cp314-cp314-pyemscripten_2026_0_wasm32.whl")
    assert core.wheel_blake3 and server.downloads(core.wheel_filename) == 1
    assert all(p.origin == "index" for n, p in by.items() if n != "numpy")
    entry = json.loads(DIST_LOCK.read_text())["packages"]["numpy"]
    version = json.loads((DIST_LOCK.parent / "package.json").read_text())["version"]
    numpy = by["numpy"]
    assert (numpy.origin, numpy.source, numpy.version, numpy.wheel_sha256, numpy.wheel_filename) == (
        "pyodide-lock", "distribution", entry["version"], entry["sha256"], entry["file_name"])
    assert numpy.wheel_url == f"https://cdn.jsdelivr.net/pyodide/v{version}/full/{entry['file_name']}"
    assert numpy.import_names == ("numpy",) and not numpy.wheel_blake3
    _roundtrip(inputs, packages)


def test_lock_wasm_wasi_and_preferences(tmp_path: Path, server: IndexServer) -> None:
    from wasmtool.lock.pylock import render_pylock

    with _ctx(tmp_path / "old", server, {"wt-pref": "<2", "tomli": "^2"}) as ctx:
        inputs, packages = lock_wasm(ctx, WASI, preferences=None)
    assert {p.name: p.version for p in packages} == {"tomli": "2.5.0", "wt-pref": "1.1"}
    assert all(p.origin == "index" and p.wheel_blake3 and p.target == "wasi-p2" for p in packages)
    _roundtrip(inputs, packages)
    text = render_pylock(to_pylock_dict(packages, requires_python=">=3.12"))
    assert parse_preferences(text) == ({"tomli": "2.5.0", "wt-pref": "1.1"},
                                       frozenset(p.wheel_filename for p in packages))
    # the requirement is loosened: the pinned 1.1 still fits and is kept (like uv), without pins 2.0 wins
    with _ctx(tmp_path / "new", server, {"wt-pref": ">=1", "tomli": "^2"}) as ctx:
        _, kept = lock_wasm(ctx, WASI, preferences=text)
        _, fresh = lock_wasm(ctx, WASI, preferences=None)
    assert {p.name: p.version for p in kept} == {"tomli": "2.5.0", "wt-pref": "1.1"}
    assert {p.name: p.version for p in fresh} == {"tomli": "2.5.0", "wt-pref": "2.0"}


def test_lock_wasm_fetches_a_wheel_once(tmp_path: Path, server: IndexServer) -> None:
    with _ctx(tmp_path, server, {"wt-nometa": ">=1"}) as ctx:
        _, packages = lock_wasm(ctx, WASI, preferences=None)
    assert {p.name: p.version for p in packages} == {"wt-b": "2.0", "wt-nometa": "1.0"}
    assert {p.name: p.dependencies for p in packages}["wt-nometa"] == ("wt-b==2.0",)
    assert server.downloads("wt_nometa-1.0-py3-none-any.whl") == 1  # metadata read from the cached wheel


def test_lock_wasm_wasi_rejects_numpy(tmp_path: Path, server: IndexServer) -> None:
    with _ctx(tmp_path, server, {"numpy": ">=2"}) as ctx, pytest.raises(NoTargetWheelError) as info:
        lock_wasm(ctx, WASI, preferences=None)
    assert "compiled extension with no WASI build" in str(info.value)


def test_lock_wasm_pyodide_2025_pure(tmp_path: Path, server: IndexServer) -> None:
    with _ctx(tmp_path, server, {"attrs": ">=23", "tomli": "^2"}) as ctx:
        inputs, packages = lock_wasm(ctx, PYODIDE_2025, preferences=None)
    assert inputs.python_version == "3.13"
    assert {p.name: (p.version, p.origin) for p in packages} == {"attrs": ("26.1.0", "index"),
                                                                 "tomli": ("2.5.0", "index")}
