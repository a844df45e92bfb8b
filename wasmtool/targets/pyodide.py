"""The Pyodide targets (``kind = "pyodide"``: pyodide-314, pyodide-2025).

* lock: wasmtool's resolvelib provider (:mod:`wasmtool.targets.wasm_lock`) over the index
  and the distribution's own lock (``[runtime].distribution-lock``,
  ``node_modules/pyodide/pyodide-lock.json``), which this module finds and reads
  (:func:`load_distribution_lock`). By default (``[python] pyodide-packages =
  "index-first"``) a package comes from the index when the index has a build for the
  target (a PEP 783 ``pyemscripten_*`` wheel or a pure one); the distribution lock pins the
  packages the index has no build of (origin ``pyodide-lock``: version, file name, sha256 and
  the URL of the distribution's CDN, :func:`distribution_cdn_url`). ``pyodide-packages =
  "distribution"`` pins every package the distribution lock lists as it lists it;
* install (``wasmtool install --target=pyodide-314``): a self-contained, pre-solved bundle.
  From ``mochi.lock`` and the target's workspace:

  1. every index wheel comes from the verified cache (SHA-256 and BLAKE3 checked against
     the lock);
  2. the bindings (``_mochi_wrap.py`` + ``python_wrap/``) become one deterministic wheel,
     ``mochi_bindings-0-py3-none-any.whl``, depending on the bound packages;
  3. :func:`wasmtool.bundle.pyodide.build_bundle` writes ``.mochi/<target>/``: the wheels, a
     ``pyodide-lock.json`` (the distribution's lock plus the app's packages, with sha256),
     ``bundle.json``, the verifying loader and ``index.html``. micropip is never involved.

  Packages pinned from the distribution's own lock (``origin = "pyodide-lock"``) are
  bundled when their wheel can be had and verified (the cache, else a download from the
  locked URL, sha256 from the distribution lock); otherwise the bundle references them by
  URL with their sha256 (:func:`distribution_wheels`), the loader fetches and checks them,
  and install says which packages are referenced and why;
* smoke test (``install --smoke``, ``lock --smoke``): the bundle is loaded in Pyodide under
  Node and every package's top-level modules are imported, failing with the package and the
  Python error;
* runtime: the installed bundle in one Pyodide process under Node.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from wasmtool.context import Context, verified_artefact
from wasmtool.lock.model import LockedPackage
from wasmtool.skips import SkipReason
from wasmtool.targets.base import Binder, BindResult, RuntimeChoice, TargetBackend, refuse_option
from wasmtool.targets.errors import DistributionPackageError, SmokeTestError
from wasmtool.targets.pinning import locked_for_target
from wasmtool.targets.profile import TargetProfile

if TYPE_CHECKING:
    from wasmtool.bundle.pyodide import BundleWheel, ReferencedWheel
    from wasmtool.project.manifest import PythonSettings
    from wasmtool.resolve.wasm import DistributionLock
    from wasmtool.run.modes import ModeRuntime, WrapSettings
    from wasmtool.targets.stdlib import Stdlib

__all__ = ["BINDINGS_DIST", "COMPILE_SCRIPT", "PyodideBackend", "PyodideInstallOutcome", "Referenced",
           "bindings_files", "bindings_wheel", "distribution_cdn_url", "distribution_lock_for", "distribution_wheels",
           "find_distribution_lock", "load_distribution_lock", "pyodide_bytecode", "referenced_lines",
           "smoke_entries"]

#: The profile ``install_pyodide`` installs when none is named.
DEFAULT_PROFILE = "pyodide-314"
BINDINGS_DIST = "mochi-bindings"
_EPOCH = (1980, 1, 1, 0, 0, 0)
REPO_ROOT = Path(__file__).resolve().parent.parent.parent

#: ``loadPyodide``'s default ``cdnUrl`` in the npm package's ``pyodide.mjs``: the template
#: literal ``packageBaseUrl ?? `<prefix>${version}<suffix>```.
_CDN_DEFAULT = re.compile(r"packageBaseUrl\s*\?\?\s*`(https://[^`$]+)\$\{[A-Za-z_$][\w$]*\}([^`$]*)`")


# -- the distribution lock -------------------------------------------------------------------------


def load_distribution_lock(path: Path, *, pyodide_version: str | None = None,
                           base_url: str | None = None) -> DistributionLock:
    """Read and validate ``pyodide-lock.json`` with the pyodide-lock models (via the bundle loader).

    The Pyodide version (for the CDN URL) is ``pyodide_version``, else the ``version`` of the
    ``package.json`` beside the lock (the npm package), else the lock's ``info.version``; the
    CDN URL (``base_url`` unless given) is the npm package's own (:func:`distribution_cdn_url`).
    """
    from wasmtool.bundle.pyodide import read_distribution_lock, validate_lock
    from wasmtool.resolve.errors import DistributionLockMismatchError
    from wasmtool.resolve.provider import DistPackage
    from wasmtool.resolve.wasm import DistributionLock

    raw = read_distribution_lock(path)
    lock = validate_lock(raw, file=str(path))
    version = pyodide_version or _npm_version(path.parent / "package.json") or lock.info.version or ""
    if base_url is None:
        if not version:
            raise DistributionLockMismatchError("cannot tell which Pyodide version this lock belongs to",
                                                file=str(path), hint="pass pyodide_version or base_url")
        base_url = distribution_cdn_url(path.parent, version)
    packages: dict[str, DistPackage] = {}
    for key, spec in sorted(lock.packages.items()):
        entry = DistPackage(name=spec.name, version=spec.version, file_name=spec.file_name, sha256=spec.sha256,
                            depends=tuple(spec.depends), imports=tuple(spec.imports),
                            package_type=str(spec.package_type))
        packages[str(canonicalize_name(spec.name))] = entry
        packages.setdefault(str(canonicalize_name(key)), entry)
    return DistributionLock(path=str(path), abi_version=str(lock.info.abi_version or ""),
                            python=lock.info.python, platform=lock.info.platform, pyodide_version=version,
                            base_url=base_url if base_url.endswith("/") else base_url + "/", packages=packages)


def distribution_cdn_url(dist_dir: Path, version: str) -> str:
    """Where the Pyodide npm package in ``dist_dir`` loads distribution wheels from by default
    (``loadPyodide``'s ``cdnUrl``, read from its ``pyodide.mjs``), for Pyodide ``version``.

    The one place the CDN is known: locks record ``<this URL><file name>`` for the packages
    pinned from the distribution lock, and bundles reference them by that URL."""
    from wasmtool.resolve.errors import DistributionLockMismatchError

    script = dist_dir / "pyodide.mjs"
    try:
        text = script.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DistributionLockMismatchError(
            f"cannot read where Pyodide loads its packages from: {exc}", file=str(script),
            hint="run scripts/setup-node.sh (npm install pyodide) to install the Pyodide distribution") from None
    found = _CDN_DEFAULT.search(text)
    if found is None:
        raise DistributionLockMismatchError(
            "this Pyodide has no default package URL (packageBaseUrl ?? `...${version}...`) in pyodide.mjs",
            file=str(script), hint="install the Pyodide version the target profile names ([runtime].npm-version)")
    url = f"{found.group(1)}{version}{found.group(2)}"
    return url if url.endswith("/") else url + "/"


def _npm_version(package_json: Path) -> str | None:
    try:
        data = json.loads(package_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and data.get("name") == "pyodide" and isinstance(data.get("version"), str):
        return str(data["version"])
    return None


def find_distribution_lock(profile: TargetProfile, roots: Iterable[Path]) -> Path | None:
    """The profile's ``[runtime].distribution-lock`` under the first of ``roots`` that has it."""
    rel = profile.runtime.get("distribution-lock")
    if not rel:
        return None
    for root in roots:
        cand = root / str(rel)
        if cand.is_file():
            return cand
    return None


def distribution_lock_for(ctx: Context, profile: TargetProfile) -> DistributionLock | None:
    """The profile's distribution lock (``[runtime].distribution-lock``), looked up under the
    project folder, then the wasmtool checkout; ``None`` for profiles without one."""
    if not profile.runtime.get("distribution-lock"):
        return None
    path = find_distribution_lock(profile, [ctx.root, REPO_ROOT])
    if path is None:
        from wasmtool.bundle.errors import DistributionLockError

        raise DistributionLockError(
            f"target {profile.name} needs {profile.runtime['distribution-lock']}, which was not found under "
            f"{ctx.root} or {REPO_ROOT}", file=str(profile.runtime["distribution-lock"]),
            hint="run scripts/setup-node.sh (npm install pyodide) to install the Pyodide distribution")
    version = profile.runtime.get("npm-version")
    return load_distribution_lock(path, pyodide_version=str(version) if version else None)


# -- the bundle --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Referenced:
    """A package pinned from the distribution lock that the bundle references by URL instead of
    holding: its wheel could not be had here (``reason``). The loader fetches it from
    ``package.wheel_url`` and checks ``package.wheel_sha256`` before Pyodide sees the bytes."""

    package: LockedPackage
    reason: str


@dataclass(frozen=True)
class PyodideInstallOutcome:
    target: str
    bundle: Path
    packages: tuple[str, ...]
    bindings: BindResult | None = None      # the bindings ship inside the bundle, not beside it
    referenced: tuple[Referenced, ...] = ()
    why_distribution: str = ""              # why packages come from the distribution lock at all
    notes: tuple[str, ...] = ()             # further lines (the memory snapshot's sizes)

    def lines(self) -> list[str]:
        held = len(self.packages) - len(self.referenced)
        return [f"bundled {held} package(s) for {self.target} into {self.bundle}",
                *referenced_lines(self.referenced, self.why_distribution), *self.notes]


#: Bytes of the fetch failure quoted in an install line.
_REASON_LIMIT = 200


def referenced_lines(referenced: Sequence[Referenced], why_distribution: str) -> list[str]:
    """What install prints about the packages it references rather than bundles: a line saying
    what that means, then one line per package (name, version, URL, sha256, why)."""
    if not referenced:
        return []
    out = [f"referenced {len(referenced)} package(s) by URL instead of bundling them: Pyodide's own builds "
           f"({why_distribution}) whose wheels cannot be fetched here; the loader fetches each and checks its "
           "sha256 before Pyodide loads it, so the URL must be reachable where the bundle runs:"]
    for r in sorted(referenced, key=lambda r: r.package.name):
        p = r.package
        reason = r.reason if len(r.reason.encode()) <= _REASON_LIMIT else (
            r.reason.encode()[:_REASON_LIMIT - 3].decode(errors="ignore") + "...")
        out.append(f"  {p.name} {p.version}: {p.wheel_url} (sha256 {p.wheel_sha256}): {reason}")
    return out


def why_from_distribution(ctx: Context, target: str, count: int = 2) -> str:
    """Why ``count`` packages are pinned from the distribution lock (``[python] pyodide-packages``)."""
    them = "it" if count == 1 else "them"
    if ctx.project.manifest.python.pyodide_packages == "distribution":
        return f'[python] pyodide-packages = "distribution" pins {them} from the Pyodide distribution lock'
    return f"the index has no build of {them} for {target}"


def distribution_wheels(ctx: Context, entries: Sequence[LockedPackage]
                        ) -> tuple[list[BundleWheel], list[Referenced]]:
    """The packages of ``entries`` pinned from the distribution lock (``origin =
    "pyodide-lock"``): bundled when their wheel is in the verified cache or can be downloaded
    from the locked URL (sha256 from the distribution lock, checked by the cache), else
    referenced with the reason. After one download fails for want of a connection, the others
    are only looked up in the cache (the CDN is not tried once per package). A wheel that
    arrives with other bytes than pinned is an error, never referenced."""
    from wasmtool.bundle.pyodide import BundleWheel
    from wasmtool.cache.errors import CachedArtifactMissingError, CacheRefError, DownloadError
    from wasmtool.errors import HashMismatchError

    bundled: list[BundleWheel] = []
    referenced: list[Referenced] = []
    unreachable = ""
    for p in sorted((e for e in entries if e.origin == "pyodide-lock"), key=lambda e: e.name):
        art = None
        if unreachable:
            try:
                art = ctx.cache.lookup(p.wheel_sha256, verify=True, evict=True)
            except (HashMismatchError, CacheRefError, CachedArtifactMissingError):
                art = None
        else:
            try:
                art = verified_artefact(ctx, p)
            except DownloadError as exc:
                unreachable = str(exc.__cause__ or "") or exc.message
                referenced.append(Referenced(p, f"cannot be fetched here: {unreachable}"))
                continue
        if art is None:
            referenced.append(Referenced(p, f"cannot be fetched here: {unreachable}"))  # not tried again
            continue
        bundled.append(BundleWheel(art.path, p.name, p.version, p.wheel_sha256, p.dependency_names,
                                   tuple(p.import_names)))
    return bundled, referenced


def _referenced_wheels(referenced: Sequence[Referenced]) -> list[ReferencedWheel]:
    from wasmtool.bundle.pyodide import ReferencedWheel

    return [ReferencedWheel(name=r.package.name, version=r.package.version, file_name=r.package.wheel_filename,
                            url=r.package.wheel_url, sha256=r.package.wheel_sha256,
                            depends=r.package.dependency_names, imports=tuple(r.package.import_names))
            for r in referenced]


#: Byte-compiles the bindings with Pyodide's own CPython (:func:`pyodide_bytecode`).
COMPILE_SCRIPT = REPO_ROOT / "runtime" / "pyodide" / "compile.mjs"


def bindings_files(workspace: Path) -> dict[str, bytes]:
    """The files of the bindings wheel but its dist-info, by path in the wheel: the workspace's
    ``_mochi_wrap.py`` and ``python_wrap/`` (plus each alias's ``methods.json``, the method
    table ``bindAlias`` reads, docs/typescript.md) and ``wasmtool_runtime``."""
    from wasmtool.synth.typescript import METHOD_TABLE_FILE, render_method_table

    files: dict[str, bytes] = {}
    for path in sorted(workspace.rglob("*")):
        rel = path.relative_to(workspace).as_posix()
        if path.is_file() and "__pycache__" not in path.parts and (
                rel == "_mochi_wrap.py" or rel.startswith("python_wrap/")):
            files[rel] = path.read_bytes()
    for rel, data in sorted(files.items()):
        parts = rel.split("/")
        if len(parts) == 3 and parts[2] == "surface.json":
            files[f"python_wrap/{parts[1]}/{METHOD_TABLE_FILE}"] = render_method_table(json.loads(data)).encode()
    import wasmtool_runtime  # its bridge gives Pyodide the native handle table and value encoding

    runtime = Path(wasmtool_runtime.__file__).resolve().parent
    for path in sorted(runtime.rglob("*.py")):
        files[f"wasmtool_runtime/{path.relative_to(runtime).as_posix()}"] = path.read_bytes()
    return files


def _bytecode_key(files: dict[str, bytes], pyodide: Path) -> str:
    h = hashlib.sha256(b"wasmtool-pyodide-bytecode-1\0")
    h.update(COMPILE_SCRIPT.read_bytes())
    h.update(b"\0")
    h.update((pyodide / "package.json").read_bytes())
    for rel, data in sorted(files.items()):
        if rel.endswith(".py"):
            h.update(f"\0{rel}\0{hashlib.sha256(data).hexdigest()}".encode())
    return h.hexdigest()


def _read_cached_bytecode(path: Path) -> dict[str, bytes] | None:
    try:
        with zipfile.ZipFile(path) as zf:
            return {name: zf.read(name) for name in zf.namelist()}
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return None     # a missing or damaged entry is compiled again


def pyodide_bytecode(files: dict[str, bytes], *, cache_root: Path | None = None) -> dict[str, bytes]:
    """The ``.py`` among ``files`` (wheel path -> bytes) compiled by the Pyodide the bundle runs
    (``node runtime/pyodide/compile.mjs``, in ``node_modules/pyodide``): ``{path of the .pyc in
    the wheel (``pkg/__pycache__/mod.cpython-314.pyc``): bytes}``. Hash-checked .pyc (PEP 552),
    so the bytes depend only on the sources and the Pyodide version, and Pyodide uses one only
    while its source is unchanged. Cached under ``cache_root/pyodide-bytecode/`` by those inputs:
    an install whose bindings did not change starts no Pyodide."""
    import tempfile

    from wasmtool.errors import ToolFailedError
    from wasmtool.fsutil import atomic_write_bytes
    from wasmtool.run.pyodide import find_node, pyodide_dir
    from wasmtool.tools import run_tool, tail

    sources = {rel: data for rel, data in files.items() if rel.endswith(".py")}
    if not sources:
        return {}
    pyodide = pyodide_dir()
    cached = cache_root / "pyodide-bytecode" / f"{_bytecode_key(sources, pyodide)}.zip" if cache_root else None
    if cached is not None and cached.is_file():
        found = _read_cached_bytecode(cached)
        wanted = {f"{d + '/' if d else ''}__pycache__/{f[:-3]}" for d, _, f in (r.rpartition("/") for r in sources)}
        if found is not None and len(found) == len(wanted) and {n.rsplit(".", 2)[0] for n in found} == wanted:
            return dict(sorted(found.items()))
    with tempfile.TemporaryDirectory(prefix="wasmtool-bytecode-") as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "out"
        for rel, data in sources.items():
            dest = src.joinpath(*rel.split("/"))
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        argv = [find_node(), str(COMPILE_SCRIPT), "--src", str(src), "--out", str(out), "--pyodide", str(pyodide)]
        proc = run_tool("node", argv, timeout=600)
        try:
            answer = json.loads(proc.stdout.strip().splitlines()[-1])
            compiled = {pyc: out.joinpath(*pyc.split("/")).read_bytes()
                        for pyc in sorted(answer["files"][rel] for rel in sources)}
        except (IndexError, KeyError, TypeError, ValueError, OSError) as exc:
            raise ToolFailedError(
                f"{COMPILE_SCRIPT.name} did not report the compiled bindings: {exc}", tool="node", argv=argv,
                returncode=proc.returncode, stdout=proc.stdout, stderr=proc.stderr, stderr_tail=tail(proc.stderr),
                hint="the bindings wheel's modules are byte-compiled by Pyodide under Node: check the "
                     "pyodide npm package (scripts/setup-node.sh)") from None
    if cached is not None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
            for name, data in compiled.items():
                zf.writestr(zipfile.ZipInfo(name, date_time=_EPOCH), data)
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(cached, buf.getvalue())
        except OSError:
            pass    # the cache is an optimisation
    return compiled


def bindings_wheel(workspace: Path, out_dir: Path, depends: list[str], *,
                   bytecode: bool = False, cache_root: Path | None = None) -> tuple[Path, str]:
    """A byte-stable py3-none-any wheel of the workspace's bindings (:func:`bindings_files`);
    (path, sha256). With ``bytecode``, the wheel also carries their .pyc compiled by Pyodide
    (:func:`pyodide_bytecode`): a page then imports the bindings (the large externs module
    of a package with many functions among them) without compiling them first."""
    files = bindings_files(workspace)
    if bytecode:
        files.update(pyodide_bytecode(files, cache_root=cache_root))
    info = "mochi_bindings-0.dist-info"
    meta = "Metadata-Version: 2.1\nName: mochi-bindings\nVersion: 0\n" + "".join(
        f"Requires-Dist: {d}\n" for d in sorted(depends))
    files[f"{info}/METADATA"] = meta.encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: wasmtool\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/top_level.txt"] = b"_mochi_wrap\npython_wrap\nwasmtool_runtime\n"
    record = []
    for name, data in sorted(files.items()):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zi = zipfile.ZipInfo(name, date_time=_EPOCH)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    data = buf.getvalue()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "mochi_bindings-0-py3-none-any.whl"
    from wasmtool.fsutil import atomic_write_bytes

    atomic_write_bytes(path, data)
    return path, hashlib.sha256(data).hexdigest()


def _package_wheels(ctx: Context, entries: Sequence[LockedPackage]) -> list[BundleWheel]:
    """The index wheels of ``entries``, verified from the cache (fetched when missing)."""
    from wasmtool.bundle.pyodide import BundleWheel

    wheels: list[BundleWheel] = []
    for p in sorted((e for e in entries if e.origin != "pyodide-lock"), key=lambda e: e.name):
        art = verified_artefact(ctx, p)
        wheels.append(BundleWheel(art.path, p.name, p.version, p.wheel_sha256, p.dependency_names,
                                  tuple(p.import_names)))
    return wheels


def _raise_on_smoke_failures(bundle: Path) -> None:
    from wasmtool.run.pyodide import smoke as run_smoke

    failures = run_smoke(bundle)
    if failures:
        first = failures[0]
        raise SmokeTestError(
            "; ".join(f"{f.package}: import {f.import_name} failed: {f.error_type}: {f.message}" for f in failures),
            package=first.package, hint="the package resolves for the target but cannot be imported in Pyodide")


def smoke_entries(ctx: Context, entries: Sequence[LockedPackage]) -> None:
    """Proof of installability before a lock is written: bundle the entries' wheels in a
    temporary folder, load them in Pyodide under Node and import every top-level module."""
    import tempfile

    from wasmtool.bundle.pyodide import build_bundle
    from wasmtool.run.pyodide import dist_lock_path

    from_dist, referenced = distribution_wheels(ctx, entries)
    _refuse_unfetched(ctx, referenced, entries[0].target if entries else "", smoke=True)
    with tempfile.TemporaryDirectory(prefix="wasmtool-smoke-") as tmp:
        bundle = Path(tmp) / "bundle"
        build_bundle(bundle, dist_lock_path=dist_lock_path(), wheels=[*_package_wheels(ctx, entries), *from_dist],
                     referenced=_referenced_wheels(referenced))
        _raise_on_smoke_failures(bundle)


def _refuse_unfetched(ctx: Context, referenced: Sequence[Referenced], target: str, *, smoke: bool) -> None:
    """WT820 for the packages a bundle could only reference although something here needs their
    wheel: ``--smoke`` imports every package, and binding a direct dependency reads its wheel
    (its stubs). Says plainly what the package is and what to do; following the hint works."""
    if not smoke:
        direct = {str(canonicalize_name(r.name)) for r in ctx.project.requirements()}
        referenced = [r for r in referenced if r.package.name in direct]
    if not referenced:
        return
    first = referenced[0]
    one = len(referenced) == 1
    names = ", ".join(f"{r.package.name} {r.package.version}" for r in referenced)
    needed = ("the smoke test imports it" if smoke else
              f"binding {'it' if one else 'them'} reads {'its' if one else 'their'} wheel (the stubs)")
    raise DistributionPackageError(
        f"{names} {'needs' if one else 'need'} Pyodide's own build, served by Pyodide's CDN "
        f"({why_from_distribution(ctx, target, len(referenced))}). A bundle references such a package by URL "
        f"with the sha256 of the Pyodide distribution lock, but {needed}: {first.reason}",
        package=first.package.name, file=first.package.wheel_url, field="origin",
        hint=("run the smoke test where that URL is reachable, or install without --smoke (the bundle then "
              "references the package and loads it where the bundle runs)" if smoke else
              "run install where that URL is reachable once: the wheel is then checked against that sha256, "
              f"cached and bundled; or leave {first.package.name} out of {target} with "
              f"markers = \"sys_platform != 'emscripten'\" in its mochi.toml entry"))


class PyodideBackend(TargetBackend):
    """Pyodide under Node or in a browser (see the module docstring)."""

    kind = "pyodide"
    unavailable_skip = SkipReason.SkipPyodideUnavailable
    typescript_declarations = True     # JavaScript calls the bundle: bindings.mjs

    def stdlib_module_names(self, ctx: Context) -> frozenset[str]:
        """Read from the installed distribution's ``python_stdlib.zip``."""
        return self._stdlib().module_names

    def _stdlib(self) -> Stdlib:
        from wasmtool.run.pyodide import pyodide_dir
        from wasmtool.targets.stdlib import parse_stdlib

        archive = pyodide_dir() / "python_stdlib.zip"
        with zipfile.ZipFile(archive) as zf:
            files = {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}
        return parse_stdlib(files, origin=str(archive))

    def partial_stdlib(self) -> Stdlib | None:
        """Pyodide's ``python_stdlib.zip`` (it lacks ``ssl``'s C part and process support)."""
        try:
            return self._stdlib()
        except (OSError, ValueError, zipfile.BadZipFile):
            return None

    def distribution_lock(self, ctx: Context) -> DistributionLock | None:
        """``[runtime].distribution-lock`` (:func:`distribution_lock_for`), when the profile names one."""
        return distribution_lock_for(ctx, self.profile)

    def smoke(self, ctx: Context, entries: Sequence[LockedPackage]) -> None:
        """Bundle ``entries`` in a temporary folder and import every package in Pyodide."""
        smoke_entries(ctx, entries)

    def write_bundle(self, ctx: Context, binder: Binder, *, smoke: bool = False,
                     out_dir: Path | None = None, runtime_url: str | None = None) -> PyodideInstallOutcome:
        """Bind, then write the bundle (``.mochi/<target>/`` unless ``out_dir``) with the Pyodide
        runtime a browser needs: copied from the npm package, or hosted at ``runtime_url``."""
        from wasmtool.bundle.pyodide import BundleWheel, build_bundle
        from wasmtool.bundle.runtime import bundled_runtime, hosted_runtime
        from wasmtool.run.pyodide import dist_lock_path, pyodide_dir

        version = self.profile.runtime.get("npm-version")
        expected = str(version) if version else None
        runtime = (hosted_runtime(pyodide_dir(), runtime_url, expected_version=expected) if runtime_url is not None
                   else bundled_runtime(pyodide_dir(), expected_version=expected))
        entries = locked_for_target(ctx, self.profile.name)
        from_dist, referenced = distribution_wheels(ctx, entries)
        _refuse_unfetched(ctx, referenced, self.profile.name, smoke=smoke)
        outcome = binder()
        wheels = [*_package_wheels(ctx, entries), *from_dist]
        bound = [b.package.name for b in outcome.bound]
        wheel, sha = bindings_wheel(outcome.directory, ctx.root / ".mochi" / "build" / self.profile.name, bound,
                                    bytecode=True, cache_root=ctx.cache.root)
        wheels.append(BundleWheel(wheel, BINDINGS_DIST, "0", sha,
                                  tuple(sorted(str(canonicalize_name(n)) for n in bound)),
                                  ("_mochi_wrap", "python_wrap")))
        bundle = out_dir or (ctx.root / ".mochi" / self.profile.name)
        app = ctx.project.manifest.browser_app
        build_bundle(bundle, dist_lock_path=dist_lock_path(), wheels=wheels, app_dir=ctx.root / app if app else None,
                     referenced=_referenced_wheels(referenced), runtime=runtime,
                     typings=sorted((outcome.directory / "python_wrap").glob("*/*.d.ts")))
        if smoke:
            _raise_on_smoke_failures(bundle)
        return PyodideInstallOutcome(self.profile.name, bundle, tuple(f"{p.name}=={p.version}" for p in entries),
                                     referenced=tuple(referenced),
                                     why_distribution=why_from_distribution(ctx, self.profile.name))

    def install(self, ctx: Context, binder: Binder, *, smoke: bool = False,
                bind: bool = True, runtime_url: str | None = None, per_package: bool = False,
                snapshot: bool = False) -> PyodideInstallOutcome:
        """The bundle; it always carries the bindings (``bind`` does not apply). With
        ``snapshot``, the bundle gets a memory snapshot made and verified in Node
        (docs/snapshot.md); a failure to make one is an error, since it was asked for."""
        del bind
        if per_package:
            refuse_option("--per-package", "WASI targets", self.profile.name)
        outcome = self.write_bundle(ctx, binder, smoke=smoke, runtime_url=runtime_url)
        if not snapshot:
            return outcome
        from wasmtool.bundle.snapshot import add_snapshot
        from wasmtool.run.pyodide import find_node, pyodide_dir

        warnings: list[str] = []
        info = add_snapshot(outcome.bundle, node=find_node(), pyodide_dir=pyodide_dir(), demanded=True,
                            warn=lambda m: warnings.append(f"warning: {m}"))
        extra = (*warnings, *(info.lines() if info is not None else ()))
        return replace(outcome, notes=(*outcome.notes, *extra))

    def choose_runtime(self, root: Path, settings: PythonSettings, *, mode: str | None,
                       python: str | None) -> RuntimeChoice:
        from wasmtool.run.errors import SessionConfigError

        if (mode is not None and mode != "auto") or python is not None:
            raise SessionConfigError(
                f"--runtime / python apply to native targets; {self.profile.name} runs in Pyodide under Node",
                field="runtime-mode" if mode is not None else "python")
        return RuntimeChoice("pyodide", f"{self.profile.name} runs its bundle in Pyodide under Node")

    def open_runtime(self, root: Path, choice: RuntimeChoice, settings: PythonSettings, *, python: str | None,
                     wrap: WrapSettings, timeout: float | None) -> tuple[ModeRuntime, RuntimeChoice]:
        from wasmtool.run.modes import PyodideBundleRuntime

        return PyodideBundleRuntime(root, self.profile.name, default_timeout=timeout), choice
