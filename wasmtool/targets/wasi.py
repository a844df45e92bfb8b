"""The WASI Preview 2 target (``kind = "wasi"``: wasi-p2), built with componentize-py and run
under wasmtime.

* platform facts: the guest is the CPython that the pinned componentize-py embeds (3.14),
  whatever the host runs; its standard library is read from componentize-py itself
  (:func:`wasmtool.wit.guest_python.guest_stdlib`); Python callables do not cross (a WIT
  world has no function values);
* lock: wasmtool's resolvelib provider over the index (pure and ``wasi_0_0_0_wasm32`` wheels);
* install (``wasmtool install --target=wasi-p2``): one component per bound package. For each
  alias bound for the target (the wasi-p2 surface: no callables), the generated wrapper and
  ``_mochi_wrap.py`` are staged flat (the guest imports ``<pkg>_externs`` as a top-level
  module), and :func:`wasmtool.wit.build.build_component` builds the component with
  componentize-py from the locked pure wheels of that package's dependency closure (verified
  from the cache). Builds are cached by input hash, so a second install with unchanged inputs
  builds nothing; ``.mochi/wasi-p2/<alias>/`` then holds ``component.wasm``, its WIT and
  ``build.json``.

  A package none of whose functions has a WIT form (everything takes or returns ``Any``,
  handles or callables: ``tomli.loads -> dict[str, Any]``) gets no component; it is reported
  in :attr:`WasiInstallOutcome.skipped` with the count of skipped functions, and any stale
  component of it is removed. Only when no bound package has a component does install fail
  (WT830);
* runtime: each alias's component under wasmtime.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wasmtool.context import Context, verified_artefact
from wasmtool.lock.model import LockedPackage
from wasmtool.skips import SkipReason
from wasmtool.targets.base import Binder, BindResult, RuntimeChoice, TargetBackend
from wasmtool.targets.errors import WasiInstallError
from wasmtool.targets.pinning import locked_for_target

if TYPE_CHECKING:
    from wasmtool.project.manifest import PythonSettings
    from wasmtool.run.modes import ModeRuntime, WrapSettings
    from wasmtool.targets.stdlib import Stdlib
    from wasmtool.wit.build import BuiltComponent
    from wasmtool.wit.errors import ComponentBuildError

__all__ = ["SkippedAlias", "WasiBackend", "WasiComponentInfo", "WasiInstallOutcome", "dependency_closure"]


@dataclass(frozen=True)
class WasiComponentInfo:
    alias: str
    path: Path                   # .mochi/<target>/<alias>/component.wasm
    built: BuiltComponent        # the cached build (what WasiComponentRuntime runs)
    externs_module: str


@dataclass(frozen=True)
class SkippedAlias:
    alias: str
    dist: str
    skipped_functions: int       # functions with no WIT form (SkipTargetUnrepresentable and others)


@dataclass(frozen=True)
class WasiInstallOutcome:
    target: str
    components: tuple[WasiComponentInfo, ...]
    skipped: tuple[SkippedAlias, ...] = ()
    bindings: BindResult | None = None      # the components are built from the bindings

    def lines(self) -> list[str]:
        out = [f"component {c.alias}: {c.path} ({'cached' if c.built.from_cache else 'built'})"
               for c in self.components]
        out += [f"no component for {sk.alias} ({sk.dist}): none of its functions has a WIT form "
                f"({sk.skipped_functions} skipped; `wasmtool surface {sk.dist} --target={self.target}`)"
                for sk in self.skipped]
        return out


def _failure_summary(exc: ComponentBuildError) -> str:
    """The Python error that stopped componentize-py (its last ``XxxError: ...`` line)."""
    lines = [ln.strip() for ln in exc.output_tail.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.split(":", 1)[0].endswith(("Error", "Exception"))]
    return errors[-1] if errors else (lines[-1] if lines else f"componentize-py exited {exc.returncode}")


def dependency_closure(entries: Sequence[LockedPackage], root: str) -> list[LockedPackage]:
    """``root`` and every locked package it depends on, transitively, sorted by name."""
    from packaging.utils import canonicalize_name

    by_name = {str(canonicalize_name(e.name)): e for e in entries}
    todo, seen = [str(canonicalize_name(root))], set[str]()
    while todo:
        name = todo.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        todo.extend(by_name[name].dependency_names)
    return sorted((by_name[n] for n in seen), key=lambda e: e.name)


def _stage(workspace: Path, alias: str, pkg_module: str, stage: Path) -> None:
    """The guest's view: ``_mochi_wrap.py`` and ``<pkg>_externs.py`` side by side (byte copies)."""
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    shutil.copyfile(workspace / "_mochi_wrap.py", stage / "_mochi_wrap.py")
    shutil.copyfile(workspace / "python_wrap" / alias / f"{pkg_module}.py", stage / f"{pkg_module}.py")


