"""Build a WASI Preview 2 component from a mapped surface with componentize-py 0.25.

``build_component(surface, externs_dir=..., wheels=..., cache_dir=...)``:

1. renders the WIT (:mod:`wasmtool.wit.render`) and checks it with ``wasm-tools``;
2. generates the guest glue ``app.py`` (:mod:`wasmtool.wit.guest`) and bundles
   ``wasmtool_wit_values.py``;
3. hashes every input (WIT, guest, the externs folder, the wheels' SHA-256, the
   componentize-py version): componentize-py builds are NOT reproducible (recipes.md §6),
   so the cache is keyed by this input hash, never by the output. The guest's pre-imports
   and embedded metadata (:func:`guest_additions`) derive from the wheels and the externs
   folder and the guest's standard library, read from the pinned componentize-py
   (:mod:`wasmtool.wit.guest_python`: CPython 3.14, whatever the host runs); the hash covers
   those and :func:`additions_key` instead, so they are computed on a miss only;
4. on a miss, unpacks the (pure or ``wasi_0_0_0_wasm32``) wheels into a ``deps`` folder and
   runs ``componentize-py -d wit -w <world> componentize -p src -p <externs> -p deps app``
   with ``VIRTUAL_ENV`` removed (hermetic: nothing from the host venv leaks in) and
   ``RUST_BACKTRACE=0``.

What a component carries: every module of every bundled wheel (test suites shipped inside a
wheel excepted), what those and the wrapper reach in the guest's standard library, and the
whole ``encodings`` package (:func:`wasmtool.wit.preimport.carried_modules`), each imported
once at build time, except the standard-library modules nothing imports then, which are stored
compressed and imported on first use (:func:`write_carry`, :mod:`wasmtool.wit.carry`); the
output loses its name sections (``wasm-tools strip -d name``); ``modules.json`` lists them
(``carried``, ``left_out``). Every component
also exports the self-check interface (:data:`wasmtool.wit.guest.SELFCHECK_WIT`, in
``wit/wasmtool-selfcheck.wit``: a world ``<world>-checked`` that includes the rendered world);
:func:`run_selfcheck` calls it and :func:`record_selfcheck` adds the modules that failed to
import at build time, with their errors, to ``modules.json``. :func:`build_probe_component`
builds the self-check alone over a set of wheels (``lock --smoke``).

Cache layout: ``<cache_dir>/components/<input-hash>/`` holding ``component.wasm``, ``wit/``,
``src/``, ``plan.json``, ``build.json``, ``modules.json`` and, once a runtime compiled it, one
``component-<input-hash>-<engine-key>.cwasm`` per build, wasmtime version and engine config
(a copied ``component.wasm`` replaced by another build never meets the old ``.cwasm``), and once
an install checked it, ``selfcheck-<engine-key>.json``: the self-check's verdict for the exact
``component.wasm`` bytes it names (:mod:`wasmtool.wit.reuse`). An install into another project
copies the ``.cwasm`` along with the component and takes the verdict instead of compiling and
checking again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from wasmtool.cache.remote import publish_component as remote_publish
from wasmtool.cache.remote import publish_cwasm, restore_cwasm
from wasmtool.cache.remote import restore_component as remote_restore
from wasmtool.errors import ToolNotFoundError, ToolTimeoutError
from wasmtool.fsutil import atomic_write_bytes, atomic_write_text, sha256_file
from wasmtool.targets.stdlib import Stdlib
from wasmtool.tools import run_tool
from wasmtool.typemap.surface import MappedSurface

from .carry import BLOB_FILE, CARRY_MODULE, CarrySplit, guest_module_source, pack, split_carried
from .component import DEFAULT_ENGINE_CONFIG, BuiltComponent, cwasm_path_for, engine_key
from .errors import ComponentBuildError, SelfCheckError, ToolMissingError, WitError, strip_ansi
from .guest import (
    APP_MODULE,
    SELFCHECK_INTERFACE,
    SELFCHECK_WIT,
    SELFCHECK_WORLD,
    VALUES_MODULE,
    render_app,
    render_probe_app,
    values_module_source,
)
from .guest_python import guest_stdlib, stdlib_file
from .model import TARGET, WitPlan
from .preimport import Carried
from .render import render_package, write_wit_dir
from .reuse import publish_copy, read_verdict, write_verdict
from .validate import find_tool, find_wasm_tools, tool_env, validate_wit

__all__ = [
    "BUILD_FORMAT",
    "DEFAULT_ENGINE_CONFIG",
    "BuildStats",
    "BuiltComponent",
    "build_app_component",
    "build_component",
    "build_probe_component",
    "build_stats",
    "componentize_py_version",
    "cwasm_path_for",
    "engine_key",
    "input_hash",
    "record_selfcheck",
    "run_selfcheck",
    "write_carry",
]

log = logging.getLogger("wasmtool.wit.build")

#: Bump when the layout or the guest conventions change (part of the input hash).
BUILD_FORMAT = "wasmtool-wit-build/3"
#: The package of a probe component (``lock --smoke``): the self-check alone.
PROBE_PACKAGE = ("mochi", "wasmtool-probe", "0.1.0")
SELFCHECK_WIT_FILE = "wasmtool-selfcheck.wit"
MODULES_FILE = "modules.json"
_OUTPUT_TAIL_LINES = 25
_PURE_PLATFORMS = frozenset({"any", "wasi_0_0_0_wasm32", "wasi_p2_wasm32"})


@dataclass
class BuildStats:
    """Process-wide counters (tests assert cache hits with these, not with timings)."""

    componentize_runs: int = 0
    cache_hits: int = 0
    compiles: int = 0              # wasmtime compiles of a component by run_selfcheck (no usable .cwasm)
    selfcheck_runs: int = 0        # self-checks instantiated and called
    selfcheck_reused: int = 0      # self-check verdicts taken from a cache entry instead
    last_build_seconds: float = 0.0
    build_seconds: list[float] = field(default_factory=list)


_STATS = BuildStats()


def build_stats() -> BuildStats:
    return _STATS


@lru_cache(maxsize=4)
def _version_of(exe: str) -> str:
    try:
        proc = run_tool("componentize-py", [exe, "--version"], timeout=60, env=tool_env(), check=False)
    except ToolNotFoundError as exc:
        raise ToolMissingError("componentize-py", hint=exc.reason) from exc
    text = (proc.stdout or proc.stderr).strip()
    if proc.returncode != 0 or not text:
        raise ToolMissingError("componentize-py", hint=f"`{exe} --version` failed: {text[-200:]}")
    return text


def find_componentize_py() -> Path:
    """``componentize-py`` beside ``sys.executable`` (the venv), else on ``PATH``."""
    return find_tool("componentize-py")


def componentize_py_version() -> str:
    """``componentize-py 0.25.1`` (the output of ``--version``)."""
    return _version_of(str(find_componentize_py()))


def _externs_files(externs_dir: Path) -> list[Path]:
    return sorted(p for p in externs_dir.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo"))


def input_hash(*, wit_files: Sequence[tuple[str, str]], app: str, values: str, externs_dir: Path,
               wheels: Sequence[Path], tool_version: str, world: str) -> str:
    """SHA-256 over everything that goes into a build (see the module docstring)."""
    h = hashlib.sha256()

    def feed(tag: str, data: bytes) -> None:
        h.update(tag.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)

    feed("format", BUILD_FORMAT.encode())
    feed("tool", tool_version.encode())
    feed("world", world.encode())
    for rel, text in sorted(wit_files):
        feed(f"wit:{rel}", text.encode())
    feed("app", app.encode())
    feed("values", values.encode())
    for p in _externs_files(externs_dir):
        feed(f"externs:{p.relative_to(externs_dir).as_posix()}", p.read_bytes())
    for w in sorted(wheels, key=lambda w: w.name):
        feed(f"wheel:{w.name}", sha256_file(w).encode())
    return h.hexdigest()


def _pick_externs_module(surface: MappedSurface, externs_dir: Path, wanted: str | None) -> str:
    if wanted:
        if not (externs_dir / f"{wanted}.py").is_file() and not (externs_dir / wanted / "__init__.py").is_file():
            raise WitError(f"{wanted} is not a module in {externs_dir}")
        return wanted
    default = f"{surface.alias}_externs"
    if (externs_dir / f"{default}.py").is_file():
        return default
    found = sorted(p.stem for p in externs_dir.glob("*_externs.py"))
    if len(found) == 1:
        return found[0]
    raise WitError(f"cannot tell the externs module in {externs_dir} (found: {', '.join(found) or 'none'})",
                   hint="pass externs_module=")


def _check_wheel(wheel: Path) -> None:
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        _, _, _, tags = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename as exc:
        raise WitError(f"{wheel.name}: not a wheel file name: {exc}") from exc
    if not any(t.platform in _PURE_PLATFORMS for t in tags):
        raise WitError(f"{wheel.name}: not a pure or wasi_0_0_0_wasm32 wheel",
                       hint="a WASI component can only bundle pure Python or WASI-built wheels")
    if not wheel.is_file():
        raise WitError(f"{wheel}: no such file")


#: The dist-info files embedded in a guest (small; RECORD and licences are left out).
_METADATA_FILES = ("METADATA", "entry_points.txt", "top_level.txt", "WHEEL")


def additions_key(stdlib: Stdlib) -> str:
    """What, besides the wheels and the externs folder (hashed anyway), decides the guest's
    pre-imports and embedded metadata: the closure's code, the metadata file set and the
    guest's standard library (its version, module names and sources; never the host's).
    Hashed instead of the additions themselves, so that a cache hit needs no source scan
    (seconds per component)."""
    import wasmtool.wit.carry as carry
    import wasmtool.wit.preimport as preimport

    h = hashlib.sha256(Path(preimport.__file__).read_bytes())
    h.update(Path(carry.__file__).read_bytes() + guest_module_source().encode())
    h.update(repr((_METADATA_FILES, stdlib.key)).encode())
    return h.hexdigest()


def guest_additions(externs_dir: Path | None, wheels: Sequence[Path], stdlib: Stdlib | None = None,
                    ) -> tuple[Carried, dict[str, dict[str, str]]]:
    """What the guest carries (:func:`wasmtool.wit.preimport.carried_modules`: every module of
    the wheels, the staged wrapper's, and what they reach in the guest's standard library)
    and its embedded metadata (distribution name as in the wheel file name -> dist-info text
    files), from one pass over each wheel. ``stdlib`` defaults to the pinned componentize-py's
    (:func:`wasmtool.wit.guest_python.guest_stdlib`); ``externs_dir`` is None for a probe."""
    from wasmtool.wit.preimport import ModuleSource, carried_modules, module_of_member

    guest = stdlib if stdlib is not None else guest_stdlib()

    def stdlib_source(name: str) -> ModuleSource | None:
        found = guest.source(name)
        return ModuleSource(name, found[0], found[1]) if found is not None else None

    sources: list[ModuleSource] = []
    roots: list[str] = []
    if externs_dir is not None:
        roots.append(VALUES_MODULE)
        for path in _externs_files(externs_dir):
            found = module_of_member(path.relative_to(externs_dir).as_posix())
            if found is not None:
                sources.append(ModuleSource(found[0], found[1], path.read_text(encoding="utf-8", errors="replace")))
                roots.append(found[0])
        sources.append(ModuleSource(VALUES_MODULE, False, values_module_source()))
    bundled: list[str] = []
    metadata: dict[str, dict[str, str]] = {}
    for wheel in sorted(wheels, key=lambda w: w.name):
        with zipfile.ZipFile(wheel) as zf:
            for member in sorted(zf.namelist()):
                folder, _, name = member.rpartition("/")
                if folder.endswith(".dist-info") and "/" not in folder and name in _METADATA_FILES:
                    text = zf.read(member).decode("utf-8", errors="replace")
                    metadata.setdefault(wheel.name.split("-")[0], {})[name] = text
                    continue
                found = module_of_member(member)
                if found is not None:
                    text = zf.read(member).decode("utf-8", errors="replace")
                    sources.append(ModuleSource(found[0], found[1], text))
                    bundled.append(found[0])
    carried = carried_modules(sources, roots, bundled=bundled, is_stdlib_module=guest.is_module,
                              stdlib_source=stdlib_source, stdlib_names=guest.dotted_names)
    return carried, metadata


def write_carry(src: Path, carried: Carried, stdlib: Stdlib) -> tuple[CarrySplit, int]:
    """Write the guest's compressed module store (:mod:`wasmtool.wit.carry`) into ``src``
    (beside the glue): the bundled module ``wasmtool_carry`` and its store file; the split
    and the store's size in bytes."""
    split = split_carried(carried.modules, bundled_tops=carried.bundled_tops, is_stdlib_module=stdlib.is_module,
                          stdlib_file=lambda name: stdlib_file(stdlib, name))
    data = pack(split.stored)
    atomic_write_text(src / f"{CARRY_MODULE}.py", guest_module_source())
    atomic_write_bytes(src / BLOB_FILE, data)
    return split, len(data)


