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
   where the target's backend puts it (:meth:`~wasmtool.targets.base.TargetBackend.workspace_dir`:
   ``.mochi/python_workspace`` for native, ``.mochi/python_workspace-<target>`` otherwise).

What differs between targets comes from the target's backend: the interpreter version and
``sys.platform`` the stubs are read for, and whether callables cross the boundary.

Surfaces are cached in ``<cache>/surfaces/<key>.json``, the key covering the stub files'
SHA-256, the settings, the target and wasmtool's version: a warm ``surface`` maps nothing.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from wasmtool.context import Context, verified_artefact
from wasmtool.errors import UsageError
from wasmtool.lock.errors import LockMissingError
from wasmtool.lock.io import read_lock
from wasmtool.lock.model import LockedPackage, MochiLock
from wasmtool.skips import SkipReason, SkipReport
from wasmtool.stubs.discover import StubgenPolicy, StubSet, discover, index_stub_finder, module_stubs, stub_sha256
from wasmtool.synth.dialect import MochiDialect
from wasmtool.synth.errors import NotBoundError as NotBoundError  # re-exported: defined here before
from wasmtool.synth.workspace import Workspace, render_workspace, surface_files
from wasmtool.targets.backend import TargetBackend, backend_for, backend_named
from wasmtool.targets.profile import DEFAULT_TARGET, TargetProfile
from wasmtool.typemap.lower import map_module
from wasmtool.typemap.surface import MappedSurface

__all__ = ["BindOutcome", "BoundPackage", "bind", "bound_packages", "surface_for", "workspace_dir"]

_SURFACE_FORMAT = 1


@dataclass(frozen=True)
class BoundPackage:
    package: LockedPackage
    alias: str
    stubs: StubSet
    surface: MappedSurface
    files: Mapping[str, str]    # the alias folder's rendered files (surface_files)


@dataclass(frozen=True)
class BindOutcome:
    target: str
    directory: Path
    bound: tuple[BoundPackage, ...]
    workspace: Workspace
    changed: tuple[Path, ...]


def workspace_dir(ctx: Context, target: str) -> Path:
    """Where ``bind`` writes ``target``'s workspace (the target's backend says)."""
    return backend_named(target).workspace_dir(ctx.root)


def _read_lock(ctx: Context) -> MochiLock:
    lock = read_lock(ctx.lock_path)
    if lock is None:
        raise LockMissingError("no mochi.lock: run `wasmtool lock` first", file=str(ctx.lock_path))
    return lock


def project_dialect(ctx: Context) -> MochiDialect:
    dialect = ctx.project.manifest.python.mochi_dialect
    return "mep-71" if dialect == "mep-71" else "0.10"


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


def _stubset_to_json(st: StubSet) -> str:
    return json.dumps({
        "dist": st.dist, "version": st.version, "provenance": st.provenance, "source": st.source,
        "import_names": list(st.import_names), "sha256": st.sha256,
        "files": [[path, base64.b64encode(data).decode("ascii")] for path, data in st.files],
        "skips": [[r.path, r.reason.token, r.detail, r.hint] for r in st.skips],
        "per_import": [list(x) for x in st.per_import], "siblings_tried": list(st.siblings_tried),
    }, sort_keys=True)


def _stubset_from_json(text: str) -> StubSet:
    d = json.loads(text)
    files = tuple((path, base64.b64decode(data)) for path, data in d["files"])
    st = StubSet(dist=d["dist"], version=d["version"], provenance=d["provenance"], source=d["source"],
                 import_names=tuple(d["import_names"]), files=files, sha256=d["sha256"],
                 skips=tuple(SkipReport(p, SkipReason.from_token(r), det, h) for p, r, det, h in d["skips"]),
                 per_import=tuple((a, b) for a, b in d["per_import"]), siblings_tried=tuple(d["siblings_tried"]))
    if stub_sha256(st.files) != st.sha256:
        raise ValueError("stub cache entry does not match its hash")
    return st


def discover_stubs(ctx: Context, pkg: LockedPackage, wheel: Callable[[], Path], import_names: tuple[str, ...],
                   python_version: str, *, refresh: bool = False) -> StubSet:
    """Stubs for ``pkg``: sibling stub wheels from the index (through the verified cache),
    inline ``py.typed``, typeshed, then sandboxed stubgen (``[python].stubgen``).

    The result is cached by wheel SHA-256, settings, indexes and discovery code
    (``<cache>/stubs/``): stubgen runs once per wheel; ``refresh`` looks again (a new
    ``types-`` release on the index is only seen then, or after a re-lock changes the wheel).
    ``wheel`` yields the verified wheel and is only called on a cache miss: the entry was
    derived from verified bytes with the SHA-256 the lock names.
    """
    py = ctx.project.manifest.python
    key = hashlib.sha256(json.dumps({
        "wheel": pkg.wheel_sha256, "imports": list(import_names), "python": python_version,
        "typeshed": py.typeshed, "stubgen": py.stubgen or {}, "indexes": [ctx.index.primary, *ctx.index.extra],
        "code": _code_fingerprint(),
    }, sort_keys=True, default=str).encode()).hexdigest()
    cache_file = ctx.cache.root / "stubs" / f"{key}.json"
    if not refresh and cache_file.is_file():
        try:
            return _stubset_from_json(cache_file.read_text("utf-8"))
        except (ValueError, KeyError, TypeError):
            pass  # damaged entry: discover again
    st = _discover_stubs(ctx, pkg, wheel(), import_names, python_version)
    from wasmtool.fsutil import atomic_write_text

    cache_file.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(cache_file, _stubset_to_json(st))
    return st


