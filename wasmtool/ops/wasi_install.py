"""``wasmtool install --target=wasi-p2``: one WASI Preview 2 component per bound package.

For each alias bound for the target (``wasmtool bind`` with the wasi-p2 surface: no
callables), the generated wrapper and ``_mochi_wrap.py`` are staged flat (the guest imports
``<pkg>_externs`` as a top-level module), and :func:`wasmtool.wit.build.build_component`
builds the component with componentize-py from the locked pure wheels (verified from the
cache). Builds are cached by input hash, so a second install with unchanged inputs builds
nothing; ``.mochi/wasi-p2/<alias>/`` then holds ``component.wasm``, its WIT and
``build.json``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wasmtool.errors import TargetError
from wasmtool.lock.io import read_lock
from wasmtool.ops.context import Context
from wasmtool.targets.profile import load_profile

if TYPE_CHECKING:
    from wasmtool.wit.build import BuiltComponent

__all__ = ["WasiInstallOutcome", "install_wasi"]


class WasiInstallError(TargetError):
    code = "WT830"


@dataclass(frozen=True)
class WasiComponentInfo:
    alias: str
    path: Path                   # .mochi/<target>/<alias>/component.wasm
    built: BuiltComponent        # the cached build (what WasiComponentRuntime runs)
    externs_module: str


@dataclass(frozen=True)
class WasiInstallOutcome:
    target: str
    components: tuple[WasiComponentInfo, ...]


def _stage(workspace: Path, alias: str, pkg_module: str, stage: Path) -> None:
    """The guest's view: ``_mochi_wrap.py`` and ``<pkg>_externs.py`` side by side (byte copies)."""
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    shutil.copyfile(workspace / "_mochi_wrap.py", stage / "_mochi_wrap.py")
    shutil.copyfile(workspace / "python_wrap" / alias / f"{pkg_module}.py", stage / f"{pkg_module}.py")


def install_wasi(ctx: Context, target: str = "wasi-p2") -> WasiInstallOutcome:
    from wasmtool.ops.bind import bind
    from wasmtool.ops.install import verified_artefact
    from wasmtool.synth.workspace import externs_module
    from wasmtool.wit.build import build_component

    profile = load_profile(target)
    lock = read_lock(ctx.lock_path)
    entries = list(lock.for_target(profile.name))
    if not entries:
        raise WasiInstallError(f"mochi.lock has no entries for target {profile.name}", file=str(ctx.lock_path),
                               hint=f"run `wasmtool lock --target={profile.name}`")
    wheels = [verified_artefact(ctx, p).path for p in sorted(entries, key=lambda e: e.name)]
    outcome = bind(ctx, target=profile.name)
    built: list[WasiComponentInfo] = []
    for b in outcome.bound:
        module = externs_module(b.surface).rsplit(".", 1)[-1]
        stage = ctx.root / ".mochi" / "build" / profile.name / b.surface.alias
        _stage(outcome.directory, b.surface.alias, module, stage)
        comp = build_component(b.surface, externs_dir=stage, wheels=wheels, cache_dir=ctx.cache.root,
                               externs_module=module)
        out = ctx.root / ".mochi" / profile.name / b.surface.alias
        out.mkdir(parents=True, exist_ok=True)
        for name in ("component.wasm", "build.json", "plan.json"):
            src = comp.directory / name
            if src.is_file() and (not (out / name).is_file() or (out / name).read_bytes() != src.read_bytes()):
                shutil.copyfile(src, out / name)
        if (comp.directory / "wit").is_dir():
            shutil.copytree(comp.directory / "wit", out / "wit", dirs_exist_ok=True)
        (out / "externs.json").write_text(json.dumps({"module": module, "cache": str(comp.directory)},
                                                     indent=1, sort_keys=True) + "\n")
        built.append(WasiComponentInfo(b.surface.alias, out / "component.wasm", comp, module))
    return WasiInstallOutcome(profile.name, tuple(built))
