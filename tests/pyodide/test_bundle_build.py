"""build_bundle: deterministic, atomic, a lock the pyodide-lock library accepts, and refusals."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from pyodide_lock import PackageSpec, PyodideLockSpec

from tests.pyodide.conftest import pydantic_wheels
from tests.pyodide.wheelmaker import flip_byte, make_wheel
from wasmtool.bundle.errors import (
    BundleManifestError,
    BundleOutputError,
    DependencyCycleError,
    DuplicatePackageError,
    EntryModuleError,
    MissingDependencyError,
    WheelHashMismatchError,
    WheelMetadataError,
    WheelTagError,
)
from wasmtool.bundle.pyodide import (
    BundleManifest,
    BundleWheel,
    build_bundle,
    check_wheel_tags,
    load_order,
    read_manifest,
    sha256_file,
    validate_lock,
    wheel_import_names,
)
from wasmtool.run.pyodide import PyodideNodeRuntime


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ----------------------------------------------------------------------------- pure parts

@pytest.mark.parametrize(("filename", "ok"), [
    ("a-1.0-py3-none-any.whl", True),
    ("pydantic_core-2.50.5-cp314-cp314-pyemscripten_2026_0_wasm32.whl", True),
    ("numpy-2.2.0-cp314-cp314-pyodide_2026_0_wasm32.whl", True),
    ("numpy-2.2.0-cp314-cp314-emscripten_5_0_3_wasm32.whl", True),
    ("numpy-2.2.0-cp313-cp313-pyemscripten_2026_0_wasm32.whl", False),   # other Python
    ("numpy-2.2.0-cp313-cp313-pyodide_2025_0_wasm32.whl", False),        # other ABI year
    ("numpy-2.2.0-cp314-cp314-emscripten_4_0_9_wasm32.whl", False),      # other emscripten
    ("numpy-2.2.0-cp314-cp314-manylinux_2_28_x86_64.whl", False),        # native
])
def test_wheel_tags_accept_only_this_pyodide(filename: str, ok: bool) -> None:
    kw = {"abi_version": "2026_0", "platform": "emscripten_5_0_3", "python": "3.14.2"}
    if ok:
        check_wheel_tags(filename, **kw)
    else:
        with pytest.raises(WheelTagError, match=filename.split("-")[0]):
            check_wheel_tags(filename, **kw)


def test_load_order_is_dependencies_first_and_stable() -> None:
    graph = {"app": ("b", "a"), "b": ("c",), "a": (), "c": ()}
    order = load_order(graph)
    assert order == ["a", "c", "b", "app"]
    assert load_order(dict(reversed(list(graph.items())))) == order


def test_load_order_cycle_is_an_error() -> None:
    with pytest.raises(DependencyCycleError, match="cycle"):
        load_order({"a": ("b",), "b": ("a",)})


def test_import_names_from_top_level_txt_and_record(tmp_path: Path) -> None:
    with_top = make_wheel(tmp_path, "dist-a", "1.0", {
        "alpha/__init__.py": "", "alpha/sub.py": "", "dist_a-1.0.dist-info/top_level.txt": "alpha\n"})
    assert wheel_import_names(with_top.path) == ("alpha",)
    record_only = make_wheel(tmp_path, "dist-b", "1.0", {
        "beta/__init__.py": "", "gamma.py": "", "_private_ext.cpython-314-wasm32-emscripten.so": ""})
    assert wheel_import_names(record_only.path) == ("beta", "gamma")
    empty = make_wheel(tmp_path, "dist-c", "1.0", {})
    with pytest.raises(WheelMetadataError, match=r"dist_c-1\.0"):
        wheel_import_names(empty.path)


def test_manifest_from_dict_reports_every_problem() -> None:
    with pytest.raises(BundleManifestError) as info:
        BundleManifest.from_dict({"format": "other", "format_version": 9, "packages": [{"name": 1}]})
    text = str(info.value)
    for fragment in ("format: expected", "format_version: 9", "lock: missing", "packages[0].name",
                     "packages[0].sha256: missing", "pyodide: missing"):
        assert fragment in text


# ----------------------------------------------------------------------------- build, made wheels

def small_inputs(tmp_path: Path) -> list[BundleWheel]:
    base = make_wheel(tmp_path / "in", "wt-base", "1.0", {"wt_base.py": "X = 1\n"})
    app = make_wheel(tmp_path / "in", "wt-app", "2.0", {"wt_app/__init__.py": "import wt_base\n"})
    return [app.bundle_wheel(depends=("WT_Base",)), base.bundle_wheel()]


def test_small_bundle_layout_and_manifest(tmp_path: Path, dist_lock: Path) -> None:
    out = tmp_path / "bundle"
    manifest = build_bundle(out, dist_lock_path=dist_lock, wheels=small_inputs(tmp_path),
                            entry_module="wt_app")
    assert sorted(tree(out)) == ["bundle.json", "index.html", "loader.mjs", "pyodide-lock.json",
                                 "wheels/wt_app-2.0-py3-none-any.whl", "wheels/wt_base-1.0-py3-none-any.whl"]
    assert [p.name for p in manifest.packages] == ["wt-base", "wt-app"]   # dependencies first
    assert manifest.packages[1].depends == ("wt-base",)                   # normalised
    assert manifest.packages[0].imports == ("wt_base",)                   # read from the wheel
    assert read_manifest(out) == manifest
    for p in manifest.packages:
        assert sha256_file(out / p.file) == p.sha256
    assert manifest.lock_sha256 == sha256_file(out / "pyodide-lock.json")
    html = (out / "index.html").read_text()
    assert "window.result" in html
    assert "./loader.mjs" in html


def test_build_refuses_bad_inputs(tmp_path: Path, dist_lock: Path) -> None:
    app, base = small_inputs(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(MissingDependencyError, match=r"WT_Base") as missing:
        build_bundle(out, dist_lock_path=dist_lock, wheels=[app])
    assert missing.value.package == "wt-app"
    wrong = BundleWheel(base.path, base.name, base.version, "0" * 64)
    with pytest.raises(WheelHashMismatchError, match=re.escape("wt_base-1.0-py3-none-any.whl")):
        build_bundle(out, dist_lock_path=dist_lock, wheels=[app, wrong])
    with pytest.raises(DuplicatePackageError, match="wt_base"):
        build_bundle(out, dist_lock_path=dist_lock, wheels=[app, base, base])
    with pytest.raises(EntryModuleError, match="nope"):
        build_bundle(out, dist_lock_path=dist_lock, wheels=[app, base], entry_module="nope.mod")
    native = tmp_path / "native" / "wt_nat-1.0-cp314-cp314-manylinux_2_28_x86_64.whl"
    native.parent.mkdir()
    shutil.copyfile(base.path, native)
    with pytest.raises(WheelTagError, match="manylinux"):
        build_bundle(out, dist_lock_path=dist_lock,
                     wheels=[BundleWheel(native, "wt-nat", "1.0", sha256_file(native), (), ("x",))])
    misnamed = BundleWheel(base.path, "other-name", "1.0", base.sha256)
    with pytest.raises(WheelMetadataError, match="other-name"):
        build_bundle(out, dist_lock_path=dist_lock, wheels=[misnamed])
    assert not out.exists()                     # nothing half-written
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_build_is_atomic_and_never_replaces_foreign_folders(tmp_path: Path, dist_lock: Path) -> None:
    inputs = small_inputs(tmp_path)
    out = tmp_path / "bundle"
    build_bundle(out, dist_lock_path=dist_lock, wheels=inputs)
    before = tree(out)
    # A failing rebuild leaves the old bundle as it was.
    flip_byte(inputs[1].path)
    with pytest.raises(WheelHashMismatchError):
        build_bundle(out, dist_lock_path=dist_lock, wheels=inputs)
    assert tree(out) == before
    # A folder that is not a bundle is not replaced.
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    fresh = small_inputs(tmp_path / "again")
    with pytest.raises(BundleOutputError, match="not a wasmtool bundle"):
        build_bundle(foreign, dist_lock_path=dist_lock, wheels=fresh)
    assert (foreign / "notes.txt").read_text() == "keep me"
    # An older bundle is replaced as a whole.
    build_bundle(out, dist_lock_path=dist_lock, wheels=fresh, entry_module="wt_app")
    assert read_manifest(out).entry_module == "wt_app"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# ----------------------------------------------------------------------------- build, real wheels

def test_bundle_is_byte_identical_across_builds(tmp_path: Path, test_wheels: Path, dist_lock: Path) -> None:
    one = build_bundle(tmp_path / "one", dist_lock_path=dist_lock,
                       wheels=pydantic_wheels(test_wheels, tmp_path / "m1"), entry_module="wt_probe")
    two = build_bundle(tmp_path / "two", dist_lock_path=dist_lock,
                       wheels=list(reversed(pydantic_wheels(test_wheels, tmp_path / "m2"))),
                       entry_module="wt_probe")
    assert one == two
    a, b = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name] == b[name], name
    assert len(a) == 4 + 8


def test_lock_validates_with_pyodide_lock(pydantic_bundle: Path, dist_lock: Path) -> None:
    data = json.loads((pydantic_bundle / "pyodide-lock.json").read_text())
    lock = validate_lock(data)                   # the library's models (+ Pyodide 314's `tool`)
    dist = json.loads(dist_lock.read_text())
    manifest = read_manifest(pydantic_bundle)
    ours = {p.name for p in manifest.packages}
    for p in manifest.packages:
        # Our entries are plain pyodide-lock 0.1.2 entries: the stock model accepts them.
        entry = PackageSpec.model_validate(data["packages"][p.name])
        assert entry.file_name == p.file
        assert entry.sha256 == p.sha256
        assert (pydantic_bundle / entry.file_name).is_file()   # relative to the lock's folder
        assert sorted(entry.depends) == sorted(p.depends)
    assert lock.packages["pydantic"].version == "2.14.4"           # the distribution's 2.12.5 replaced
    # Distribution entries are left exactly as they were.
    for key, entry in dist["packages"].items():
        if key not in ours:
            assert data["packages"][key] == entry, key
    assert data["info"] == dist["info"]
    # And with the 314-only `tool` tables removed, the stock top-level model accepts the lock.
    stock = {"info": {**data["info"], "version": "0"},
             "packages": {k: {f: v for f, v in e.items() if f != "tool"}
                          for k, e in data["packages"].items()}}
    bare = PyodideLockSpec.model_validate(stock)
    for entry in bare.packages.values():
        entry.file_name = entry.file_name.rsplit("/", 1)[-1]
    bare.check_wheel_filenames()


def test_unreadable_manifest_is_a_typed_error(pydantic_bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "b"
    shutil.copytree(pydantic_bundle, copy)
    (copy / "bundle.json").write_text("{not json")
    with pytest.raises(BundleManifestError, match=r"bundle\.json: cannot read") as info:
        read_manifest(copy)
    assert info.value.code == "WT851"


def _tamper_lock_entry(bundle: Path, package: str, *, repin_lock: bool) -> str:
    """Point ``package``'s entry in ``pyodide-lock.json`` at other bytes (another bundled
    wheel's sha256); with ``repin_lock``, also pin the changed lock's sha256 in bundle.json (so
    only the entry itself can give it away). Returns the lock's new sha256."""
    lock_path = bundle / "pyodide-lock.json"
    lock = json.loads(lock_path.read_text())
    other = next(p for p in read_manifest(bundle).packages if p.name != package)
    assert lock["packages"][package]["sha256"] != other.sha256
    lock["packages"][package]["sha256"] = other.sha256
    lock_path.write_text(json.dumps(lock, indent=1, sort_keys=True))
    if repin_lock:
        manifest = json.loads((bundle / "bundle.json").read_text())
        manifest["lock"]["sha256"] = sha256_file(lock_path)
        (bundle / "bundle.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return sha256_file(lock_path)


def test_tampered_lock_entry_is_caught_by_the_bundle_loader(pydantic_bundle: Path, tmp_path: Path,
                                                            node: str) -> None:
    """An app entry of ``pyodide-lock.json`` changed after the build is refused by the loader
    that reads bundle.json (runtime/pyodide/loader.mjs), before Pyodide sees the lock: by the
    lock's sha256 that bundle.json pins, and, with that re-pinned too, by the check that every
    app entry agrees with bundle.json."""
    victim = "pydantic-core"
    pinned = read_manifest(pydantic_bundle).lock_sha256
    copy = tmp_path / "entry-only"
    shutil.copytree(pydantic_bundle, copy)
    changed = _tamper_lock_entry(copy, victim, repin_lock=False)
    with pytest.raises(WheelHashMismatchError) as hashed, \
            PyodideNodeRuntime(copy, node=node):      # starts it (and stops it, should it load)
        pass
    assert (hashed.value.filename, hashed.value.expected, hashed.value.actual) == ("pyodide-lock.json", pinned, changed)

    repinned = tmp_path / "entry-and-pin"
    shutil.copytree(pydantic_bundle, repinned)
    _tamper_lock_entry(repinned, victim, repin_lock=True)
    assert read_manifest(repinned).lock_sha256 == sha256_file(repinned / "pyodide-lock.json")
    with pytest.raises(BundleManifestError) as info, \
            PyodideNodeRuntime(repinned, node=node):      # starts it (and stops it, should it load)
        pass
    err = info.value
    assert (err.code, err.file, err.package) == ("WT851", "pyodide-lock.json", victim)
    assert f"entry for {victim} disagrees with bundle.json" in str(err)
