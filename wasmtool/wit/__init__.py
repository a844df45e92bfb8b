"""WASI Preview 2: derive a component's WIT world from a mapped surface, build it, check it.

- :func:`~wasmtool.wit.model.plan_surface` / :func:`~wasmtool.wit.render.render_package`:
  ``MappedSurface`` -> WIT package ``mochi:py-<dist>@<semver>`` (pure, deterministic), with the
  functions exported and the ``SkipTargetUnrepresentable`` reports of this target;
- :func:`~wasmtool.wit.validate.validate_wit`: the real parser (``wasm-tools component wit``);
- :func:`~wasmtool.wit.guest.render_app`: the componentize-py guest glue;
- :func:`~wasmtool.wit.build.build_component`: componentize-py build, cached by input hash;
- the runner is :class:`wasmtool.run.wasi.WasiComponentRuntime`.

Nothing here imports wasmtime or runs a tool at import time.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .build import BuiltComponent, build_app_component, build_component, build_stats
    from .errors import (
        ComponentBuildError,
        GuestPythonError,
        InstanceTrappedError,
        InvalidWitError,
        ToolMissingError,
        WitCallTimeoutError,
        WitError,
        WitMethodNotFoundError,
        WitValueError,
    )
    from .guest import render_app
    from .model import WitPlan, plan_surface
    from .render import PY_ERROR_WIT, RenderedWit, render_package, render_wit, write_wit_dir
    from .validate import validate_wit

#: Where each name lives: the package imports a submodule only when one of its names is
#: first used (PEP 562), so importing one submodule does not import them all (a fresh
#: process that only runs a component stays quick to start).
_WHERE = {
    "BuiltComponent": "build",
    "build_app_component": "build",
    "build_component": "build",
    "build_stats": "build",
    "ComponentBuildError": "errors",
    "GuestPythonError": "errors",
    "InstanceTrappedError": "errors",
    "InvalidWitError": "errors",
    "ToolMissingError": "errors",
    "WitCallTimeoutError": "errors",
    "WitError": "errors",
    "WitMethodNotFoundError": "errors",
    "WitValueError": "errors",
    "render_app": "guest",
    "WitPlan": "model",
    "plan_surface": "model",
    "PY_ERROR_WIT": "render",
    "RenderedWit": "render",
    "render_package": "render",
    "render_wit": "render",
    "write_wit_dir": "render",
    "validate_wit": "validate",
}

__all__ = [
    "PY_ERROR_WIT",
    "BuiltComponent",
    "ComponentBuildError",
    "GuestPythonError",
    "InstanceTrappedError",
    "InvalidWitError",
    "RenderedWit",
    "ToolMissingError",
    "WitCallTimeoutError",
    "WitError",
    "WitMethodNotFoundError",
    "WitPlan",
    "WitValueError",
    "build_app_component",
    "build_component",
    "build_stats",
    "plan_surface",
    "render_app",
    "render_package",
    "render_wit",
    "validate_wit",
    "write_wit_dir",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{where}", __name__), name)
    globals()[name] = value
    return value
