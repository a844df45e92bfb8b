"""Pre-solved Pyodide bundles: wheels + ``pyodide-lock.json`` + ``bundle.json`` + a page.

A bundle is a folder that Pyodide loads with **zero runtime resolution** (micropip is
never imported), and that any static file host can serve as it is (docs/browser.md)::

    <out_dir>/
      bundle.json          the manifest: packages in load order, sha256 per wheel, entry module,
                           referenced packages (URL + sha256), the Pyodide runtime (files + sha256)
      pyodide-lock.json    the distribution's lock plus one entry per bundled or referenced wheel
      wheels/<file>.whl    the app's wheels, byte-identical copies of the inputs
      pyodide/             the Pyodide runtime files a browser loads (wasmtool.bundle.runtime),
                           unless the runtime is hosted elsewhere (``install --pyodide-url``)
      loader.mjs           copy of runtime/pyodide/loader.mjs (Node and browser)
      bindings.mjs, bindings.d.mts, loader.d.mts, <alias>.d.ts
                           the typed JS bindings, when the runtime folder / the workspace has them
      index.html           static page: loads the bundle, calls one function, sets window.result

A package can also be *referenced* (:class:`ReferencedWheel`): not copied, but fetched by the
loader from its absolute URL and checked against its sha256 before Pyodide sees the bytes.

``build_bundle`` is deterministic (same inputs -> byte-identical files: sorted keys, no
timestamps) and atomic (written to a sibling temporary folder, then renamed into place).
Models (``BundleWheel``, ``BundlePackage``, ``BundleManifest``) are pure; the file work is
in ``build_bundle``, ``read_manifest`` and ``read_distribution_lock``.

The lock is built and validated with the ``pyodide-lock`` library. Its 0.1.2 models predate
the Pyodide 314 lock in two ways: ``info.version`` is gone (``abi_version`` identifies the
distribution) and every package, and the top level, carry a ``tool`` table. The private
``_Lock314`` models subclass the library's models to accept exactly those two differences;
every other unknown key is still refused. Distribution entries are dumped with
``exclude_unset`` so they are written back exactly as read.
"""

from __future__ import annotations

import graphlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_wheel_filename,
)
from pydantic import ValidationError
from pyodide_lock import InfoSpec, PackageSpec, PyodideLockSpec

from wasmtool.bundle.errors import (
    BundleManifestError,
    BundleOutputError,
    DependencyCycleError,
    DistributionLockError,
    DuplicatePackageError,
    EntryModuleError,
    MissingDependencyError,
    ReferencedWheelError,
    WheelHashMismatchError,
    WheelMetadataError,
    WheelNotFoundError,
    WheelTagError,
)
from wasmtool.bundle.runtime import PyodideRuntime, check_remote_url, copy_runtime
from wasmtool.fsutil import sha256_file as sha256_file  # re-exported: defined here before
from wasmtool.wheelfiles import import_names_from

BUNDLE_FORMAT = "wasmtool-pyodide-bundle"
BUNDLE_FORMAT_VERSION = 2
#: ``format_version`` values this wasmtool reads (1: no ``referenced``, no ``runtime``).
READABLE_FORMAT_VERSIONS = (1, 2)
MANIFEST_NAME = "bundle.json"
LOCK_NAME = "pyodide-lock.json"
WHEELS_DIR = "wheels"
LOADER_NAME = "loader.mjs"
INDEX_NAME = "index.html"
#: Files of the runtime folder that ship beside ``loader.mjs`` when present (the typed JS bindings).
#: (snapshot.mjs: loader.mjs imports it; docs/snapshot.md)
BINDING_FILES = ("bindings.mjs", "bindings.d.mts", "loader.d.mts", "snapshot.mjs")

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
RUNTIME_DIR = REPO_ROOT / "runtime" / "pyodide"

_MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


# --------------------------------------------------------------------------- lock models


class _Info314(InfoSpec):
    """``info`` of a Pyodide >= 314 lock: ``version`` no longer present."""

    version: str | None = None  # type: ignore[assignment]  # narrowing a field is what we need


class _Package314(PackageSpec):
    """A package entry; Pyodide 314 adds an (empty) ``tool`` table."""

    tool: dict[str, Any] | None = None


class _Lock314(PyodideLockSpec):
    info: _Info314
    packages: dict[str, _Package314]  # type: ignore[assignment]
    tool: dict[str, Any] | None = None


