"""The native target (``kind = "native"``): CPython on this kind of machine.

* lock: uv resolves (:mod:`wasmtool.targets.uv_lock`, ``--python-platform`` from the profile);
* install: every wheel is taken from the cache (or fetched) and its SHA-256 *and* BLAKE3 are
  checked against mochi.lock before anything touches the environment; then uv creates the
  project venv if needed and syncs it to exactly those files; then the packages are bound;
* runtime: ``embedded`` (this process) or ``subprocess`` (workers on the venv's
  interpreter), ``auto`` choosing (docs/runtime-modes.md);
* the bindings workspace is ``.mochi/python_workspace`` (where the released Mochi imports
  ``python_wrap`` from), and ``wasmtool exec`` runs commands in the project environment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wasmtool.context import Context, verified_artefact
from wasmtool.targets.base import Binder, BindResult, RuntimeChoice, TargetBackend, refuse_option
from wasmtool.targets.uv_lock import choose_wheels as choose_wheels
from wasmtool.targets.uv_lock import lock_uv as lock_uv

if TYPE_CHECKING:
    from wasmtool.project.manifest import PythonSettings
    from wasmtool.run.modes import ModeRuntime, WrapSettings

__all__ = ["NativeBackend", "NativeInstall", "choose_wheels", "install_native", "lock_uv"]

INSTALL_HINT = "run `wasmtool install`"
_STDLIB_PROBE = "import json, sys; print(json.dumps(sorted(sys.stdlib_module_names)))"


@dataclass(frozen=True)
class NativeInstall:
    """The project venv, synced to the lock (and the bindings made after it, if asked)."""

    target: str
    location: Path
    packages: tuple[str, ...]
    bindings: BindResult | None = None

    def lines(self) -> list[str]:
        return [f"installed {len(self.packages)} package(s) for {self.target} into {self.location}"]


def install_native(ctx: Context, target: str | None = None) -> NativeInstall:
    """Sync the project venv to the lock's entries for ``target`` (default: the native profile)."""
    from wasmtool.targets.profile import DEFAULT_TARGET, load_profile

    return NativeBackend(load_profile(target or DEFAULT_TARGET)).install_venv(ctx)


