"""``wasmtool install --target=pyodide-314``: the Pyodide backend's bundle
(:mod:`wasmtool.targets.pyodide`, which defines everything re-exported here), bound first."""

from __future__ import annotations

from pathlib import Path

from wasmtool.context import Context
from wasmtool.targets.errors import DistributionPackageError as DistributionPackageError
from wasmtool.targets.errors import SmokeTestError as SmokeTestError
from wasmtool.targets.pyodide import BINDINGS_DIST as BINDINGS_DIST
from wasmtool.targets.pyodide import DEFAULT_PROFILE, PyodideBackend
from wasmtool.targets.pyodide import PyodideInstallOutcome as PyodideInstallOutcome
from wasmtool.targets.pyodide import bindings_wheel as bindings_wheel
from wasmtool.targets.pyodide import smoke_entries as smoke_entries

__all__ = ["BINDINGS_DIST", "PyodideInstallOutcome", "bindings_wheel", "install_pyodide", "smoke_entries"]


def install_pyodide(ctx: Context, target: str = DEFAULT_PROFILE, *, smoke: bool = False,
                    out_dir: Path | None = None) -> PyodideInstallOutcome:
    """Bind for ``target`` and write the bundle (``.mochi/<target>/`` unless ``out_dir``)."""
    from wasmtool.ops.bind import bind
    from wasmtool.targets.profile import load_profile

    backend = PyodideBackend(load_profile(target))
    return backend.write_bundle(ctx, lambda: bind(ctx, target=backend.name), smoke=smoke, out_dir=out_dir)
