"""Locking a WebAssembly target with wasmtool's resolvelib provider (``resolver = "resolvelib"``:
the Pyodide and WASI backends).

:func:`wasmtool.resolve.wasm.resolve` chooses versions and files. Index wheels are then
fetched through the verified cache (sha256 checked, blake3 recorded) and summarised like
native ones (import names, capabilities, alias and specifier of direct imports).
Distribution packages (a distribution lock, which the Pyodide backend reads and passes in)
are pinned as that lock lists them -- version, file name, sha256, CDN URL, origin
``pyodide-lock`` -- and are not downloaded.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from wasmtool.context import Context
from wasmtool.lock.model import LockedPackage, TargetInputs
from wasmtool.resolve.wasm import DistributionLock, ResolvedWheel, resolve
from wasmtool.resolve.wheelinfo import wheel_summary
from wasmtool.targets.pinning import (
    ChosenWheel,
    build_entries,
    fetch_all,
    local_builds,
    resolvable_requirements,
    with_build,
)
from wasmtool.targets.profile import TargetProfile, list_profiles, load_profile

if TYPE_CHECKING:
    from wasmtool.build.model import BuiltWheel
    from wasmtool.index.models import IndexFile

__all__ = ["entries_for", "lock_resolvelib", "other_targets", "parse_preferences"]


def parse_preferences(text: str | None) -> tuple[dict[str, str], frozenset[str]]:
    """Versions and file names pinned by an existing pylock (ours), as resolver preferences."""
    if not text:
        return {}, frozenset()
    from wasmtool.lock.pylock import read_pylock

    pins = read_pylock(tomllib.loads(text), file="pylock (preferences)")
    return ({p.name: p.version for p in pins if p.version},
            frozenset(p.wheel_filename for p in pins if p.wheel_filename))


def other_targets(profile: TargetProfile) -> dict[str, list[str]]:
    """Platform tag -> the other targets that take index builds for it (sorted), so that a
    missing wheel's hint can name where the package does have builds. Targets whose index
    carries no platform builds (``index-pure-only``) take none."""
    out: dict[str, list[str]] = {}
    for name in list_profiles():
        other = load_profile(name)
        if other.name == profile.name or other.index_pure_only:
            continue
        for tag in (*other.platform_tags, *other.read_only_platforms):
            out.setdefault(tag, []).append(other.name)
    return out


def lock_resolvelib(ctx: Context, profile: TargetProfile, *, preferences: str | None, python_version: str,
                    dist_lock: DistributionLock | None = None) -> tuple[TargetInputs, list[LockedPackage]]:
    """Resolve and pin ``ctx``'s project for ``profile``; same shape as a native lock."""
    from wasmtool.index.client import IndexClient

    reqs = tuple(ctx.project.to_pep508())
    prefs, pinned = parse_preferences(preferences)
    local = local_builds(ctx)
    for b in local.values():
        from wasmtool.build.service import builder_for

        builder_for(ctx).check_target(b, profile)
    from wasmtool.index.models import IndexFile as File

    local_files = {n: File(filename=b.wheel_filename, url="", hashes={"sha256": b.wheel_sha256})
                   for n, b in local.items()}

    def fetch_wheel(f: IndexFile) -> Path:
        return ctx.cache.fetch(f.url, package=f.project or f.filename, filename=f.filename,
                               expected_sha256=f.sha256, opener=ctx.http, progress=ctx.progress).path

    builds: dict[str, BuiltWheel] = {}     # sdist file name -> the wheel built from it

    def build_sdist(f: IndexFile) -> tuple[IndexFile, Path]:
        from wasmtool.build.service import builder_for
        from wasmtool.index.models import IndexFile as File

        builder = builder_for(ctx)
        name = f.project or f.filename
        built = builder.build(name, f.version or "", f.filename, f.url, f.sha256)
        builder.check_target(built, profile)
        art = ctx.cache.lookup(built.wheel_sha256)
        assert art is not None  # the builder stored it
        builds[f.filename] = built
        return File(filename=built.wheel_filename, url="", hashes={"sha256": built.wheel_sha256}), art.path

    resolved: list[ResolvedWheel] = []
    if reqs:
        with IndexClient(ctx.index) as client:
            resolved = resolve(resolvable_requirements(ctx, local), profile, client, dist_lock=dist_lock,
                               preferences=prefs,
                               pinned_files=pinned, python_version=python_version, fetch_wheel=fetch_wheel,
                               index_first=ctx.project.manifest.python.pyodide_packages == "index-first",
                               other_targets=other_targets(profile), build_sdist=build_sdist, local=local_files)
    inputs = TargetInputs(profile.name, python_version, reqs, ctx.index.primary)
    return inputs, entries_for(ctx, profile, python_version, resolved, builds, local)


def entries_for(ctx: Context, profile: TargetProfile, python_version: str,
                resolved: list[ResolvedWheel], builds: dict[str, BuiltWheel] | None = None,
                local: dict[str, BuiltWheel] | None = None) -> list[LockedPackage]:
    """Lock entries: index wheels fetched and summarised; distribution packages as the lock lists them."""
    chosen = [ChosenWheel(r.name, r.version, r.filename, r.url, r.sha256) for r in resolved if r.origin == "index"]
    artefacts = fetch_all(ctx, chosen) if chosen else {}
    summaries = ctx.cache.root / "summaries"
    infos = {w.name: wheel_summary(artefacts[w.name].path, artefacts[w.name].sha256, summaries) for w in chosen}
    by_name = {r.name: r for r in resolved}
    built = {r.name: (builds or {})[r.sdist.filename] for r in resolved if r.sdist is not None}
    built.update({n: b for n, b in (local or {}).items() if n in by_name})
    packages = [
        replace(p, dependencies=by_name[p.name].dependencies, markers=by_name[p.name].marker,
                extras=tuple(sorted(set(p.extras) | set(by_name[p.name].extras))),
                requires_python=p.requires_python or by_name[p.name].requires_python)
        for p in build_entries(ctx, profile, python_version, chosen, artefacts, infos)
    ]
    packages = [with_build(p, built[p.name]) if p.name in built else p for p in packages]
    direct = {str(canonicalize_name(r.name)): r for r in ctx.project.requirements()}
    for r in resolved:
        if r.origin != "pyodide-lock":
            continue
        req = direct.get(r.name)
        packages.append(LockedPackage(
            name=r.name, version=r.version, target=profile.name, source="distribution", origin="pyodide-lock",
            alias=(req.alias or "") if req is not None else "", import_names=r.imports,
            specifier=str(req.specifier) if req is not None else "",
            wheel_filename=r.filename, wheel_url=r.url, platform_tag=r.platform_tag, wheel_sha256=r.sha256,
            extras=r.extras, dependencies=r.dependencies, markers=r.marker,
            capabilities_declared=() if r.platform_tag.endswith("-any") or not r.platform_tag else ("cextension",),
        ))
    return sorted(packages, key=lambda p: (p.name, p.version))