def _strip_names(component: Path, timeout: float) -> None:
    """Remove the custom sections wasmtime does not read (function names, debug information):
    ``wasm-tools strip -d name`` (the ``dylink.0`` and ``producers`` sections stay). A
    failure keeps the component as built."""
    stripped = component.with_name(component.name + ".stripped")
    try:
        proc = run_tool("wasm-tools", [str(find_wasm_tools()), "strip", "-d", "name", str(component), "-o",
                                       str(stripped)], timeout=timeout, env=tool_env(), check=False)
    except (ToolNotFoundError, ToolTimeoutError, ToolMissingError) as exc:
        log.warning("wasm-tools strip did not run on %s: %s", component, exc)
        return
    if proc.returncode != 0 or not stripped.is_file():
        log.warning("wasm-tools strip failed on %s: %s", component, strip_ansi(proc.stderr)[-300:])
        stripped.unlink(missing_ok=True)
        return
    os.replace(stripped, component)


def selfcheck_files(package_id: str, world: str, labels: Sequence[str]) -> tuple[tuple[str, str], str]:
    """The WIT file that adds the self-check to ``world`` (a package's rendered world) and the
    name of the world to build (``<world>-checked``)."""
    checked = f"{world}-checked"
    clash = sorted({SELFCHECK_INTERFACE, checked} & {world, *labels})
    if clash:
        raise WitError(f"{package_id}: the name {clash[0]} is taken by the package's own WIT",
                       hint="the self-check interface and world use these names")
    # no comment above `package`: the rendered world.wit has one, and a package takes one
    text = (f"package {package_id};\n\n// Generated by wasmtool: the self-check every component exports.\n"
            f"{SELFCHECK_WIT}\nworld {checked} {{\n  include {world};\n"
            f"  export {SELFCHECK_INTERFACE};\n}}\n")
    return (SELFCHECK_WIT_FILE, text), checked


