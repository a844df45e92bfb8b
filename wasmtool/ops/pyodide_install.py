"""``wasmtool install --target=pyodide-314``: a self-contained, pre-solved Pyodide bundle.

From ``mochi.lock`` (target entries) and the generated workspace of the target:

1. every index wheel comes from the verified cache (SHA-256 and BLAKE3 checked against
   the lock);
2. the bindings (``_mochi_wrap.py`` + ``python_wrap/``) become one deterministic wheel,
   ``mochi_bindings-0-py3-none-any.whl``, depending on the bound packages;
3. :func:`wasmtool.bundle.pyodide.build_bundle` writes ``.mochi/<target>/``: the wheels, a
   ``pyodide-lock.json`` (the distribution's lock plus the app's packages, with sha256),
   ``bundle.json``, the verifying loader and ``index.html``. micropip is never involved.

Packages pinned from the distribution's own lock (``origin = "pyodide-lock"``) are served
by the Pyodide CDN, which a bundle cannot include offline: install refuses them by name
(``[python] pyodide-packages = "index-first"`` takes target builds from the index).
``smoke`` loads the bundle in Pyodide under Node and imports every package's top-level
modules, failing with the package and the Python error.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from wasmtool.lock.model import LockedPackage
from wasmtool.ops.context import Context
from wasmtool.ops.errors import DistributionPackageError as DistributionPackageError  # re-exported: defined here before
from wasmtool.ops.errors import SmokeTestError as SmokeTestError  # re-exported: defined here before
from wasmtool.targets.profile import load_profile

if TYPE_CHECKING:
    from wasmtool.bundle.pyodide import BundleWheel

__all__ = ["BINDINGS_DIST", "PyodideInstallOutcome", "bindings_wheel", "install_pyodide"]

BINDINGS_DIST = "mochi-bindings"
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class PyodideInstallOutcome:
    target: str
    bundle: Path
    packages: tuple[str, ...]


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


def _refuse_distribution_packages(ctx: Context, target: str, entries: list[LockedPackage]) -> None:
    dist = sorted(p.name for p in entries if p.origin == "pyodide-lock")
    if dist:
        raise DistributionPackageError(
            f"{', '.join(dist)} {'is' if len(dist) == 1 else 'are'} pinned from the Pyodide distribution lock; "
            "its wheels are served by the Pyodide CDN and cannot be bundled here",
            package=dist[0], file=str(ctx.lock_path), field="origin",
            hint='set [python] pyodide-packages = "index-first" and re-lock with --upgrade to take target '
                 "builds from the index, or load the bundle where the CDN is reachable")


def install_pyodide(ctx: Context, target: str = "pyodide-314", *, smoke: bool = False,
                    out_dir: Path | None = None) -> PyodideInstallOutcome:
    """Bind for ``target`` and write the bundle (``.mochi/<target>/`` unless ``out_dir``)."""
    from wasmtool.bundle.pyodide import BundleWheel, build_bundle
    from wasmtool.ops.bind import bind
    from wasmtool.ops.install import locked_for_target
    from wasmtool.run.pyodide import dist_lock_path

    profile = load_profile(target)
    entries = locked_for_target(ctx, profile.name)
    _refuse_distribution_packages(ctx, profile.name, entries)
    outcome = bind(ctx, target=profile.name)
    wheels = _package_wheels(ctx, entries)
    bound = [b.package.name for b in outcome.bound]
    wheel, sha = bindings_wheel(outcome.directory, ctx.root / ".mochi" / "build" / profile.name, bound)
    wheels.append(BundleWheel(wheel, BINDINGS_DIST, "0", sha, tuple(sorted(str(canonicalize_name(n))
                                                                          for n in bound)),
                              ("_mochi_wrap", "python_wrap")))
    bundle = out_dir or (ctx.root / ".mochi" / profile.name)
    build_bundle(bundle, dist_lock_path=dist_lock_path(), wheels=wheels)
    if smoke:
        _raise_on_smoke_failures(bundle)
    return PyodideInstallOutcome(profile.name, bundle, tuple(f"{p.name}=={p.version}" for p in entries))


def _package_wheels(ctx: Context, entries: list[LockedPackage]) -> list[BundleWheel]:
    from wasmtool.bundle.pyodide import BundleWheel
    from wasmtool.ops.install import verified_artefact

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


def smoke_entries(ctx: Context, entries: list[LockedPackage]) -> None:
    """Proof of installability before a lock is written: bundle the entries' wheels in a
    temporary folder, load them in Pyodide under Node and import every top-level module."""
    import tempfile

    from wasmtool.bundle.pyodide import build_bundle
    from wasmtool.run.pyodide import dist_lock_path

    _refuse_distribution_packages(ctx, entries[0].target if entries else "", entries)
    with tempfile.TemporaryDirectory(prefix="wasmtool-smoke-") as tmp:
        bundle = Path(tmp) / "bundle"
        build_bundle(bundle, dist_lock_path=dist_lock_path(), wheels=_package_wheels(ctx, entries))
        _raise_on_smoke_failures(bundle)
