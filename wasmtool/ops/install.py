"""``wasmtool install``: put exactly the locked, verified wheels into the target's place.

The target's backend decides what that place is and whether the bindings are part of it
(:meth:`wasmtool.targets.base.TargetBackend.install`): the native project venv (bound
afterwards unless ``--no-bind``), a Pyodide bundle, WASI components. This module gives the
backend the one thing it cannot reach itself, ``wasmtool bind`` for the target.
"""

from __future__ import annotations

from wasmtool.context import Context
from wasmtool.context import verified_artefact as verified_artefact  # re-exported: defined here before
from wasmtool.targets.backend import InstallReport, backend_named
from wasmtool.targets.native import NativeInstall as InstallOutcome  # re-exported: defined here before
from wasmtool.targets.native import install_native as install_native  # re-exported: defined here before
from wasmtool.targets.pinning import check_inputs_current as check_inputs_current  # re-exported
from wasmtool.targets.pinning import locked_for_target as locked_for_target  # re-exported: defined here before

__all__ = ["InstallOutcome", "install", "install_native", "verified_artefact"]


def install(ctx: Context, target: str | None = None, *, smoke: bool = False, bind: bool = True) -> InstallReport:
    """Install the locked packages for ``target`` (default ``[python].target``) with its backend."""
    from wasmtool.ops.bind import bind as bind_op

    backend = backend_named(target or ctx.project.manifest.python.target)
    return backend.install(ctx, lambda: bind_op(ctx, target=backend.name), smoke=smoke, bind=bind)
