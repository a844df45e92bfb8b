"""Resolve the project for the native profile with uv, then pin files with hashes.

uv chooses versions; wasmtool chooses the wheel among those uv lists (by the profile's
tag priority), fetches it through the verified cache, and reads what the lock records
from the wheel itself (import names, dependencies under the target's markers).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from wasmtool.errors import HashMismatchError
from wasmtool.lock.model import LockedPackage, TargetInputs
from wasmtool.ops.context import Context
from wasmtool.resolve.errors import NoWheelError
from wasmtool.resolve.uv import CompileRequest, start_compile
from wasmtool.resolve.wheelinfo import WheelSummary, platform_tag, wheel_summary
from wasmtool.targets.profile import TargetProfile
from wasmtool.targets.tags import best_wheel

if TYPE_CHECKING:  # imported lazily: httpx is not needed before uv has started
    from wasmtool.cache import CachedArtifact
    from wasmtool.index.client import IndexClient


@dataclass(frozen=True)
class ChosenWheel:
    name: str
    version: str
    filename: str
    url: str
    sha256: str


def target_python_version(ctx: Context, profile: TargetProfile) -> str:
    """The interpreter X.Y to resolve for: the profile's, else ``[python].python-version``,
    else the lowest version ``requires-python`` admits (3.X from 3.8 up)."""
    if profile.python_version:
        return profile.python_version
    settings = ctx.project.manifest.python
    if settings.python_version:
        return settings.python_version
    spec = SpecifierSet(settings.requires_python)
    for minor in range(8, 20):
        if f"3.{minor}.0" in spec or f"3.{minor}" in spec:
            return f"3.{minor}"
    return "3.12"


def choose_wheels(pylock: dict[str, Any], profile: TargetProfile, python_version: str) -> list[ChosenWheel]:
    chosen: list[ChosenWheel] = []
    for pkg in pylock.get("packages", []):
        wheels = {w["url"].rsplit("/", 1)[-1].split("#", 1)[0]: w for w in pkg.get("wheels", [])}
        best = best_wheel(sorted(wheels), profile, python_version)
        if best is None:
            tags = ", ".join(str(t) for t in profile.supported_tags(python_version)[:6])
            raise NoWheelError(
                f"{pkg['version']} has no wheel for target {profile.name} (Python {python_version}); "
                f"files offered: {', '.join(sorted(wheels)) or 'none (sdist only)'}; accepted tags start {tags}",
                package=pkg["name"],
            )
        w = wheels[best]
        chosen.append(ChosenWheel(str(canonicalize_name(pkg["name"])), pkg["version"], best, w["url"],
                                  w["hashes"]["sha256"]))
    return sorted(chosen, key=lambda c: c.name)


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
    from wasmtool.index.client import IndexClient

    client = IndexClient(ctx.index)

    def one(w: ChosenWheel) -> tuple[str, CachedArtifact]:
        hit = ctx.cache.lookup(w.sha256)
        if hit is not None:  # stored under this sha256, so it was checked when it was fetched
            return w.name, hit
        cross_check(client, w)
        return w.name, ctx.cache.fetch(w.url, package=w.name, filename=w.filename,
                                       expected_sha256=w.sha256, opener=ctx.http, progress=ctx.progress)

    with client, ThreadPoolExecutor(max_workers=6) as pool:
        return dict(pool.map(one, wheels))


def lock_native(
    ctx: Context, profile: TargetProfile, *, preferences: str | None
) -> tuple[TargetInputs, list[LockedPackage]]:
    python_version = target_python_version(ctx, profile)
    reqs = tuple(ctx.project.to_pep508())
    if profile.uv_python_platform is None:
        raise NoWheelError(f"target {profile.name} has no uv platform; it cannot be resolved with uv")
    job = start_compile(
        CompileRequest(requirements=reqs, python_version=python_version,
                       python_platform=profile.uv_python_platform, index_url=ctx.index.primary,
                       extra_index_urls=tuple(ctx.index.extra)),
        preferences=preferences,
    ) if reqs else None
    ctx.cache  # noqa: B018 - open the cache (and import its dependencies) while uv works
    pylock = job.wait() if job is not None else {"packages": []}
    chosen = choose_wheels(pylock, profile, python_version)
    artefacts = fetch_all(ctx, chosen)
    summaries = ctx.cache.root / "summaries"
    infos = {w.name: wheel_summary(artefacts[w.name].path, artefacts[w.name].sha256, summaries)
             for w in chosen}
    packages = build_entries(ctx, profile, python_version, chosen, artefacts, infos)
    inputs = TargetInputs(profile.name, python_version, reqs, ctx.index.primary)
    return inputs, packages


def build_entries(ctx: Context, profile: TargetProfile, python_version: str, chosen: Sequence[ChosenWheel],
                  artefacts: dict[str, CachedArtifact], infos: dict[str, WheelSummary]) -> list[LockedPackage]:
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
            dep = Requirement(str(raw))
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
