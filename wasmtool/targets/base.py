"""The target backend's contract: :class:`TargetBackend` and what it is given and gives back.

Like micropip's ``CompatibilityLayer`` (one small abstract class, one implementation per
platform), a :class:`TargetBackend` is found from the profile
(:func:`wasmtool.targets.backend.backend_for`) and owns everything that differs between kinds:

* **platform facts**: ``sys.platform``, the interpreter version, the standard-library
  module list of the TARGET interpreter (never the host's), whether Python callables cross
  the boundary, where the bindings workspace lives;
* **lock**: the profile's resolver: uv (native, :mod:`wasmtool.targets.uv_lock`) or
  wasmtool's resolvelib provider (Pyodide and WASI, :mod:`wasmtool.targets.wasm_lock`), with
  the target's distribution lock when it has one (Pyodide);
* **install** (a venv, a Pyodide bundle, WASI components) and the **smoke test** a lock can
  ask for before it is written;
* **runtime**: which :class:`~wasmtool.run.modes.ModeRuntime` a session calls through.

The CLI and :mod:`wasmtool.ops` call the backend; no code outside ``wasmtool/targets/``
compares a profile's kind or a target name (``tests/test_architecture.py``). Backends sit
above ``resolve``, ``install``, ``bundle``, ``wit`` and ``run`` and below ``ops``:
operations a backend needs from above (binding, for an install) are passed in
(:data:`Binder`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, NoReturn, Protocol

from packaging.specifiers import SpecifierSet

from wasmtool.context import Context
from wasmtool.lock.model import LockedPackage, TargetInputs
from wasmtool.project.errors import ManifestError
from wasmtool.project.model import Project
from wasmtool.skips import SkipReason
from wasmtool.targets.errors import TargetNotLockableError
from wasmtool.targets.profile import TargetProfile, load_profile

if TYPE_CHECKING:
    from wasmtool.project.manifest import PythonSettings
    from wasmtool.resolve.wasm import DistributionLock
    from wasmtool.run.modes import ModeRuntime, RuntimeMode, WrapSettings
    from wasmtool.run.session import Session
    from wasmtool.targets.stdlib import Stdlib
    from wasmtool.typemap.surface import MappedSurface

__all__ = ["BindResult", "Binder", "BoundLike", "InstallReport", "RuntimeChoice", "TargetBackend"]


# -- what a backend is given and gives back ------------------------------------------------------


class BoundLike(Protocol):
    """One bound package of a :class:`BindResult` (``wasmtool.ops.bind.BoundPackage``)."""

    @property
    def package(self) -> LockedPackage: ...

    @property
    def surface(self) -> MappedSurface: ...

    @property
    def alias(self) -> str: ...

    @property
    def tier(self) -> str: ...

    @property
    def externs(self) -> int: ...

    @property
    def skipped(self) -> int: ...


class BindResult(Protocol):
    """What an install reads of ``wasmtool bind``'s outcome (``wasmtool.ops.bind.BindOutcome``)."""

    @property
    def directory(self) -> Path: ...

    @property
    def bound(self) -> Sequence[BoundLike]: ...

    @property
    def changed(self) -> Sequence[Path]: ...


#: Binds the target's packages (``wasmtool.ops.bind.bind`` for this target), for installs that
#: ship or follow the bindings.
Binder = Callable[[], BindResult]


class InstallReport(Protocol):
    """What every install returns: its target, the lines the CLI prints, and the bindings it
    made afterwards when it was asked to (``None`` when the install itself carries them)."""

    @property
    def target(self) -> str: ...

    @property
    def bindings(self) -> BindResult | None: ...

    def lines(self) -> list[str]: ...


@dataclass(frozen=True)
class RuntimeChoice:
    """The runtime mode a session uses, and why (``wasmtool call -v`` prints the reason)."""

    mode: RuntimeMode
    reason: str
    auto: bool = False


# -- the backend -----------------------------------------------------------------------------------


