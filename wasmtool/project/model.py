"""A project = its manifest + the ``import python`` lines of its sources, merged into one
requirement set (the manifest owns extras and sources; imports add constraints)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from wasmtool.project.errors import RequirementConflictError
from wasmtool.project.manifest import Manifest, load_manifest
from wasmtool.project.scanner import ImportLine, scan_sources


@dataclass(frozen=True)
class Requirement:
    name: str
    specifier: str = ""
    extras: tuple[str, ...] = ()
    markers: str = ""
    alias: str = ""
    source: str = "registry"
    url: str = ""
    sources: tuple[str, ...] = ()

    def pep508(self) -> str:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        text = f"{self.name}{extras}{self.specifier}"
        if self.url:
            text = f"{self.name}{extras} @ {self.url}"
        return f"{text} ; {self.markers}" if self.markers else text


@dataclass(frozen=True)
class Project:
    root: Path
    manifest: Manifest
    imports: tuple[ImportLine, ...]
    _requirements: tuple[Requirement, ...]

    def requirements(self) -> tuple[Requirement, ...]:
        return self._requirements

    def to_pep508(self) -> list[str]:
        return sorted(r.pep508() for r in self._requirements)

    def with_pins(self, pins: Mapping[str, str]) -> Project:
        """This project with ``name==version`` added for each of ``pins`` (intersected with the
        requirement's own specifier when the project names the package already): how a lock
        tries one version of a package on every target."""
        reqs = {str(canonicalize_name(r.name)): r for r in self._requirements}
        for raw_name, version in pins.items():
            name = str(canonicalize_name(raw_name))
            have = reqs.get(name)
            pinned = f"=={version}"
            if have is None:
                reqs[name] = Requirement(name=name, specifier=pinned, sources=("joint version",))
            else:
                spec = str(SpecifierSet(have.specifier) & SpecifierSet(pinned)) if have.specifier else pinned
                reqs[name] = replace(have, specifier=spec)
        return replace(self, _requirements=tuple(reqs[k] for k in sorted(reqs)))


def build_project(manifest: Manifest, imports: list[ImportLine], root: Path) -> Project:
    reqs: dict[str, Requirement] = {}
    for dep in manifest.dependencies:
        if dep.optional:
            continue
        url = f"git+{dep.git}" + (f"@{dep.rev}" if dep.rev else "") if dep.git else ""
        if dep.path:   # relative, so that the lock's inputs are the same on every machine (docs/builds.md)
            url = f"file:{Path(dep.path).as_posix()}"
        reqs[dep.name] = Requirement(
            name=dep.name, specifier=dep.version, extras=dep.extras, markers=dep.markers,
            source="git" if dep.git else "path" if dep.path else "index" if dep.index else "registry",
            url=url, sources=("mochi.toml",), alias=dep.alias,
        )
    aliases: dict[str, str] = {}
    for imp in imports:
        where = f"{imp.file}:{imp.line}"
        other = aliases.get(imp.alias)
        if other is not None and other != imp.spec.name:
            raise RequirementConflictError(f"alias {imp.alias!r} is used for {other} and {imp.spec.name}",
                                           file=where)
        aliases[imp.alias] = imp.spec.name
        have = reqs.get(imp.spec.name)
        listed = set(have.extras) if have is not None and "mochi.toml" in have.sources else set()
        missing = [e for e in imp.spec.extras if e not in listed]
        if missing:
            raise RequirementConflictError(
                f"extra(s) {', '.join(missing)} of {imp.spec.name} are not listed in mochi.toml",
                file=where, field=f"python-dependencies.{imp.spec.name}.extras",
                hint=f"add extras = {sorted(set(imp.spec.extras) | listed)!r} to the dependency in mochi.toml",
            )
        if have is None:
            reqs[imp.spec.name] = Requirement(name=imp.spec.name, specifier=imp.spec.specifier,
                                              extras=imp.spec.extras, alias=imp.alias, sources=(where,))
            continue
        spec = have.specifier
        if imp.spec.specifier:
            spec = str(SpecifierSet(have.specifier) & SpecifierSet(imp.spec.specifier))
        reqs[imp.spec.name] = Requirement(
            name=have.name, specifier=spec, extras=have.extras, markers=have.markers,
            alias=have.alias or imp.alias, source=have.source, url=have.url, sources=(*have.sources, where),
        )
    return Project(root=root, manifest=manifest, imports=tuple(imports),
                   _requirements=tuple(reqs[k] for k in sorted(reqs)))


def load_project(root: Path) -> Project:
    manifest = load_manifest(root / "mochi.toml")
    return build_project(manifest, scan_sources(root), root)