def _modules_report(carried: Carried) -> dict[str, Any]:
    return {"carried": list(carried.modules),
            "left_out": [{"module": m, "reason": "a test suite shipped inside the wheel"} for m in carried.left_out]}


def _unpack_wheels(wheels: Sequence[Path], deps: Path) -> None:
    deps.mkdir(parents=True, exist_ok=True)
    for wheel in sorted(wheels, key=lambda w: w.name):
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                target = (deps / name).resolve()
                if not str(target).startswith(str(deps.resolve()) + os.sep):
                    raise WitError(f"{wheel.name}: unsafe member path {name!r}")
            zf.extractall(deps)


def _output_tail(text: str) -> str:
    """The useful end of componentize-py's output: no Rust backtrace, no ANSI codes."""
    lines: list[str] = []
    skipping = False
    for line in strip_ansi(text).splitlines():
        if line.strip().startswith("Stack backtrace:"):
            skipping = True
            continue
        if skipping and (line.startswith(" ") or not line.strip()):
            continue
        skipping = False
        lines.append(line.rstrip())
    return "\n".join(lines[-_OUTPUT_TAIL_LINES:])


def _componentize(*, wit_dir: Path, world: str, app_module: str, paths: Sequence[Path], output: Path,
                  cwd: Path, timeout: float, what: str) -> float:
    """Run componentize-py once (hermetic: no ``VIRTUAL_ENV``, explicit ``-p`` folders); the seconds taken."""
    cmd = [str(find_componentize_py()), "-q", "-d", str(wit_dir), "-w", world, "componentize"]
    for p in paths:
        cmd += ["-p", str(p)]
    cmd += [app_module, "-o", str(output)]
    log.info("componentize-py: %s", " ".join(cmd))
    start = time.monotonic()
    _STATS.componentize_runs += 1
    try:
        proc = run_tool("componentize-py", cmd, timeout=timeout, env=tool_env(), cwd=cwd, check=False)
    except ToolTimeoutError as exc:
        raise ComponentBuildError(f"componentize-py did not finish within {timeout:g} s") from exc
    except ToolNotFoundError as exc:
        raise ToolMissingError("componentize-py", hint=exc.reason) from exc
    seconds = time.monotonic() - start
    _STATS.last_build_seconds = seconds
    _STATS.build_seconds.append(seconds)
    if proc.returncode != 0 or not output.is_file():
        raise ComponentBuildError(f"componentize-py failed for {what} (exit {proc.returncode})",
                                  output_tail=_output_tail(proc.stderr + "\n" + proc.stdout),
                                  returncode=proc.returncode)
    _strip_names(output, timeout)
    return seconds


