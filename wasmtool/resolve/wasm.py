"""Resolution for the targets uv cannot resolve: Pyodide 314 (``pyemscripten_2026_0_wasm32``),
the older ``pyodide_2025_0_wasm32`` line and WASI Preview 2 (``wasi_0_0_0_wasm32``).

Public API::

    resolve(requirements, profile, client, *, dist_lock=None, preferences=None, ...) -> list[ResolvedWheel]
    DistributionLock, DistPackage, ResolvedWheel

resolvelib does the backtracking (:class:`wasmtool.resolve.provider.WasmProvider`); the
profile gives the tag priority, the marker environment and the wording of its errors
(``[messages]``). A package listed by the distribution lock is taken from the index when
the index has a build for the target (``index_first``, the default), else it is exactly that
entry (origin ``pyodide-lock``); reading that lock is the Pyodide target's
(:func:`wasmtool.targets.pyodide.load_distribution_lock`). For profiles whose index carries
no platform builds (``index-pure-only``: ``pyodide_*`` without a PEP 783 ``pyemscripten_*``
tag) the index can only contribute pure wheels. Failures are typed
(:mod:`wasmtool.resolve.errors`) and short: :mod:`wasmtool.resolve.explain` condenses
resolvelib's causes into a few lines and a hint, the whole search goes into ``details``.
"""

from __future__ import annotations

from collections import Counter
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
from wasmtool.resolve.explain import (
    TargetFacts,
    accepted_tags_text,
    choose_culprit,
    explain_conflict,
    explain_no_wheel,
    explain_too_deep,
)
from wasmtool.resolve.provider import (
    PYTHON,
    Candidate,
    DistPackage,
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
    "accepted_tags_text",
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
    #: The sdist the wheel was built from (a version published only as source), else ``None``.
    sdist: IndexFile | None = field(default=None, compare=False, repr=False)


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
    index_first: bool = True,
    other_targets: Mapping[str, Sequence[str]] | None = None,
    build_sdist: Callable[[IndexFile], tuple[IndexFile, Path]] | None = None,
    local: Mapping[str, IndexFile] | None = None,
) -> list[ResolvedWheel]:
    """Resolve PEP 508 ``requirements`` for ``profile``; the result is sorted by name.

    ``preferences`` maps names to versions pinned by an existing lock (kept when they still
    fit); ``pinned_files`` are lock-pinned file names (usable even when yanked);
    ``fetch_wheel`` downloads a wheel (through the verified cache) when the index offers no
    PEP 658 metadata for it. ``index_first`` (the default; ``[python] pyodide-packages``): a
    package the distribution lock lists is taken from the index when the index has a build for
    the target, else from the lock; ``False`` pins every package the lock lists as it lists it.
    ``other_targets`` (platform tag -> names of the other targets accepting it) lets a missing
    wheel's hint name the targets the index has builds for.
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
        pinned_files=pinned_files, pure_only=pure_only(profile), fetch_wheel=fetch_wheel, index_first=index_first,
        build_sdist=build_sdist, local=local)
    roots = [r for r in (parse_requirement(t, env) for t in requirements) if r is not None]
    reporter = _ConflictCounter()
    resolver: Resolver[Req, Candidate, str] = Resolver(provider, reporter)
    try:
        result = resolver.resolve(roots, max_rounds=max_rounds)
    except ResolutionImpossible as exc:
        facts = _facts(profile, pyver, roots, provider, dist_lock, other_targets)
        raise _impossible(exc.causes, provider, facts) from None
    except ResolutionTooDeep as exc:
        facts = _facts(profile, pyver, roots, provider, dist_lock, other_targets)
        why = explain_too_deep(exc.round_count, reporter.counts, reporter.last, provider.reports, facts)
        raise ResolutionTooDeepError(why.message, hint=why.hint, details=why.details) from None
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
            built = provider.built.get(c.file.filename)
            wheel = built or c.file
            out.append(replace(base, filename=wheel.filename, url=wheel.url, sha256=wheel.sha256, origin="index",
                               requires_python=rp, platform_tag=platform_tag(wheel.filename), yanked=c.file.yanked,
                               index_file=wheel, sdist=c.file if built is not None else None))
    return out


def _tag_or_empty(filename: str) -> str:
    return platform_tag(filename) if filename.endswith(".whl") else ""


# --------------------------------------------------------------------------- errors


class _ConflictCounter(BaseReporter[Req, Candidate, str]):
    """Counts resolvelib's conflicts per package and keeps the last one (for WT235)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.last: tuple[RequirementInformation[Req, Candidate], ...] = ()

    def resolving_conflicts(self, causes: Collection[RequirementInformation[Req, Candidate]]) -> None:
        self.counts.update({c.requirement.name for c in causes})
        self.last = tuple(causes)


def _facts(profile: TargetProfile, pyver: str, roots: Sequence[Req], provider: WasmProvider,
           dist_lock: DistributionLock | None, other_targets: Mapping[str, Sequence[str]] | None) -> TargetFacts:
    direct: dict[str, str] = {}
    for r in roots:
        direct.setdefault(r.name, r.text)
    return TargetFacts(profile=profile, python_version=pyver, roots=direct, dependents=provider.dependents(),
                       other_targets=other_targets or {}, dist=provider.dist, dist_lock_given=dist_lock is not None,
                       index_first=provider.index_first)


def _impossible(causes: Collection[RequirementInformation[Req, Candidate]], provider: WasmProvider,
                facts: TargetFacts) -> Exception:
    """WT231 when a package in the conflict has no wheel for the target at all, else WT232."""
    culprits = choose_culprit(causes, provider.reports, provider.dist)
    if culprits:
        name = culprits[0]
        report = provider.reports[name]
        why = explain_no_wheel(name, causes, provider.reports, facts, also_without=culprits[1:])
        return NoTargetWheelError(why.message, package=name, target=facts.target, versions_tried=report.versions,
                                  accepted_tags=[str(t) for t in facts.profile.supported_tags(facts.python_version)],
                                  compiled=report.compiled, hint=why.hint, details=why.details,
                                  required_by=why.required_by, chain=why.chain)
    why = explain_conflict(causes, provider.reports, facts)
    return ResolutionConflictError(why.message, causes=why.lines, hint=why.hint, details=why.details)
