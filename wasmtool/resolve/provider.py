"""The resolvelib provider behind :mod:`wasmtool.resolve.wasm` (targets uv cannot resolve).

Candidates come from two places:

- a **distribution lock** entry (Pyodide's ``pyodide-lock.json``): its ``depends`` are its
  dependencies. With ``index_first`` (the default, ``[python] pyodide-packages =
  "index-first"``) the index's builds for the target come first and the entry is the
  fallback (the index may have no build, or no page, for it); without it the entry is the
  one and only candidate of that name and the index is never asked;
- the **index**: per version, the best wheel by the profile's tag priority, after
  ``requires-python`` (checked against the target interpreter) and yanked files (kept only
  when a requirement pins the version with ``==``/``===`` or the lock pins the file).

Dependencies of index candidates come from PEP 658 ``.metadata`` when the index offers it,
else from the wheel (``fetch_wheel``); markers are evaluated with the profile's marker
environment (plus ``extra``). A candidate's ``Requires-Python`` becomes a requirement on the
pseudo-package :data:`PYTHON`, so a mismatch shows up as a conflict naming the package.
Extras follow resolvelib's extras example: ``name[x]`` depends on ``name==<same version>``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import Version
from resolvelib import AbstractProvider
from resolvelib.structs import RequirementInformation

from wasmtool.index.errors import ProjectNotFoundError
from wasmtool.index.models import IndexFile, parse_filename
from wasmtool.index.selection import select_files
from wasmtool.resolve.errors import BadRequirementError
from wasmtool.targets.tags import rank_wheel

if TYPE_CHECKING:
    from packaging.metadata import Metadata

    from wasmtool.index.client import IndexClient

PYTHON = "<python>"
"""Identifier of the target interpreter (``Requires-Python`` is a requirement on it)."""


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class DistPackage:
    """One entry of a distribution lock (``pyodide-lock.json`` ``packages.<key>``)."""

    name: str
    version: str
    file_name: str
    sha256: str
    depends: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()
    package_type: str = "package"


@dataclass(frozen=True)
class Req:
    """A requirement on ``name`` (normalised) with ``extras``; ``text`` is shown in messages."""

    name: str
    extras: frozenset[str]
    specifier: SpecifierSet
    text: str
    marker: str = ""

    @property
    def identifier(self) -> str:
        return identifier_of(self.name, self.extras)


@dataclass(frozen=True)
class Candidate:
    """A concrete version: an index wheel (``file``), a distribution entry (``dist``) or the interpreter."""

    name: str
    version: Version
    extras: frozenset[str] = frozenset()
    file: IndexFile | None = None
    dist: DistPackage | None = None

    @property
    def identifier(self) -> str:
        return identifier_of(self.name, self.extras)

    def __str__(self) -> str:
        return f"{self.identifier} {self.version}"


@dataclass
class ProjectReport:
    """What the index offered for one project, for error messages (filled by :meth:`WasmProvider.index_candidates`)."""

    name: str
    url: str
    files: dict[str, list[str]] = field(default_factory=dict)      # version -> file names
    reasons: dict[str, str] = field(default_factory=dict)          # version -> why it has no candidate
    usable: list[str] = field(default_factory=list)                # versions with a wheel for the target
    has_pure: bool = False                                          # some wheel is py*-none-any
    #: version -> file name -> why that file is no candidate ("" for the one chosen)
    file_reasons: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def versions(self) -> list[str]:
        return sorted(self.files, key=Version, reverse=True)

    @property
    def has_wheels(self) -> bool:
        return any(f.endswith(".whl") for files in self.files.values() for f in files)

    @property
    def sdist_only(self) -> bool:
        """Published only as source: files, none of them a wheel."""
        return bool(self.files) and not self.has_wheels

    @property
    def compiled(self) -> bool:
        """Wheels, none of them pure: a compiled extension (an sdist-only package is not one)."""
        return self.has_wheels and not self.has_pure

    @property
    def python_only(self) -> bool:
        """Every version was refused for its ``Requires-Python`` alone."""
        return bool(self.files) and not self.usable and all(
            self.reasons.get(v, "").startswith("requires Python") for v in self.files)


def identifier_of(name: str, extras: Collection[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


def parse_requirement(text: str, env: Mapping[str, str], *, extras: Collection[str] = ("",)) -> Req | None:
    """``text`` as a :class:`Req`, or ``None`` when its marker is false for ``env`` under every ``extras`` value."""
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise BadRequirementError(f"not a PEP 508 requirement: {text!r}: {exc}", field="requirements") from exc
    if req.url:
        raise BadRequirementError(f"direct URL requirements are not supported for wasm targets: {text!r}",
                                  package=str(canonicalize_name(req.name)))
    marker = ""
    if req.marker is not None:
        if not any(req.marker.evaluate({**env, "extra": e}) for e in extras):
            return None
        marker = str(req.marker)
    return Req(str(canonicalize_name(req.name)), frozenset(str(canonicalize_name(e)) for e in req.extras),
               req.specifier, text, marker)


def _is_pin(spec: SpecifierSet, version: Version) -> bool:
    """PEP 592: ``==X`` (no wildcard) or ``===X`` naming exactly this version."""
    for s in spec:
        if s.operator == "===" and s.version == str(version):
            return True
        if s.operator == "==" and not s.version.endswith(".*") and Version(s.version) == version:
            return True
    return False


# --------------------------------------------------------------------------- provider


class WasmProvider(AbstractProvider[Req, Candidate, str]):
    """resolvelib provider over an :class:`IndexClient`, a profile's tags and a distribution lock."""

    def __init__(
        self,
        client: IndexClient,
        *,
        tags: Sequence[Tag],
        env: Mapping[str, str],
        python_version: str,
        dist: Mapping[str, DistPackage] | None = None,
        preferences: Mapping[str, str] | None = None,
        pinned_files: Collection[str] = (),
        pure_only: bool = False,
        fetch_wheel: Callable[[IndexFile], Path] | None = None,
        index_first: bool = True,
        build_sdist: Callable[[IndexFile], tuple[IndexFile, Path]] | None = None,
        local: Mapping[str, IndexFile] | None = None,
    ) -> None:
        self.client = client
        self.priority = {t: i for i, t in enumerate(tags if not pure_only else [t for t in tags
                                                                               if t.platform == "any"])}
        self.env = dict(env)
        self.python = Version(python_version)
        self.dist = {str(canonicalize_name(k)): v for k, v in (dist or {}).items()}
        self.preferences = {str(canonicalize_name(k)): Version(v) for k, v in (preferences or {}).items()}
        self.pinned_files = frozenset(pinned_files)
        # index-first (the default): a package the distribution ships comes from the index when the
        # index has a build for the target (it is bundled); the distribution's pin is the fallback
        self.index_first = index_first
        self.pure_only = pure_only
        self.fetch_wheel = fetch_wheel
        #: Builds a version published only as an sdist (wasmtool.build): the built wheel as an
        #: index file (no URL) and its path; it raises when the build is refused or fails.
        self.build_sdist = build_sdist
        self.built: dict[str, IndexFile] = {}       # sdist file name -> the wheel built from it
        #: Wheels built from the project's own folders (``path`` dependencies), by name: the only
        #: candidate of that name (the index is never asked for it).
        self.local = {str(canonicalize_name(k)): v for k, v in (local or {}).items()}
        self.reports: dict[str, ProjectReport] = {}
        self._index: dict[str, list[tuple[Version, IndexFile]]] = {}
        self._metadata: dict[str, Metadata] = {}
        self._deps: dict[Candidate, list[Req]] = {}

    # -- resolvelib interface ------------------------------------------------------

    def identify(self, requirement_or_candidate: Req | Candidate) -> str:
        return requirement_or_candidate.identifier

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[RequirementInformation[Req, Candidate]]],
        backtrack_causes: Sequence[RequirementInformation[Req, Candidate]],
    ) -> Any:
        """Interpreter first, then exact pins, distribution entries, recent conflicts; ties by name."""
        infos = list(information[identifier])
        pinned = any(op.operator in ("==", "===") and not op.version.endswith(".*")
                     for info in infos for op in info.requirement.specifier)
        name = infos[0].requirement.name if infos else identifier
        causes = {c.requirement.name for c in backtrack_causes}
        return (identifier != PYTHON, not pinned, name not in self.dist, name not in causes, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> list[Candidate]:
        reqs = list(requirements[identifier])
        bad = set(incompatibilities[identifier])
        if not reqs:
            return []
        name, extras = reqs[0].name, reqs[0].extras
        if name == PYTHON:
            cand = Candidate(PYTHON, self.python)
            return [cand] if all(self.is_satisfied_by(r, cand) for r in reqs) and cand not in bad else []
        own = self.local.get(name)
        if own is not None:
            cand = Candidate(name, Version(own.version or "0"), extras, file=own)
            return [cand] if all(self.is_satisfied_by(r, cand) for r in reqs) and cand not in bad else []
        entry = self.dist.get(name)
        if entry is not None:
            cand = Candidate(name, Version(entry.version), extras, dist=entry)
            from_dist = [cand] if all(self.is_satisfied_by(r, cand) for r in reqs) and cand not in bad else []
            if not self.index_first:
                return from_dist
            try:
                return self._index_matches(name, extras, reqs, bad) + from_dist
            except ProjectNotFoundError:
                return from_dist
        return self._index_matches(name, extras, reqs, bad)

    def _index_matches(self, name: str, extras: frozenset[str], reqs: list[Req], bad: set[Candidate]
                       ) -> list[Candidate]:
        spec = SpecifierSet()
        for r in reqs:
            spec &= r.specifier
        available = self.index_candidates(name)
        allowed = set(spec.filter(v for v, _ in available))
        out: list[Candidate] = []
        for version, file in available:
            if version not in allowed:
                continue
            if file.yanked and file.filename not in self.pinned_files and not any(
                    _is_pin(r.specifier, version) for r in reqs):
                continue
            cand = Candidate(name, version, extras, file=file)
            if cand not in bad:
                out.append(cand)
        preferred = self.preferences.get(name)
        if preferred is not None:
            out.sort(key=lambda c: c.version != preferred)  # stable: the rest stays newest first
        return out

    def is_satisfied_by(self, requirement: Req, candidate: Candidate) -> bool:
        return requirement.specifier.contains(candidate.version, prereleases=True)

    def get_dependencies(self, candidate: Candidate) -> list[Req]:
        return list(self.dependencies(candidate))

    # -- candidates from the index -------------------------------------------------

    def index_candidates(self, name: str) -> list[tuple[Version, IndexFile]]:
        """``(version, best wheel)`` for every version with a wheel for the target, newest first."""
        if name in self._index:
            return self._index[name]
        page = self.client.get_project(name)
        report = ProjectReport(name=page.name, url=page.url)
        usable = select_files(page, allow_yanked_pins=[f.filename for f in page.files if f.yanked])
        best: dict[Version, tuple[int, str, IndexFile]] = {}
        for f in page.files:
            parsed = parse_filename(f.filename)
            if parsed is None:
                continue
            version = parsed[1]
            report.files.setdefault(str(version), []).append(f.filename)
            if f.is_wheel and any(t.platform == "any" for t in parsed[2]):
                report.has_pure = True
            why = self._unusable(f, usable)
            report.file_reasons.setdefault(str(version), {})[f.filename] = why or ""
            if why is not None:
                if f.is_wheel or str(version) not in report.reasons:  # a wheel's reason says more
                    report.reasons[str(version)] = why
                continue
            rank = rank_wheel(f.filename, self.priority)
            assert rank is not None  # checked by _unusable
            if version not in best or (rank, f.filename) < best[version][:2]:
                best[version] = (rank, f.filename, f)
        if self.build_sdist is not None:
            for version, sdist in _sdist_only(page.files).items():
                if version not in best and sdist in usable:
                    best[version] = (len(self.priority), sdist.filename, sdist)
        out = [(v, best[v][2]) for v in sorted(best, reverse=True)]
        report.usable = [str(v) for v, _ in out]
        for v in report.usable:
            report.reasons.pop(v, None)
        self.reports[name] = report
        self._index[name] = out
        return out

    def _unusable(self, f: IndexFile, usable: Sequence[IndexFile]) -> str | None:
        if f not in usable:
            return f"{f.filename}: no sha256 offered"
        if not f.is_wheel:
            return "sdist only (wasm targets take wheels only)" if self.build_sdist is None else "sdist"

        if rank_wheel(f.filename, self.priority) is None:
            return "no wheel for the target's tags"
        if f.requires_python:
            try:
                rp = SpecifierSet(f.requires_python)
            except InvalidSpecifier:
                return f"invalid Requires-Python {f.requires_python!r}"
            if not rp.contains(self.python, prereleases=True):
                return f"requires Python {f.requires_python}"
        return None

    # -- dependencies ----------------------------------------------------------------

    def metadata(self, file: IndexFile) -> Metadata:
        """Core metadata of an index wheel: PEP 658 ``.metadata``, else read from the fetched wheel;
        of an sdist-only version: read from the wheel built from it."""
        meta = self._metadata.get(file.filename)
        if meta is None and not file.is_wheel and self.build_sdist is not None:
            built, path = self.build_sdist(file)
            self.built[file.filename] = built
            meta = self.client.get_metadata(built, lambda: path)
            self._metadata[file.filename] = meta
        if meta is None:
            fetch = self.fetch_wheel
            fallback = (lambda: fetch(file)) if fetch is not None else None
            meta = self.client.get_metadata(file, fallback)
            self._metadata[file.filename] = meta
        return meta

    def dependencies(self, candidate: Candidate) -> list[Req]:
        """The candidate's requirements under the target's markers (memoised)."""
        cached = self._deps.get(candidate)
        if cached is not None:
            return cached
        deps: list[Req] = []
        if candidate.extras and candidate.name != PYTHON:
            deps.append(Req(candidate.name, frozenset(), SpecifierSet(f"=={candidate.version}"),
                            f"{candidate.name}=={candidate.version}"))
        if candidate.dist is not None:
            if not candidate.extras:
                deps += [Req(str(canonicalize_name(d)), frozenset(), SpecifierSet(), d)
                         for d in candidate.dist.depends]
        elif candidate.file is not None:
            meta = self.metadata(candidate.file)
            if meta.requires_python is not None:
                deps.append(Req(PYTHON, frozenset(), meta.requires_python, f"Python {meta.requires_python}"))
            extras: Iterable[str] = sorted(candidate.extras) if candidate.extras else ("",)
            for raw in meta.requires_dist or ():
                req = parse_requirement(str(raw), self.env, extras=tuple(extras))
                if req is None:
                    continue
                if candidate.extras and raw.marker is None:
                    continue  # the base candidate carries the unconditional ones
                deps.append(req)
        self._deps[candidate] = deps
        return deps

    def dependents(self) -> dict[str, set[str]]:
        """Package -> names of the candidates read so far that require it: the search's
        dependency graph by name (for error messages: the chain from a direct requirement)."""
        out: dict[str, set[str]] = {}
        for candidate, reqs in self._deps.items():
            for r in reqs:
                if r.name not in (candidate.name, PYTHON):
                    out.setdefault(r.name, set()).add(candidate.name)
        return out


def _sdist_only(files: Sequence[IndexFile]) -> dict[Version, IndexFile]:
    """Version -> its sdist, for the versions published only as source (no wheel at all: a
    version with wheels for other platforms is a compiled package, not built for a wasm target)."""
    with_wheels: set[Version] = set()
    sdists: dict[Version, IndexFile] = {}
    for f in files:
        parsed = parse_filename(f.filename)
        if parsed is None or f.yanked:
            continue
        if f.is_wheel:
            with_wheels.add(parsed[1])
        elif f.sha256 and (parsed[1] not in sdists or f.filename < sdists[parsed[1]].filename):
            sdists[parsed[1]] = f
    return {v: f for v, f in sdists.items() if v not in with_wheels}


def marker_of(reqs: Iterable[Req]) -> str:
    """The marker a package was included under: ``""`` when some edge is unconditional."""
    markers = set()
    for r in reqs:
        if not r.marker:
            return ""
        markers.add(r.marker)
    if len(markers) == 1:
        return markers.pop()
    return " or ".join(f"({m})" for m in sorted(markers))