def build_app_component(*, wit_dir: Path, world: str, app_dir: Path, wheels: Sequence[Path], cache_dir: Path,
                        app_module: str = APP_MODULE, timeout: float = 900) -> Path:
    """Build a hand-written guest (``app_dir``, module ``app_module``) against ``wit_dir``'s
    ``world``, cached by input hash like :func:`build_component`; returns the ``.wasm`` path.

    For components whose world is not derived from a surface (e.g. one that imports a
    derived package's interface, to be composed with it).
    """
    wit_dir, app_dir = Path(wit_dir).resolve(), Path(app_dir).resolve()
    wheels = [Path(w).resolve() for w in wheels]
    for w in wheels:
        _check_wheel(w)
    validate_wit(wit_dir)
    tool_version = componentize_py_version()
    wit_files = [(p.relative_to(wit_dir).as_posix(), p.read_text(encoding="utf-8"))
                 for p in sorted(wit_dir.rglob("*.wit"))]
    digest = input_hash(wit_files=wit_files, app=app_module, values="", externs_dir=app_dir, wheels=wheels,
                        tool_version=tool_version, world=world)
    final = Path(cache_dir) / "components" / digest / "component.wasm"
    if final.is_file():
        _STATS.cache_hits += 1
        return final
    final.parent.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".tmp-{digest[:12]}-", dir=final.parent.parent))
    try:
        deps = work / "deps"
        _unpack_wheels(wheels, deps)
        _componentize(wit_dir=wit_dir, world=world, app_module=app_module, paths=[app_dir, deps],
                      output=work / "component.wasm", cwd=work, timeout=timeout, what=f"{app_dir.name} ({world})")
        shutil.rmtree(deps, ignore_errors=True)
        try:
            os.replace(work, final.parent)
        except OSError:
            if not final.is_file():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return final


