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
