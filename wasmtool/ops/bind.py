"""``wasmtool bind`` and ``wasmtool surface``: from locked wheels to the typed surface and the
generated Python workspace.

For each bound package of a target (the direct dependencies, or the ones named):

1. the locked wheel comes from the verified cache (hash-checked against the lock);
2. stubs are discovered tier by tier (:mod:`wasmtool.stubs.discover`): sibling stub-only
   distributions (``types-<dist>``, ``<dist>-stubs``) are looked up on the configured
   index and fetched through the same cache; inline ``py.typed``; ``stubgen`` in a
   sandbox as the last resort (``[python].stubgen``);
3. the stubs are parsed for the target's Python version and mapped through the closed
   type table (``allow-partial``, ``allow-any``, ``monomorphise``);
4. the workspace (wrapper, ``.pyi``, shim, SKIPPED.txt) is rendered and written atomically
   under ``.mochi/python_workspace`` (per target other than native:
   ``.mochi/python_workspace-<target>``).

Surfaces are cached in ``<cache>/surfaces/<key>.json``, the key covering the stub files'
SHA-256, the settings, the target and wasmtool's version: a warm ``surface`` maps nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from packaging.utils import canonicalize_name

from wasmtool.errors import UsageError, WasmtoolError
from wasmtool.lock.errors import LockMissingError
from wasmtool.lock.io import read_lock
from wasmtool.lock.model import LockedPackage, MochiLock
from wasmtool.ops.context import Context
from wasmtool.skips import SkipReport
from wasmtool.stubs.discover import StubgenPolicy, StubSet, discover, index_stub_finder, module_stubs
from wasmtool.synth.workspace import Workspace, render_workspace
from wasmtool.targets.profile import TargetProfile, load_profile
from wasmtool.typemap.lower import map_module
from wasmtool.typemap.surface import MappedSurface

__all__ = ["BindOutcome", "BoundPackage", "bind", "bound_packages", "surface_for", "workspace_dir"]

_SURFACE_FORMAT = 1


class NotBoundError(WasmtoolError, LookupError):
    code = "WT623"


@dataclass(frozen=True)
class BoundPackage:
    package: LockedPackage
    alias: str
    stubs: StubSet
    surface: MappedSurface


@dataclass(frozen=True)
class BindOutcome:
    target: str
    directory: Path
    bound: tuple[BoundPackage, ...]
    workspace: Workspace
    changed: tuple[Path, ...]


def workspace_dir(ctx: Context, target: str) -> Path:
    suffix = "" if target == "native" else f"-{target}"
    return ctx.root / ".mochi" / f"python_workspace{suffix}"


def _read_lock(ctx: Context) -> MochiLock:
    lock = read_lock(ctx.lock_path)
    if lock is None:
        raise LockMissingError("no mochi.lock: run `wasmtool lock` first", file=str(ctx.lock_path))
    return lock


def public_import_names(names: Sequence[str]) -> tuple[str, ...]:
    """Import names a user binds: not private (``_cffi_backend``), not mypyc helper modules."""
    return tuple(n for n in names if not n.split(".")[0].startswith("_") and "__mypyc" not in n)


def _alias_of(ctx: Context, pkg: LockedPackage, import_names: Sequence[str]) -> str:
    """The Mochi alias: from the ``import python`` line, else the import name that matches
    the distribution (``tomli``), else the first public import name (``pyyaml`` -> ``yaml``)."""
    if pkg.alias:
        return pkg.alias
    for req in ctx.project.requirements():
        if canonicalize_name(req.name) == canonicalize_name(pkg.name) and req.alias:
            return req.alias
    dist = str(canonicalize_name(pkg.name)).replace("-", "_")
    names = [n for n in import_names if n.isidentifier()]
    if dist in names:
        return dist
    return names[0] if names else dist


def bound_packages(ctx: Context, lock: MochiLock, target: str, names: Sequence[str] = ()) -> list[LockedPackage]:
    """The packages to bind: ``names`` if given, else every direct dependency of the project."""
    entries = {str(canonicalize_name(p.name)): p for p in lock.for_target(target)}
    if names:
        by_alias = {r.alias: str(canonicalize_name(r.name)) for r in ctx.project.requirements() if r.alias}
        by_alias.update({n: k for k, p in entries.items() for n in public_import_names(p.import_names)
                         if n not in by_alias})
        wanted = [str(canonicalize_name(by_alias.get(n, n))) for n in names]
        missing = [n for n in wanted if n not in entries]
        if missing:
            raise NotBoundError(f"{', '.join(missing)} not in mochi.lock for target {target}",
                                file=str(ctx.lock_path), package=missing[0],
                                hint="add it with `wasmtool add python <name>` and re-lock")
        return [entries[n] for n in wanted]
    direct = {str(canonicalize_name(r.name)) for r in ctx.project.requirements()}
    return [entries[n] for n in sorted(direct) if n in entries]


def _manifest_import_names(ctx: Context, pkg: LockedPackage) -> tuple[str, ...]:
    for dep in ctx.project.manifest.dependencies:
        if canonicalize_name(dep.name) == canonicalize_name(pkg.name) and dep.import_names:
            return tuple(dep.import_names)
    return ()


def discover_stubs(ctx: Context, pkg: LockedPackage, wheel: Path, import_names: tuple[str, ...],
                   python_version: str) -> StubSet:
    """Stubs for ``pkg``: sibling stub wheels from the index (through the verified cache),
    inline ``py.typed``, typeshed, then sandboxed stubgen (``[python].stubgen``)."""
    from wasmtool.index.client import IndexClient

    with IndexClient(ctx.index) as client:
        finder = index_stub_finder(client, ctx.cache, runtime_version=pkg.version, progress=ctx.progress)
        return discover(wheel, dist=pkg.name, version=pkg.version, import_names=import_names or None,
                        find_sibling_stubs=finder, typeshed=ctx.project.manifest.python.typeshed,
                        stubgen=StubgenPolicy.from_config(ctx.project.manifest.python.stubgen),
                        python_version=python_version)


@cache
def _code_fingerprint() -> str:
    """SHA-256 of the mapping code itself, so a changed wasmtool never reuses a stale surface."""
    import wasmtool.stubs.discover
    import wasmtool.stubs.pyi
    import wasmtool.typemap

    h = hashlib.sha256()
    folder = Path(wasmtool.typemap.__file__).parent
    for path in [*sorted(folder.glob("*.py")), Path(wasmtool.stubs.pyi.__file__),
                                               Path(wasmtool.stubs.discover.__file__)]:
        h.update(path.read_bytes())
    return h.hexdigest()


def _settings_key(ctx: Context, profile: TargetProfile, alias: str, stubs: StubSet, python_version: str) -> str:
    from wasmtool import __version__

    py = ctx.project.manifest.python
    payload = json.dumps({
        "format": _SURFACE_FORMAT, "wasmtool": __version__, "code": _code_fingerprint(),
        "stubs": stubs.sha256, "tier": stubs.provenance,
        "skips": [s.tsv_line() for s in stubs.skips], "alias": alias, "target": profile.name,
        "python": python_version, "allow_partial": py.allow_partial, "allow_any": list(py.allow_any),
        "monomorphise": [list(m) for m in py.monomorphise],
        "dist": stubs.dist, "version": stubs.version, "imports": list(stubs.import_names),
    }, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def surface_for(ctx: Context, profile: TargetProfile, pkg: LockedPackage, python_version: str) -> BoundPackage:
    """The mapped surface of one locked package for interpreter ``python_version`` (X.Y),
    cached by stub hash and settings."""
    from wasmtool.ops.install import verified_artefact

    if not pkg.wheel_sha256:
        raise NotBoundError(f"{pkg.name} has no wheel in mochi.lock for {profile.name} (distribution package)",
                            package=pkg.name, file=str(ctx.lock_path))
    art = verified_artefact(ctx, pkg)
    import_names = _manifest_import_names(ctx, pkg) or public_import_names(pkg.import_names)
    alias = _alias_of(ctx, pkg, import_names)
    # stubs of every top-level package of the wheel: public names are often re-exported from
    # a private sibling (`pytest` from `_pytest`); mypyc helper modules hold no API
    tops = {n.split(".")[0] for n in import_names}
    scan = tuple(sorted({*tops, *(n for n in pkg.import_names if "__mypyc" not in n)}))
    stubs = discover_stubs(ctx, pkg, art.path, scan, python_version)
    key = _settings_key(ctx, profile, alias, stubs, python_version)
    cache_file = ctx.cache.root / "surfaces" / f"{key}.json"
    if cache_file.is_file():
        try:
            return BoundPackage(pkg, alias, stubs, MappedSurface.from_dict(json.loads(cache_file.read_text("utf-8"))))
        except (ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is recomputed
    major, minor = (int(x) for x in python_version.split(".")[:2])
    platform = "emscripten" if profile.kind == "pyodide" else "wasi" if profile.kind == "wasi" else "linux"
    parse_skips: list[SkipReport] = []
    modules = module_stubs(stubs, python_version=(major, minor), platform=platform, skips=parse_skips)
    surface = map_module(modules, dist=pkg.name, version=pkg.version, alias=alias, import_names=import_names,
                         tier=stubs.provenance, target=profile.kind if profile.kind != "native" else "native",
                         allow_partial=ctx.project.manifest.python.allow_partial,
                         allow_any=ctx.project.manifest.python.allow_any,
                         monomorphise=ctx.project.manifest.python.monomorphise)
    extra = tuple(sorted({*surface.skips, *stubs.skips, *parse_skips}))
    if extra != surface.skips:
        surface = MappedSurface(surface.dist, surface.version, surface.alias, surface.import_names, surface.tier,
                                surface.functions, surface.records, surface.enums, surface.handles, extra)
    from wasmtool.fsutil import atomic_write_text

    cache_file.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(cache_file, json.dumps(surface.to_dict(), sort_keys=True))
    return BoundPackage(pkg, alias, stubs, surface)


def bind(ctx: Context, *, target: str = "native", names: Sequence[str] = (), write: bool = True) -> BindOutcome:
    """Bind the project's packages for ``target`` and (re)write its workspace."""
    profile = load_profile(target)
    lock = _read_lock(ctx)
    if not lock.for_target(profile.name):
        raise UsageError(f"mochi.lock has no entries for target {profile.name}",
                         file=str(ctx.lock_path), hint=f"run `wasmtool lock --target={profile.name}`")
    inputs = lock.inputs_for(profile.name)
    python_version = (inputs.python_version if inputs is not None else "") or profile.python_version or "3.12"
    bound = tuple(surface_for(ctx, profile, p, python_version)
                  for p in bound_packages(ctx, lock, profile.name, names) if p.wheel_sha256)
    ws = render_workspace(b.surface for b in bound)
    directory = workspace_dir(ctx, profile.name)
    changed: list[Path] = []
    if write:
        changed = ws.write(directory, prune=not names)
        meta = {b.surface.alias: {
            "dist": b.package.name, "version": b.package.version, "stub-provenance": b.stubs.provenance,
            "stub-source": b.stubs.source, "stub-sha256": b.stubs.sha256,
            "wrapper-sha256": ws.wrapper_sha256[b.surface.alias], "shim-sha256": ws.shim_sha256[b.surface.alias],
            "skipped-count": len(b.surface.skips), "externs": len(b.surface.functions),
        } for b in bound}
        from wasmtool.fsutil import atomic_write_text

        path = directory / "bindings.json"
        if names and path.is_file():  # binding some packages keeps the others' records
            with contextlib.suppress(ValueError):
                meta = {**json.loads(path.read_text("utf-8")).get("bindings", {}), **meta}
        text = json.dumps({"target": profile.name, "bindings": meta}, indent=1, sort_keys=True) + "\n"
        if not path.is_file() or path.read_text("utf-8") != text:
            atomic_write_text(path, text)
            changed.append(path)
    return BindOutcome(profile.name, directory, bound, ws, tuple(changed))


def skip_summary(skips: Sequence[SkipReport]) -> dict[str, int]:
    from wasmtool.skips import count_by_reason

    return count_by_reason(skips)