def build_component(
    surface: MappedSurface,
    *,
    externs_dir: Path,
    wheels: Sequence[Path],
    cache_dir: Path,
    externs_module: str | None = None,
    timeout: float = 900,
    stdlib: Stdlib | None = None,
    target: str = TARGET,
) -> BuiltComponent:
    """Build (or find in ``cache_dir``) the component exporting ``surface``'s functions.

    ``externs_dir`` holds the wrapper module (``<alias>_externs.py`` by default, else the
    only ``*_externs.py``; or name it with ``externs_module``); ``wheels`` are bundled.
    A second call with unchanged inputs runs nothing and returns ``from_cache=True``.
    ``stdlib`` is the guest's standard library (default: the pinned componentize-py's,
    :func:`wasmtool.wit.guest_python.guest_stdlib`); the pre-imports follow it.
    """
    externs_dir = Path(externs_dir).resolve()
    wheels = [Path(w).resolve() for w in wheels]
    for w in wheels:
        _check_wheel(w)
    module = _pick_externs_module(surface, externs_dir, externs_module)
    rendered = render_package(surface, target=target)
    plan = rendered.plan
    if not plan.interfaces:
        raise WitError(f"{surface.dist}: no function can be exported on {target}",
                       hint=f"{len(plan.skips)} functions were skipped (SkipTargetUnrepresentable)")
    check_file, build_world = selfcheck_files(plan.package_id, plan.world, [i.label for i in plan.interfaces])
    wit_files = (*rendered.files, check_file)
    # the hash covers the glue without its additions, plus what the additions derive from
    skeleton = render_app(plan, externs_module=module, dist=surface.dist, dist_version=surface.version,
                          selfcheck=True)
    values = values_module_source()
    tool_version = componentize_py_version()
    guest = stdlib if stdlib is not None else guest_stdlib()
    digest = input_hash(wit_files=wit_files, app=f"{skeleton}\n# additions {additions_key(guest)}\n",
                        values=values, externs_dir=externs_dir, wheels=wheels, tool_version=tool_version,
                        world=build_world)
    cached = cached_component(cache_dir, digest, surface.dist)
    if cached is not None:
        return cached

    def write_app(src: Path, carried: Carried, metadata: Any) -> None:
        atomic_write_text(src / f"{APP_MODULE}.py", render_app(
            plan, externs_module=module, dist=surface.dist, dist_version=surface.version,
            preimport=carried.modules, dist_metadata=metadata, selfcheck=True))

    recipe = BuildRecipe(digest=digest, wit_files=wit_files, build_world=build_world, plan=plan,
                         externs_dir=externs_dir, wheels=tuple(wheels), guest=guest, values=values,
                         tool_version=tool_version, what=f"{surface.dist} {surface.version}")
    return build_into_cache(recipe, cache_dir=cache_dir, write_app=write_app, timeout=timeout,
                            info=lambda carried: {"externs_module": module})


