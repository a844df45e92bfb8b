"""Resolution for the targets uv cannot resolve: Pyodide 314 (``pyemscripten_2026_0_wasm32``),
the older ``pyodide_2025_0_wasm32`` line and WASI Preview 2 (``wasi_0_0_0_wasm32``).

Public API::

    resolve(requirements, profile, client, *, dist_lock=None, preferences=None, ...) -> list[ResolvedWheel]
    DistributionLock, DistPackage, ResolvedWheel

resolvelib does the backtracking (:class:`wasmtool.resolve.provider.WasmProvider`); the
profile gives the tag priority, the marker environment and the wording of its errors
(``[messages]``). A package listed by the distribution lock is exactly that entry (origin
``pyodide-lock``, never looked up on the index); reading that lock is the Pyodide target's
(:func:`wasmtool.targets.pyodide.load_distribution_lock`). For profiles whose index carries
no platform builds (``index-pure-only``: ``pyodide_*`` without a PEP 783 ``pyemscripten_*``
tag) the index can only contribute pure wheels. Failures are typed
(:mod:`wasmtool.resolve.errors`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from resolvelib import BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver
from resolvelib.structs import RequirementInformation

from wasmtool.resolve.errors import (
    DistributionLockMismatchError,
    NoTargetWheelError,
    ResolutionConflictError,
    ResolutionTooDeepError,
    WasmResolveError,
)
from wasmtool.resolve.provider import (
    PYTHON,
    Candidate,
    DistPackage,
    ProjectReport,
    Req,
    WasmProvider,
    marker_of,
    parse_requirement,
)
from wasmtool.resolve.wheelinfo import platform_tag
from wasmtool.targets.profile import TargetProfile

if TYPE_CHECKING:
    from wasmtool.index.client import IndexClient
    from wasmtool.index.models import IndexFile

__all__ = [
    "DistPackage",
    "DistributionLock",
    "ResolvedWheel",
    "resolve",
]

MAX_ROUNDS = 2000


# --------------------------------------------------------------------------- distribution lock


@dataclass(frozen=True)
class DistributionLock:
    """A Pyodide distribution's ``pyodide-lock.json``: ``packages`` by normalised name."""

    path: str
    abi_version: str
    python: str
    platform: str
    pyodide_version: str
    base_url: str
    packages: Mapping[str, DistPackage] = field(hash=False)

    def get(self, name: str) -> DistPackage | None:
        return self.packages.get(str(canonicalize_name(name)))

    def url_of(self, entry: DistPackage) -> str:
        return self.base_url + entry.file_name


def check_distribution_lock(lock: DistributionLock, profile: TargetProfile, python_version: str) -> None:
    """The lock must belong to the profile's ABI and interpreter (formats.md §9.3: one ABI family)."""
    want_abi = str(profile.runtime.get("abi-version", "") or "")
    if want_abi and lock.abi_version != want_abi:
        raise DistributionLockMismatchError(
            f"the distribution lock is for ABI {lock.abi_version}, target {profile.name} needs {want_abi}",
            file=lock.path, field="info.abi_version")
    if lock.python.split(".")[:2] != python_version.split(".")[:2]:
        raise DistributionLockMismatchError(
            f"the distribution lock is for Python {lock.python}, target {profile.name} is Python {python_version}",
            file=lock.path, field="info.python")


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class ResolvedWheel:
    """One pinned distribution of a resolution. ``dependencies`` are ``name==version`` of resolved packages."""

    name: str
    version: str
    filename: str
    url: str
    sha256: str
    origin: str                      # "index" | "pyodide-lock"
    dependencies: tuple[str, ...] = ()
    requires_python: str = ""
    marker: str = ""
    extras: tuple[str, ...] = ()
    platform_tag: str = ""
    imports: tuple[str, ...] = ()    # known without the wheel (distribution lock entries)
    yanked: bool = False
    index_file: IndexFile | None = field(default=None, compare=False, repr=False)


# --------------------------------------------------------------------------- resolve


def pure_only(profile: TargetProfile) -> bool:
    """The index carries no builds for the profile's platforms (``index-pure-only``: old
    Pyodide lines without a PEP 783 ``pyemscripten_*`` tag): only pure wheels apply."""
    return profile.index_pure_only


