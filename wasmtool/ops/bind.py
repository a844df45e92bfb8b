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
   The surface is the top-level module plus its public submodules (``[python-dependencies]``
   ``submodules``, ``import-names``): a submodule the target cannot import (it needs a
   standard-library module the target lacks) is skipped on that target only;
4. the workspace (wrapper, ``.pyi``, shim, SKIPPED.txt) is rendered and written atomically
   where the target's backend puts it (:meth:`~wasmtool.targets.base.TargetBackend.workspace_dir`:
   ``.mochi/python_workspace`` for native, ``.mochi/python_workspace-<target>`` otherwise).

What differs between targets comes from the target's backend: the interpreter version and
``sys.platform`` the stubs are read for, and whether callables cross the boundary.

Surfaces are cached in ``<cache>/surfaces/<key>.json``, the key covering the stub files'
SHA-256, the settings (the bound module list among them), the target and wasmtool's version:
a warm ``surface`` maps nothing.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from wasmtool.cache.remote import publish_derived, restore_derived
from wasmtool.context import Context, verified_artefact
from wasmtool.errors import UsageError, WasmtoolError
from wasmtool.lock.errors import LockMissingError
from wasmtool.lock.io import read_lock
from wasmtool.lock.model import LockedPackage, MochiLock
from wasmtool.skips import SkipReason, SkipReport
from wasmtool.stubs.discover import (
    StubgenPolicy,
    StubSet,
    discover,
    index_stub_finder,
    module_name,
    module_stubs,
    public_submodules,
    stdlib_blocker,
    stub_sha256,
    unimportable_modules,
)
from wasmtool.synth.dialect import DIALECTS, MochiDialect
from wasmtool.synth.errors import NotBoundError as NotBoundError  # re-exported: defined here before
from wasmtool.synth.errors import ShimSyntaxError, SurfaceRenderError, WorkspaceError
from wasmtool.synth.files import RenderedFiles
from wasmtool.synth.workspace import Workspace, render_workspace, surface_files
from wasmtool.targets.backend import TargetBackend, backend_for, backend_named
from wasmtool.targets.profile import DEFAULT_TARGET, TargetProfile
from wasmtool.typemap.lower import map_module
from wasmtool.typemap.surface import Function, MappedSurface, TypeRef, rename_types

if TYPE_CHECKING:
    from wasmtool.project.manifest import PythonSettings
    from wasmtool.stubs.model import ModuleStub
    from wasmtool.targets.stdlib import Stdlib

__all__ = ["BindOutcome", "BoundPackage", "bind", "bound_packages", "surface_for", "surface_modules", "workspace_dir"]

#: 3: the surface is kept once, as the alias folder's ``surface.json`` text, with its counts and types
_SURFACE_FORMAT = 4


@dataclass(frozen=True)
class BoundPackage:
    """One bound package: its lock entry, alias, stubs and rendered alias folder. The mapped
    surface is read from the folder's ``surface.json`` on first use (a warm ``bind`` of a large
    surface never builds it); ``externs``/``skipped`` are its counts."""

    package: LockedPackage
    alias: str
    stubs: StubSet
    files: RenderedFiles        # the alias folder's rendered files (surface_files), read on first use
    key: str = ""               # the surface cache's key (what the surface and files depend on)
    externs: int = 0
    skipped: int = 0
    types: Mapping[str, Any] = field(default_factory=dict, compare=False)  # see _type_summary
    mapped: MappedSurface | None = field(default=None, compare=False, repr=False)
    #: set while the package's own folder is not rendered (a package whose type names another
    #: package declares too is rendered renamed, never as it is); calling it renders the folder
    #: and returns the package with it
    finish: Callable[[], BoundPackage] | None = field(default=None, compare=False, repr=False)
    #: set for a surface mapped now and not rendered: caches the mapping alone (see surface_for)
    remember: Callable[[], None] | None = field(default=None, compare=False, repr=False)

    @cached_property
    def surface(self) -> MappedSurface:
        return self.mapped or MappedSurface.from_dict(json.loads(self.files["surface.json"]))

    @property
    def tier(self) -> str:
        """Where the surface's stubs came from (the surface's ``tier``), without reading it."""
        return self.stubs.provenance

    def types_only(self) -> MappedSurface:
        """The surface without its functions and skips: what rendering a workspace from
        already rendered folders needs (alias, import names, declared types)."""
        if self.mapped is not None or not self.types:
            s = self.surface
            return MappedSurface(s.dist, s.version, s.alias, s.import_names, s.tier, (), s.records, s.enums,
                                 s.handles, ())
        return MappedSurface.from_dict({**self.types, "functions": [], "skips": []})


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


def _manifest_submodules(ctx: Context, pkg: LockedPackage) -> bool | tuple[str, ...] | None:
    for dep in ctx.project.manifest.dependencies:
        if canonicalize_name(dep.name) == canonicalize_name(pkg.name):
            return dep.submodules
    return None