@dataclass(frozen=True)
class BuildRecipe:
    """What one component build is made of (its inputs hash to ``digest``), for :func:`build_into_cache`."""

    digest: str
    wit_files: Sequence[tuple[str, str]]
    build_world: str
    plan: WitPlan
    externs_dir: Path
    wheels: tuple[Path, ...]
    guest: Stdlib
    values: str
    tool_version: str
    what: str          # names the component in messages ("tomli 2.5.0", "the project component of ...")


def cached_component(cache_dir: Path, digest: str, what: str) -> BuiltComponent | None:
    """The component built from inputs hashing to ``digest``, if the cache (after the shared
    remote cache, when one is set: a no-op without) holds it."""
    final = Path(cache_dir) / "components" / digest
    remote_restore(final, engine_key(DEFAULT_ENGINE_CONFIG))
    if (final / "component.wasm").is_file() and (final / "build.json").is_file():
        _STATS.cache_hits += 1
        log.info("component cache hit %s (%s)", digest[:12], what)
        return BuiltComponent.load(final, from_cache=True)
    return None


def build_into_cache(recipe: BuildRecipe, *, cache_dir: Path, write_app: Callable[[Path, Carried, Any], None],
                     info: Callable[[Carried], dict[str, Any]], timeout: float) -> BuiltComponent:
    """Build the component of ``recipe`` in a temporary folder of the cache and publish it under
    its digest in one rename. ``write_app`` writes the guest's own modules into the source folder
    (given what the guest carries and the wheels' metadata); ``info`` adds to build.json."""
    root = Path(cache_dir) / "components"
    final = root / recipe.digest
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".tmp-{recipe.digest[:12]}-", dir=root))
    try:
        wit_dir = write_wit_dir(recipe.wit_files, work / "wit")
        validate_wit(wit_dir)
        src = work / "src"
        carried, metadata = guest_additions(recipe.externs_dir, recipe.wheels, recipe.guest)
        write_app(src, carried, metadata)
        atomic_write_text(src / f"{VALUES_MODULE}.py", recipe.values)
        split, stored_bytes = write_carry(src, carried, recipe.guest)
        deps = work / "deps"
        _unpack_wheels(recipe.wheels, deps)
        out = work / "component.wasm"
        seconds = _componentize(wit_dir=wit_dir, world=recipe.build_world, app_module=APP_MODULE,
                                paths=[src, recipe.externs_dir, deps], output=out, cwd=work, timeout=timeout,
                                what=recipe.what)
        shutil.rmtree(deps, ignore_errors=True)
        plan = recipe.plan
        _publish(work, final, plan=plan, carried=carried, info={
            "format": BUILD_FORMAT, "input_hash": recipe.digest, "world": plan.world, "package": plan.package_id,
            "build_world": recipe.build_world, "tool": recipe.tool_version, "seconds": round(seconds, 2),
            "size": out.stat().st_size, "wheels": sorted(w.name for w in recipe.wheels),
            "stored_compressed_modules": len(split.stored), "stored_compressed_bytes": stored_bytes,
            **info(carried)})
        log.info("built %s (%s) in %.1f s", recipe.digest[:12], recipe.what, seconds)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return BuiltComponent.load(final, from_cache=False)


def _publish(work: Path, final: Path, *, plan: WitPlan, carried: Carried, info: dict[str, Any]) -> None:
    """Write the build's records (plan.json, the modules report, build.json with ``info`` and the
    module counts) into ``work`` and move it to ``final`` in one rename."""
    atomic_write_text(work / "plan.json", json.dumps(plan.to_dict(), indent=1, sort_keys=True) + "\n")
    atomic_write_text(work / MODULES_FILE, json.dumps(_modules_report(carried), indent=1, sort_keys=True) + "\n")
    info = {**info, "carried_modules": len(carried.modules), "left_out_modules": len(carried.left_out)}
    atomic_write_text(work / "build.json", json.dumps(info, indent=1, sort_keys=True) + "\n")
    try:
        os.replace(work, final)
    except OSError:
        if not (final / "build.json").is_file():   # lost a race to an identical build: keep theirs
            raise
    remote_publish(final)   # push to the shared remote cache, if any (failures are warnings)


