"""Pinning wheels for any target (what every backend's lock and install share): fetch the
chosen wheels through the verified cache (cross-checked with the index), turn them into lock
entries (import names, dependencies under the target's markers), and read a target's entries
back from the lock.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from wasmtool.context import Context
from wasmtool.errors import HashMismatchError, TargetError
from wasmtool.lock.errors import LockDriftError
from wasmtool.lock.io import read_lock
from wasmtool.lock.model import LockedPackage, MochiLock
from wasmtool.resolve.errors import NoWheelError
from wasmtool.targets.profile import TargetProfile

if TYPE_CHECKING:  # imported where used: httpx only when something is fetched, wheelinfo's
    # packaging.metadata (the email package) only once uv has been started
    from wasmtool.build.model import BuiltWheel
    from wasmtool.cache import CachedArtifact
    from wasmtool.index.client import IndexClient
    from wasmtool.resolve.wheelinfo import WheelSummary

__all__ = [
    "ChosenWheel",
    "build_entries",
    "check_inputs_current",
    "cross_check",
    "fetch_all",
    "local_builds",
    "locked_for_target",
    "resolvable_requirements",
    "with_build",
]


#: The project name a PEP 508 requirement starts with (packaging's identifier, greedy).
_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class ChosenWheel:
    name: str
    version: str
    filename: str
    url: str
    sha256: str


def cross_check(client: IndexClient, w: ChosenWheel) -> None:
    """The index must list the file uv chose, with the same hash, and not yanked (uv read
    the same pages; this guards against a resolver/index disagreement, and records why)."""
    page = client.get_project(w.name)
    f = page.file(w.filename)
    if f is None:
        raise NoWheelError(f"{w.filename} is not listed by the index any more", package=w.name, file=page.url)
    if f.sha256 != w.sha256:
        raise HashMismatchError(package=w.name, filename=w.filename, algorithm="sha256 (index vs resolver)",
                                expected=f.sha256, actual=w.sha256, file=page.url)


def fetch_all(ctx: Context, wheels: Sequence[ChosenWheel]) -> dict[str, CachedArtifact]:
    """Each wheel's artefact, by name: from the cache when it holds that sha256 (it was checked
    when it was stored), else cross-checked with the index and fetched (several at a time).
    The index client, HTTP and the threads are only set up when something is missing."""
    hits = ctx.cache.lookup_many(w.sha256 for w in wheels)
    found = {w.name: hits[w.sha256] for w in wheels if w.sha256 in hits}
    missing = [w for w in wheels if w.sha256 not in hits]
    if missing:
        from concurrent.futures import ThreadPoolExecutor

        from wasmtool.index.client import IndexClient

        client = IndexClient(ctx.index)

        def one(w: ChosenWheel) -> tuple[str, CachedArtifact]:
            cross_check(client, w)
            return w.name, ctx.cache.fetch(w.url, package=w.name, filename=w.filename,
                                           expected_sha256=w.sha256, opener=ctx.http, progress=ctx.progress)

        with client, ThreadPoolExecutor(max_workers=min(6, len(missing))) as pool:
            found.update(pool.map(one, missing))
    return {w.name: found[w.name] for w in wheels}


def build_entries(ctx: Context, profile: TargetProfile, python_version: str, chosen: Sequence[ChosenWheel],
                  artefacts: dict[str, CachedArtifact], infos: dict[str, WheelSummary]) -> list[LockedPackage]:
    from wasmtool.resolve.wheelinfo import platform_tag

    versions = {w.name: w.version for w in chosen}
    direct = {str(canonicalize_name(r.name)): r for r in ctx.project.requirements()}
    env = profile.marker_environment(python_version)
    packages: list[LockedPackage] = []
    for w in chosen:
        info = infos[w.name]
        req = direct.get(w.name)
        extras = set(req.extras) if req is not None else set()
        # every extra some resolved package asks of this one is enabled too
        deps: set[str] = set()
        for raw in info.requires_dist:
            named = _REQUIREMENT_NAME.match(raw)
            if named is not None and canonicalize_name(named.group(1)) not in versions:
                continue  # not resolved (an extra's, another platform's): not worth parsing
            dep = Requirement(raw)
            dname = str(canonicalize_name(dep.name))
            if dname not in versions:
                continue
            if dep.marker is None or any(dep.marker.evaluate({**env, "extra": e}) for e in (extras or {""})):
                deps.add(f"{dname}=={versions[dname]}")
        art = artefacts[w.name]
        packages.append(LockedPackage(
            name=w.name, version=w.version, target=profile.name, source="registry",
            alias=(req.alias or "") if req is not None else "",
            import_names=info.import_names,
            specifier=str(req.specifier) if req is not None else "",
            index_url=ctx.index.primary, origin="index",
            wheel_filename=w.filename, wheel_url=w.url, platform_tag=platform_tag(w.filename),
            wheel_blake3=art.blake3, wheel_sha256=art.sha256, index_sha256=w.sha256,
            extras=tuple(sorted(extras)), dependencies=tuple(sorted(deps)),
            requires_python=info.requires_python,
            capabilities_declared=("cextension",) if info.has_extension else (),
        ))
    return packages


def with_build(pkg: LockedPackage, built: BuiltWheel) -> LockedPackage:
    """``pkg`` as a wheel built from its pinned sdist: no wheel URL (install rebuilds it when the
    cache lacks it) and no index hash; the sdist and the build inputs instead (docs/builds.md)."""
    out = replace(pkg, wheel_url="", index_sha256="", sdist_filename=built.sdist_filename,
                  sdist_url=built.sdist_url, sdist_sha256=built.sdist_sha256, build_backend=built.inputs.backend,
                  build_requires=tuple(sorted(built.inputs.requires)), build_python=built.inputs.python_version,
                  build_inputs_sha256=built.inputs.sha256(), path=built.path)
    # a project folder: no index; `sdist-sha256` is the hash of the folder's files
    return replace(out, source="path", index_url="", origin="") if built.path else out


def local_builds(ctx: Context) -> dict[str, BuiltWheel]:
    """The project's ``path`` dependencies, each built into a wheel (wasmtool.build), by name."""
    from wasmtool.build.service import builder_for

    folders: dict[str, str] = {}
    for dep in ctx.project.manifest.dependencies:
        if dep.path and not dep.optional:
            folders[str(canonicalize_name(dep.name))] = dep.path
    for imp in ctx.project.imports:   # `import python "name@path+folder"`: relative to the project
        if imp.spec.source == "path" and imp.spec.path:
            folders.setdefault(str(canonicalize_name(imp.spec.name)), imp.spec.path)
    out: dict[str, BuiltWheel] = {}
    for name, path in sorted(folders.items()):
        folder = (ctx.root / path).resolve()
        rel = Path(os.path.relpath(folder, ctx.root.resolve())).as_posix()
        out[name] = builder_for(ctx).build_folder(name, folder, rel)
    return out