def validate_lock(data: Mapping[str, Any], *, file: str | None = None) -> _Lock314:
    """Validate a ``pyodide-lock.json`` document with the pyodide-lock models; return the model.

    Raises :class:`DistributionLockError` listing every problem with its key path.
    """
    try:
        lock = _Lock314.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise DistributionLockError(f"not a valid pyodide-lock.json: {problems}", file=file) from exc
    if not lock.info.abi_version:
        raise DistributionLockError("info.abi_version is missing (Pyodide < 0.27 locks are not supported)",
                                    file=file, field="info.abi_version")
    return lock


def read_distribution_lock(path: Path) -> dict[str, Any]:
    """Read and validate the Pyodide distribution's lock; the raw document is returned."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DistributionLockError("file not found", file=str(path),
                                    hint="run scripts/setup-node.sh to install pyodide") from exc
    except (OSError, ValueError) as exc:
        raise DistributionLockError(f"cannot read: {exc}", file=str(path)) from exc
    if not isinstance(data, dict):
        raise DistributionLockError("top level is not an object", file=str(path))
    validate_lock(data, file=str(path))
    return data


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class BundleWheel:
    """One wheel the app needs, already chosen and pinned by the resolver.

    ``depends`` are distribution names of other bundled wheels; ``imports`` are the
    top-level import names (read from the wheel when left empty).
    """

    path: Path
    name: str
    version: str
    sha256: str
    depends: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()


@dataclass(frozen=True)
class BundlePackage:
    """A package as recorded in ``bundle.json`` (``file`` relative to the bundle folder)."""

    name: str
    version: str
    file: str
    sha256: str
    depends: tuple[str, ...]
    imports: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "file": self.file, "sha256": self.sha256,
                "depends": list(self.depends), "imports": list(self.imports)}


@dataclass(frozen=True)
class ReferencedWheel:
    """A package the bundle does not hold: the loader fetches ``url`` and checks ``sha256``
    before Pyodide sees the bytes (WT842 otherwise), then loads it like a bundled one.

    ``url`` is absolute ``https://`` (``http://`` only on a loopback host) and its path ends
    with ``/<file_name>`` (Pyodide installs a wheel by its file name); ``file_name`` must be a
    wheel for this Pyodide. ``depends`` name bundled or referenced packages; ``imports`` are
    its top-level import names (the wheel is not at hand to read them from)."""

    name: str
    version: str
    file_name: str
    url: str
    sha256: str
    depends: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "file_name": self.file_name, "url": self.url,
                "sha256": self.sha256, "depends": list(self.depends), "imports": list(self.imports)}


@dataclass(frozen=True)
class BundleManifest:
    """The content of ``bundle.json``; ``packages`` are in load order (dependencies first),
    ``referenced`` sorted by name; ``runtime`` is ``None`` for a bundle without the browser
    runtime (Node only, or ``format_version`` 1)."""

    packages: tuple[BundlePackage, ...]
    entry_module: str | None
    lock_sha256: str
    abi_version: str
    platform: str
    python: str
    lock_file: str = LOCK_NAME
    format: str = field(default=BUNDLE_FORMAT)
    format_version: int = BUNDLE_FORMAT_VERSION
    referenced: tuple[ReferencedWheel, ...] = ()
    runtime: PyodideRuntime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "format_version": self.format_version,
            "entry_module": self.entry_module,
            "lock": {"file": self.lock_file, "sha256": self.lock_sha256},
            "pyodide": {"abi_version": self.abi_version, "platform": self.platform, "python": self.python},
            "packages": [p.to_dict() for p in self.packages],
            "referenced": [r.to_dict() for r in self.referenced],
            "runtime": self.runtime.to_dict() if self.runtime is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None) -> BundleManifest:
        """Parse ``bundle.json``; every problem is reported at once with its key path."""
        problems: list[str] = []

        def get(obj: Any, key: str, typ: type | tuple[type, ...], path: str) -> Any:
            if not isinstance(obj, Mapping) or key not in obj:
                problems.append(f"{path}: missing")
                return None
            value = obj[key]
            if not isinstance(value, typ):
                expected = getattr(typ, "__name__", str(typ))
                problems.append(f"{path}: expected {expected}, got {type(value).__name__}")
                return None
            return value

        fmt = get(data, "format", str, "format")
        if fmt is not None and fmt != BUNDLE_FORMAT:
            problems.append(f"format: expected {BUNDLE_FORMAT!r}, got {fmt!r}")
        version = get(data, "format_version", int, "format_version")
        if version is not None and version not in READABLE_FORMAT_VERSIONS:
            problems.append(f"format_version: {version} is not supported (this wasmtool reads "
                            f"{', '.join(map(str, READABLE_FORMAT_VERSIONS))})")
        entry = data.get("entry_module")
        if entry is not None and not (isinstance(entry, str) and _MODULE_RE.match(entry)):
            problems.append(f"entry_module: not a module name: {entry!r}")
        lock = get(data, "lock", Mapping, "lock")
        lock_file = get(lock, "file", str, "lock.file") if lock is not None else None
        lock_sha = get(lock, "sha256", str, "lock.sha256") if lock is not None else None
        info = get(data, "pyodide", Mapping, "pyodide")
        abi = get(info, "abi_version", str, "pyodide.abi_version") if info is not None else None
        platform = get(info, "platform", str, "pyodide.platform") if info is not None else None
        python = get(info, "python", str, "pyodide.python") if info is not None else None
        raw_packages = get(data, "packages", list, "packages")
        packages: list[BundlePackage] = []
        for i, raw in enumerate(raw_packages or []):
            where = f"packages[{i}]"
            name = get(raw, "name", str, f"{where}.name")
            ver = get(raw, "version", str, f"{where}.version")
            pfile = get(raw, "file", str, f"{where}.file")
            sha = get(raw, "sha256", str, f"{where}.sha256")
            deps = get(raw, "depends", list, f"{where}.depends")
            imps = get(raw, "imports", list, f"{where}.imports")
            if sha is not None and not _SHA256_RE.match(sha):
                problems.append(f"{where}.sha256: not 64 lowercase hex digits")
            if pfile is not None and (pfile.startswith("/") or ".." in pfile.split("/")):
                problems.append(f"{where}.file: must be relative to the bundle folder: {pfile!r}")
            if None not in (name, ver, pfile, sha, deps, imps):
                packages.append(BundlePackage(name, ver, pfile, sha, tuple(map(str, deps)),
                                              tuple(map(str, imps))))
        referenced: list[ReferencedWheel] = []
        raw_referenced = data.get("referenced", [])
        if not isinstance(raw_referenced, list):
            problems.append(f"referenced: expected list, got {type(raw_referenced).__name__}")
            raw_referenced = []
        for i, raw in enumerate(raw_referenced):
            where = f"referenced[{i}]"
            v = {key: get(raw, key, str, f"{where}.{key}") for key in ("name", "version", "file_name", "url",
                                                                       "sha256")}
            deps = get(raw, "depends", list, f"{where}.depends")
            imps = get(raw, "imports", list, f"{where}.imports")
            if any(x is None for x in v.values()) or deps is None or imps is None:
                continue
            ref = ReferencedWheel(name=v["name"], version=v["version"], file_name=v["file_name"], url=v["url"],
                                  sha256=v["sha256"], depends=tuple(map(str, deps)), imports=tuple(map(str, imps)))
            problem = _referenced_problem(ref)
            if problem is not None:
                problems.append(f"{where}.{problem[0]}: {problem[1]}")
            else:
                referenced.append(ref)
        runtime = None
        if data.get("runtime") is not None:
            runtime = PyodideRuntime.from_dict(data["runtime"], problems)
        if problems:
            raise BundleManifestError("invalid bundle manifest: " + "; ".join(problems), file=file)
        if lock_file is None or lock_sha is None or abi is None or platform is None or python is None:
            raise BundleManifestError("invalid bundle manifest", file=file)  # unreachable: reported above
        return cls(packages=tuple(packages), entry_module=entry, lock_sha256=lock_sha,
                   abi_version=abi, platform=platform, python=python, lock_file=lock_file,
                   format_version=int(version), referenced=tuple(referenced), runtime=runtime)


def read_manifest(bundle_dir: Path) -> BundleManifest:
    path = bundle_dir / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BundleManifestError("not a bundle: bundle.json is missing", file=str(path)) from exc
    except (OSError, ValueError) as exc:
        raise BundleManifestError(f"cannot read: {exc}", file=str(path)) from exc
    if not isinstance(data, Mapping):
        raise BundleManifestError("top level is not an object", file=str(path))
    return BundleManifest.from_dict(data, file=str(path))


def _referenced_problem(ref: ReferencedWheel) -> tuple[str, str] | None:
    """(field, problem) of a referenced package's description, ``None`` when it is sound."""
    import urllib.parse

    if not _SHA256_RE.match(ref.sha256.lower()):
        return "sha256", "not 64 hex digits"
    problem = check_remote_url(ref.url)
    if problem is not None:
        return "url", f"{ref.url!r} {problem}"
    path = urllib.parse.unquote(urllib.parse.urlsplit(ref.url).path)
    if not path.endswith("/" + ref.file_name):
        return "url", f"{ref.url!r} does not end with the file name {ref.file_name!r}"
    return None


