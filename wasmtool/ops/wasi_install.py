"""``wasmtool install --target=wasi-p2``: the WASI backend's components
(:mod:`wasmtool.targets.wasi`, which defines everything re-exported here), bound first."""

from __future__ import annotations

from wasmtool.context import Context
from wasmtool.targets.errors import WasiInstallError as WasiInstallError
from wasmtool.targets.profile import COMPONENT_TARGET, load_profile
from wasmtool.targets.wasi import ProjectComponentInfo as ProjectComponentInfo
from wasmtool.targets.wasi import SkippedAlias as SkippedAlias
from wasmtool.targets.wasi import WasiBackend
from wasmtool.targets.wasi import WasiComponentInfo as WasiComponentInfo
from wasmtool.targets.wasi import WasiInstallOutcome as WasiInstallOutcome
from wasmtool.targets.wasi import dependency_closure as dependency_closure

__all__ = ["WasiInstallOutcome", "install_wasi"]


def install_wasi(ctx: Context, target: str = COMPONENT_TARGET, *, per_package: bool = False) -> WasiInstallOutcome:
    """Bind for ``target`` and build the project's component (with ``per_package``: one
    component per bound package)."""
    from wasmtool.ops.bind import bind

    backend = WasiBackend(load_profile(target))
    return backend.install(ctx, lambda: bind(ctx, target=backend.name), per_package=per_package)
