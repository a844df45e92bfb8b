"""Locking a target with uv (``resolver = "uv"``: the native profile).

uv chooses versions (``--python-platform`` from the profile); wasmtool chooses the wheel
among those uv lists (by the profile's tag priority), fetches it through the verified cache,
and reads what the lock records from the wheel itself (import names, dependencies under the
target's markers).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from wasmtool.context import Context
from wasmtool.lock.model import LockedPackage, TargetInputs
from wasmtool.resolve.errors import NoWheelError, UvFailedError
from wasmtool.targets.abi_policy import TagPolicy, policy_tags, project_tag_policy
from wasmtool.targets.pinning import (
    ChosenWheel,
    build_entries,
    fetch_all,
    local_builds,
    resolvable_requirements,
    with_build,
)
from wasmtool.targets.profile import TargetProfile
from wasmtool.targets.tags import best_wheel

if TYPE_CHECKING:
    from wasmtool.build.model import BuiltWheel
    from wasmtool.index.models import IndexFile

__all__ = ["choose_wheels", "lock_uv", "pick_sdist", "sdist_only_packages"]


def choose_wheels(pylock: dict[str, Any], profile: TargetProfile, python_version: str,
                  policy: TagPolicy | None = None) -> list[ChosenWheel]:
    chosen: list[ChosenWheel] = []
    for pkg in pylock.get("packages", []):
        if "version" not in pkg:   # a direct reference (git URL, folder) uv pinned without a version
            where = pkg.get("vcs") or pkg.get("directory") or pkg.get("archive") or {}
            raise NoWheelError(f"{pkg.get('name', '?')} is a direct reference ({where.get('url') or where.get('path')})"
                               " with no version: only index packages and the project's folders can be locked",
                               package=str(pkg.get("name", "")))
        wheels = {w["url"].rsplit("/", 1)[-1].split("#", 1)[0]: w for w in pkg.get("wheels", [])}
        best = best_wheel(sorted(wheels), profile, python_version, policy)
        if best is None:
            tags = ", ".join(str(t) for t in (profile.supported_tags(python_version) if policy is None else
                                              policy_tags(profile.supported_tags(python_version), policy,
                                                          python_version))[:6])
            raise NoWheelError(
                f"{pkg['version']} has no wheel for target {profile.name} (Python {python_version}); "
                f"files offered: {', '.join(sorted(wheels)) or 'none (sdist only)'}; accepted tags start {tags}",
                package=pkg["name"],
            )
        w = wheels[best]
        chosen.append(ChosenWheel(str(canonicalize_name(pkg["name"])), pkg["version"], best, w["url"],
                                  w["hashes"]["sha256"]))
    return sorted(chosen, key=lambda c: c.name)


def with_index_wheels(ctx: Context, pylock: dict[str, Any]) -> dict[str, Any]:
    """``pylock`` with every wheel the index lists for each pinned version. uv resolves for
    the GIL build (it takes no free-threaded ``--python-version``) and lists only the wheels
    that build can use; a free-threaded lock chooses among all of them (docs/audit.md)."""
    from wasmtool.index.client import IndexClient
    from wasmtool.index.models import parse_filename
    from wasmtool.index.selection import select_files

    packages: list[dict[str, Any]] = []
    with IndexClient(ctx.index) as client:
        for pkg in pylock.get("packages", []):
            if "version" not in pkg or "wheels" not in pkg:
                packages.append(pkg)
                continue
            page = client.get_project(str(pkg["name"]))
            have = {w["url"].rsplit("/", 1)[-1].split("#", 1)[0] for w in pkg["wheels"]}
            extra = [{"url": f.url, "hashes": {"sha256": f.sha256}} for f in select_files(page)
                     if f.is_wheel and f.filename not in have and (parsed := parse_filename(f.filename)) is not None
                     and parsed[1] == Version(str(pkg["version"]))]
            packages.append({**pkg, "wheels": [*pkg["wheels"], *extra]})
    return {**pylock, "packages": packages}


#: How many times one lock may go back to uv after building sdists uv could not use.
MAX_BUILD_ROUNDS = 4

#: uv's ways of saying that a package (at a version) has only an sdist when building is off.
_SDIST_ONLY = (
    re.compile(r"Wheels are required for `([A-Za-z0-9._-]+)`"),
    re.compile(r"\b([A-Za-z0-9][A-Za-z0-9._-]*)(?:==([^\s,]+))? has no usable wheels"),
)


def sdist_only_packages(stderr: str) -> dict[str, str]:
    """Name -> version ("" when uv names none) of the packages uv refused for want of a wheel."""
    found: dict[str, str] = {}
    for pattern in _SDIST_ONLY:
        for m in pattern.finditer(stderr):
            name = str(canonicalize_name(m.group(1)))
            version = m.group(2) if m.lastindex and m.lastindex >= 2 and m.group(2) else ""
            if version or name not in found:
                found[name] = version
    return found


def pick_sdist(files: Sequence[IndexFile], profile: TargetProfile, python_version: str, *, version: str,
               specifier: str) -> IndexFile | None:
    """The sdist to build for a package uv could not use: of ``version`` when uv named one, else
    of the newest version allowed by ``specifier`` that has no wheel for the target."""
    from packaging.specifiers import SpecifierSet

    from wasmtool.index.models import parse_filename

    by_version: dict[Version, list[IndexFile]] = {}
    for f in files:
        parsed = parse_filename(f.filename)
        if parsed is not None and not f.yanked:
            by_version.setdefault(parsed[1], []).append(f)
    spec = SpecifierSet(specifier or "")
    for v in sorted(by_version, reverse=True):
        if version and v != Version(version):
            continue
        if not version and not spec.contains(v, prereleases=True):
            continue
        group = by_version[v]
        if best_wheel([f.filename for f in group if f.is_wheel], profile, python_version) is not None:
            continue
        sdists = sorted((f for f in group if not f.is_wheel and f.sha256), key=lambda f: f.filename)
        if sdists:
            return sdists[0]
    return None


def lock_uv(ctx: Context, profile: TargetProfile, *, preferences: str | None,
            python_version: str) -> tuple[TargetInputs, list[LockedPackage]]:
    """Resolve with uv for interpreter ``python_version`` and pin files with hashes (see the
    module docstring). uv never builds: when it refuses a package for want of a wheel, that
    package's sdist is built here (wasmtool.build) and offered to uv as a local wheel."""
    from wasmtool.resolve.uv import CompileRequest, start_compile

    reqs = tuple(ctx.project.to_pep508())
    if profile.uv_python_platform is None:
        raise NoWheelError(f"target {profile.name} has no uv platform; it cannot be resolved with uv")
    local = local_builds(ctx)
    built: dict[str, BuiltWheel] = {b.wheel_sha256: b for b in local.values()}   # by the built wheel's sha256
    resolvable = resolvable_requirements(ctx, local)
    with tempfile.TemporaryDirectory(prefix="wasmtool-built-links-") as links:
        for b in built.values():
            art = ctx.cache.lookup(b.wheel_sha256)
            assert art is not None  # the builder stored it
            shutil.copyfile(art.path, Path(links) / art.filename)
        for _round in range(MAX_BUILD_ROUNDS + 1):
            job = start_compile(
                CompileRequest(requirements=resolvable, python_version=python_version,
                               python_platform=profile.uv_python_platform, index_url=ctx.index.primary,
                               extra_index_urls=tuple(ctx.index.extra), find_links=(links,) if built else ()),
                preferences=preferences,
            ) if reqs else None
            # while uv works: open the cache, import what pinning needs, list the target's tags
            ctx.cache  # noqa: B018
            from wasmtool.resolve.wheelinfo import wheel_summary

            if job is None:
                pylock: dict[str, Any] = {"packages": []}
                break
            profile.supported_tags(python_version)  # cached: choose_wheels ranks wheels by them
            try:
                pylock = job.wait()
                break
            except UvFailedError as exc:
                wanted = sdist_only_packages(exc.stderr)
                done = {b.name for b in built.values()}
                todo = {n: v for n, v in wanted.items() if n not in done}
                if not todo or _round == MAX_BUILD_ROUNDS:
                    raise
                for b in _build_for_uv(ctx, profile, python_version, todo):
                    built[b.wheel_sha256] = b
                    art = ctx.cache.lookup(b.wheel_sha256)
                    assert art is not None  # the builder stored it
                    shutil.copyfile(art.path, Path(links) / art.filename)
        policy = project_tag_policy(ctx.project.manifest.python)
        if policy is not None and policy.free_threaded:
            pylock = with_index_wheels(ctx, pylock)
        chosen = choose_wheels(pylock, profile, python_version, policy)
    artefacts = fetch_all(ctx, chosen)
    summaries = ctx.cache.root / "summaries"
    infos = {w.name: wheel_summary(artefacts[w.name].path, artefacts[w.name].sha256, summaries)
             for w in chosen}
    packages = [with_build(p, built[p.wheel_sha256]) if p.wheel_sha256 in built else p
                for p in build_entries(ctx, profile, python_version, chosen, artefacts, infos)]
    inputs = TargetInputs(profile.name, python_version, reqs, ctx.index.primary)
    return inputs, packages


def _build_for_uv(ctx: Context, profile: TargetProfile, python_version: str,
                  todo: dict[str, str]) -> list[BuiltWheel]:
    """Build the sdist of each package uv refused (name -> version uv named, or "")."""
    from wasmtool.build.service import builder_for
    from wasmtool.index.client import IndexClient

    direct = {str(canonicalize_name(r.name)): str(r.specifier) for r in ctx.project.requirements()}
    builder = builder_for(ctx)
    out: list[BuiltWheel] = []
    with IndexClient(ctx.index) as client:
        for name, version in sorted(todo.items()):
            page = client.get_project(name)
            sdist = pick_sdist(page.files, profile, python_version, version=version, specifier=direct.get(name, ""))
            if sdist is None:
                raise NoWheelError(f"uv found no wheel of {name} for {profile.name} and the index has no sdist "
                                   "to build one from", package=name, file=page.url)
            out.append(builder.build(name, str(parse_filename_version(sdist.filename)), sdist.filename, sdist.url,
                                     sdist.sha256))
    return out


def parse_filename_version(filename: str) -> Version:
    from wasmtool.index.models import parse_filename

    parsed = parse_filename(filename)
    assert parsed is not None
    return parsed[1]