def _discover_stubs(ctx: Context, pkg: LockedPackage, wheel: Path, import_names: tuple[str, ...],
                    python_version: str) -> StubSet:
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
    import wasmtool.stubs.stubgen
    import wasmtool.synth
    import wasmtool.typemap

    h = hashlib.sha256()
    folders = [Path(wasmtool.typemap.__file__).parent, Path(wasmtool.synth.__file__).parent]
    paths = [*sorted(p for f in folders for p in f.glob("*.py")), *sorted(folders[1].glob("grammar/*.lark"))]
    paths += [Path(m.__file__ or "") for m in (wasmtool.stubs.pyi, wasmtool.stubs.discover, wasmtool.stubs.stubgen)]
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()


def _settings_key(ctx: Context, profile: TargetProfile, alias: str, stubs: StubSet, python_version: str,
                  import_names: Sequence[str]) -> str:
    from wasmtool import __version__

    py = ctx.project.manifest.python
    payload = json.dumps({
        "format": _SURFACE_FORMAT, "wasmtool": __version__, "code": _code_fingerprint(),
        "stubs": stubs.sha256, "tier": stubs.provenance,
        "skips": [s.tsv_line() for s in stubs.skips], "alias": alias, "target": profile.name,
        "python": python_version, "allow_partial": py.allow_partial, "allow_any": list(py.allow_any),
        "monomorphise": [list(m) for m in py.monomorphise],
        "dist": stubs.dist, "version": stubs.version, "imports": list(stubs.import_names),
        "bound_modules": list(import_names),  # [python-dependencies] import-names: what is mapped
        "dialect": py.mochi_dialect,
    }, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def surface_for(ctx: Context, profile: TargetProfile, pkg: LockedPackage, python_version: str, *,
                refresh: bool = False) -> BoundPackage:
    """The mapped surface of one locked package for interpreter ``python_version`` (X.Y),
    cached by stub hash and settings. The platform and whether callables cross come from the
    profile's backend."""
    backend = backend_for(profile)
    if not pkg.wheel_sha256:
        raise NotBoundError(f"{pkg.name} has no wheel in mochi.lock for {profile.name} (distribution package)",
                            package=pkg.name, file=str(ctx.lock_path))
    import_names = _manifest_import_names(ctx, pkg) or public_import_names(pkg.import_names)
    alias = _alias_of(ctx, pkg, import_names)
    # stubs of every top-level package of the wheel: public names are often re-exported from
    # a private sibling (`pytest` from `_pytest`); mypyc helper modules hold no API
    tops = {n.split(".")[0] for n in import_names}
    scan = tuple(sorted({*tops, *(n for n in pkg.import_names if "__mypyc" not in n)}))
    stubs = discover_stubs(ctx, pkg, lambda: verified_artefact(ctx, pkg).path, scan, python_version,
                           refresh=refresh)
    key = _settings_key(ctx, profile, alias, stubs, python_version, import_names)
    cache_file = ctx.cache.root / "surfaces" / f"{key}.json"
    if cache_file.is_file():
        try:
            entry = json.loads(cache_file.read_text("utf-8"))
            return BoundPackage(pkg, alias, stubs, MappedSurface.from_dict(entry["surface"]), entry["files"])
        except (ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is recomputed
    major, minor = (int(x) for x in python_version.split(".")[:2])
    parse_skips: list[SkipReport] = []
    modules = module_stubs(stubs, python_version=(major, minor), platform=backend.sys_platform, skips=parse_skips)
    surface = map_module(modules, dist=pkg.name, version=pkg.version, alias=alias, import_names=import_names,
                         tier=stubs.provenance, target=profile.name,
                         callables_cross=backend.callables_cross,
                         allow_partial=ctx.project.manifest.python.allow_partial,
                         allow_any=ctx.project.manifest.python.allow_any,
                         monomorphise=ctx.project.manifest.python.monomorphise)
    extra = tuple(sorted({*surface.skips, *stubs.skips, *parse_skips}))
    if extra != surface.skips:
        surface = MappedSurface(surface.dist, surface.version, surface.alias, surface.import_names, surface.tier,
                                surface.functions, surface.records, surface.enums, surface.handles, extra)
    files = surface_files(surface, project_dialect(ctx))
    from wasmtool.fsutil import atomic_write_text

    cache_file.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(cache_file, json.dumps({"surface": surface.to_dict(), "files": files}, sort_keys=True))
    return BoundPackage(pkg, alias, stubs, surface, files)


def _python_version(ctx: Context, lock: MochiLock, backend: TargetBackend) -> str:
    """The interpreter the target was locked for, else the one the backend says it runs."""
    inputs = lock.inputs_for(backend.name)
    return (inputs.python_version if inputs is not None else "") or backend.python_version(ctx.project)


def bind(ctx: Context, *, target: str = DEFAULT_TARGET, names: Sequence[str] = (), write: bool = True,
         refresh: bool = False) -> BindOutcome:
    """Bind the project's packages for ``target`` and (re)write its workspace.

    Writing binds hold the project's bind lock (``.mochi/bind.lock``) throughout: concurrent
    installs of one project each bind, and their workspace and lock writes must not
    interleave (the venv has its own lock, :mod:`wasmtool.targets.native`)."""
    if not write:
        return _bind_unlocked(ctx, target=target, names=names, write=False, refresh=refresh)
    from filelock import FileLock

    lock_file = bind_lock_path(ctx.root)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_file)):
        return _bind_unlocked(ctx, target=target, names=names, write=True, refresh=refresh)