# --------------------------------------------------------------------------- pure helpers


def wheel_import_names(path: Path) -> tuple[str, ...]:
    """Top-level import names of a wheel: ``top_level.txt`` when present, else the RECORD."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            infos = sorted({n.split("/", 1)[0] for n in names
                            if n.count("/") == 1 and n.split("/", 1)[0].endswith(".dist-info")})
            if not infos:
                raise WheelMetadataError("no .dist-info folder in the wheel", file=str(path))
            top = f"{infos[0]}/top_level.txt"
            top_level = zf.read(top).decode("utf-8") if top in names else None
            record = f"{infos[0]}/RECORD"
            files = ([line.split(",", 1)[0] for line in zf.read(record).decode("utf-8").splitlines()
                      if line.strip()] if record in names else names)
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError) as exc:
        raise WheelMetadataError(f"cannot read the wheel: {exc}", file=str(path)) from exc
    imports = tuple(n for n in import_names_from(files, top_level) if n.isidentifier())
    if not imports:
        raise WheelMetadataError("the wheel provides no importable top-level name", file=str(path))
    return imports


def check_wheel_tags(filename: str, *, abi_version: str, platform: str, python: str) -> None:
    """Refuse wheels this Pyodide cannot load (formats.md §9.3: one ABI family only).

    Accepted platform tags: ``any``, ``pyemscripten_<abi>_wasm32``, the legacy
    ``pyodide_<abi>_wasm32`` spelling and the equal ``<platform>_wasm32`` (e.g.
    ``emscripten_5_0_3_wasm32``); an interpreter-specific wheel must be ``cp<XY>``.
    """
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        raise WheelMetadataError(f"not a wheel file name: {exc}", file=filename) from exc
    major_minor = "".join(python.split(".")[:2])
    platforms = {"any", f"pyemscripten_{abi_version}_wasm32", f"pyodide_{abi_version}_wasm32",
                 f"{platform}_wasm32"}
    for tag in tags:
        if tag.platform not in platforms:
            continue
        if tag.platform == "any" or tag.interpreter == f"cp{major_minor}":
            return
    accepted = ", ".join(sorted(platforms - {"any"}))
    raise WheelTagError(
        f"{filename}: no tag for this Pyodide (Python {python}, ABI {abi_version}); "
        f"accepted platforms: any, {accepted}", file=filename)


def load_order(packages: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Names in dependency order (dependencies first), ties broken by name: deterministic."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name in sorted(packages):
        sorter.add(name, *sorted(packages[name]))
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise DependencyCycleError(f"dependency cycle between bundled packages: {cycle}") from exc
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order


def _dumps(data: Any) -> bytes:
    return (json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _index_html() -> bytes:
    return _INDEX_HTML.encode("utf-8")


_INDEX_HTML = """<!doctype html>
<!-- generated by wasmtool (wasmtool/bundle/pyodide.py): do not edit -->
<html lang="en">
<head>
<meta charset="utf-8">
<title>wasmtool Pyodide bundle</title>
</head>
<body>
<pre id="out">loading...</pre>
<script type="module">
// Query string: ?module=M&function=F&args=<JSON list>&kwargs=<JSON object>&pyodide=<index URL>
// (defaults: the bundle's entry module, "main", [], {}, and the Pyodide bundle.json names:
// ./pyodide/ beside this page, or the hosted URL given to install --pyodide-url).
import { loadBundle, callFunction, errorToJson } from "./loader.mjs";
const q = new URLSearchParams(location.search);
let result;
try {
  const bundle = await loadBundle({
    bundleUrl: new URL("./", location.href).href,
    indexURL: q.has("pyodide") ? new URL(q.get("pyodide"), location.href).href : undefined,
  });
  const module = q.get("module") ?? bundle.manifest.entry_module;
  const fn = q.get("function") ?? "main";
  const call = module
    ? callFunction(bundle, module, fn, q.get("args") ?? "[]", q.get("kwargs") ?? "{}")
    : { ok: true, value: null };
  result = { ...call, loaded: bundle.loaded, micropip: bundle.micropipImported() };
} catch (err) {
  result = { ok: false, error: errorToJson(err) };
}
window.result = result;
document.getElementById("out").textContent = JSON.stringify(result, null, 2);
</script>
</body>
</html>
"""


# --------------------------------------------------------------------------- build


def _check_inputs(wheels: Sequence[BundleWheel], referenced: Sequence[ReferencedWheel],
                  info: Mapping[str, Any]) -> tuple[dict[str, BundleWheel], dict[str, ReferencedWheel]]:
    tags = {"abi_version": str(info["abi_version"]), "platform": str(info["platform"]),
            "python": str(info["python"])}
    by_name: dict[str, BundleWheel] = {}
    for wheel in wheels:
        key: str = canonicalize_name(wheel.name)
        if key in by_name:
            raise DuplicatePackageError(
                f"two wheels for one distribution: {by_name[key].path.name} and {wheel.path.name}",
                package=key)
        by_name[key] = wheel
    refs: dict[str, ReferencedWheel] = {}
    for ref in referenced:
        key = canonicalize_name(ref.name)
        if key in by_name or key in refs:
            other = by_name[key].path.name if key in by_name else refs[key].file_name
            raise DuplicatePackageError(f"two wheels for one distribution: {other} and {ref.file_name} "
                                        "(bundled and referenced, or referenced twice)", package=key)
        problem = _referenced_problem(ref)
        if problem is not None:
            raise ReferencedWheelError(problem[1], package=key, field=problem[0])
        try:
            wname, wver, _, _ = parse_wheel_filename(ref.file_name)
        except InvalidWheelFilename as exc:
            raise ReferencedWheelError(f"not a wheel file name: {exc}", package=key, field="file_name") from exc
        if canonicalize_name(wname) != key or canonicalize_version(wver) != canonicalize_version(ref.version):
            raise ReferencedWheelError(
                f"file name says {wname} {wver}, but the package was given as {ref.name} {ref.version}",
                package=key, field="file_name")
        check_wheel_tags(ref.file_name, **tags)
        refs[key] = ref
    for key, wheel in by_name.items():
        if not wheel.path.is_file():
            raise WheelNotFoundError("wheel file not found", file=str(wheel.path), package=key)
        try:
            wname, wver, _, _ = parse_wheel_filename(wheel.path.name)
        except InvalidWheelFilename as exc:
            raise WheelMetadataError(f"not a wheel file name: {exc}", file=str(wheel.path),
                                     package=key) from exc
        if canonicalize_name(wname) != key or canonicalize_version(wver) != canonicalize_version(
                wheel.version):
            raise WheelMetadataError(
                f"file name says {wname} {wver}, but the wheel was given as {wheel.name} {wheel.version}",
                file=str(wheel.path), package=key)
        check_wheel_tags(wheel.path.name, **tags)
        actual = sha256_file(wheel.path)
        if actual != wheel.sha256.lower():
            raise WheelHashMismatchError(filename=wheel.path.name, expected=wheel.sha256.lower(),
                                         actual=actual, package=key, file=str(wheel.path))
    known = set(by_name) | set(refs)
    for key, deps in [*((k, w.depends) for k, w in by_name.items()), *((k, r.depends) for k, r in refs.items())]:
        for dep in deps:
            if canonicalize_name(dep) not in known:
                raise MissingDependencyError(
                    f"depends on {dep!r}, which is neither bundled nor referenced",
                    package=key,
                    hint="the Pyodide npm package ships no wheels: every dependency must be bundled or "
                         "referenced by URL")
    return by_name, refs


def _make_packages(by_name: Mapping[str, BundleWheel], refs: Mapping[str, ReferencedWheel]
                   ) -> tuple[list[BundlePackage], list[ReferencedWheel]]:
    """The bundled packages in load order (referenced ones count as dependencies that load
    first), and the referenced ones normalised, sorted by name."""
    deps = {k: tuple(sorted({canonicalize_name(d) for d in w.depends})) for k, w in by_name.items()}
    ref_deps = {k: tuple(sorted({canonicalize_name(d) for d in r.depends})) for k, r in refs.items()}
    packages = []
    for key in load_order({**deps, **ref_deps}):
        if key not in by_name:
            continue
        wheel = by_name[key]
        imports = tuple(wheel.imports) if wheel.imports else wheel_import_names(wheel.path)
        packages.append(BundlePackage(name=key, version=wheel.version,
                                      file=f"{WHEELS_DIR}/{wheel.path.name}",
                                      sha256=wheel.sha256.lower(), depends=deps[key], imports=imports))
    referenced = [ReferencedWheel(name=key, version=r.version, file_name=r.file_name, url=r.url,
                                  sha256=r.sha256.lower(), depends=ref_deps[key], imports=tuple(r.imports))
                  for key, r in sorted(refs.items())]
    return packages, referenced


def _make_lock(dist: Mapping[str, Any], packages: Iterable[BundlePackage],
               referenced: Iterable[ReferencedWheel] = ()) -> bytes:
    packages, referenced = list(packages), list(referenced)
    raw = json.loads(json.dumps(dist))  # deep copy; distribution entries are left as they are
    ours = {p.name for p in packages} | {r.name for r in referenced}
    raw["packages"] = {k: v for k, v in raw["packages"].items() if canonicalize_name(k) not in ours}
    entries = [(p.name, p.version, p.file, p.sha256, p.imports, p.depends) for p in packages]
    entries += [(r.name, r.version, r.url, r.sha256, r.imports, r.depends) for r in referenced]
    for name, version, file_name, sha, imports, depends in entries:
        entry = _Package314(name=name, version=version, file_name=file_name, install_dir="site",
                            sha256=sha, package_type="package", imports=list(imports),
                            depends=list(depends), unvendored_tests=False)
        raw["packages"][name] = entry.model_dump(mode="json", exclude_unset=True)
    lock = validate_lock(raw)
    # check_wheel_filenames parses file_name as a bare wheel name; ours are "wheels/<file>" or URLs.
    bare = lock.model_copy(update={"packages": {
        k: v.model_copy(update={"file_name": v.file_name.rsplit("/", 1)[-1]})
        for k, v in lock.packages.items()}})
    try:
        bare.check_wheel_filenames()
    except ValueError as exc:
        raise DistributionLockError(str(exc)) from exc
    return _dumps(lock.model_dump(mode="json", exclude_unset=True))


def _typing_files(runtime_dir: Path, typings: Sequence[Path]) -> dict[str, bytes]:
    """The typed JS bindings that ship beside the loader: :data:`BINDING_FILES` of the runtime
    folder when present, and each of ``typings`` (``<alias>.d.ts``) by its file name."""
    out: dict[str, bytes] = {}
    for name in BINDING_FILES:
        path = runtime_dir / name
        if path.is_file():
            out[name] = path.read_bytes()
    reserved = {MANIFEST_NAME, LOCK_NAME, LOADER_NAME, INDEX_NAME, *BINDING_FILES}
    for path in sorted(typings, key=lambda p: p.name):
        if not path.name.endswith(".d.ts") or path.name in reserved or path.name in out:
            raise BundleOutputError(f"cannot ship {path.name!r} beside the loader (not an <alias>.d.ts, "
                                    "or its name is taken)", file=str(path))
        try:
            out[path.name] = path.read_bytes()
        except OSError as exc:
            raise BundleOutputError(f"cannot read: {exc}", file=str(path)) from exc
    return out


def _replace_dir(tmp: Path, out_dir: Path) -> None:
    """Move the finished ``tmp`` to ``out_dir``; an old bundle there is replaced, nothing else is."""
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise BundleOutputError("exists and is not a folder", file=str(out_dir))
    if out_dir.exists():
        if any(out_dir.iterdir()) and not (out_dir / MANIFEST_NAME).is_file():
            raise BundleOutputError("folder is not empty and is not a wasmtool bundle; not replacing it",
                                    file=str(out_dir))
        trash = Path(tempfile.mkdtemp(prefix=".wasmtool-bundle-old-", dir=out_dir.parent))
        os.replace(out_dir, trash / "old")
        try:
            os.replace(tmp, out_dir)
        except BaseException:
            os.replace(trash / "old", out_dir)
            raise
        finally:
            shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, out_dir)


def build_bundle(out_dir: Path, *, dist_lock_path: Path, wheels: Sequence[BundleWheel],
                 entry_module: str | None = None, runtime_dir: Path | None = None,
                 referenced: Sequence[ReferencedWheel] = (), runtime: PyodideRuntime | None = None,
                 typings: Sequence[Path] = (), app_dir: Path | None = None) -> BundleManifest:
    """Write a pre-solved Pyodide bundle for ``wheels`` into ``out_dir``.

    ``dist_lock_path`` is the distribution's lock (``node_modules/pyodide/pyodide-lock.json``);
    its ``info`` decides which wheel tags are accepted. Every wheel is hashed and checked
    against its pinned sha256 before it is copied. ``referenced`` packages are recorded (URL,
    sha256) for the loader to fetch instead. ``runtime`` is the Pyodide a browser loads
    (:func:`wasmtool.bundle.runtime.bundled_runtime`: copied into ``pyodide/``, checked against
    the pins; :func:`~wasmtool.bundle.runtime.hosted_runtime`: only recorded); ``None`` makes a
    bundle only Node can load (Node takes Pyodide from ``node_modules``). ``runtime_dir`` holds
    ``loader.mjs`` and the bindings' JS files (default: the repository's ``runtime/pyodide``);
    ``typings`` are ``<alias>.d.ts`` files shipped beside them. ``app_dir``: the app's static
    files (``[browser] app``), copied in last (:func:`wasmtool.bundle.app.copy_app`).
    """
    dist = read_distribution_lock(dist_lock_path)
    info = dist["info"]
    by_name, refs = _check_inputs(wheels, referenced, info)
    packages, refs_out = _make_packages(by_name, refs)
    if entry_module is not None:
        if not _MODULE_RE.match(entry_module):
            raise EntryModuleError(f"not a module name: {entry_module!r}")
        top = entry_module.split(".", 1)[0]
        if not any(top in imports for imports in [*(p.imports for p in packages), *(r.imports for r in refs_out)]):
            raise EntryModuleError(f"{entry_module!r}: no bundled package provides {top!r}",
                                   hint="list its wheel in `wheels` or fix `imports`")
    runtime_dir = runtime_dir or RUNTIME_DIR
    loader = runtime_dir / LOADER_NAME
    try:
        loader_bytes = loader.read_bytes()
    except OSError as exc:
        raise BundleOutputError(f"cannot read the loader: {exc}", file=str(loader)) from exc
    extra_files = _typing_files(runtime_dir, typings)
    lock_bytes = _make_lock(dist, packages, refs_out)
    manifest = BundleManifest(
        packages=tuple(packages), entry_module=entry_module,
        lock_sha256=hashlib.sha256(lock_bytes).hexdigest(), abi_version=str(info["abi_version"]),
        platform=str(info["platform"]), python=str(info["python"]), referenced=tuple(refs_out),
        runtime=runtime)

    out_dir = out_dir.absolute()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        (tmp / WHEELS_DIR).mkdir()
        for p in packages:
            src = by_name[p.name].path
            dst = tmp / p.file
            shutil.copyfile(src, dst)
            actual = sha256_file(dst)  # the copy is what ships: check it, not the source
            if actual != p.sha256:
                raise WheelHashMismatchError(filename=src.name, expected=p.sha256, actual=actual,
                                             package=p.name, file=str(src))
        if runtime is not None:
            copy_runtime(runtime, tmp)
        (tmp / LOCK_NAME).write_bytes(lock_bytes)
        (tmp / MANIFEST_NAME).write_bytes(_dumps(manifest.to_dict()))
        (tmp / LOADER_NAME).write_bytes(loader_bytes)
        for name, data in extra_files.items():
            (tmp / name).write_bytes(data)
        (tmp / INDEX_NAME).write_bytes(_index_html())
        if app_dir is not None:   # last: everything already in tmp but index.html is the bundle's
            from wasmtool.bundle.app import copy_app

            copy_app(app_dir, tmp)
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700; a bundle is served to others
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest
