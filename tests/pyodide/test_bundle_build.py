"""build_bundle: deterministic, atomic, a lock the pyodide-lock library accepts, and refusals;
the Pyodide runtime copied into the bundle (checked against the pins) or hosted; referenced packages."""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import shutil
import threading
from collections.abc import Iterator
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
    PyodideUrlError,
    ReferencedWheelError,
    RemoteFetchError,
    RuntimeFilesError,
    WheelHashMismatchError,
    WheelMetadataError,
    WheelTagError,
)
from wasmtool.bundle.pyodide import (
    BINDING_FILES,
    RUNTIME_DIR,
    BundleManifest,
    BundleWheel,
    ReferencedWheel,
    build_bundle,
    check_wheel_tags,
    load_order,
    read_manifest,
    sha256_file,
    validate_lock,
    wheel_import_names,
)
from wasmtool.bundle.runtime import RUNTIME_FILES, bundled_runtime, hosted_runtime, pinned_files
from wasmtool.bundle.runtime_pins import PINS
from wasmtool.run.pyodide import PyodideNodeRuntime

#: What build_bundle writes beside the wheels with the repository's runtime folder.
BASE_FILES = sorted(["bundle.json", "index.html", "loader.mjs", "pyodide-lock.json",
                     *(f for f in BINDING_FILES if (RUNTIME_DIR / f).is_file())])


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
    assert sorted(tree(out)) == sorted([*BASE_FILES, "wheels/wt_app-2.0-py3-none-any.whl",
                                        "wheels/wt_base-1.0-py3-none-any.whl"])
    assert manifest.runtime is None and manifest.referenced == ()        # a Node-only bundle
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
                       wheels=pydantic_wheels(test_wheels, tmp_path / "m1"), entry_module="wt_probe",
                       runtime=bundled_runtime(dist_lock.parent))
    two = build_bundle(tmp_path / "two", dist_lock_path=dist_lock,
                       wheels=list(reversed(pydantic_wheels(test_wheels, tmp_path / "m2"))),
                       entry_module="wt_probe", runtime=bundled_runtime(dist_lock.parent))
    assert one == two
    a, b = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name] == b[name], name
    assert len(a) == len(BASE_FILES) + 8 + len(RUNTIME_FILES)


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


# ----------------------------------------------------------------------------- the Pyodide runtime

def test_bundled_runtime_is_exactly_the_pinned_files(tmp_path: Path, dist_lock: Path) -> None:
    npm = dist_lock.parent
    out = tmp_path / "bundle"
    manifest = build_bundle(out, dist_lock_path=dist_lock, wheels=small_inputs(tmp_path), entry_module="wt_app",
                            runtime=bundled_runtime(npm, expected_version="314.0.7"))
    files = tree(out)
    shipped = sorted(k for k in files if k.startswith("pyodide/"))
    assert shipped == sorted(f"pyodide/{f}" for f in RUNTIME_FILES)       # no .d.ts, maps, consoles, lock
    assert manifest.runtime is not None and manifest.runtime.bundled
    assert manifest.runtime.index_url == "pyodide/" and manifest.runtime.version == "314.0.7"
    for entry in manifest.runtime.files:
        data = files[f"pyodide/{entry.file}"]
        assert data == (npm / entry.file).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == PINS["314.0.7"][entry.file]
    recorded = json.loads(files["bundle.json"])["runtime"]
    assert recorded == manifest.runtime.to_dict()
    assert read_manifest(out) == manifest
    # what a deploy carries: the runtime is most of it
    size = sum(len(d) for d in files.values())
    runtime_size = sum(len(files[k]) for k in shipped)
    assert 12_000_000 < runtime_size < size < runtime_size + 1_000_000


def _fake_npm(tmp_path: Path, npm: Path, version: str = "314.0.7") -> Path:
    fake = tmp_path / "npm-pyodide"
    fake.mkdir()
    for name in RUNTIME_FILES:
        shutil.copyfile(npm / name, fake / name)
    (fake / "package.json").write_text(json.dumps({"name": "pyodide", "version": version}))
    return fake


def test_a_changed_runtime_file_is_refused_and_nothing_is_written(tmp_path: Path, dist_lock: Path) -> None:
    fake = _fake_npm(tmp_path, dist_lock.parent)
    flip_byte(fake / "python_stdlib.zip")
    out = tmp_path / "bundle"
    with pytest.raises(RuntimeFilesError) as info:
        build_bundle(out, dist_lock_path=dist_lock, wheels=small_inputs(tmp_path), runtime=bundled_runtime(fake))
    err = info.value
    assert err.code == "WT862" and err.file == str(fake / "python_stdlib.zip")
    assert PINS["314.0.7"]["python_stdlib.zip"][0] in str(err)
    assert sha256_file(fake / "python_stdlib.zip") in str(err)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with pytest.raises(RuntimeFilesError, match="pinned"):          # hosted: the local files are checked too
        hosted_runtime(fake, "https://example.org/pyodide/")