def build_probe_component(wheels: Sequence[Path], *, cache_dir: Path, stdlib: Stdlib | None = None,
                          timeout: float = 900) -> BuiltComponent:
    """A component that carries ``wheels`` (as :func:`build_component` would) and exports the
    self-check alone: what ``lock --smoke`` runs, before any package is bound. Cached by input
    hash like the others."""
    wheels = [Path(w).resolve() for w in wheels]
    for w in wheels:
        _check_wheel(w)
    namespace, package, version = PROBE_PACKAGE
    package_id = f"{namespace}:{package}@{version}"
    wit_text = (f"// Generated by wasmtool: the self-check probe of a lock. Do not edit.\npackage {package_id};\n\n"
                f"{SELFCHECK_WIT}\nworld {SELFCHECK_WORLD} {{\n  export {SELFCHECK_INTERFACE};\n}}\n")
    wit_files = ((SELFCHECK_WIT_FILE, wit_text),)
    guest = stdlib if stdlib is not None else guest_stdlib()
    tool_version = componentize_py_version()
    skeleton = render_probe_app(preimport=())
    root = Path(cache_dir) / "components"
    root.mkdir(parents=True, exist_ok=True)
    empty = Path(tempfile.mkdtemp(prefix=".tmp-probe-", dir=root))
    try:
        digest = input_hash(wit_files=wit_files, app=f"{skeleton}\n# additions {additions_key(guest)}\n", values="",
                            externs_dir=empty, wheels=wheels, tool_version=tool_version, world=SELFCHECK_WORLD)
    finally:
        shutil.rmtree(empty, ignore_errors=True)
    final = root / digest
    if (final / "component.wasm").is_file() and (final / "build.json").is_file():
        _STATS.cache_hits += 1
        return BuiltComponent.load(final, from_cache=True)
    plan = WitPlan(namespace=namespace, package=package, version=version, world=SELFCHECK_WORLD, interfaces=())
    work = Path(tempfile.mkdtemp(prefix=f".tmp-{digest[:12]}-", dir=root))
    try:
        wit_dir = write_wit_dir(wit_files, work / "wit")
        validate_wit(wit_dir)
        carried, metadata = guest_additions(None, wheels, guest)
        atomic_write_text(work / "src" / f"{APP_MODULE}.py",
                          render_probe_app(preimport=carried.modules, dist_metadata=metadata))
        split, stored_bytes = write_carry(work / "src", carried, guest)
        deps = work / "deps"
        _unpack_wheels(wheels, deps)
        out = work / "component.wasm"
        seconds = _componentize(wit_dir=wit_dir, world=SELFCHECK_WORLD, app_module=APP_MODULE,
                                paths=[work / "src", deps], output=out, cwd=work, timeout=timeout,
                                what=f"the probe of {len(wheels)} wheel(s)")
        shutil.rmtree(deps, ignore_errors=True)
        _publish(work, final, plan=plan, carried=carried, info={
            "format": BUILD_FORMAT, "input_hash": digest, "world": SELFCHECK_WORLD, "package": package_id,
            "build_world": SELFCHECK_WORLD, "tool": tool_version, "externs_module": "", "seconds": round(seconds, 2),
            "size": out.stat().st_size, "wheels": sorted(w.name for w in wheels),
            "stored_compressed_modules": len(split.stored), "stored_compressed_bytes": stored_bytes})
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return BuiltComponent.load(final, from_cache=False)


def _engine_config(wt: Any, spec: str) -> Any:
    config = wt.Config()
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, value = item.partition("=")
        setattr(config, name, value == "1")
    return config