def candidate_submodules(stubs: StubSet, import_names: Sequence[str], setting: bool | tuple[str, ...] | None,
                         *, explicit_imports: bool, package: str) -> tuple[str, ...]:
    """The submodules bound beside ``import_names`` before the per-target check (pure).

    ``setting`` is the dependency's ``submodules``: ``False`` none; a list narrows to those
    (relative to the package's top-level module); ``True``, or not set and no
    ``import-names``, every public submodule (:func:`~wasmtool.stubs.discover.public_submodules`).
    A listed submodule the stubs do not have is an error naming the ones there are."""
    if setting is False or (setting is None and explicit_imports):
        return ()
    tops = tuple(dict.fromkeys(n.split(".")[0] for n in import_names))
    modules = {module_name(path) for path, _ in stubs.files}
    public = public_submodules(modules, tops)
    if not isinstance(setting, tuple):
        return tuple(m for m in public if m not in import_names)
    wanted: list[str] = []
    for rel in setting:
        found = [f"{top}.{rel}" for top in tops if f"{top}.{rel}" in modules]
        if not found:
            shown = ", ".join(m.split(".", 1)[1] for m in public[:12]) + (", ..." if len(public) > 12 else "")
            raise UsageError(f"{package}: submodule {rel!r} is not a module of {', '.join(tops)}",
                             field=f"python-dependencies.{package}.submodules",
                             hint=f"public submodules: {shown}" if public else "the package has no public submodule")
        wanted += [m for m in found if m not in import_names]
    return tuple(dict.fromkeys(wanted))


def importable_submodules(stubs: StubSet, submodules: Sequence[str], profile: TargetProfile,
                          stdlib: Stdlib | None) -> tuple[tuple[str, ...], tuple[SkipReport, ...]]:
    """``submodules`` split into those ``profile``'s interpreter can import and a skip for each
    of the others (pure: decided from the stub files' module-level imports and ``stdlib``)."""
    if stdlib is None or not submodules:
        return tuple(submodules), ()
    blocker = stdlib_blocker(target=profile.name, available=stdlib.module_names,
                             universe=frozenset(sys.stdlib_module_names) | stdlib.module_names,
                             source=stdlib.source)
    blocked = unimportable_modules(stubs.files, submodules, stdlib_blocker=blocker)
    reason = backend_for(profile).unavailable_skip
    skips = tuple(SkipReport(m, reason, f"cannot be imported on {profile.name}: imports {blocked[m]}",
                             "bound on the targets whose standard library has it")
                  for m in submodules if m in blocked)
    return tuple(m for m in submodules if m not in blocked), skips


def unrendered_submodules(submodules: Sequence[str], error: str) -> tuple[SkipReport, ...]:
    """A skip for each of ``submodules`` when the surface with them does not render (pure)."""
    detail = f"the surface with the public submodules does not render: {error}"
    hint = ("bind the submodules you need with submodules = [...] in the dependency's entry, "
            "or set submodules = false")
    return tuple(SkipReport(m, SkipReason.SkipUnknown, detail, hint) for m in submodules)


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
                   python_version: str, *, refresh: bool = False, stubgen: bool = True) -> StubSet:
    """Stubs for ``pkg``: sibling stub wheels from the index (through the verified cache),
    inline ``py.typed``, typeshed, then sandboxed stubgen (``[python].stubgen``).

    The result is cached by wheel SHA-256, settings, indexes and discovery code
    (``<cache>/stubs/``): stubgen runs once per wheel; ``refresh`` looks again (a new
    ``types-`` release on the index is only seen then, or after a re-lock changes the wheel).
    ``wheel`` yields the verified wheel and is only called on a cache miss: the entry was
    derived from verified bytes with the SHA-256 the lock names. ``stubgen=False`` takes the
    complete and partial tiers only (a dependency's stubs, read to resolve names).
    """
    py = ctx.project.manifest.python
    key = hashlib.sha256(json.dumps({
        "wheel": pkg.wheel_sha256, "imports": list(import_names), "python": python_version,
        "typeshed": py.typeshed, "stubgen": (py.stubgen or {}) if stubgen else "off",
        "indexes": [ctx.index.primary, *ctx.index.extra],
        "code": _code_fingerprint(),
    }, sort_keys=True, default=str).encode()).hexdigest()
    cache_file = ctx.cache.root / "stubs" / f"{key}.json"
    if not refresh:   # the remote tier (docs/remote-cache.md): a no-op without one or with the local entry
        restore_derived(ctx.cache.root, "stubs", key, [cache_file], lambda files: _remote_stubs_problem(files[0], pkg))
    if not refresh and cache_file.is_file():
        try:
            return _stubset_from_json(cache_file.read_text("utf-8"))
        except (ValueError, KeyError, TypeError):
            pass  # damaged entry: discover again
    st = _discover_stubs(ctx, pkg, wheel(), import_names, python_version, stubgen=stubgen)
    from wasmtool.fsutil import atomic_write_text

    cache_file.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(cache_file, _stubset_to_json(st))
    publish_derived(ctx.cache.root, "stubs", key, [cache_file])
    return st


