"""The WASI Preview 2 target (``kind = "wasi"``: wasi-p2), built with componentize-py and run
under wasmtime.

* platform facts: the guest is the CPython that the pinned componentize-py embeds (3.14),
  whatever the host runs; its standard library is read from componentize-py itself
  (:func:`wasmtool.wit.guest_python.guest_stdlib`); Python callables do not cross (a WIT
  world has no function values);
* lock: wasmtool's resolvelib provider over the index (pure and ``wasi_0_0_0_wasm32`` wheels);
* install (``wasmtool install --target=wasi-p2``): ONE component for the project by default
  (:func:`wasmtool.wit.project.build_project_component`): one CPython, pre-initialised once,
  whose world exports every bound package's interfaces under the package's own name, built
  from the union of the packages' locked closures; it is written to
  ``.mochi/wasi-p2/project-component/`` and each alias's folder ``.mochi/wasi-p2/<alias>/``
  holds the package's WIT and plan and ``component.json`` (which component serves it).
  ``--per-package`` (and a project with a single exportable package, whose project component
  would be exactly its own) builds one component per bound package instead: for each
  alias bound for the target (the wasi-p2 surface: no callables), the generated wrapper and
  ``_mochi_wrap.py`` are staged flat (the guest imports ``<pkg>_externs`` as a top-level
  module), and :func:`wasmtool.wit.build.build_component` builds the component with
  componentize-py from the locked pure wheels of that package's dependency closure (verified
  from the cache). Builds are cached by input hash, so a second install with unchanged inputs
  builds nothing; ``.mochi/wasi-p2/<alias>/`` then holds ``component.wasm``, its WIT and
  ``build.json``. The install reports each component's size and, for a project component,
  what each package's closure brings (:func:`wasmtool.wit.project.closure_sizes`).

  A package none of whose functions has a WIT form (everything takes or returns ``Any``,
  handles or callables: ``tomli.loads -> dict[str, Any]``) gets no component; it is reported
  in :attr:`WasiInstallOutcome.skipped` with the count of skipped functions, and any stale
  component of it is removed. Only when no bound package has a component does install fail
  (WT830);
  Each component carries every module of its wheels (:mod:`wasmtool.wit.preimport`) and
  exports a self-check; install runs it (:func:`wasmtool.wit.build.run_selfcheck`) before it
  reports success (an install into another project from the same cache entry copies the
  compiled ``.cwasm`` and takes the verdict the entry keeps: :mod:`wasmtool.wit.reuse`): a
  module that imported while the component was built but not when it runs is an error
  (WT880); a module that could not import at build time is listed, with its error and the
  reason when known (:func:`failure_reason`), in the install's output and in
  ``.mochi/<target>/<alias>/modules.json``;
* lock also checks that every locked package imports on the guest's CPython: the modules that
  ``import <package>`` runs (:func:`wasmtool.wit.preimport.import_time_closure`) are read from
  the locked wheels, and a package that needs a module the guest lacks (``_bz2``, ``_ssl``)
  is refused there (WT881), naming the module and its importers. ``lock --smoke`` builds a
  probe component from the locked wheels and runs its self-check (WT882 when a locked
  distribution's own module does not import);
* runtime: each alias's component under wasmtime (after a project install, the project
  component, one instance shared by every alias: :mod:`wasmtool.run.wasm_session`).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import logging
import re
import shutil
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wasmtool.context import Context, verified_artefact
from wasmtool.fsutil import atomic_write_text
from wasmtool.lock.model import LockedPackage
from wasmtool.skips import SkipReason
from wasmtool.targets.base import Binder, BindResult, BoundLike, RuntimeChoice, TargetBackend, refuse_option
from wasmtool.targets.errors import WasiInstallError
from wasmtool.targets.pinning import locked_for_target

if TYPE_CHECKING:
    from wasmtool.lock.model import TargetInputs
    from wasmtool.project.manifest import PythonSettings
    from wasmtool.run.modes import ModeRuntime, WrapSettings
    from wasmtool.targets.stdlib import Stdlib
    from wasmtool.wit.build import BuiltComponent
    from wasmtool.wit.errors import ComponentBuildError

__all__ = ["ModuleFailure", "ProjectComponentInfo", "SkippedAlias", "WasiBackend", "WasiComponentInfo",
           "WasiInstallOutcome",
           "dependency_closure", "failure_reason", "missing_on_guest", "modules_needing_missing"]

log = logging.getLogger("wasmtool.targets.wasi")
#: In ``.mochi/<target>/<alias>/`` of a project install: which component serves the alias.
_POINTER = "component.json"
_NO_MODULE = re.compile(r"No module named '([^']+)'")
#: Module failures listed per component in the install output (the rest: modules.json).
_LISTED_FAILURES = 12


@dataclass(frozen=True)
class ModuleFailure:
    """A module a component carries that did not import at build time."""

    alias: str
    module: str
    error: str
    reason: str = ""


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
class ProjectComponentInfo:
    """The project component (the default install): where it is, its size in bytes, and per
    alias what the package's closure brings (``build.json``'s ``closures``)."""

    path: Path                   # .mochi/<target>/project-component/component.wasm
    built: BuiltComponent
    size: int
    closures: Mapping[str, Mapping[str, object]]


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _kb(size: object) -> str:
    return f"{int(size) / 1e3:.0f} kB" if isinstance(size, int) else "?"


@dataclass(frozen=True)
class WasiInstallOutcome:
    target: str
    components: tuple[WasiComponentInfo, ...]
    skipped: tuple[SkippedAlias, ...] = ()
    bindings: BindResult | None = None      # the components are built from the bindings
    module_failures: tuple[ModuleFailure, ...] = ()
    project: ProjectComponentInfo | None = None    # None: one component per package
    separate: tuple[tuple[str, str], ...] = ()     # (alias, why) built on its own though the project shares one

    def lines(self) -> list[str]:
        out = [f"component {c.alias}: {c.path} ({'cached' if c.built.from_cache else 'built'})"
               for c in self.components]
        out += [f"component {alias} is built on its own: {why}" for alias, why in self.separate]
        shared = [c for c in self.components if self.project is not None and c.path == self.project.path]
        if self.project is not None:
            p = self.project
            out.append(f"project component: {p.path}: {_mb(p.size)}, one CPython for {len(shared)} "
                       f"packages (`--per-package` builds one component each); what each package's closure "
                       f"brings (sources of the modules carried; its own: no other package's closure has them):")
            for alias, c in sorted(p.closures.items()):
                wheels = c.get("wheels", [])
                out.append(f"  {alias} ({c.get('dist')} {c.get('version')}): "
                           f"{len(wheels) if isinstance(wheels, list) else '?'} wheel(s), {c.get('modules')} "
                           f"module(s), {_kb(c.get('module_bytes'))} ({_kb(c.get('own_module_bytes'))} its own)")
        out += [f"component {c.alias}: {_mb(c.path.stat().st_size)}" for c in self.components
                if c not in shared and c.path.is_file()]
        groups = [(c.alias, c.path) for c in self.components if c not in shared]
        if self.project is not None:
            groups = [("project", self.project.path), *groups]
        for alias, path in groups:
            failed = [f for f in self.module_failures if f.alias == alias]
            if not failed:
                continue
            out.append(f"component {alias}: {len(failed)} module(s) of its packages cannot import on "
                       f"{self.target} (listed in {path.parent / 'modules.json'}):")
            out += [f"  {f.module}: {f.reason or f.error}" for f in failed[:_LISTED_FAILURES]]
            if len(failed) > _LISTED_FAILURES:
                out.append(f"  ... and {len(failed) - _LISTED_FAILURES} more")
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


def missing_on_guest(guest: Stdlib) -> frozenset[str]:
    """Standard-library modules the host's CPython can import and the guest's lacks
    (``_bz2``, ``_ssl``, ``_ctypes``; not Windows-only modules, which no Linux host has)."""
    return frozenset(n for n in sys.stdlib_module_names
                     if n not in guest.module_names and importlib.util.find_spec(n) is not None)


def failure_reason(error: str, *, guest: Stdlib, carried_tops: Iterable[str], target: str) -> str:
    """Why a module does not import on ``target``, when its error says (else ``""``): a module
    this CPython does not have (a C module such as ``_bz2``, or a standard-library module of
    another platform or version), or a module of a package that is not locked (an optional
    dependency, which does not import natively either without it)."""
    found = _NO_MODULE.search(error)
    if found is None:
        return ""
    name = found.group(1)
    top = name.split(".")[0]
    if top in set(carried_tops) or top in guest.module_names:
        return ""
    if top in sys.stdlib_module_names or top.startswith("_"):
        return f"the {target} CPython ({guest.full_version}) has no module {name}"
    return f"{name} is not locked (an optional dependency; not importable natively either without it)"


def modules_needing_missing(wheels: Mapping[str, Path], guest: Stdlib, missing: frozenset[str],
                            roots: Iterable[str] | None = None) -> dict[str, tuple[str, tuple[str, ...]]]:
    """``{package: (missing module, importer chain)}`` for each package of ``roots`` (default:
    every one of ``wheels``, locked name -> wheel) whose import runs an import of a module the
    guest lacks (see the module docstring). The other locked wheels are read for the chain: a
    dependency imported lazily (httpx's httpcore) is not needed to import the package."""
    from wasmtool.wit.preimport import ModuleSource, import_time_closure, module_of_member

    sources: list[ModuleSource] = []
    tops: dict[str, set[str]] = {}
    for name, wheel in sorted(wheels.items()):
        with zipfile.ZipFile(wheel) as zf:
            for member in sorted(zf.namelist()):
                found = module_of_member(member)
                if found is None:
                    continue
                sources.append(ModuleSource(found[0], found[1], zf.read(member).decode("utf-8", errors="replace")))
                if "." not in found[0]:
                    tops.setdefault(name, set()).add(found[0])

    def stdlib_source(module: str) -> ModuleSource | None:
        got = guest.source(module)
        return ModuleSource(module, got[0], got[1]) if got is not None else None

    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    wanted = sorted(tops) if roots is None else sorted(set(roots) & set(tops))
    for name in wanted:
        chains = import_time_closure(sources, sorted(tops[name]), is_stdlib_module=guest.is_module,
                                     stdlib_source=stdlib_source)
        bad = sorted((len(chain), module, chain) for module, chain in chains.items()
                     if module.split(".")[0] in missing)
        if bad:
            out[name] = (bad[0][1], bad[0][2])
    return out


def _stage(workspace: Path, modules: Mapping[str, str], stage: Path) -> None:
    """The guest's view: ``_mochi_wrap.py`` and each alias's ``<pkg>_externs.py`` side by side
    (byte copies; ``modules``: alias -> module)."""
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    shutil.copyfile(workspace / "_mochi_wrap.py", stage / "_mochi_wrap.py")
    for alias, module in sorted(modules.items()):
        shutil.copyfile(workspace / "python_wrap" / alias / f"{module}.py", stage / f"{module}.py")


def _write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write_text(path, text)


def _publish(comp: BuiltComponent, out: Path, module: str) -> None:
    """Copy a cached build into ``.mochi/<target>/<alias>/`` (unchanged files are left alone);
    the self-check that follows brings the entry's compiled ``.cwasm`` along
    (:func:`wasmtool.wit.build.run_selfcheck` with ``entry``)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("component.wasm", "build.json", "plan.json", "modules.json"):
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

    def lock(self, ctx: Context, *, preferences: str | None) -> tuple[TargetInputs, list[LockedPackage]]:
        """Resolve (:meth:`TargetBackend.lock`), then refuse a required package that cannot
        import on the guest's CPython (WT881; see the module docstring)."""
        inputs, entries = super().lock(ctx, preferences=preferences)
        self.check_importable(ctx, entries)
        return inputs, entries

    def check_importable(self, ctx: Context, entries: Sequence[LockedPackage]) -> None:
        """WT881 when importing a package the project requires imports a module the guest's
        CPython lacks; the locked wheels are fetched (into the cache) and read."""
        from packaging.utils import canonicalize_name

        from wasmtool.wit.errors import WasiModuleMissingError

        wanted = {str(canonicalize_name(r.name)) for r in ctx.project.requirements()}
        with_wheels = [e for e in entries if e.wheel_filename]
        if not wanted & {str(canonicalize_name(e.name)) for e in with_wheels}:
            return
        guest = self.guest_stdlib()
        wheels = {str(canonicalize_name(e.name)): verified_artefact(ctx, e).path for e in with_wheels}
        found = modules_needing_missing(wheels, guest, missing_on_guest(guest), roots=wanted)
        if not found:
            return
        lines = [f"{pkg} needs module {module} (imported by {' -> '.join(chain)})"
                 for pkg, (module, chain) in sorted(found.items())]
        raise WasiModuleMissingError(
            f"{len(found)} package(s) cannot import on {self.profile.name} (CPython {guest.full_version}): "
            + "; ".join(lines), package=sorted(found)[0], file=str(ctx.root / "mochi.toml"),
            hint=f"drop the package from {self.profile.name} (or the target), or use a pure-Python alternative")

    def smoke(self, ctx: Context, entries: Sequence[LockedPackage]) -> None:
        """``lock --smoke``: build a probe component from the locked wheels (every module of
        each) and run its self-check: WT882 when the top-level module of a package the project
        requires, or any module that imported at build time, does not import; other failing
        modules (a dependency's, a submodule) are logged as warnings."""
        from packaging.utils import canonicalize_name

        from wasmtool.wit.build import build_probe_component, run_selfcheck
        from wasmtool.wit.errors import ProbeCheckError
        from wasmtool.wit.preimport import module_of_member

        with_wheels = [e for e in entries if e.wheel_filename]
        if not with_wheels:
            return
        wheels = {str(canonicalize_name(e.name)): verified_artefact(ctx, e).path for e in with_wheels}
        probe = build_probe_component(sorted(wheels.values()), cache_dir=ctx.cache.root, stdlib=self.guest_stdlib())
        failures = run_selfcheck(probe, entry=probe.directory)     # the probe runs in its cache entry
        owner: dict[str, str] = {}          # top-level module -> locked distribution
        for name, wheel in sorted(wheels.items()):
            with zipfile.ZipFile(wheel) as zf:
                for member in zf.namelist():
                    found = module_of_member(member)
                    if found is not None:
                        owner.setdefault(found[0].split(".")[0], name)
        wanted = {str(canonicalize_name(r.name)) for r in ctx.project.requirements()}
        bad = [(m, phase, err) for m, phase, err in failures
               if phase == "run" or ("." not in m and owner.get(m) in wanted)]
        for m, phase, err in failures:
            if (m, phase, err) not in bad:
                log.warning("%s: %s does not import on %s: %s", owner.get(m.split(".")[0], "the standard library"),
                            m, self.profile.name, err)
        if bad:
            raise ProbeCheckError(
                f"{len(bad)} locked module(s) do not import on {self.profile.name}: "
                + "; ".join(f"{m} ({owner.get(m.split('.')[0], 'the standard library')}, {phase}): {err}"
                            for m, phase, err in bad[:10]),
                package=owner.get(bad[0][0].split(".")[0]), file=str(ctx.lock_path),
                hint="drop the package from this target, or use a pure-Python alternative")

    def _selfcheck(self, alias: str, comp: BuiltComponent, stdlib: Stdlib, entry: Path
                   ) -> tuple[list[ModuleFailure], list[tuple[str, str]]]:
        """Run ``comp``'s self-check (or take the verdict its cache ``entry`` keeps for these
        bytes and this engine) and record it in its modules.json: (modules that failed at build
        time, modules that imported at build time and fail now)."""
        from wasmtool.wit.build import record_selfcheck, run_selfcheck

        failures = run_selfcheck(comp, entry=entry)
        report = json.loads((comp.directory / "modules.json").read_text(encoding="utf-8"))
        carried_tops = {m.split(".")[0] for m in report.get("carried", []) if m}
        reasons = {m: failure_reason(err, guest=stdlib, carried_tops=carried_tops, target=self.profile.name)
                   for m, _phase, err in failures}
        for m, _phase, err in failures:     # the guest's own standard library: a WASI limitation
            if stdlib.is_module(m) and not reasons[m]:
                reasons[m] = f"not supported by the {self.profile.name} CPython's standard library ({err})"
        record_selfcheck(comp, failures, {m: r for m, r in reasons.items() if r})
        # listed in the output: the locked packages' own modules (the standard library's are in modules.json)
        built = [ModuleFailure(alias, m, err, reasons[m]) for m, phase, err in failures
                 if phase == "build" and not stdlib.is_module(m)]
        lost = [(m, err) for m, phase, err in failures if phase == "run"]
        return built, lost

    def install(self, ctx: Context, binder: Binder, *, smoke: bool = False, bind: bool = True,
                runtime_url: str | None = None, per_package: bool = False,
                snapshot: bool = False) -> WasiInstallOutcome:
        """One component for the project, or with ``per_package`` one per bound package (see the
        module docstring); binding is part of it (``bind`` and ``smoke`` do not apply;
        ``runtime_url`` and ``snapshot`` are refused: a component fetches no runtime, and its
        memory is pre-initialised at build time anyway)."""
        if runtime_url is not None:
            refuse_option("--pyodide-url", "Pyodide targets", self.profile.name)
        if snapshot:
            refuse_option("--snapshot", "Pyodide targets", self.profile.name)
        from wasmtool.wit.project import PROJECT_DIR
        from wasmtool.wit.render import render_package

        del smoke, bind
        name = self.profile.name
        entries = locked_for_target(ctx, name)
        outcome = binder()
        stdlib = self.guest_stdlib()
        skipped: list[SkippedAlias] = []
        exportable: list[BoundLike] = []
        for b in outcome.bound:
            plan = render_package(b.surface, target=name).plan
            if plan.interfaces:
                exportable.append(b)
                continue
            skipped.append(SkippedAlias(b.surface.alias, b.surface.dist, len(plan.skips) + len(b.surface.skips)))
            out = ctx.root / ".mochi" / name / b.surface.alias
            if out.exists():
                shutil.rmtree(out)
        if not exportable:
            raise WasiInstallError(
                f"no bound package has a function that can be exported on {name} "
                f"({', '.join(f'{s.alias}: {s.skipped_functions} skipped' for s in skipped) or 'nothing is bound'})",
                file=str(ctx.root / "mochi.toml"),
                hint=f"`wasmtool surface <pkg> --target={name}` lists the skips and their reasons")
        project_dir = ctx.root / ".mochi" / name / PROJECT_DIR
        # a package whose guest code needs a name another one already takes gets its own component
        alone = {} if per_package or len(exportable) == 1 else _clashing(exportable, name)
        together = [b for b in exportable if b.surface.alias not in alone]
        if per_package or len(together) <= 1:
            if project_dir.exists():
                shutil.rmtree(project_dir)
            built, module_failures = self._install_each(ctx, entries, outcome.directory, exportable, stdlib)
            return WasiInstallOutcome(name, tuple(built), tuple(skipped), module_failures=tuple(module_failures),
                                      separate=tuple(sorted(alone.items())))
        each = [b for b in exportable if b.surface.alias in alone]
        built_each, failures_each = (self._install_each(ctx, entries, outcome.directory, each, stdlib) if each
                                     else ([], []))
        built, module_failures, project = self._install_project(ctx, entries, outcome.directory, together,
                                                                stdlib)
        return WasiInstallOutcome(name, tuple(built + built_each), tuple(skipped),
                                  module_failures=tuple(module_failures + failures_each), project=project,
                                  separate=tuple(sorted(alone.items())))

    def _install_each(self, ctx: Context, entries: Sequence[LockedPackage], workspace: Path,
                      bound: Sequence[BoundLike], stdlib: Stdlib) -> tuple[list[WasiComponentInfo],
                                                                               list[ModuleFailure]]:
        """``--per-package``: one component per bound package, each in ``.mochi/<target>/<alias>/``."""
        from wasmtool.synth.workspace import externs_module
        from wasmtool.wit.build import BuiltComponent, build_component
        from wasmtool.wit.errors import ComponentBuildError

        name = self.profile.name
        built: list[WasiComponentInfo] = []
        failed: list[tuple[str, str, ComponentBuildError]] = []
        module_failures: list[ModuleFailure] = []
        lost: list[tuple[str, str, str]] = []
        for b in bound:
            out = ctx.root / ".mochi" / name / b.surface.alias
            wheels = [verified_artefact(ctx, p).path for p in dependency_closure(entries, b.package.name)]
            module = externs_module(b.surface).rsplit(".", 1)[-1]
            stage = ctx.root / ".mochi" / "build" / name / b.surface.alias
            _stage(workspace, {b.surface.alias: module}, stage)
            try:
                comp = build_component(b.surface, externs_dir=stage, wheels=wheels, cache_dir=ctx.cache.root,
                                       externs_module=module, stdlib=stdlib, target=name)
            except ComponentBuildError as exc:     # build the others, then report every failure
                failed.append((b.surface.alias, b.surface.dist, exc))
                if out.exists():
                    shutil.rmtree(out)
                continue
            (out / _POINTER).unlink(missing_ok=True)
            _publish(comp, out, module)
            # checked where `run` finds it: the compiled form the check keeps is the one calls load
            at_build, at_run = self._selfcheck(b.surface.alias, BuiltComponent.load(out), stdlib, comp.directory)
            module_failures += at_build
            lost += [(b.surface.alias, m, err) for m, err in at_run]
            built.append(WasiComponentInfo(b.surface.alias, out / "component.wasm", comp, module))
        if failed:
            raise WasiInstallError(
                f"{len(failed)} component(s) failed to build for {name} "
                f"({len(built)} built): "
                + "; ".join(f"{alias} ({dist}): {_failure_summary(exc)}" for alias, dist, exc in failed),
                package=failed[0][1],
                hint="the package imports something WASI's CPython lacks (ssl, sockets, threads, a C extension); "
                     "drop it from this target or use a pure-Python alternative")
        self._raise_lost(lost)
        return built, module_failures

    def _raise_lost(self, lost: Sequence[tuple[str, str, str]]) -> None:
        if lost:
            from wasmtool.wit.errors import SelfCheckError

            raise SelfCheckError(
                f"{len(lost)} module(s) imported while a component was built but not when it runs on "
                f"{self.profile.name}: " + "; ".join(f"{alias}: {m}: {err}" for alias, m, err in lost[:10]),
                failures=[(m, err) for _alias, m, err in lost], package=lost[0][0],
                hint="report this: the component does not carry a module it imported at build time")

    def _install_project(self, ctx: Context, entries: Sequence[LockedPackage], workspace: Path,
                         bound: Sequence[BoundLike], stdlib: Stdlib
                         ) -> tuple[list[WasiComponentInfo], list[ModuleFailure], ProjectComponentInfo]:
        """The default: one component serving every bound package (see the module docstring)."""
        from wasmtool.synth.workspace import externs_module
        from wasmtool.wit.build import BuiltComponent
        from wasmtool.wit.errors import ComponentBuildError
        from wasmtool.wit.project import PROJECT_DIR, ProjectMember, build_project_component
        from wasmtool.wit.render import write_wit_dir

        name = self.profile.name
        modules = {b.surface.alias: externs_module(b.surface).rsplit(".", 1)[-1] for b in bound}
        members = [ProjectMember(b.surface, modules[b.surface.alias],
                                 tuple(verified_artefact(ctx, p).path
                                       for p in dependency_closure(entries, b.package.name)))
                   for b in bound]
        stage = ctx.root / ".mochi" / "build" / name / PROJECT_DIR
        _stage(workspace, modules, stage)
        project_dir = ctx.root / ".mochi" / name / PROJECT_DIR
        try:
            comp, rendered = build_project_component(members, externs_dir=stage, cache_dir=ctx.cache.root,
                                                     stdlib=stdlib, target=name)
        except ComponentBuildError as exc:
            if project_dir.exists():
                shutil.rmtree(project_dir)
            raise WasiInstallError(
                f"the project component failed to build for {name} "
                f"({', '.join(sorted(m.surface.dist for m in members))}): {_failure_summary(exc)}",
                package=bound[0].surface.dist,
                hint="a package imports something WASI's CPython lacks (ssl, sockets, threads, a C extension); "
                     "drop it from this target or use a pure-Python alternative; "
                     "`--per-package` tells which package fails") from exc
        _publish(comp, project_dir, "")
        at_build, at_run = self._selfcheck("project", BuiltComponent.load(project_dir), stdlib, comp.directory)
        self._raise_lost([("project", m, err) for m, err in at_run])
        report = (project_dir / "modules.json").read_bytes()
        built: list[WasiComponentInfo] = []
        for b in bound:
            alias = b.surface.alias
            out = ctx.root / ".mochi" / name / alias
            out.mkdir(parents=True, exist_ok=True)
            for stale in ("component.wasm", "build.json"):
                (out / stale).unlink(missing_ok=True)
            for stale_cwasm in out.glob("component-*.cwasm"):
                stale_cwasm.unlink()
            if (out / "wit").is_dir():
                shutil.rmtree(out / "wit")
            write_wit_dir(rendered[alias], out / "wit")
            plan = rendered[alias].plan
            _write_if_changed(out / "plan.json", json.dumps(plan.to_dict(), indent=1, sort_keys=True) + "\n")
            _write_if_changed(out / "modules.json", report.decode("utf-8"))
            _write_if_changed(out / "externs.json", json.dumps(
                {"module": modules[alias], "cache": str(comp.directory)}, indent=1, sort_keys=True) + "\n")
            _write_if_changed(out / _POINTER, json.dumps(
                {"component": PROJECT_DIR, "package": plan.package_id,
                 "interfaces": [plan.interface_id(i.label) for i in plan.interfaces]},
                indent=1, sort_keys=True) + "\n")
            built.append(WasiComponentInfo(alias, project_dir / "component.wasm",
                                           dataclasses.replace(comp, plan=plan, externs_module=modules[alias]),
                                           modules[alias]))
        info = json.loads((project_dir / "build.json").read_text(encoding="utf-8"))
        closures = info.get("closures", {})
        project = ProjectComponentInfo(project_dir / "component.wasm", comp,
                                       int(info.get("size", (project_dir / "component.wasm").stat().st_size)),
                                       closures if isinstance(closures, dict) else {})
        return built, at_build, project

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


def _clashing(bound: Sequence[BoundLike], target: str) -> dict[str, str]:
    """The bound packages that cannot share the project component (:func:`wasmtool.wit.project.clashes`)."""
    from wasmtool.synth.workspace import externs_module
    from wasmtool.wit.project import ProjectMember, clashes
    from wasmtool.wit.render import render_package

    members = [ProjectMember(b.surface, externs_module(b.surface).rsplit(".", 1)[-1], ()) for b in bound]
    return clashes(members, {b.surface.alias: render_package(b.surface, target=target) for b in bound})