def bind_lock_path(root: Path) -> Path:
    """The file ``bind`` locks to serialise writing binds of the project at ``root``."""
    return root / ".mochi" / "bind.lock"


def _bind_unlocked(ctx: Context, *, target: str, names: Sequence[str], write: bool, refresh: bool) -> BindOutcome:
    backend = backend_named(target)
    profile = backend.profile
    lock = _read_lock(ctx)
    if not lock.for_target(profile.name):
        raise UsageError(f"mochi.lock has no entries for target {profile.name}",
                         file=str(ctx.lock_path), hint=f"run `wasmtool lock --target={profile.name}`")
    python_version = _python_version(ctx, lock, backend)
    bound = tuple(surface_for(ctx, profile, p, python_version, refresh=refresh)
                  for p in bound_packages(ctx, lock, profile.name, names) if p.wheel_sha256)
    ws = render_workspace((b.surface for b in bound), {b.surface.alias: b.files for b in bound}, project_dialect(ctx))
    directory = backend.workspace_dir(ctx.root)
    changed: list[Path] = []
    if write:
        changed = ws.write(directory, prune=not names, project_root=ctx.root)
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
        changed += record_bindings(ctx, profile.name, bound, ws)
    return BindOutcome(profile.name, directory, bound, ws, tuple(changed))


def binding_fields(bound: Sequence[BoundPackage], ws: Workspace | None = None,
                   dialect: MochiDialect = "0.10") -> dict[str, dict[str, Any]]:
    """The lock fields of each bound package (formats.md §2), by distribution name."""
    ws = ws or render_workspace((b.surface for b in bound), {b.surface.alias: b.files for b in bound}, dialect)
    return {b.package.name: {
        "alias": b.surface.alias, "stub_provenance": b.stubs.provenance, "stub_sha256": b.stubs.sha256,
        "wrapper_sha256": ws.wrapper_sha256[b.surface.alias], "shim_sha256": ws.shim_sha256[b.surface.alias],
        "skipped_count": len(b.surface.skips),
    } for b in bound}


def bound_for_check(ctx: Context, lock: MochiLock, target: str, names: Sequence[str]) -> list[BoundPackage]:
    """Recompute the surfaces of ``names`` (for ``lock --check``; nothing is written)."""
    backend = backend_named(target)
    profile = backend.profile
    python_version = _python_version(ctx, lock, backend)
    entries = {p.name: p for p in lock.for_target(profile.name)}
    return [surface_for(ctx, profile, entries[n], python_version) for n in names if n in entries]


def record_bindings(ctx: Context, target: str, bound: Sequence[BoundPackage], ws: Workspace) -> list[Path]:
    """Write the binding fields into mochi.lock (atomically, with the pylock files)."""
    from wasmtool.lock.io import write_text_files
    from wasmtool.lock.rules import lock_files, with_bindings

    lock = _read_lock(ctx)
    new = with_bindings(lock, target, binding_fields(bound, ws))
    if new == lock:
        return []
    files = lock_files(new, lock_path=ctx.lock_path, configured_target=ctx.project.manifest.python.target)
    changed = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    write_text_files(files)
    return changed


def skip_summary(skips: Sequence[SkipReport]) -> dict[str, int]:
    from wasmtool.skips import count_by_reason

    return count_by_reason(skips)
