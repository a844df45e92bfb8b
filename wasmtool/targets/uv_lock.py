"""Locking a target with uv (``resolver = "uv"``: the native profile).

uv chooses versions (``--python-platform`` from the profile); wasmtool chooses the wheel
among those uv lists (by the profile's tag priority), fetches it through the verified cache,
and reads what the lock records from the wheel itself (import names, dependencies under the
target's markers).
"""

from __future__ import annotations

from typing import Any

from packaging.utils import canonicalize_name

from wasmtool.context import Context
from wasmtool.lock.model import LockedPackage, TargetInputs
from wasmtool.resolve.errors import NoWheelError
from wasmtool.targets.pinning import ChosenWheel, build_entries, fetch_all
from wasmtool.targets.profile import TargetProfile
from wasmtool.targets.tags import best_wheel

__all__ = ["choose_wheels", "lock_uv"]


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


def lock_uv(ctx: Context, profile: TargetProfile, *, preferences: str | None,
            python_version: str) -> tuple[TargetInputs, list[LockedPackage]]:
    """Resolve with uv for interpreter ``python_version`` and pin files with hashes (see the
    module docstring)."""
    from wasmtool.resolve.uv import CompileRequest, start_compile

    reqs = tuple(ctx.project.to_pep508())
    if profile.uv_python_platform is None:
        raise NoWheelError(f"target {profile.name} has no uv platform; it cannot be resolved with uv")
    job = start_compile(
        CompileRequest(requirements=reqs, python_version=python_version,
                       python_platform=profile.uv_python_platform, index_url=ctx.index.primary,
                       extra_index_urls=tuple(ctx.index.extra)),
        preferences=preferences,
    ) if reqs else None
    # while uv works: open the cache, import what pinning needs, list the target's tags
    ctx.cache  # noqa: B018
    from wasmtool.resolve.wheelinfo import wheel_summary

    if job is None:
        pylock: dict[str, Any] = {"packages": []}
    else:
        profile.supported_tags(python_version)  # cached: choose_wheels ranks wheels by them
        pylock = job.wait()
    chosen = choose_wheels(pylock, profile, python_version)
    artefacts = fetch_all(ctx, chosen)
    summaries = ctx.cache.root / "summaries"
    infos = {w.name: wheel_summary(artefacts[w.name].path, artefacts[w.name].sha256, summaries)
             for w in chosen}
    packages = build_entries(ctx, profile, python_version, chosen, artefacts, infos)
    inputs = TargetInputs(profile.name, python_version, reqs, ctx.index.primary)
    return inputs, packages
