"""``wasmtool install --target=wasi-p2``: one WASI Preview 2 component per bound package.

For each alias bound for the target (``wasmtool bind`` with the wasi-p2 surface: no
callables), the generated wrapper and ``_mochi_wrap.py`` are staged flat (the guest imports
``<pkg>_externs`` as a top-level module), and :func:`wasmtool.wit.build.build_component`
builds the component with componentize-py from the locked pure wheels of that package's
dependency closure (verified from the cache). Builds are cached by input hash, so a second
install with unchanged inputs builds nothing; ``.mochi/wasi-p2/<alias>/`` then holds
``component.wasm``, its WIT and ``build.json``.

A package none of whose functions has a WIT form (everything takes or returns ``Any``,
handles or callables: ``tomli.loads -> dict[str, Any]``) gets no component; it is reported
in :attr:`WasiInstallOutcome.skipped` with the count of skipped functions, and any stale
component of it is removed. Only when no bound package has a component does install fail
(WT830).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wasmtool.ops.context import Context
from wasmtool.ops.errors import WasiInstallError as WasiInstallError  # re-exported: defined here before
from wasmtool.targets.profile import load_profile
from wasmtool.wit.errors import ComponentBuildError

if TYPE_CHECKING:
    from wasmtool.lock.model import LockedPackage
    from wasmtool.wit.build import BuiltComponent

__all__ = ["WasiInstallOutcome", "install_wasi"]


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


def install_wasi(ctx: Context, target: str = "wasi-p2") -> WasiInstallOutcome:
    from wasmtool.ops.bind import bind
    from wasmtool.ops.install import locked_for_target, verified_artefact
    from wasmtool.synth.workspace import externs_module
    from wasmtool.wit.build import build_component
    from wasmtool.wit.render import render_package

    profile = load_profile(target)
    entries = locked_for_target(ctx, profile.name)
    outcome = bind(ctx, target=profile.name)
    built: list[WasiComponentInfo] = []
    skipped: list[SkippedAlias] = []
    failed: list[tuple[str, str, ComponentBuildError]] = []
    for b in outcome.bound:
        out = ctx.root / ".mochi" / profile.name / b.surface.alias
        plan = render_package(b.surface).plan
        if not plan.interfaces:
            skipped.append(SkippedAlias(b.surface.alias, b.surface.dist, len(plan.skips) + len(b.surface.skips)))
            if out.exists():
                shutil.rmtree(out)
            continue
        wheels = [verified_artefact(ctx, p).path for p in dependency_closure(entries, b.package.name)]
        module = externs_module(b.surface).rsplit(".", 1)[-1]
        stage = ctx.root / ".mochi" / "build" / profile.name / b.surface.alias
        _stage(outcome.directory, b.surface.alias, module, stage)
        try:
            comp = build_component(b.surface, externs_dir=stage, wheels=wheels, cache_dir=ctx.cache.root,
                                   externs_module=module)
        except ComponentBuildError as exc:     # build the others, then report every failure
            failed.append((b.surface.alias, b.surface.dist, exc))
            if out.exists():
                shutil.rmtree(out)
            continue
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
        built.append(WasiComponentInfo(b.surface.alias, out / "component.wasm", comp, module))
    if failed:
        raise WasiInstallError(
            f"{len(failed)} component(s) failed to build for {profile.name} "
            f"({len(built)} built): "
            + "; ".join(f"{alias} ({dist}): {_failure_summary(exc)}" for alias, dist, exc in failed),
            package=failed[0][1],
            hint="the package imports something WASI's CPython lacks (ssl, sockets, threads, a C extension); "
                 "drop it from this target or use a pure-Python alternative")
    if not built:
        raise WasiInstallError(
            f"no bound package has a function that can be exported on {profile.name} "
            f"({', '.join(f'{s.alias}: {s.skipped_functions} skipped' for s in skipped) or 'nothing is bound'})",
            file=str(ctx.root / "mochi.toml"),
            hint=f"`wasmtool surface <pkg> --target={profile.name}` lists the skips and their reasons")
    return WasiInstallOutcome(profile.name, tuple(built), tuple(skipped))