class NativeBackend(TargetBackend):
    """CPython on this kind of machine (see the module docstring)."""

    kind = "native"

    def workspace_dir(self, root: Path) -> Path:
        """``.mochi/python_workspace``: where the released Mochi imports ``python_wrap`` from."""
        return root / ".mochi" / "python_workspace"

    def stdlib_module_names(self, ctx: Context) -> frozenset[str]:
        """Asked from a CPython of the target's version found on this machine."""
        from wasmtool.install.interpreter import find_interpreter
        from wasmtool.tools import run_tool

        python = find_interpreter(self.python_version(ctx.project))
        out = run_tool("python", [python, "-I", "-S", "-c", _STDLIB_PROBE], timeout=60)
        return frozenset(json.loads(out.stdout))

    def install_venv(self, ctx: Context) -> NativeInstall:
        """Verify every locked wheel, then create the venv if needed and sync it to them."""
        from filelock import FileLock

        from wasmtool.install.interpreter import find_interpreter
        from wasmtool.lock.io import read_lock
        from wasmtool.resolve.uv import create_venv, sync_wheels
        from wasmtool.run.environment import venv_python

        target = self.profile.name
        lock = read_lock(ctx.lock_path)  # checked against the project by the caller, unless --frozen
        inputs = lock.inputs_for(target)
        packages = lock.for_target(target)
        # verify every artefact first: nothing is installed unless all of them are right
        wheels = [verified_artefact(ctx, p).path for p in packages]
        venv = ctx.venv_path
        venv.parent.mkdir(parents=True, exist_ok=True)
        # one writer per environment at a time (concurrent installs of one project)
        with FileLock(str(venv) + ".lock"):
            if not venv_python(venv).exists():
                python = find_interpreter(inputs.python_version if inputs else self.python_version(ctx.project))
                create_venv(venv, python=python)
            sync_wheels(venv, wheels)
        return NativeInstall(target, venv, tuple(f"{p.name}=={p.version}" for p in packages))

    def install(self, ctx: Context, binder: Binder, *, smoke: bool = False, bind: bool = True,
                runtime_url: str | None = None, per_package: bool = False,
                snapshot: bool = False) -> NativeInstall:
        """The venv (``smoke`` does not apply: the packages are imported where they run), then
        the bindings unless ``bind`` is false. A venv has no runtime to fetch, no components and
        no memory snapshot: ``runtime_url``, ``per_package`` and ``snapshot`` are refused."""
        del smoke
        if runtime_url is not None:
            refuse_option("--pyodide-url", "Pyodide targets", self.profile.name)
        if per_package:
            refuse_option("--per-package", "WASI targets", self.profile.name)
        if snapshot:
            refuse_option("--snapshot", "Pyodide targets", self.profile.name)
        outcome = self.install_venv(ctx)
        if not bind:
            return outcome
        return NativeInstall(outcome.target, outcome.location, outcome.packages, binder())

    # -- runtime -------------------------------------------------------------------------------------

    def choose_runtime(self, root: Path, settings: PythonSettings, *, mode: str | None,
                       python: str | None) -> RuntimeChoice:
        from wasmtool.run.errors import SessionConfigError
        from wasmtool.run.session import normalise_mode

        requested = normalise_mode(mode if mode is not None else settings.runtime_mode)
        source = (f"runtime mode {mode!r} requested" if mode is not None
                  else f'runtime-mode = "{settings.runtime_mode}" in mochi.toml')
        if requested == "auto":
            if python is not None:
                return RuntimeChoice("subprocess", f"worker interpreter {python} given", auto=True)
            from wasmtool.run.runtime_choice import choose_runtime, running_interpreter, venv_interpreter

            choice = choose_runtime(running_interpreter(), venv_interpreter(root / settings.venv))
            return RuntimeChoice(choice.mode, choice.reason, auto=True)
        if python is not None and requested != "subprocess":
            raise SessionConfigError("an interpreter can only be chosen in subprocess mode", field="python",
                                     hint="add --runtime subprocess (or runtime-mode = \"subprocess\")")
        return RuntimeChoice(requested, source)

    def open_runtime(self, root: Path, choice: RuntimeChoice, settings: PythonSettings, *, python: str | None,
                     wrap: WrapSettings, timeout: float | None) -> tuple[ModeRuntime, RuntimeChoice]:
        from wasmtool.run.errors import EmbeddedWorkspaceConflictError, InterpreterMismatchError
        from wasmtool.run.modes import EmbeddedRuntime, SubprocessWorkers

        workspace, venv = self.workspace_dir(root), root / settings.venv
        if choice.mode == "embedded" and choice.auto:
            # auto chose embedded: open it, or say why subprocess mode is used instead
            from wasmtool.run.embedded import embedded_site_packages, shadowed_modules

            try:
                shadowed = shadowed_modules(embedded_site_packages(venv))
                if not shadowed:
                    return EmbeddedRuntime(workspace, venv, wrap), choice
                why = (f"wasmtool has already imported its own {', '.join(shadowed)}, which would shadow "
                       "the project venv's")
            except InterpreterMismatchError as exc:
                why = exc.message
            except EmbeddedWorkspaceConflictError as exc:
                why = f"{exc.message} (one embedded workspace per process)"
            return (SubprocessWorkers.for_venv(root, workspace, venv, python, wrap),
                    RuntimeChoice("subprocess", why, auto=True))
        if choice.mode == "embedded":
            return EmbeddedRuntime(workspace, venv, wrap), choice
        return SubprocessWorkers.for_venv(root, workspace, venv, python, wrap), choice

    # -- exec ----------------------------------------------------------------------------------------

    def exec_environment(self, ctx: Context, base_env: Mapping[str, str]) -> dict[str, str]:
        """The project venv's ``bin`` first on ``PATH``, the workspace first on ``PYTHONPATH``
        (:func:`wasmtool.run.environment.project_environment`); both must exist."""
        from wasmtool.run.environment import project_environment, venv_python
        from wasmtool.run.errors import ProjectVenvError, WorkspaceMissingError

        venv: Path = ctx.venv_path
        python = venv_python(venv)
        if not python.exists():
            raise ProjectVenvError(f"the project venv has no Python interpreter: {python} is missing",
                                   file=str(venv), hint=INSTALL_HINT)
        workspace = self.workspace_dir(ctx.root)
        if not workspace.is_dir():
            raise WorkspaceMissingError(f"the bindings workspace is missing: {workspace}", file=str(workspace),
                                        hint=INSTALL_HINT + " (without --no-bind)")
        return project_environment(os.environ if base_env is None else base_env, venv, workspace)
