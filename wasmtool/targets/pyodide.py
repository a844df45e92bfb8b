"""The Pyodide targets (``kind = "pyodide"``: pyodide-314, pyodide-2025).

* lock: wasmtool's resolvelib provider (:mod:`wasmtool.targets.wasm_lock`) over the index
  and the distribution's own lock (``[runtime].distribution-lock``,
  ``node_modules/pyodide/pyodide-lock.json``), which this module finds and reads
  (:func:`load_distribution_lock`): a package it lists is pinned as it lists it;
* install (``wasmtool install --target=pyodide-314``): a self-contained, pre-solved bundle.
  From ``mochi.lock`` and the target's workspace:

  1. every index wheel comes from the verified cache (SHA-256 and BLAKE3 checked against
     the lock);
  2. the bindings (``_mochi_wrap.py`` + ``python_wrap/``) become one deterministic wheel,
     ``mochi_bindings-0-py3-none-any.whl``, depending on the bound packages;
  3. :func:`wasmtool.bundle.pyodide.build_bundle` writes ``.mochi/<target>/``: the wheels, a
     ``pyodide-lock.json`` (the distribution's lock plus the app's packages, with sha256),
     ``bundle.json``, the verifying loader and ``index.html``. micropip is never involved.

  Packages pinned from the distribution's own lock (``origin = "pyodide-lock"``) are served
  by the Pyodide CDN, which a bundle cannot include offline: install refuses them by name
  (``[python] pyodide-packages = "index-first"`` takes target builds from the index);
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
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from wasmtool.context import Context, verified_artefact
from wasmtool.lock.model import LockedPackage
from wasmtool.skips import SkipReason
from wasmtool.targets.base import Binder, BindResult, RuntimeChoice, TargetBackend
from wasmtool.targets.errors import DistributionPackageError, SmokeTestError
from wasmtool.targets.pinning import locked_for_target
from wasmtool.targets.profile import TargetProfile

if TYPE_CHECKING:
    from wasmtool.bundle.pyodide import BundleWheel
    from wasmtool.project.manifest import PythonSettings
    from wasmtool.resolve.wasm import DistributionLock
    from wasmtool.run.modes import ModeRuntime, WrapSettings
    from wasmtool.targets.stdlib import Stdlib

__all__ = ["BINDINGS_DIST", "PYODIDE_CDN", "PyodideBackend", "PyodideInstallOutcome", "bindings_wheel",
           "distribution_lock_for", "find_distribution_lock", "load_distribution_lock",
           "smoke_entries"]

#: The profile ``install_pyodide`` installs when none is named.
DEFAULT_PROFILE = "pyodide-314"
BINDINGS_DIST = "mochi-bindings"
_EPOCH = (1980, 1, 1, 0, 0, 0)
REPO_ROOT = Path(__file__).resolve().parent.parent.parent

PYODIDE_CDN = "https://cdn.jsdelivr.net/pyodide/v{version}/full/"
"""Where Pyodide loads distribution wheels from by default (``loadPyodide``'s ``cdnUrl``)."""


# -- the distribution lock -------------------------------------------------------------------------


def load_distribution_lock(path: Path, *, pyodide_version: str | None = None,
                           base_url: str | None = None) -> DistributionLock:
    """Read and validate ``pyodide-lock.json`` with the pyodide-lock models (via the bundle loader).

    The Pyodide version (for the CDN URL) is ``pyodide_version``, else the ``version`` of the
    ``package.json`` beside the lock (the npm package), else the lock's ``info.version``.
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
        base_url = PYODIDE_CDN.format(version=version)
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
class PyodideInstallOutcome:
    target: str
    bundle: Path
    packages: tuple[str, ...]
    bindings: BindResult | None = None      # the bindings ship inside the bundle, not beside it

    def lines(self) -> list[str]:
        return [f"bundled {len(self.packages)} package(s) for {self.target} into {self.bundle}"]


def bindings_wheel(workspace: Path, out_dir: Path, depends: list[str]) -> tuple[Path, str]:
    """A byte-stable py3-none-any wheel of the workspace's bindings; (path, sha256)."""
    files: dict[str, bytes] = {}
    for path in sorted(workspace.rglob("*")):
        rel = path.relative_to(workspace).as_posix()
        if path.is_file() and "__pycache__" not in path.parts and (
                rel == "_mochi_wrap.py" or rel.startswith("python_wrap/")):
            files[rel] = path.read_bytes()
    info = "mochi_bindings-0.dist-info"
    meta = "Metadata-Version: 2.1\nName: mochi-bindings\nVersion: 0\n" + "".join(
        f"Requires-Dist: {d}\n" for d in sorted(depends))
    files[f"{info}/METADATA"] = meta.encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: wasmtool\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/top_level.txt"] = b"_mochi_wrap\npython_wrap\n"
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


def _refuse_distribution_packages(ctx: Context, entries: Sequence[LockedPackage]) -> None:
    dist = sorted(p.name for p in entries if p.origin == "pyodide-lock")
    if dist:
        raise DistributionPackageError(
            f"{', '.join(dist)} {'is' if len(dist) == 1 else 'are'} pinned from the Pyodide distribution lock; "
            "its wheels are served by the Pyodide CDN and cannot be bundled here",
            package=dist[0], file=str(ctx.lock_path), field="origin",
            hint='set [python] pyodide-packages = "index-first" and re-lock with --upgrade to take target '
                 "builds from the index, or load the bundle where the CDN is reachable")


def _package_wheels(ctx: Context, entries: Sequence[LockedPackage]) -> list[BundleWheel]:
    from wasmtool.bundle.pyodide import BundleWheel

    wheels: list[BundleWheel] = []
    for p in sorted(entries, key=lambda e: e.name):
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

    _refuse_distribution_packages(ctx, entries)
    with tempfile.TemporaryDirectory(prefix="wasmtool-smoke-") as tmp:
        bundle = Path(tmp) / "bundle"
        build_bundle(bundle, dist_lock_path=dist_lock_path(), wheels=_package_wheels(ctx, entries))
        _raise_on_smoke_failures(bundle)


class PyodideBackend(TargetBackend):
    """Pyodide under Node or in a browser (see the module docstring)."""

    kind = "pyodide"
    unavailable_skip = SkipReason.SkipPyodideUnavailable

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
                     out_dir: Path | None = None) -> PyodideInstallOutcome:
        """Bind, then write the bundle (``.mochi/<target>/`` unless ``out_dir``)."""
        from wasmtool.bundle.pyodide import BundleWheel, build_bundle
        from wasmtool.run.pyodide import dist_lock_path

        entries = locked_for_target(ctx, self.profile.name)
        _refuse_distribution_packages(ctx, entries)
        outcome = binder()
        wheels = _package_wheels(ctx, entries)
        bound = [b.package.name for b in outcome.bound]
        wheel, sha = bindings_wheel(outcome.directory, ctx.root / ".mochi" / "build" / self.profile.name, bound)
        wheels.append(BundleWheel(wheel, BINDINGS_DIST, "0", sha,
                                  tuple(sorted(str(canonicalize_name(n)) for n in bound)),
                                  ("_mochi_wrap", "python_wrap")))
        bundle = out_dir or (ctx.root / ".mochi" / self.profile.name)
        build_bundle(bundle, dist_lock_path=dist_lock_path(), wheels=wheels)
        if smoke:
            _raise_on_smoke_failures(bundle)
        return PyodideInstallOutcome(self.profile.name, bundle, tuple(f"{p.name}=={p.version}" for p in entries))

    def install(self, ctx: Context, binder: Binder, *, smoke: bool = False,
                bind: bool = True) -> PyodideInstallOutcome:
        """The bundle; it always carries the bindings (``bind`` does not apply)."""
        del bind
        return self.write_bundle(ctx, binder, smoke=smoke)

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