class TargetBackend(ABC):
    """What one kind of target does (see the module docstring). One instance per profile."""

    #: The profile ``kind`` this backend serves.
    kind: ClassVar[str]

    def __init__(self, profile: TargetProfile) -> None:
        self.profile = profile

    @property
    def name(self) -> str:
        return self.profile.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.profile.name}>"

    # -- platform facts ------------------------------------------------------------------------------

    @property
    def sys_platform(self) -> str:
        """``sys.platform`` on the target (``linux``, ``emscripten``, ``wasi``): what stubs'
        ``sys.platform`` conditions are evaluated against."""
        return self.profile.sys_platform

    @property
    def callables_cross(self) -> bool:
        """Whether Python callables can cross the boundary (the profile's ``callables``)."""
        return self.profile.callables

    def python_version(self, project: Project) -> str:
        """The target interpreter's ``X.Y``: the profile's, else ``[python].python-version``,
        else the lowest version ``requires-python`` admits (3.X from 3.8 up)."""
        if self.profile.python_version:
            return self.profile.python_version
        settings = project.manifest.python
        if settings.python_version:
            return settings.python_version
        spec = SpecifierSet(settings.requires_python)
        for minor in range(8, 20):
            if f"3.{minor}.0" in spec or f"3.{minor}" in spec:
                return f"3.{minor}"
        raise ManifestError([f"python.requires-python: {settings.requires_python!r} admits no CPython 3.8-3.19, "
                             f"so the interpreter of target {self.profile.name} is unknown; set "
                             "[python].python-version"], file=project.manifest.file)

    @abstractmethod
    def stdlib_module_names(self, ctx: Context) -> frozenset[str]:
        """The target interpreter's ``sys.stdlib_module_names`` (read from the target, not the host)."""

    #: The skip reason of what this target's interpreter cannot import (a submodule that needs a
    #: standard-library module the target lacks).
    unavailable_skip: SkipReason = SkipReason.SkipImportTimeError

    def partial_stdlib(self) -> Stdlib | None:
        """The target interpreter's standard library with its sources, when it may lack modules
        a package imports (``bind`` then skips the submodules that need them on this target);
        ``None`` for a complete CPython, or when it cannot be read (nothing is skipped then)."""
        return None

    #: Whether ``bind`` also writes ``python_wrap/<alias>/<alias>.d.ts`` per alias, the TypeScript
    #: types of its methods for JavaScript callers (``runtime/pyodide/bindings.mjs``, docs/typescript.md).
    typescript_declarations: ClassVar[bool] = False

    def workspace_dir(self, root: Path) -> Path:
        """Where ``wasmtool bind`` writes this target's workspace: ``.mochi/python_workspace-<target>``."""
        return root / ".mochi" / f"python_workspace-{self.profile.name}"

    # -- lock ----------------------------------------------------------------------------------------

    def current_inputs(self, ctx: Context) -> TargetInputs:
        """What the target would be locked from now (requirements, interpreter, index)."""
        return self.with_tag_policy(ctx, TargetInputs(self.profile.name, self.python_version(ctx.project),
                                                      tuple(ctx.project.to_pep508()), ctx.index.primary))

    def with_tag_policy(self, ctx: Context, inputs: TargetInputs) -> TargetInputs:
        """``inputs`` recording the project's ``abi-tag-policy`` (when not the default) and
        ``free-threaded``, on a target resolved with uv (native: where both choose the wheel; a
        WebAssembly runtime accepts exactly one ABI and has no free-threaded build): changing
        either changes the lock (docs/audit.md)."""
        if self.profile.resolver != "uv":
            return inputs
        py = ctx.project.manifest.python
        policy = "" if py.abi_tag_policy == "both" else py.abi_tag_policy
        return replace(inputs, abi_tag_policy=policy, freethread_status="free-threaded" if py.free_threaded else "")

    def lock(self, ctx: Context, *, preferences: str | None) -> tuple[TargetInputs, list[LockedPackage]]:
        """Resolve and pin the project for this target with the profile's ``resolver`` (uv:
        :mod:`wasmtool.targets.uv_lock`; resolvelib: :mod:`wasmtool.targets.wasm_lock`, with
        the target's :meth:`distribution_lock`); ``preferences`` is the target's current
        pylock text (pins kept while they still fit)."""
        python_version = self.python_version(ctx.project)
        if self.profile.resolver == "uv":
            from wasmtool.targets.uv_lock import lock_uv

            inputs, packages = lock_uv(ctx, self.profile, preferences=preferences, python_version=python_version)
            return self.with_tag_policy(ctx, inputs), packages
        if self.profile.resolver == "resolvelib":
            from wasmtool.targets.wasm_lock import lock_resolvelib

            inputs, packages = lock_resolvelib(ctx, self.profile, preferences=preferences,
                                               python_version=python_version, dist_lock=self.distribution_lock(ctx))
            return self.with_tag_policy(ctx, inputs), packages
        raise TargetNotLockableError(
            f"target {self.profile.name} needs the {self.profile.resolver} resolver, which this wasmtool does not "
            "ship yet", field="target", hint="lock the native target, or use a wasmtool release with wasm resolution")

    def distribution_lock(self, ctx: Context) -> DistributionLock | None:
        """The lock of the target's own distribution, whose packages are pinned as it lists
        them (none by default)."""
        del ctx
        return None

    def smoke(self, ctx: Context, entries: Sequence[LockedPackage]) -> None:
        """Prove ``entries`` installable before a lock is written (``lock --smoke``). Only
        targets that can load packages without installing them do anything here."""
        del ctx, entries

    # -- install -------------------------------------------------------------------------------------

    @abstractmethod
    def install(self, ctx: Context, binder: Binder, *, smoke: bool = False, bind: bool = True,
                runtime_url: str | None = None, per_package: bool = False,
                snapshot: bool = False) -> InstallReport:
        """Install the locked packages for this target (verified against mochi.lock).
        ``bind``: also bind where binding is not part of the install itself; ``smoke``: load
        the result and import every package, where the target can; ``runtime_url``
        (``--pyodide-url``): where the installed result loads its runtime from instead of a
        copy of its own, for targets whose result carries one; ``per_package``
        (``--per-package``): one component per bound package, for component targets;
        ``snapshot`` (``--snapshot``): a memory snapshot in the bundle, for Pyodide targets.
        A backend refuses (:func:`refuse_option`) an option that does not apply to it."""

    # -- run -----------------------------------------------------------------------------------------

    @abstractmethod
    def choose_runtime(self, root: Path, settings: PythonSettings, *, mode: str | None,
                       python: str | None) -> RuntimeChoice:
        """The runtime mode a session on ``root`` uses (``mode`` / ``python`` as given, else
        the project's ``[python]`` settings)."""

    @abstractmethod
    def open_runtime(self, root: Path, choice: RuntimeChoice, settings: PythonSettings, *, python: str | None,
                     wrap: WrapSettings, timeout: float | None) -> tuple[ModeRuntime, RuntimeChoice]:
        """Open the runtime ``choice`` names (a venv leased, workers staged, a bundle found);
        returns it with the choice it stands for (``auto`` may fall back to another mode)."""

    def open_session(self, root: Path, *, mode: str | None = None, python: str | None = None,
                     async_mode: str | None = None, timeout: float | None = None) -> Session:
        """A session on the bound project at ``root`` (see :func:`wasmtool.ops.session.open_session`)."""
        from wasmtool.project.manifest import load_manifest
        from wasmtool.run.modes import WrapSettings
        from wasmtool.run.session import Session, check_timeout, normalise_async_mode
        from wasmtool.run.workspace import load_aliases

        root = Path(root).resolve()
        settings = load_manifest(root / "mochi.toml").python
        seconds = check_timeout(timeout)
        choice = self.choose_runtime(root, settings, mode=mode, python=python)
        async_ = normalise_async_mode(async_mode if async_mode is not None else settings.async_mode)
        workspace = self.workspace_dir(root)
        configured = settings.target
        same = configured == self.profile.name or load_profile(configured).name == self.profile.name
        aliases = load_aliases(workspace, install_command="wasmtool install" if same
                               else f"wasmtool install --target={self.profile.name}")
        wrap = WrapSettings(async_, seconds, settings.int_mode, settings.strict_return_types)
        runtime, used = self.open_runtime(root, choice, settings, python=python, wrap=wrap, timeout=seconds)
        try:
            return Session(root, target=self.profile.name, workspace=workspace, aliases=aliases, runtime=runtime,
                           async_mode=async_, timeout=seconds, mode_reason=used.reason, auto=used.auto)
        except BaseException:
            runtime.close()
            raise

    def exec_environment(self, ctx: Context, base_env: Mapping[str, str]) -> dict[str, str]:
        """The environment ``wasmtool exec`` runs a command in. Only targets whose programs run
        on this machine's interpreter have one."""
        from wasmtool.errors import UsageError

        del ctx, base_env
        raise UsageError(f"exec runs commands for native targets only, not {self.profile.name} ({self.profile.kind})",
                         field="--target", hint="use `wasmtool call` / `wasmtool run` for other targets")


def refuse_option(flag: str, applies_to: str, target: str) -> NoReturn:
    """The usage error for an install option ``flag`` given to a target it does not apply to."""
    from wasmtool.errors import UsageError

    raise UsageError(f"{flag} applies to {applies_to}, not to {target}", field=flag)