def _remote_stubs_problem(path: Path, pkg: LockedPackage) -> str | None:
    """Why a stub set from the remote tier must not be used (``None``: it may): its files must
    hash to the SHA-256 it records, and it must be of ``pkg``'s name and version."""
    try:
        st = _stubset_from_json(path.read_text("utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"not a stub set whose files hash to its recorded sha256 ({exc})"
    if canonicalize_name(st.dist) != canonicalize_name(pkg.name) or st.version != pkg.version:
        return f"a stub set of {st.dist} {st.version}, not of {pkg.name} {pkg.version}"
    return None


def _remote_surface_problem(files: Sequence[Path]) -> str | None:
    """Why a rendered binding (body, head) from the remote tier must not be used: the head must
    name the body's size and every text's digest, and the body hold exactly those texts."""
    from wasmtool.synth.files import text_digest

    body, head = files
    try:
        entry = json.loads(head.read_text("utf-8"))
        texts = json.loads(body.read_text("utf-8"))
        digests = dict(entry["digests"])
        if body.stat().st_size != int(entry["body-size"]) or not isinstance(texts, dict):
            return "its body is not the size its head records"
        if int(entry["externs"]) < 0 or int(entry["skipped"]) < 0:
            return "its head records negative counts"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"not a rendered binding ({exc})"
    if set(texts) != set(digests):
        return "its body and head name different files"
    wrong = sorted(name for name, text in texts.items()
                   if not isinstance(text, str) or text_digest(text) != digests[name])
    return f"{len(wrong)} file(s) do not hash to their recorded digest ({wrong[0]})" if wrong else None


def _discover_stubs(ctx: Context, pkg: LockedPackage, wheel: Path, import_names: tuple[str, ...],
                    python_version: str, *, stubgen: bool = True) -> StubSet:
    from wasmtool.index.client import IndexClient

    policy = StubgenPolicy.from_config(ctx.project.manifest.python.stubgen)
    with IndexClient(ctx.index) as client:
        finder = index_stub_finder(client, ctx.cache, runtime_version=pkg.version, progress=ctx.progress)
        return discover(wheel, dist=pkg.name, version=pkg.version, import_names=import_names or None,
                        find_sibling_stubs=finder, typeshed=ctx.project.manifest.python.typeshed,
                        stubgen=policy if stubgen else StubgenPolicy(fallback=False),
                        python_version=python_version)


def dependency_closure(pkg: LockedPackage, locked: Sequence[LockedPackage]) -> list[LockedPackage]:
    """The locked packages ``pkg`` depends on, directly or not, with a wheel, in name order (pure)."""
    by_name = {str(canonicalize_name(p.name)): p for p in locked}
    seen: set[str] = {str(canonicalize_name(pkg.name))}
    todo = [str(canonicalize_name(d)) for d in pkg.dependencies]
    out: list[LockedPackage] = []
    while todo:
        name = todo.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        dep = by_name[name]
        if dep.wheel_sha256:
            out.append(dep)
        todo.extend(str(canonicalize_name(d)) for d in dep.dependencies)
    return sorted(out, key=lambda p: str(canonicalize_name(p.name)))


def _wheel_of(ctx: Context, pkg: LockedPackage) -> Callable[[], Path]:
    return lambda: verified_artefact(ctx, pkg).path


def dependency_modules(ctx: Context, deps: Sequence[LockedPackage], python_version: str,
                       platform: str) -> list[ModuleStub]:
    """The stub modules of ``deps`` (types from dependencies, docs/type-table.md): what their
    own, sibling or typeshed stubs say, never stubgen's guesses; a dependency with none adds
    nothing. Cached per wheel like a bound package's stubs. A dependency whose wheel cannot be
    had here (a Pyodide distribution package whose CDN is out of reach) adds nothing either:
    its names stay outside the distribution, as before, rather than failing the bind."""
    major, minor = (int(x) for x in python_version.split(".")[:2])
    out: list[ModuleStub] = []
    for dep in deps:
        scan = tuple(n for n in dep.import_names if "__mypyc" not in n)
        try:
            st = discover_stubs(ctx, dep, _wheel_of(ctx, dep), scan, python_version, stubgen=False)
        except WasmtoolError:
            continue
        out.extend(module_stubs(st, python_version=(major, minor), platform=platform, skips=[]))
    return out


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
                  import_names: Sequence[str], submodules: Sequence[str] = (), unrendered: str = "",
                  dependencies: Sequence[LockedPackage] = (), dialect: str | None = None) -> str:
    from wasmtool import __version__

    py = ctx.project.manifest.python
    roots = item_roots(stubs, alias, import_names, dependencies)
    payload = json.dumps({
        "format": _SURFACE_FORMAT, "wasmtool": __version__, "code": _code_fingerprint(),
        "stubs": stubs.sha256, "tier": stubs.provenance,
        "skips": [s.tsv_line() for s in stubs.skips], "alias": alias, "target": profile.name,
        "python": python_version, "allow_partial": py.allow_partial,
        # only the items that can name this package's (or its dependencies') items: editing
        # another package's opt-ins leaves this surface, and its cache entry, as it was
        "allow_any": [p for p in py.allow_any if _may_name(p, roots)],
        "monomorphise": [list(m) for m in py.monomorphise if _may_name(m[0], roots)],
        "dist": stubs.dist, "version": stubs.version, "imports": list(stubs.import_names),
        "bound_modules": list(import_names),  # [python-dependencies] import-names: what is mapped
        "dialect": py.mochi_dialect if dialect is None else dialect, "any": py.any_policy,
        # the submodules mapped beside them, before the per-target import check, which depends on
        # the target's standard library: pinned by the profile's runtime (componentize-py, Pyodide)
        "submodules": list(submodules),
        "runtime": profile.runtime if submodules else {}, "unrendered": unrendered,
        # types from dependencies: their stubs are a function of their wheels (as ours are)
        "dependencies": [[d.name, d.wheel_sha256] for d in dependencies],
    }, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def item_roots(stubs: StubSet, alias: str, import_names: Sequence[str],
               dependencies: Sequence[LockedPackage] = ()) -> frozenset[str]:
    """The first parts of the dotted item paths a package's mapping can meet (pure): its stub
    modules', its import names', its alias and its dependencies' import names."""
    names = [module_name(path) for path, _ in stubs.files]
    names += [*stubs.import_names, *import_names, alias, *(n for d in dependencies for n in d.import_names)]
    return frozenset(n.split(".")[0] for n in names if n)


def _may_name(pattern: str, roots: frozenset[str]) -> bool:
    """Whether an ``allow-any`` pattern or a ``monomorphise`` name can match an item path whose
    first part is one of ``roots`` (pure). A name without a dot (a bare TypeVar), or a glob
    before the first dot (``*.loads``: ``*`` matches dots too), may match anything."""
    literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    if "." not in literal:
        return True
    return literal.split(".")[0] in roots


def surface_for(ctx: Context, profile: TargetProfile, pkg: LockedPackage, python_version: str, *,
                refresh: bool = False, unrendered: str = "",
                locked: Sequence[LockedPackage] | None = None, defer: bool = False) -> BoundPackage:
    """The mapped surface of one locked package for interpreter ``python_version`` (X.Y),
    cached by stub hash and settings. The platform and whether callables cross come from the
    profile's backend. ``unrendered``: why the surface with its submodules did not render
    beside the project's other packages; they are then skipped with that reason.

    ``defer``: a surface mapped now is not rendered yet: the package comes back with
    :attr:`BoundPackage.finish`, which renders it, and :attr:`BoundPackage.remember`, which
    caches the mapping alone (``rendered: false``, pushed to the remote tier) for when only
    its renamed folder is rendered (:func:`render_bound`)."""
    backend = backend_for(profile)
    if not pkg.wheel_sha256:
        raise NotBoundError(f"{pkg.name} has no wheel in mochi.lock for {profile.name} (distribution package)",
                            package=pkg.name, file=str(ctx.lock_path))
    explicit = _manifest_import_names(ctx, pkg)
    import_names = explicit or public_import_names(pkg.import_names)
    alias = _alias_of(ctx, pkg, import_names)
    # stubs of every top-level package of the wheel: public names are often re-exported from
    # a private sibling (`pytest` from `_pytest`); mypyc helper modules hold no API
    tops = {n.split(".")[0] for n in import_names}
    scan = tuple(sorted({*tops, *(n for n in pkg.import_names if "__mypyc" not in n)}))
    stubs = discover_stubs(ctx, pkg, lambda: verified_artefact(ctx, pkg).path, scan, python_version,
                           refresh=refresh)
    candidates = candidate_submodules(stubs, import_names, _manifest_submodules(ctx, pkg),
                                      explicit_imports=bool(explicit), package=pkg.name)
    if locked is None:
        locked = _read_lock(ctx).for_target(profile.name)
    deps = dependency_closure(pkg, locked)
    key = _settings_key(ctx, profile, alias, stubs, python_version, import_names, candidates, unrendered, deps)
    cache_file = ctx.cache.root / "surfaces" / f"{key}.json"
    restore_derived(ctx.cache.root, "surface", key, [_body_path(cache_file), cache_file], _remote_surface_problem)
    dialect = project_dialect(ctx)

    def bound_of(surface: MappedSurface, files: RenderedFiles) -> BoundPackage:
        return BoundPackage(pkg, alias, stubs, files, key, len(surface.functions), len(surface.skips),
                            _type_summary(surface), surface)

    def mapping() -> tuple[MappedSurface, Callable[[str], MappedSurface] | None]:
        """The surface mapped now, and what maps it again without its submodules, each skipped
        with the reason it is given (``None`` when there are none)."""
        submodules, target_skips = importable_submodules(stubs, candidates, profile,
                                                         backend.partial_stdlib() if candidates else None)
        major, minor = (int(x) for x in python_version.split(".")[:2])
        parse_skips: list[SkipReport] = []
        modules = module_stubs(stubs, python_version=(major, minor), platform=backend.sys_platform,
                               skips=parse_skips)
        foreign = dependency_modules(ctx, deps, python_version, backend.sys_platform)

        def mapped(subs: Sequence[str], skips: Sequence[SkipReport]) -> MappedSurface:
            return map_package(modules, stubs, dist=pkg.name, version=pkg.version, alias=alias,
                               import_names=import_names, submodules=subs, target=profile.name,
                               callables_cross=backend.callables_cross, settings=ctx.project.manifest.python,
                               extra_skips=(*parse_skips, *skips), unimportable=target_skips, dependencies=foreign)

        surface = mapped((), unrendered_submodules(submodules, unrendered)) if unrendered else mapped(submodules, ())
        if not submodules:
            return surface, None
        return surface, lambda why: mapped((), unrendered_submodules(submodules, why))

    def rendered_fresh(surface: MappedSurface, without_submodules: Callable[[str], MappedSurface] | None,
                       ) -> BoundPackage:
        """The package with the folder of ``surface`` (mapped now) rendered and cached."""
        reduced = False
        try:
            files = surface_files(surface, dialect)
        except (SurfaceRenderError, ShimSyntaxError) as exc:
            if without_submodules is None:
                raise
            # the names of the widened surface clash (two public classes or an extern and a type
            # spelled alike): bind the top-level module as before and say why the rest is not
            surface, reduced = without_submodules(exc.message), True
            files = surface_files(surface, dialect)
        bound = bound_of(surface, RenderedFiles.of(files))
        # `mapped`: the surface is the mapping of these settings, not one narrowed because this
        # dialect's rendering failed (only such an entry serves another dialect, _mapped_elsewhere)
        _write_rendered_entry(cache_file, bound.files, {"externs": bound.externs, "skipped": bound.skipped,
                                                        "types": bound.types, "mapped": not reduced})
        publish_derived(ctx.cache.root, "surface", key, [_body_path(cache_file), cache_file])
        return bound

    def rendered(known: MappedSurface | None) -> BoundPackage:
        """The package with its folder rendered and cached: from ``known`` (mapped already, for
        another dialect or beside a package sharing its type names) when that renders, else
        from a mapping made now."""
        if known is not None:
            with contextlib.suppress(SurfaceRenderError, ShimSyntaxError):   # else: mapped now, as before
                return rendered_fresh(known, None)
        return rendered_fresh(*mapping())

    known: MappedSurface | None = None
    cached = _read_rendered_entry(cache_file)
    if cached is not None:
        hit, entry = cached
        partial = entry.get("rendered") is False   # the mapping alone (rendered only renamed so far)
        with contextlib.suppress(ValueError, KeyError, TypeError):
            bound = BoundPackage(pkg, alias, stubs, hit, key, int(entry["externs"]), int(entry["skipped"]),
                                 entry["types"])
            if not partial:
                return bound
            if defer:
                return replace(bound, finish=lambda: rendered(_mapping_of(hit)))
        if partial:
            known = _mapping_of(hit)
    # the mapping does not depend on the shim dialect: a surface mapped for another dialect
    # (and rendered there with all its submodules) is rendered again, not mapped again
    known = known or _mapped_elsewhere(ctx.cache.root, [
        _settings_key(ctx, profile, alias, stubs, python_version, import_names, candidates, unrendered, deps,
                      dialect=other) for other in DIALECTS if other != ctx.project.manifest.python.mochi_dialect])
    if not defer:
        return rendered(known)
    if known is not None:
        return _unrendered(ctx.cache.root, cache_file, bound_of(known, RenderedFiles.of({})),
                           finish=lambda: rendered(known))
    surface, without_submodules = mapping()
    return _unrendered(ctx.cache.root, cache_file, bound_of(surface, RenderedFiles.of({})),
                       finish=lambda: rendered_fresh(surface, without_submodules))


def _unrendered(cache_root: Path, cache_file: Path, bound: BoundPackage,
                finish: Callable[[], BoundPackage]) -> BoundPackage:
    """``bound`` (its surface mapped, its folder not rendered) with ``finish``, which renders
    it, and what caches its mapping alone: only ``surface.json``, ``rendered: false``, also on
    the remote tier, so that a later bind, here or on another machine, takes the mapping and
    renders what it needs. Written only for a package that is rendered renamed: one rendered
    as it is gets its full entry instead."""
    def remember() -> None:
        from wasmtool.synth.workspace import render_surface_json

        files = RenderedFiles.of({"surface.json": render_surface_json(bound.surface)})
        _write_rendered_entry(cache_file, files, {"externs": bound.externs, "skipped": bound.skipped,
                                                  "types": bound.types, "mapped": True, "rendered": False})
        publish_derived(cache_root, "surface", bound.key, [_body_path(cache_file), cache_file])
    return replace(bound, finish=finish, remember=remember)


def _mapping_of(files: Mapping[str, str]) -> MappedSurface | None:
    """The mapped surface a cached rendering's ``surface.json`` holds, ``None`` when it cannot
    be read (a damaged entry: the caller maps again)."""
    with contextlib.suppress(WasmtoolError, ValueError, KeyError, TypeError):
        return MappedSurface.from_dict(json.loads(files["surface.json"]))
    return None


def _mapped_elsewhere(cache_root: Path, keys: Sequence[str]) -> MappedSurface | None:
    """The mapped surface of the first of ``keys`` (the same settings in another shim dialect)
    with a cache entry that holds the mapping itself, else ``None``."""
    for key in keys:
        cached = _read_rendered_entry(cache_root / "surfaces" / f"{key}.json")
        if cached is None or cached[1].get("mapped") is not True:
            continue
        surface = _mapping_of(cached[0])
        if surface is not None:
            return surface
    return None


def _body_path(head: Path) -> Path:
    return head.with_name(f"{head.stem}.files.json")


def _write_rendered_entry(head: Path, files: Mapping[str, str], fields: Mapping[str, Any]) -> None:
    """Cache rendered files in two parts: ``<key>.files.json`` holds the texts, ``<key>.json``
    (written last, so a head always has its body) their digests and ``fields``. A warm bind
    reads only the head (:func:`_read_rendered_entry`)."""
    from wasmtool.fsutil import atomic_write_text

    rendered = files if isinstance(files, RenderedFiles) else RenderedFiles.of(files)
    body = _body_path(head)
    head.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(dict(rendered.texts()), sort_keys=True)
    atomic_write_text(body, text)
    atomic_write_text(head, json.dumps({**fields, "digests": dict(rendered.digests), "body-size": len(text.encode())},
                                       sort_keys=True))


def _read_rendered_entry(head: Path) -> tuple[RenderedFiles, dict[str, Any]] | None:
    """The files and fields :func:`_write_rendered_entry` cached, the texts unread until used;
    ``None`` when there is no usable entry (a damaged one is recomputed)."""
    body = _body_path(head)
    try:
        entry = json.loads(head.read_text("utf-8"))
        if not isinstance(entry, dict) or body.stat().st_size != int(entry["body-size"]):
            return None
        digests = {str(k): str(v) for k, v in dict(entry["digests"]).items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None

    def discard() -> None:
        for path in (head, body):   # never offered again: the next bind renders afresh
            with contextlib.suppress(OSError):
                path.unlink()

    def load() -> Mapping[str, str]:
        try:
            texts = json.loads(body.read_text("utf-8"))
            if isinstance(texts, dict):
                return texts
        except (OSError, ValueError):
            pass
        discard()
        raise WorkspaceError("a cached rendering cannot be read", file=str(body),
                             hint="the damaged copy was removed: run the command again to render it afresh")
    return RenderedFiles(digests, load, origin=str(body), discard=discard), entry


def _type_summary(surface: MappedSurface) -> dict[str, Any]:
    """``surface.to_dict()`` without functions and skips (:meth:`BoundPackage.types_only`)."""
    bare = MappedSurface(surface.dist, surface.version, surface.alias, surface.import_names, surface.tier, (),
                         surface.records, surface.enums, surface.handles, ())
    return {k: v for k, v in bare.to_dict().items() if k not in ("functions", "skips")}


def map_package(modules: Sequence[ModuleStub], stubs: StubSet, *, dist: str, version: str, alias: str,
                import_names: Sequence[str], submodules: Sequence[str], target: str, callables_cross: bool | None,
                settings: PythonSettings, extra_skips: Sequence[SkipReport] = (),
                unimportable: Sequence[SkipReport] = (), dependencies: Sequence[ModuleStub] = ()) -> MappedSurface:
    """The surface of ``import_names`` and ``submodules`` (pure): every module mapped with the
    project's type settings, the stubs' and ``extra_skips`` (parse failures, submodules the
    target cannot import) merged into the skips. The surface's ``import_names`` stay the
    modules loaded with the wrapper; submodules are imported on first use.

    ``unimportable`` are the skips of the submodules the target cannot import: what the
    mapping reached in them anyway (a class of theirs that another module's signature names)
    is dropped too, with every extern whose types name it (:func:`without_modules`).

    With no submodules this is the surface ``bind`` made before submodules were bound."""
    surface = map_module(modules, dist=dist, version=version, alias=alias,
                         import_names=(*import_names, *submodules),
                         tier=stubs.provenance, target=target, callables_cross=callables_cross,
                         allow_partial=settings.allow_partial, allow_any=settings.allow_any,
                         monomorphise=settings.monomorphise,
                         any_policy="skip" if settings.any_policy == "skip" else "map",
                         dependencies=dependencies)
    if unimportable:
        surface = without_modules(surface, unimportable)
    extra = tuple(sorted({*surface.skips, *stubs.skips, *extra_skips, *unimportable}))
    if extra != surface.skips or submodules:
        eager = tuple(import_names) if submodules else surface.import_names
        surface = MappedSurface(surface.dist, surface.version, surface.alias, eager, surface.tier,
                                surface.functions, surface.records, surface.enums, surface.handles, extra)
    return surface


def without_modules(surface: MappedSurface, modules: Sequence[SkipReport]) -> MappedSurface:
    """``surface`` without what lives in the skipped ``modules`` (or below them): their
    externs, records, enums and handles, and every extern or record whose types name one of
    those; each dropped extern is skipped with its module's reason (pure)."""
    def owner(module: str) -> SkipReport | None:
        return next((m for m in modules if module == m.path or module.startswith(m.path + ".")), None)

    def py_module(py: str) -> str:
        return py.partition(":")[0]

    bad: dict[str, SkipReport] = {}
    declared = [(r.name, r.py) for r in surface.records] + [(e.name, e.py) for e in surface.enums]
    for name, py in declared + [(h.name, h.py) for h in surface.handles]:
        found = owner(py_module(py)) if py else None
        if found is not None:
            bad[name] = found

    def named(t: TypeRef) -> SkipReport | None:
        return next((bad[x.name] for x in t.walk() if x.kind in ("record", "enum", "handle") and x.name in bad),
                    None)

    changed = True
    while changed:   # a record whose field names a dropped type is dropped too
        changed = False
        for rec in surface.records:
            if rec.name not in bad:
                found = next((f for f in (named(x.type) for x in rec.fields) if f is not None), None)
                if found is not None:
                    bad[rec.name] = found
                    changed = True
    kept: list[Function] = []
    skips: set[SkipReport] = set()
    for fn in surface.functions:
        module = py_module(fn.target)
        found = owner(module) or next((f for f in (named(t) for t in (*(p.type for p in fn.params),
                                                                        *((fn.returns,) if fn.returns else ())))
                                       if f is not None), None)
        if found is None:
            kept.append(fn)
            continue
        skips.add(SkipReport(fn.target.replace(":", "."), found.reason,
                             f"needs {found.path}, which {found.detail}", found.hint))
    return MappedSurface(surface.dist, surface.version, surface.alias, surface.import_names, surface.tier,
                         tuple(kept), tuple(r for r in surface.records if r.name not in bad),
                         tuple(e for e in surface.enums if e.name not in bad),
                         tuple(h for h in surface.handles if h.name not in bad),
                         tuple(sorted({*surface.skips, *skips})))


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
    bound, ws = render_bound(ctx, profile, python_version,
                             [surface_for(ctx, profile, p, python_version, refresh=refresh,
                                          locked=lock.for_target(profile.name), defer=True)
                              for p in bound_packages(ctx, lock, profile.name, names) if p.wheel_sha256])
    if backend.typescript_declarations:   # python_wrap/<alias>/<alias>.d.ts (docs/typescript.md)
        from wasmtool.ops.declarations import with_typescript

        ws = with_typescript(ctx.cache.root, ws, bound)
    directory = backend.workspace_dir(ctx.root)
    changed: list[Path] = []
    if write:
        changed = ws.write(directory, prune=not names, project_root=ctx.root)
        meta = {b.alias: {
            "dist": b.package.name, "version": b.package.version, "stub-provenance": b.stubs.provenance,
            "stub-source": b.stubs.source, "stub-sha256": b.stubs.sha256,
            "wrapper-sha256": ws.wrapper_sha256[b.alias], "shim-sha256": ws.shim_sha256[b.alias],
            "skipped-count": b.skipped, "externs": b.externs,
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


def render_bound(ctx: Context, profile: TargetProfile, python_version: str,
                 bound: list[BoundPackage]) -> tuple[tuple[BoundPackage, ...], Workspace]:
    """The workspace of ``bound``. Type names are made unique across the packages' shims when
    they render together; when that makes a package's names clash, the package is bound
    again without its submodules (each skipped with the reason), as before submodules.
    A package of ``bound`` whose folder is not rendered yet (:attr:`BoundPackage.finish`) is
    rendered as it is only if it keeps its type names; else only its renamed folder is."""
    retried: set[str] = set()
    while True:
        try:
            surfaces, rendered = _disambiguated(ctx, bound)
            return tuple(bound), render_workspace(surfaces, rendered, project_dialect(ctx))
        except (SurfaceRenderError, ShimSyntaxError) as exc:
            name = exc.package or ""
            at = next((i for i, b in enumerate(bound) if b.package.name == name), None)
            if at is None or name in retried:
                raise
            retried.add(name)
            bound[at] = surface_for(ctx, profile, bound[at].package, python_version,
                                    unrendered=f"{exc.message} (beside the project's other packages)")


def _disambiguated(ctx: Context, bound: list[BoundPackage]) -> tuple[list[MappedSurface],
                                                                      dict[str, Mapping[str, str]]]:
    """The surfaces and alias folders to render together: a type name declared by several
    packages is renamed in each (:func:`~wasmtool.synth.workspace.disambiguate`), and the
    renamed packages' folders are rendered renamed. A package of ``bound`` not rendered yet is
    replaced (in place) by itself rendered when it keeps its names. Which names clash is read from the declared
    types alone; each renamed folder is cached under its own package's surface key and its
    renaming (``<cache>/workspaces/<key>.json``, or ``<key>.failed.json`` when it does not
    render), so changing one package's settings renders again only the packages whose
    renaming changed, and a warm ``bind`` renders nothing and builds no surface."""
    from wasmtool.fsutil import atomic_write_text
    from wasmtool.synth.workspace import clash_renames, disambiguate

    dialect = project_dialect(ctx)
    folder = ctx.cache.root / "workspaces"
    while True:   # render the folders of the packages that keep their names (which can change what clashes)
        types = {b.alias: b.types_only() for b in bound}
        renames = clash_renames(types.values())
        todo = [i for i, b in enumerate(bound) if b.finish is not None and not renames.get(b.alias)]
        if not todo:
            break
        for i in todo:
            bound[i] = _finished(bound[i])
    for b in bound:      # rendered renamed only: cache the mapping, which a later bind may need
        if b.finish is not None and b.remember is not None:
            b.remember()
    out: dict[str, tuple[Mapping[str, str], dict[str, Any]]] = {}
    for b in sorted(bound, key=lambda x: x.alias):
        names = renames.get(b.alias)
        if not names:
            continue
        key = hashlib.sha256(json.dumps({
            "format": _SURFACE_FORMAT, "code": _code_fingerprint(), "dialect": dialect,
            "surface": b.key or b.files.digest("surface.json"), "renames": sorted(names.items()),
        }, sort_keys=True).encode()).hexdigest()
        entry, failed = folder / f"{key}.json", folder / f"{key}.failed.json"
        cached = _read_rendered_entry(entry)
        if cached is not None and isinstance(cached[1].get("types"), dict):
            out[b.alias] = (cached[0], cached[1]["types"])
            continue
        why: Any = None
        if failed.is_file():
            with contextlib.suppress(ValueError, OSError):
                why = json.loads(failed.read_text("utf-8"))
        if isinstance(why, dict) and "message" in why:
            raise SurfaceRenderError(str(why["message"]), package=str(why.get("package", "")))
        renamed = rename_types(b.surface, names)
        try:
            files = RenderedFiles.of(surface_files(renamed, dialect))
        except (SurfaceRenderError, ShimSyntaxError) as exc:
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write_text(failed, json.dumps({"package": exc.package or "", "message": exc.message}))
            raise
        out[b.alias] = (files, _type_summary(renamed))
        _write_rendered_entry(entry, files, {"types": out[b.alias][1]})
    surfaces = [MappedSurface.from_dict({**out[b.alias][1], "functions": [], "skips": []})
                if b.alias in out else types[b.alias] for b in bound]
    again = {s.alias: s for s in disambiguate(surfaces)}
    if not all(again[s.alias] is s for s in surfaces):   # renamed names meet again: let the renderer decide
        bound[:] = [_finished(b) for b in bound]
        return [b.surface for b in bound], {b.alias: b.files for b in bound}
    return surfaces, {b.alias: out[b.alias][0] if b.alias in out else b.files for b in bound}


def _finished(b: BoundPackage) -> BoundPackage:
    """``b`` with its own folder rendered."""
    return b.finish() if b.finish is not None else b


def binding_fields(bound: Sequence[BoundPackage], ws: Workspace) -> dict[str, dict[str, Any]]:
    """The lock fields of each bound package (formats.md §2), by distribution name, from the
    workspace :func:`render_bound` rendered for them."""
    return {b.package.name: {
        "alias": b.alias, "stub_provenance": b.stubs.provenance, "stub_sha256": b.stubs.sha256,
        "wrapper_sha256": ws.wrapper_sha256[b.alias], "shim_sha256": ws.shim_sha256[b.alias],
        "skipped_count": b.skipped,
    } for b in bound}


def bound_for_check(ctx: Context, lock: MochiLock, target: str,
                    names: Sequence[str]) -> tuple[list[BoundPackage], Workspace]:
    """Recompute the surfaces of ``names`` and render them (for ``lock --check``; nothing is
    written): the bound packages and their workspace, which :func:`binding_fields` takes."""
    backend = backend_named(target)
    profile = backend.profile
    python_version = _python_version(ctx, lock, backend)
    entries = {p.name: p for p in lock.for_target(profile.name)}
    bound = [surface_for(ctx, profile, entries[n], python_version, locked=tuple(entries.values()), defer=True)
             for n in names if n in entries]
    rendered, ws = render_bound(ctx, profile, python_version, bound)
    return list(rendered), ws


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


def module_finder(modules: Iterable[str]) -> Callable[[str], str]:
    """:func:`module_of` against a fixed set of modules: the dotted path's prefixes are looked
    up in a set, longest first, instead of scanning the list for every path (a large package's
    surface asks for hundreds of thousands of paths)."""
    known = frozenset(modules)

    def find(path: str) -> str:
        prefix = path
        while prefix:
            if prefix in known:
                return prefix
            prefix = prefix.rpartition(".")[0]
        return path.split(".")[0]
    return find


def module_of(path: str, modules: Iterable[str]) -> str:
    """The longest of ``modules`` that dotted ``path`` is in (or is), else ``path``'s first part."""
    return module_finder(modules)(path)


def surface_modules(surface: MappedSurface) -> dict[str, dict[str, list[str]]]:
    """The surface grouped by Python module (pure): each module's externs (the module of the
    extern's target: a method's is where its class is public) and skipped paths, sorted."""
    module_of_path = module_finder({f.target.partition(":")[0] for f in surface.functions} | set(surface.import_names))
    out: dict[str, dict[str, list[str]]] = {}
    for fn in surface.functions:
        out.setdefault(fn.target.partition(":")[0], {"externs": [], "skips": []})["externs"].append(fn.extern_name)
    for skip in surface.skips:
        out.setdefault(module_of_path(skip.path), {"externs": [], "skips": []})["skips"].append(skip.path)
    return {m: {"externs": sorted(v["externs"]), "skips": sorted(set(v["skips"]))} for m, v in sorted(out.items())}


def skip_summary(skips: Sequence[SkipReport]) -> dict[str, int]:
    from wasmtool.skips import count_by_reason

    return count_by_reason(skips)