def resolvable_requirements(ctx: Context, local: dict[str, BuiltWheel]) -> tuple[str, ...]:
    """The project's requirements as a resolver takes them: a ``path`` dependency becomes
    ``name==<version of the wheel built from it>`` (the wheel is offered beside the index's files)."""
    out: list[str] = []
    for r in ctx.project.requirements():
        built = local.get(str(canonicalize_name(r.name)))
        if built is None:
            out.append(r.pep508())
            continue
        extras = f"[{','.join(r.extras)}]" if r.extras else ""
        text = f"{built.name}{extras}=={built.version}"
        out.append(f"{text} ; {r.markers}" if r.markers else text)
    return tuple(sorted(out))


def locked_for_target(ctx: Context, target: str) -> list[LockedPackage]:
    """The lock's entries for ``target``; a typed error (naming the lock) when there are none."""
    entries = list(read_lock(ctx.lock_path).for_target(target))
    if not entries:
        raise TargetError(f"mochi.lock has no entries for target {target}", file=str(ctx.lock_path),
                          hint=f"run `wasmtool lock --target={target}`")
    return entries


def check_inputs_current(ctx: Context, lock: MochiLock, target: str) -> None:
    """The lock's inputs for ``target`` still name the project's requirements."""
    inputs = lock.inputs_for(target)
    wanted = set(ctx.project.to_pep508())
    have = set(inputs.requirements) if inputs else set()
    if wanted != have:
        lines = [f"[{target}] requirement added: {r}" for r in sorted(wanted - have)]
        lines += [f"[{target}] requirement removed: {r}" for r in sorted(have - wanted)]
        raise LockDriftError(lines, file=str(ctx.lock_path))