def resolve(
    requirements: Sequence[str],
    profile: TargetProfile,
    client: IndexClient,
    *,
    dist_lock: DistributionLock | None = None,
    preferences: Mapping[str, str] | None = None,
    pinned_files: Collection[str] = (),
    python_version: str | None = None,
    fetch_wheel: Callable[[IndexFile], Path] | None = None,
    max_rounds: int = MAX_ROUNDS,
    index_first: bool = False,
) -> list[ResolvedWheel]:
    """Resolve PEP 508 ``requirements`` for ``profile``; the result is sorted by name.

    ``preferences`` maps names to versions pinned by an existing lock (kept when they still
    fit); ``pinned_files`` are lock-pinned file names (usable even when yanked);
    ``fetch_wheel`` downloads a wheel (through the verified cache) when the index offers no
    PEP 658 metadata for it. ``index_first``: a package the distribution lock lists is taken
    from the index when the index has a build for the target (else from the lock).
    """
    pyver = python_version or profile.python_version
    if not pyver:
        raise WasmResolveError(f"target {profile.name} has no Python version", file=profile.file)
    env = profile.marker_environment(pyver)
    if dist_lock is not None:
        check_distribution_lock(dist_lock, profile, pyver)
    provider = WasmProvider(
        client, tags=profile.supported_tags(pyver), env=env, python_version=env["python_full_version"],
        dist=dist_lock.packages if dist_lock is not None else None, preferences=preferences,
        pinned_files=pinned_files, pure_only=pure_only(profile), fetch_wheel=fetch_wheel, index_first=index_first)
    roots = [r for r in (parse_requirement(t, env) for t in requirements) if r is not None]
    resolver: Resolver[Req, Candidate, str] = Resolver(provider, BaseReporter())
    try:
        result = resolver.resolve(roots, max_rounds=max_rounds)
    except ResolutionImpossible as exc:
        raise _impossible(exc.causes, provider, profile, pyver, dist_lock) from None
    except ResolutionTooDeep as exc:
        raise ResolutionTooDeepError(f"no resolution found within {exc.round_count} rounds for target "
                                     f"{profile.name}", hint="pin some versions to narrow the search") from None
    return _collect(result.mapping, roots, provider, dist_lock)


def _collect(mapping: Mapping[str, Candidate], roots: Sequence[Req], provider: WasmProvider,
             dist_lock: DistributionLock | None) -> list[ResolvedWheel]:
    chosen = {c.name: c for c in mapping.values() if c.name != PYTHON and not c.extras}
    extras: dict[str, set[str]] = {n: set() for n in chosen}
    for c in mapping.values():
        if c.extras and c.name in extras:
            extras[c.name] |= c.extras
    incoming: dict[str, list[Req]] = {n: [] for n in chosen}
    deps: dict[str, set[str]] = {n: set() for n in chosen}
    for r in roots:
        incoming[r.name].append(r)
    for c in mapping.values():
        if c.name == PYTHON:
            continue
        for r in provider.dependencies(c):
            if r.name in chosen and r.name != c.name:
                incoming[r.name].append(r)
                deps[c.name].add(f"{r.name}=={chosen[r.name].version}")
    out: list[ResolvedWheel] = []
    for name in sorted(chosen):
        c = chosen[name]
        base = ResolvedWheel(name=name, version=str(c.version), filename="", url="", sha256="", origin="",
                             dependencies=tuple(sorted(deps[name])), marker=marker_of(incoming[name]),
                             extras=tuple(sorted(extras[name])))
        if c.dist is not None:
            assert dist_lock is not None
            out.append(replace(base, filename=c.dist.file_name, url=dist_lock.url_of(c.dist), sha256=c.dist.sha256,
                               origin="pyodide-lock", platform_tag=_tag_or_empty(c.dist.file_name),
                               imports=c.dist.imports))
        else:
            assert c.file is not None
            meta = provider.metadata(c.file)
            rp = str(meta.requires_python) if meta.requires_python is not None else (c.file.requires_python or "")
            out.append(replace(base, filename=c.file.filename, url=c.file.url, sha256=c.file.sha256, origin="index",
                               requires_python=rp, platform_tag=platform_tag(c.file.filename), yanked=c.file.yanked,
                               index_file=c.file))
    return out