def test_runtime_version_must_be_the_pinned_one(tmp_path: Path, dist_lock: Path) -> None:
    with pytest.raises(RuntimeFilesError, match=r"profile names 0\.1\.0"):
        bundled_runtime(dist_lock.parent, expected_version="0.1.0")
    other = _fake_npm(tmp_path, dist_lock.parent, version="0.0.1")
    with pytest.raises(RuntimeFilesError, match=r"no pinned runtime hashes for pyodide 0\.0\.1"):
        bundled_runtime(other)
    with pytest.raises(RuntimeFilesError, match="not installed"):
        bundled_runtime(tmp_path / "nowhere")
    assert [f.file for f in pinned_files("314.0.7")] == sorted(RUNTIME_FILES)


def test_hosted_runtime_records_the_url_and_copies_nothing(tmp_path: Path, dist_lock: Path) -> None:
    runtime = hosted_runtime(dist_lock.parent, "https://example.org/pyodide/v314.0.7/full")
    assert runtime.index_url == "https://example.org/pyodide/v314.0.7/full/" and not runtime.bundled
    out = tmp_path / "bundle"
    manifest = build_bundle(out, dist_lock_path=dist_lock, wheels=small_inputs(tmp_path), runtime=runtime)
    assert not (out / "pyodide").exists()
    assert read_manifest(out).runtime == manifest.runtime == runtime
    assert hosted_runtime(dist_lock.parent, "http://127.0.0.1:8000/py/").index_url == "http://127.0.0.1:8000/py/"


@pytest.mark.parametrize(("url", "problem"), [
    ("http://example.org/pyodide/", "https"),
    ("ftp://example.org/pyodide/", "absolute https"),
    ("/pyodide/", "absolute https"),
    ("https://user:pw@example.org/pyodide/", "credentials"),
    ("https://example.org/pyodide/#x", "fragment"),
    ("https://example.org/pyodide/?v=1", "query"),
])
def test_bad_pyodide_urls_are_refused(url: str, problem: str, dist_lock: Path) -> None:
    with pytest.raises(PyodideUrlError, match=problem) as info:
        hosted_runtime(dist_lock.parent, url)
    assert info.value.code == "WT863" and info.value.field == "--pyodide-url"


def test_format_1_manifests_are_still_read() -> None:
    v2 = BundleManifest(packages=(), entry_module=None, lock_sha256="0" * 64, abi_version="2026_0",
                        platform="emscripten_5_0_3", python="3.14.2").to_dict()
    v1 = {k: v for k, v in v2.items() if k not in ("referenced", "runtime")} | {"format_version": 1}
    manifest = BundleManifest.from_dict(v1)
    assert manifest.format_version == 1 and manifest.referenced == () and manifest.runtime is None


# ----------------------------------------------------------------------------- referenced packages

def referenced_for(path: Path, url: str, **kw: object) -> ReferencedWheel:
    fields: dict[str, object] = {"name": "wt-ref", "version": "1.0", "file_name": path.name, "url": url,
                                 "sha256": sha256_file(path), "imports": ("wt_ref",)} | kw
    return ReferencedWheel(**fields)  # type: ignore[arg-type]


def test_referenced_packages_are_recorded_not_copied(tmp_path: Path, dist_lock: Path) -> None:
    ref = make_wheel(tmp_path / "remote", "wt-ref", "1.0", {"wt_ref.py": "X = 2\n"})
    app = make_wheel(tmp_path / "in", "wt-app", "1.0", {"wt_app.py": "import wt_ref\n"})
    url = f"https://files.example.org/p/{ref.path.name}"
    out = tmp_path / "bundle"
    manifest = build_bundle(out, dist_lock_path=dist_lock, wheels=[app.bundle_wheel(depends=("WT_Ref",))],
                            referenced=[referenced_for(ref.path, url, name="WT_Ref")], entry_module="wt_app")
    assert not (out / "wheels" / ref.path.name).exists()
    assert [r.name for r in manifest.referenced] == ["wt-ref"]        # normalised
    recorded = json.loads((out / "bundle.json").read_text())["referenced"]
    assert recorded == [{"name": "wt-ref", "version": "1.0", "file_name": ref.path.name, "url": url,
                         "sha256": sha256_file(ref.path), "depends": [], "imports": ["wt_ref"]}]
    lock = json.loads((out / "pyodide-lock.json").read_text())
    assert lock["packages"]["wt-ref"]["file_name"] == url
    assert lock["packages"]["wt-ref"]["sha256"] == sha256_file(ref.path)
    assert lock["packages"]["wt-app"]["depends"] == ["wt-ref"]
    assert read_manifest(out) == manifest