def _publish(comp: BuiltComponent, out: Path, module: str) -> None:
    """Copy a cached build into ``.mochi/<target>/<alias>/`` (unchanged files are left alone)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("component.wasm", "build.json", "plan.json"):
        src = comp.directory / name
        if src.is_file() and (not (out / name).is_file() or (out / name).read_bytes() != src.read_bytes()):
            shutil.copyfile(src, out / name)
    for stale in out.glob("component-*.cwasm"):
        if not stale.name.startswith(f"component-{comp.input_hash[:16]}-"):
            stale.unlink()          # compiled from an earlier build
    if (comp.directory / "wit").is_dir():
        shutil.copytree(comp.directory / "wit", out / "wit", dirs_exist_ok=True)
    (out / "externs.json").write_text(json.dumps({"module": module, "cache": str(comp.directory)},
                                                 indent=1, sort_keys=True) + "\n")


class WasiBackend(TargetBackend):
    """WASI Preview 2 components (see the module docstring)."""

    kind = "wasi"
    unavailable_skip = SkipReason.SkipWasiUnavailable

    def guest_stdlib(self) -> Stdlib:
        """The guest CPython's standard library, from the pinned componentize-py."""
        from wasmtool.wit.guest_python import guest_stdlib

        return guest_stdlib()

    def stdlib_module_names(self, ctx: Context) -> frozenset[str]:
        return self.guest_stdlib().module_names

    def partial_stdlib(self) -> Stdlib | None:
        """The guest CPython's standard library (no ``_ssl``, no threads)."""
        try:
            return self.guest_stdlib()
        except (OSError, ValueError):
            return None

    def install(self, ctx: Context, binder: Binder, *, smoke: bool = False, bind: bool = True,
                runtime_url: str | None = None) -> WasiInstallOutcome:
        """One component per bound package; binding is part of it (``bind`` and ``smoke`` do not
        apply; ``runtime_url`` is refused: a component fetches no runtime)."""
        if runtime_url is not None:
            from wasmtool.errors import UsageError

            raise UsageError(f"--pyodide-url applies to Pyodide targets, not to {self.profile.name}",
                             field="--pyodide-url")
        from wasmtool.synth.workspace import externs_module
        from wasmtool.wit.build import build_component
        from wasmtool.wit.errors import ComponentBuildError
        from wasmtool.wit.render import render_package

        del smoke, bind
        name = self.profile.name
        entries = locked_for_target(ctx, name)
        outcome = binder()
        stdlib = self.guest_stdlib()
        built: list[WasiComponentInfo] = []
        skipped: list[SkippedAlias] = []
        failed: list[tuple[str, str, ComponentBuildError]] = []
        for b in outcome.bound:
            out = ctx.root / ".mochi" / name / b.surface.alias
            plan = render_package(b.surface, target=name).plan
            if not plan.interfaces:
                skipped.append(SkippedAlias(b.surface.alias, b.surface.dist, len(plan.skips) + len(b.surface.skips)))
                if out.exists():
                    shutil.rmtree(out)
                continue
            wheels = [verified_artefact(ctx, p).path for p in dependency_closure(entries, b.package.name)]
            module = externs_module(b.surface).rsplit(".", 1)[-1]
            stage = ctx.root / ".mochi" / "build" / name / b.surface.alias
            _stage(outcome.directory, b.surface.alias, module, stage)
            try:
                comp = build_component(b.surface, externs_dir=stage, wheels=wheels, cache_dir=ctx.cache.root,
                                       externs_module=module, stdlib=stdlib, target=name)
            except ComponentBuildError as exc:     # build the others, then report every failure
                failed.append((b.surface.alias, b.surface.dist, exc))
                if out.exists():
                    shutil.rmtree(out)
                continue
            _publish(comp, out, module)
            built.append(WasiComponentInfo(b.surface.alias, out / "component.wasm", comp, module))
        if failed:
            raise WasiInstallError(
                f"{len(failed)} component(s) failed to build for {name} "
                f"({len(built)} built): "
                + "; ".join(f"{alias} ({dist}): {_failure_summary(exc)}" for alias, dist, exc in failed),
                package=failed[0][1],
                hint="the package imports something WASI's CPython lacks (ssl, sockets, threads, a C extension); "
                     "drop it from this target or use a pure-Python alternative")
        if not built:
            raise WasiInstallError(
                f"no bound package has a function that can be exported on {name} "
                f"({', '.join(f'{s.alias}: {s.skipped_functions} skipped' for s in skipped) or 'nothing is bound'})",
                file=str(ctx.root / "mochi.toml"),
                hint=f"`wasmtool surface <pkg> --target={name}` lists the skips and their reasons")
        return WasiInstallOutcome(name, tuple(built), tuple(skipped))

    def choose_runtime(self, root: Path, settings: PythonSettings, *, mode: str | None,
                       python: str | None) -> RuntimeChoice:
        from wasmtool.run.errors import SessionConfigError

        if (mode is not None and mode != "auto") or python is not None:
            raise SessionConfigError(
                f"--runtime / python apply to native targets; {self.profile.name} runs under wasmtime",
                field="runtime-mode" if mode is not None else "python")
        return RuntimeChoice("component", f"{self.profile.name} runs its component under wasmtime")

    def open_runtime(self, root: Path, choice: RuntimeChoice, settings: PythonSettings, *, python: str | None,
                     wrap: WrapSettings, timeout: float | None) -> tuple[ModeRuntime, RuntimeChoice]:
        from wasmtool.run.modes import ComponentRuntimes

        return ComponentRuntimes(root, self.profile.name), choice