def _tag_or_empty(filename: str) -> str:
    return platform_tag(filename) if filename.endswith(".whl") else ""


# --------------------------------------------------------------------------- errors

#: Why a compiled package has no wheel, unless the profile words it (``[messages]``).
_NO_COMPILED_BUILD = "it is a compiled extension with no build for {platforms}"


def accepted_tags_text(profile: TargetProfile, python_version: str, *, pure: bool, limit: int = 6) -> str:
    tags = [t for t in profile.supported_tags(python_version) if not pure or t.platform == "any"]
    shown = [str(t) for t in tags[:limit]]
    if len(tags) > limit:
        shown.append("...")
        shown += [t for t in ("py3-none-any",) if t not in shown and any(str(x) == t for x in tags)]
    return f"{', '.join(shown)} ({len(tags)} tags)"


def _no_wheel(report: ProjectReport, profile: TargetProfile, pyver: str,
              dist_lock: DistributionLock | None, required_by: Sequence[str] = ()) -> NoTargetWheelError:
    pure = pure_only(profile)
    platforms = ", ".join(profile.platform_tags)
    hint: str | None = None
    if report.compiled:
        why = profile.messages.get("no-compiled-build", _NO_COMPILED_BUILD).format(platforms=platforms)
        hint = profile.messages.get("no-compiled-build-hint")
    else:
        why = "no version offers a wheel the target accepts"
    distribution = profile.messages.get("distribution")
    if distribution:
        why += (f", and the {distribution} distribution lock does not list it" if dist_lock is not None
                else f" (no {distribution} distribution lock was given)")
    tried = [f"{v} ({', '.join(sorted(report.files[v]))}: {report.reasons.get(v, 'no matching wheel')})"
             for v in report.versions]
    via = f" (required by {', '.join(required_by)})" if required_by else ""
    message = (f"{report.name}{via} has no wheel for target {profile.name} (Python {pyver}): {why}. "
               f"Versions tried: {'; '.join(tried) or 'none'}. "
               f"Accepted tags: {accepted_tags_text(profile, pyver, pure=pure)}")
    return NoTargetWheelError(message, package=report.name, target=profile.name, versions_tried=report.versions,
                              accepted_tags=[str(t) for t in profile.supported_tags(pyver)],
                              compiled=report.compiled, hint=hint, file=report.url)


def _impossible(causes: Collection[RequirementInformation[Req, Candidate]], provider: WasmProvider,
                profile: TargetProfile, pyver: str, dist_lock: DistributionLock | None) -> Exception:
    for info in sorted(causes, key=lambda i: i.requirement.name):
        report = provider.reports.get(info.requirement.name)
        if report is not None and not report.usable:
            parents = sorted({f"{i.parent.name} {i.parent.version}" for i in causes
                              if i.parent is not None and i.requirement.name == info.requirement.name})
            return _no_wheel(report, profile, pyver, dist_lock, parents)
    lines = []
    for info in sorted(causes, key=lambda i: (i.requirement.name, str(i.parent), i.requirement.text)):
        req = info.requirement
        who = f"required by {info.parent}" if info.parent is not None else "requested"
        if req.name == PYTHON:
            lines.append(f"{info.parent} requires Python {req.specifier}, the target {profile.name} is Python {pyver}")
            continue
        entry = provider.dist.get(req.name)
        report = provider.reports.get(req.name)
        if entry is not None:
            have = f"the Pyodide distribution lock pins {req.name} {entry.version}"
        elif report is not None:
            have = f"versions with a wheel for the target: {', '.join(report.usable) or 'none'}"
            others = [v for v in report.versions if v not in report.usable]
            if others:
                have += f"; without: {', '.join(others)}"
        else:
            have = "no candidates"
        lines.append(f"{req.text} ({who}): {have}")
    text = f"the requirements cannot be satisfied together for target {profile.name}:\n  " + "\n  ".join(lines)
    hint = ("distribution packages are fixed by the Pyodide lock; loosen the requirement"
            if any(provider.dist.get(i.requirement.name) for i in causes) else None)
    return ResolutionConflictError(text, causes=lines, hint=hint)