def test_bad_referenced_packages_are_refused(tmp_path: Path, dist_lock: Path) -> None:
    ref = make_wheel(tmp_path / "remote", "wt-ref", "1.0", {"wt_ref.py": ""})
    app, base = small_inputs(tmp_path)
    good = f"https://files.example.org/p/{ref.path.name}"
    cases: list[tuple[ReferencedWheel, str, str]] = [
        (referenced_for(ref.path, f"http://files.example.org/p/{ref.path.name}"), "url", "https"),
        (referenced_for(ref.path, "https://files.example.org/p/other.whl"), "url", "does not end with"),
        (referenced_for(ref.path, good, sha256="xyz"), "sha256", "64 hex"),
        (referenced_for(ref.path, good, version="2.0"), "file_name", "file name says"),
    ]
    for bad, field, problem in cases:
        with pytest.raises(ReferencedWheelError, match=problem) as info:
            build_bundle(tmp_path / "out", dist_lock_path=dist_lock, wheels=[base], referenced=[bad])
        assert (info.value.code, info.value.field, info.value.package) == ("WT861", field, "wt-ref")
    native = "wt_ref-1.0-cp314-cp314-manylinux_2_28_x86_64.whl"
    with pytest.raises(WheelTagError, match="manylinux"):
        build_bundle(tmp_path / "out", dist_lock_path=dist_lock, wheels=[base],
                     referenced=[referenced_for(ref.path, f"https://h.example/{native}", file_name=native)])
    with pytest.raises(DuplicatePackageError, match="bundled and referenced"):
        build_bundle(tmp_path / "out", dist_lock_path=dist_lock, wheels=[base],
                     referenced=[referenced_for(base.path, f"https://h.example/{base.path.name}",
                                                name="wt-base", imports=("wt_base",))])
    with pytest.raises(MissingDependencyError, match="nope") as missing:
        build_bundle(tmp_path / "out", dist_lock_path=dist_lock, wheels=[app, base],
                     referenced=[referenced_for(ref.path, good, depends=("nope",))])
    assert missing.value.package == "wt-ref"
    assert not (tmp_path / "out").exists()


class _Files:
    """Files on 127.0.0.1 (a stand-in for a package host); ``files`` maps path -> bytes."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        files = self.files

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                data = files.get(self.path)
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def files_server() -> Iterator[_Files]:
    srv = _Files()
    try:
        yield srv
    finally:
        srv.server.shutdown()
        srv.server.server_close()


def test_node_loader_fetches_checks_and_loads_referenced_packages(tmp_path: Path, dist_lock: Path, node: str,
                                                                   files_server: _Files) -> None:
    ref = make_wheel(tmp_path / "remote", "wt-ref", "1.0", {"wt_ref.py": "def double(x):\n    return 2 * x\n"})
    app = make_wheel(tmp_path / "in", "wt-app", "1.0",
                     {"wt_app/__init__.py": "import wt_ref\n\n\ndef f(x):\n    return wt_ref.double(x) + 1\n"})
    path = f"/p/{ref.path.name}"
    files_server.files[path] = ref.path.read_bytes()
    out = tmp_path / "bundle"
    build_bundle(out, dist_lock_path=dist_lock, wheels=[app.bundle_wheel(depends=("wt-ref",))],
                 referenced=[referenced_for(ref.path, files_server.url + path)], entry_module="wt_app")
    before = tree(out)
    with PyodideNodeRuntime(out, node=node) as rt:
        assert rt.call("wt_app:f", [20]) == 41
        assert "wt-ref" in rt.loaded
        assert rt.smoke() == []
    assert tree(out) == before                          # nothing was cached into the bundle

    # other bytes at the URL: refused before Pyodide sees them, naming the file and both hashes
    changed = bytearray(ref.path.read_bytes())
    changed[len(changed) // 2] ^= 0xFF
    files_server.files[path] = bytes(changed)
    with pytest.raises(WheelHashMismatchError) as bad, PyodideNodeRuntime(out, node=node):
        pass
    assert (bad.value.filename, bad.value.expected) == (ref.path.name, sha256_file(ref.path))
    assert bad.value.actual == hashlib.sha256(files_server.files[path]).hexdigest()
    # gone: a fetch error naming the URL
    del files_server.files[path]
    with pytest.raises(RemoteFetchError, match="HTTP 404") as gone, PyodideNodeRuntime(out, node=node):
        pass
    assert gone.value.code == "WT864" and files_server.url + path in str(gone.value)