def run_selfcheck(component: BuiltComponent, *, timeout: float = 300,
                  entry: Path | None = None) -> list[tuple[str, str, str]]:
    """Call the component's self-check: ``(module, "build" | "run", error)`` for every carried
    module that does not import. Compiles with the runtime's engine configuration and keeps
    the ``.cwasm`` where :class:`wasmtool.run.wasi.WasiComponentRuntime` looks for it (a later
    call does not compile again). Raises :class:`SelfCheckError` when the check cannot run.

    ``entry``: the cache entry ``component`` was published from (or its own folder when it is
    one). The entry's ``.cwasm`` is copied beside the component when it has none, the
    component's is copied to the entry after a compile, and the verdict is kept in the entry
    (:mod:`wasmtool.wit.reuse`): when ``entry`` holds a verdict for exactly these component
    bytes and this engine, and the component's ``.cwasm`` is in place, the verdict is
    returned without instantiating anything."""
    engine_id = engine_key(DEFAULT_ENGINE_CONFIG)
    if entry is not None:
        publish_copy(entry / component.cwasm_path.name, component.cwasm_path)
    if entry is not None and component.cwasm_path.is_file():
        known = read_verdict(entry, engine_id, component.path)
        if known is not None:
            _STATS.selfcheck_reused += 1
            return known
    failures, compiled = _call_selfcheck(component, timeout=timeout)
    if entry is not None:       # a fresh compile replaces the entry's copy (which may not have loaded)
        publish_copy(component.cwasm_path, entry / component.cwasm_path.name, replace=compiled)
        write_verdict(entry, engine_id, component.path, failures)
    return failures


def _call_selfcheck(component: BuiltComponent, *, timeout: float) -> tuple[list[tuple[str, str, str]], bool]:
    """Instantiate ``component`` (from its ``.cwasm`` when that loads, else compiled and the
    ``.cwasm`` written) and call its check: (the failures, whether it compiled)."""
    import threading

    try:
        import wasmtime
        import wasmtime.component
    except ImportError as exc:  # pragma: no cover - the wasi extra is missing
        raise ToolMissingError("wasmtime (the Python package)") from exc

    _STATS.selfcheck_runs += 1
    where = str(component.path)
    engine = wasmtime.Engine(_engine_config(wasmtime, DEFAULT_ENGINE_CONFIG))
    comp = None
    compiled = False
    restore_cwasm(component.cwasm_path, component.input_hash)   # from the shared remote cache, if any
    if component.cwasm_path.is_file():
        try:
            comp = wasmtime.component.Component.deserialize_file(engine, str(component.cwasm_path))
        except Exception:
            comp = None
    if comp is None:
        _STATS.compiles += 1
        compiled = True
        try:
            comp = wasmtime.component.Component.from_file(engine, str(component.path))
        except wasmtime.WasmtimeError as exc:
            raise SelfCheckError(f"wasmtime cannot compile the component: {exc}", file=where) from exc
        try:
            atomic_write_bytes(component.cwasm_path, bytes(comp.serialize()))
            publish_cwasm(component.cwasm_path, component.input_hash)   # to the shared remote cache, if any
        except (OSError, wasmtime.WasmtimeError) as exc:
            log.warning("cannot write %s: %s", component.cwasm_path, exc)
    linker = wasmtime.component.Linker(engine)
    linker.add_wasip2()
    store = wasmtime.Store(engine)
    store.set_wasi(wasmtime.WasiConfig())     # REQUIRED: without it wasmtime-py aborts the process
    store.set_epoch_deadline(1)
    timer = threading.Timer(timeout, engine.increment_epoch)
    timer.daemon = True
    timer.start()
    iface_id = component.plan.interface_id(SELFCHECK_INTERFACE)
    try:
        instance = linker.instantiate(store, comp)
        iface = instance.get_export_index(store, iface_id)
        index = instance.get_export_index(store, "check", iface) if iface is not None else None
        func = instance.get_func(store, index) if index is not None else None
        if func is None:
            raise SelfCheckError(f"the component does not export {iface_id}#check "
                                 "(built by another wasmtool?)", file=where)
        raw = func(store)
    except (wasmtime.WasmtimeError, wasmtime.Trap) as exc:
        text = str(exc).strip().splitlines()
        raise SelfCheckError(f"the self-check trapped or did not finish within {timeout:g} s: "
                             f"{text[0] if text else type(exc).__name__}", file=where) from exc
    finally:
        timer.cancel()
    return sorted((str(m), str(phase), str(err)) for m, phase, err in raw), compiled


def record_selfcheck(component: BuiltComponent, failures: Sequence[tuple[str, str, str]],
                     reasons: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Add the modules that failed to import at build time, with their errors (and a reason
    where the caller knows one), to the component's ``modules.json``; returns the report."""
    path = component.directory / MODULES_FILE
    try:
        report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = {"carried": [], "left_out": []}
    reasons = reasons or {}
    report["failed"] = [{"module": m, "phase": phase, "error": err,
                         **({"reason": reasons[m]} if m in reasons else {})} for m, phase, err in failures]
    text = json.dumps(report, indent=1, sort_keys=True) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write_text(path, text)
    return report
