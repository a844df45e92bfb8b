"""Why a WebAssembly resolution failed, in a few lines (the pure half of the resolver's errors).

resolvelib reports a failure as ``ResolutionImpossible.causes``: one
``RequirementInformation(requirement, parent)`` per requirement that took part in the last
conflict (``parent`` is ``None`` for a direct requirement). A compiled package with no
build for the target, required by a popular project, gives one cause per version of that
project tried (every pydantic 2.x pins its own pydantic-core), so printing every cause
does not scale. This module condenses them::

    explain_no_wheel(name, causes, reports, facts)              WT231: one package has no wheel
    explain_conflict(causes, reports, facts)                    WT232: the requirements exclude each other
    explain_too_deep(rounds, counts, last, reports, facts)      WT235: resolvelib gave up

Each returns an :class:`Explanation`: a short ``message`` (bounded: :data:`MESSAGE_LIMIT`
bytes), a ``hint`` naming only the ways out that exist, and ``details``: the whole search
(the CLI prints it with ``-v``). The pieces are public and tested on their own:
:func:`version_span` (a count and a range instead of a list), :func:`chain_to` (the path
from a direct requirement), :func:`choose_culprit` (which package lacks a wheel),
:func:`requirement_lines` and :func:`clip`.

No IO: what the index offered arrives as :class:`ProjectReport` s, the target as a
:class:`TargetProfile`, the other targets' platform tags as a mapping.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from packaging.version import InvalidVersion, Version
from resolvelib.structs import RequirementInformation

from wasmtool.resolve.provider import PYTHON, Candidate, DistPackage, ProjectReport, Req
from wasmtool.targets.profile import TargetProfile

__all__ = [
    "HINT_LIMIT",
    "LINE_LIMIT",
    "MESSAGE_LIMIT",
    "Cause",
    "Explanation",
    "TargetFacts",
    "accepted_tags_text",
    "chain_to",
    "choose_culprit",
    "clip",
    "explain_conflict",
    "explain_no_wheel",
    "explain_too_deep",
    "requirement_lines",
    "some",
    "version_span",
]

Cause = RequirementInformation[Req, Candidate]

#: Bytes of a message; the CLI adds ``error: WTnnn <package>: `` before it and the hint after.
MESSAGE_LIMIT = 1300
#: Bytes of a hint.
HINT_LIMIT = 480
#: Bytes of one line of a message (a longer line is cut, ending in ``...``).
LINE_LIMIT = 320
_NO_COMPILED_BUILD = "it is a compiled extension with no build for {platforms}"


@dataclass(frozen=True)
class TargetFacts:
    """What an explanation needs to know about the target and the search beyond the causes.

    ``roots``: direct requirements, name -> text as written; ``dependents``: package -> names
    of the projects read during the search that require it; ``other_targets``: platform tag
    -> names of the other targets that accept it; ``dist``: the distribution lock's entries
    (``dist_lock_given``: whether a distribution lock took part at all; ``index_first``, the
    default: its packages are taken from the index where the index has a build).
    """

    profile: TargetProfile
    python_version: str
    roots: Mapping[str, str] = field(default_factory=dict)
    dependents: Mapping[str, Collection[str]] = field(default_factory=dict)
    other_targets: Mapping[str, Sequence[str]] = field(default_factory=dict)
    dist: Mapping[str, DistPackage] = field(default_factory=dict)
    dist_lock_given: bool = False
    index_first: bool = True

    @property
    def target(self) -> str:
        return self.profile.name

    @property
    def distribution(self) -> str:
        """The distribution whose lock may pin packages (``[messages] distribution``), or ``""``."""
        return self.profile.messages.get("distribution", "")


@dataclass(frozen=True)
class Explanation:
    """A failure in a few lines (``message``), what to do (``hint``) and the whole search (``details``)."""

    message: str
    hint: str | None
    details: str
    chain: tuple[str, ...] = ()
    required_by: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()     # one line per cause (ResolutionConflictError.causes)


# --------------------------------------------------------------------------- small pieces


def version_key(version: str) -> tuple[int, Version | str]:
    """Sort key: PEP 440 order; a string that is no version sorts below every version."""
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def version_span(versions: Iterable[str], *, limit: int = 4) -> str:
    """``2.1, 2.0`` for up to ``limit`` versions (newest first), else ``57 versions, 2.0.0 to 2.50.5``."""
    unique = sorted(set(versions), key=version_key, reverse=True)
    if not unique:
        return "none"
    if len(unique) <= limit:
        return ", ".join(unique)
    return f"{len(unique)} versions, {unique[-1]} to {unique[0]}"


def some(items: Sequence[str], *, limit: int = 3) -> str:
    """``a, b, c and 4 more`` (``items`` in the order given)."""
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} and {len(items) - limit} more"


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, ending in ``...`` when cut."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[:max(limit - 3, 0)].decode(errors="ignore") + "..."


def _fit(lines: Sequence[str], limit: int = MESSAGE_LIMIT) -> str:
    """The lines joined, each cut to :data:`LINE_LIMIT`; while the text is over ``limit`` the last
    line is dropped (the whole search is in the error's ``details`` anyway)."""
    kept = [clip(line, LINE_LIMIT) for line in lines]
    while len("\n  ".join(kept).encode()) > limit and len(kept) > 1:
        kept.pop()
    return clip("\n  ".join(kept), limit)


def chain_to(name: str, roots: Collection[str], dependents: Mapping[str, Collection[str]]) -> tuple[str, ...]:
    """The shortest path ``root, ..., name`` over ``dependents`` (package -> the names that require
    it); ``(name,)`` when ``name`` is a root or no root reaches it. Ties: alphabetical."""
    if name in roots:
        return (name,)
    previous: dict[str, str] = {}
    seen = {name}
    queue = deque([name])
    while queue:
        current = queue.popleft()
        for parent in sorted(dependents.get(current, ())):
            if parent in seen:
                continue
            seen.add(parent)
            previous[parent] = current
            if parent in roots:
                path = [parent]
                while path[-1] != name:
                    path.append(previous[path[-1]])
                return tuple(path)
            queue.append(parent)
    return (name,)


def choose_culprit(causes: Collection[Cause], reports: Mapping[str, ProjectReport],
                   dist: Mapping[str, DistPackage]) -> tuple[str, ...]:
    """Names in ``causes`` with no wheel for the target in any version (and no distribution
    entry), the one most causes name first (ties: alphabetical); empty when every required
    package has some wheel for the target."""
    counts = Counter(i.requirement.name for i in causes)
    without = [n for n in counts if n in reports and not reports[n].usable and n not in dist]
    return tuple(sorted(without, key=lambda n: (-counts[n], n)))


def accepted_tags_text(profile: TargetProfile, python_version: str, *, pure: bool, limit: int = 6) -> str:
    """The first ``limit`` tags the target accepts, best first, ``py3-none-any`` and the count."""
    tags = [t for t in profile.supported_tags(python_version) if not pure or t.platform == "any"]
    shown = [str(t) for t in tags[:limit]]
    if len(tags) > limit:
        shown.append("...")
        shown += [t for t in ("py3-none-any",) if t not in shown and any(str(x) == t for x in tags)]
    return f"{', '.join(shown)} ({len(tags)} tags)"


def _parent_text(parent: Candidate | None) -> str:
    return "requested" if parent is None else f"required by {parent}"


def cause_line(info: Cause, facts: TargetFacts, reports: Mapping[str, ProjectReport]) -> str:
    """One cause, with what the target offers for it (the long form, one line per cause)."""
    req = info.requirement
    if req.name == PYTHON:
        return (f"{info.parent} requires Python {req.specifier}, the target {facts.target} is "
                f"Python {facts.python_version}")
    return f"{req.text} ({_parent_text(info.parent)}): {_offer(req.name, facts, reports, limit=10_000)}"


def _offer(name: str, facts: TargetFacts, reports: Mapping[str, ProjectReport], *, limit: int = 4) -> str:
    """What the target can have of ``name``: the distribution's pin, or the index's versions."""
    entry = facts.dist.get(name)
    report = reports.get(name)
    if entry is not None:
        who = f"the {facts.distribution} distribution lock" if facts.distribution else "the distribution lock"
        return f"{who} pins {name} {entry.version}"
    if report is None:
        return "no candidates"
    have = f"versions with a wheel for the target: {version_span(report.usable, limit=limit)}"
    others = [v for v in report.versions if v not in report.usable]
    if others:
        have += f"; without: {version_span(others, limit=limit)}"
    return have


def _versions_of(project: str, versions: Collection[str], *, other: bool = False) -> str:
    """``pydantic 2.1`` / ``pydantic 2.1 and 2.0`` / ``57 [other] pydantic versions (2.0.0 to 2.14.4)``."""
    ordered = sorted(set(versions), key=version_key, reverse=True)
    if len(ordered) == 1:
        return f"{project} {ordered[0]}"
    if len(ordered) <= 3:
        return f"{project} {', '.join(ordered[:-1])} and {ordered[-1]}"
    return f"{len(ordered)} {'other ' if other else ''}{project} versions ({ordered[-1]} to {ordered[0]})"


def _is_pin(text: str) -> bool:
    return "==" in text and "*" not in text


def requirement_lines(causes: Sequence[Cause], *, limit: int = 3) -> list[str]:
    """The causes on one package, one line per requiring project (direct requirements first):
    ``pydantic-core==2.50.5 (required by pydantic 2.14.4); 56 other pydantic versions (2.0.0 to
    2.13.3) each pin another pydantic-core version``. At most ``limit`` lines."""
    lines = sorted({f"{i.requirement.text} (requested)" for i in causes if i.parent is None})
    found: dict[str, dict[str, set[str]]] = {}
    for i in causes:
        if i.parent is not None:
            found.setdefault(i.parent.identifier, {}).setdefault(str(i.parent.version), set()).add(i.requirement.text)
    for project in sorted(found, key=lambda p: (-len(found[p]), p)):
        texts = {v: ", ".join(sorted(t)) for v, t in found[project].items()}
        newest = max(texts, key=version_key)
        line = f"{texts[newest]} (required by {project} {newest})"
        rest = {v: t for v, t in texts.items() if v != newest}
        if rest:
            distinct = sorted(set(rest.values()))
            required = causes[0].requirement.name
            if distinct == [texts[newest]]:
                what = f"{'requires' if len(rest) == 1 else 'require'} the same"
            elif len(distinct) == len(rest) > 1 and all(_is_pin(t) for t in distinct):
                what = f"each pin another {required} version"
            else:
                what = f"{'requires' if len(rest) == 1 else 'require'} {some(distinct, limit=2)}"
            line += f"; {_versions_of(project, rest, other=True)}: {what}"
        lines.append(line)
    if len(lines) > limit:
        lines = [*lines[:limit - 1], f"and {len(lines) - limit + 1} more requiring projects"]
    return lines


def _platforms(report: ProjectReport) -> list[str]:
    """The platform parts of the wheels the index offers (``manylinux_2_17_x86_64``), sorted."""
    found: set[str] = set()
    for names in report.files.values():
        for filename in names:
            if filename.endswith(".whl") and filename.count("-") >= 4:
                found.update(filename[:-4].rsplit("-", 1)[1].split("."))
    return sorted(found)


# --------------------------------------------------------------------------- WT231


def _why(report: ProjectReport, facts: TargetFacts) -> str:
    profile = facts.profile
    if report.sdist_only:
        why = "it is published only as source (sdists, no wheel at all), and no wheel was built from it"
    elif report.python_only:
        why = f"no version supports Python {facts.python_version} (each one's Requires-Python excludes it)"
    elif report.compiled:
        why = profile.messages.get("no-compiled-build", _NO_COMPILED_BUILD).format(
            platforms=", ".join(profile.platform_tags))
    else:
        why = "no version offers a wheel the target accepts"
    if facts.distribution:
        why += (f", and the {facts.distribution} distribution lock does not list it" if facts.dist_lock_given
                else f" (no {facts.distribution} distribution lock was given)")
    return why


def _tried(report: ProjectReport, *, limit: int = 3, files: int = 3) -> str:
    """Each version with its files and reason when there are few, else a count and a range with
    the reasons counted."""
    versions = report.versions
    if len(versions) <= limit:
        parts = [_version_files(report, v, limit=files) for v in versions]
        return "; ".join(parts) or "none"
    reasons = Counter(report.reasons.get(v, "no matching wheel") for v in versions)
    why = ", ".join(f"{r} ({n})" for r, n in sorted(reasons.items(), key=lambda rn: (-rn[1], rn[0]))[:2])
    return f"{version_span(versions)}: {why}"


def _version_files(report: ProjectReport, version: str, *, limit: int) -> str:
    """``1.0 (a.whl, b.tar.gz: why)`` when its files share one reason, else each file with its own."""
    per_file = {f: r for f, r in report.file_reasons.get(version, {}).items() if r}
    default = report.reasons.get(version, "no matching wheel")
    if len(set(per_file.values())) <= 1:
        return f"{version} ({some(sorted(report.files[version]), limit=limit)}: {default})"
    shown = sorted(per_file.items())[:limit]
    more = f", {len(per_file) - limit} more" if len(per_file) > limit else ""
    return f"{version} ({'; '.join(f'{f}: {r}' for f, r in shown)}{more})"


def explain_no_wheel(name: str, causes: Collection[Cause], reports: Mapping[str, ProjectReport],
                     facts: TargetFacts, *, also_without: Sequence[str] = ()) -> Explanation:
    """WT231: ``name`` (``reports[name]``) has no wheel for the target in any version."""
    report = reports[name]
    mine = [i for i in causes if i.requirement.name == name]
    chain = chain_to(name, facts.roots, _with_causes(facts.dependents, causes))
    root = chain[0] if chain[0] in facts.roots else None
    lines = [f"{name} has no wheel for target {facts.target} (Python {facts.python_version}): {_why(report, facts)}"]
    if root is not None and len(chain) > 1:
        lines.append(f"dependency chain: {' -> '.join(chain)} (direct requirement: {facts.roots[root]})")
    lines += requirement_lines(mine, limit=2)
    platforms = _platforms(report)
    tried = f"Versions tried: {_tried(report)}"
    if platforms and len(report.versions) > 3:
        tried += f"; its wheels are for {some(platforms, limit=4)}"
    lines.append(tried)
    lines.append(f"Accepted tags: {accepted_tags_text(facts.profile, facts.python_version, pure=_pure(facts))}")
    if also_without:
        lines.append(f"also without a wheel for the target: {some(list(also_without))}")
    required_by = sorted({str(i.parent) for i in mine if i.parent is not None}, key=_candidate_key)
    return Explanation(
        message=_fit(lines), hint=_no_wheel_hint(report, platforms, root, facts),
        details=_details(f"{name} has no wheel for target {facts.target}", causes, reports, facts, focus=name),
        chain=chain, required_by=tuple(required_by))


def _pure(facts: TargetFacts) -> bool:
    return facts.profile.index_pure_only


def _candidate_key(text: str) -> tuple[str, tuple[int, Version | str]]:
    project, _, version = text.rpartition(" ")
    return project, version_key(version)


def _with_causes(dependents: Mapping[str, Collection[str]], causes: Collection[Cause]) -> dict[str, set[str]]:
    """``dependents`` plus the edges the causes themselves name."""
    out = {k: set(v) for k, v in dependents.items()}
    for i in causes:
        if i.parent is not None and i.parent.name != i.requirement.name:
            out.setdefault(i.requirement.name, set()).add(i.parent.name)
    return out


def _no_wheel_hint(report: ProjectReport, platforms: Sequence[str], root: str | None,
                   facts: TargetFacts) -> str | None:
    """Only the ways out that exist: the profile's own advice, the other targets the index has
    builds for, and leaving the direct requirement out on this platform with a marker."""
    profile = facts.profile
    options: list[str] = []
    if report.compiled:
        own = profile.messages.get("no-compiled-build-hint")
        if own:
            options.append(own)
        targets = sorted({t for p in platforms for t in facts.other_targets.get(p, ()) if t != profile.name})
        if targets:
            options.append(f"lock for {', '.join(targets)} instead (the index has {report.name} builds for "
                           f"{'it' if len(targets) == 1 else 'them'})")
    if root is not None:
        options.append(f"leave {root} out on {profile.sys_platform} targets: give its mochi.toml entry "
                       f"markers = \"sys_platform != '{profile.sys_platform}'\"")
    return clip("; or ".join(options), HINT_LIMIT) if options else None


# --------------------------------------------------------------------------- WT232


def _allows_only_unusable(report: ProjectReport, causes: Sequence[Cause]) -> bool:
    """Some version has a wheel for the target, but the versions the requirements allow together have none."""
    if not report.usable:
        return False
    allowed = [v for v in report.versions
               if all(i.requirement.specifier.contains(v, prereleases=True) for i in causes)]
    return bool(allowed) and not set(allowed) & set(report.usable)


def _python_lines(causes: Sequence[Cause], facts: TargetFacts) -> list[str]:
    by_project: dict[str, dict[str, str]] = {}
    for i in causes:
        if i.parent is not None:
            by_project.setdefault(i.parent.identifier, {})[str(i.parent.version)] = str(i.requirement.specifier)
    lines = []
    for project, specs in sorted(by_project.items()):
        verb = "requires" if len(specs) == 1 else "require"
        lines.append(f"{_versions_of(project, specs)} {verb} Python {some(sorted(set(specs.values())), limit=2)}, "
                     f"the target {facts.target} is Python {facts.python_version}")
    return lines


def explain_conflict(causes: Collection[Cause], reports: Mapping[str, ProjectReport],
                     facts: TargetFacts, *, limit: int = 4) -> Explanation:
    """WT232: the requirements on one or more packages cannot all hold for the target."""
    ordered = sorted(causes, key=_cause_key)
    by_name: dict[str, list[Cause]] = {}
    for i in ordered:
        by_name.setdefault(i.requirement.name, []).append(i)
    lines = [f"the requirements cannot be satisfied together for target {facts.target} "
             f"(Python {facts.python_version}):"]
    options: list[str] = []
    names = sorted(by_name, key=lambda n: (n == PYTHON, n))
    for name in names[:limit]:
        mine = by_name[name]
        if name == PYTHON:
            lines += _python_lines(mine, facts)
            continue
        lines.append(f"{name}: {_offer(name, facts, reports)}")
        lines += [f"  {line}" for line in requirement_lines(mine)]
        report = reports.get(name)
        if report is not None and name not in facts.dist and _allows_only_unusable(report, mine):
            chain = chain_to(name, facts.roots, _with_causes(facts.dependents, causes))
            via = f" (choose a {chain[0]} version that allows one)" if len(chain) > 1 else ""
            options.append(f"only {name} {version_span(report.usable)} has a wheel for the target{via}")
    if len(names) > limit:
        lines.append(f"and {len(names) - limit} more conflicting packages")
    pinned = sorted({i.requirement.name for i in causes if i.requirement.name in facts.dist})
    if pinned:
        who = facts.distribution or "distribution"
        if facts.index_first:
            options.append(f"the index has no build of {some(pinned, limit=2)} for the target that fits, so the "
                           f"{who} lock's pin is the only candidate; loosen the requirement")
        else:
            options.append(f"distribution packages are fixed by the {who} lock; loosen the requirement")
            options.append(f'or set [python] pyodide-packages = "index-first" (the default) in mochi.toml to take '
                           f"{some(pinned, limit=2)} from the index where it has a build for the target")
    else:
        options.append("loosen or drop one of the requirements above")
    return Explanation(message=_fit(lines), hint=clip("; ".join(options), HINT_LIMIT),
                       details=_details(f"the requirements conflict for target {facts.target}", causes,
                                        reports, facts),
                       lines=tuple(cause_line(i, facts, reports) for i in ordered))


# --------------------------------------------------------------------------- WT235


def explain_too_deep(rounds: int, backtracked: Mapping[str, int], last: Collection[Cause],
                     reports: Mapping[str, ProjectReport], facts: TargetFacts) -> Explanation:
    """WT235: resolvelib gave up after ``rounds``; ``backtracked`` counts the conflicts per
    package, ``last`` is the last conflict."""
    top = sorted(backtracked.items(), key=lambda nc: (-nc[1], nc[0]))
    message = f"no resolution found within {rounds} rounds for target {facts.target}"
    if top:
        counted = [f"{n} ({c} time{'s' if c != 1 else ''})" for n, c in top]
        message += f"; it backtracked most on {some(counted, limit=3)}"
    hint = "pin some versions to narrow the search" + (f", first those that require {top[0][0]}" if top else "")
    details = _details(message, last, reports, facts)
    if top:
        details += "\nconflicts per package:\n" + "\n".join(f"  {n}: {c}" for n, c in top)
    return Explanation(message=_fit([message]), hint=clip(hint, HINT_LIMIT), details=details)


# --------------------------------------------------------------------------- details


def _cause_key(info: Cause) -> tuple[str, tuple[str, tuple[int, Version | str]], str]:
    return info.requirement.name, _candidate_key(str(info.parent or "")), info.requirement.text


def _details(title: str, causes: Collection[Cause], reports: Mapping[str, ProjectReport], facts: TargetFacts,
             *, focus: str | None = None) -> str:
    """The whole search: every cause, every project read with its versions (and, for ``focus``,
    each version's files and why none fits), every accepted tag."""
    out = [f"{title} (Python {facts.python_version})"]
    out.append(f"direct requirements: {', '.join(facts.roots[n] for n in sorted(facts.roots)) or 'none'}")
    report = reports.get(focus) if focus is not None else None
    if report is not None:
        parents = sorted({str(i.parent) for i in causes if i.parent is not None and i.requirement.name == focus},
                         key=_candidate_key)
        out.append(f"{report.name} (index page {report.url})")
        out.append(f"  required by ({len(parents)}): {', '.join(parents) or 'the project'}")
        out.append(f"  versions tried ({len(report.versions)}):")
        for v in report.versions:
            out.append(f"    {v}: {', '.join(sorted(report.files[v]))}: {report.reasons.get(v, 'no matching wheel')}")
            per_file = report.file_reasons.get(v, {})
            if len(set(per_file.values())) > 1:   # the files were refused for different reasons: each one
                out += [f"      {f}: {r or 'usable'}" for f, r in sorted(per_file.items())]
    ordered = sorted(causes, key=_cause_key)
    out.append(f"resolvelib's causes ({len(ordered)}):")
    out += [f"  {i.requirement.text} ({_parent_text(i.parent)})" if i.requirement.name != PYTHON
            else f"  {cause_line(i, facts, reports)}" for i in ordered]
    out.append(f"projects read ({len(reports)}):")
    for name in sorted(reports):
        r = reports[name]
        without = [v for v in r.versions if v not in r.usable]
        out.append(f"  {name}: with a wheel for the target: {', '.join(r.usable) or 'none'}; "
                   f"without: {', '.join(without) or 'none'}")
    tags = [str(t) for t in facts.profile.supported_tags(facts.python_version)
            if not _pure(facts) or t.platform == "any"]
    out.append(f"accepted tags ({len(tags)}): {', '.join(tags)}")
    return "\n".join(out)
