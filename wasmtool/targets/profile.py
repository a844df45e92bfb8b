"""Target profiles, loaded from the ``targets/`` data folder (see its README).

The host is never the target: tags and the PEP 508 marker environment are computed from
the profile and the target interpreter version only.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from packaging.tags import Tag, compatible_tags, cpython_tags

from wasmtool.targets.errors import ProfileError as ProfileError  # re-exported: defined here before
from wasmtool.targets.errors import UnknownProfileError as UnknownProfileError  # re-exported: defined here before

_REQUIRED = ("name", "kind", "python-version", "resolver", "platforms")
_KNOWN = set(_REQUIRED) | {"aliases", "implementation", "uv-python-platform", "sys-platform", "platform-system",
                           "platform-machine", "os-name", "read-only-platforms", "denied-capabilities", "runtime",
                           "callables", "index-pure-only", "messages"}
_MESSAGES = {"no-compiled-build", "no-compiled-build-hint", "distribution", "build-hint"}
KINDS = ("native", "pyodide", "wasi")

#: The profile used when none is named (``[python].target``'s default, ``wasmtool exec``).
DEFAULT_TARGET = "native"
#: The profile whose WebAssembly components :mod:`wasmtool.wit` plans (named in its skip reasons).
COMPONENT_TARGET = "wasi-p2"
#: Runtime modes that are not profiles but decide whether callables cross (a worker process).
_NO_CALLABLE_MODES = frozenset({"subprocess"})


def profiles_dir() -> Path:
    """The data folder: next to the package in a checkout, or installed as package data."""
    here = Path(__file__).resolve().parent
    for cand in (here.parent.parent / "targets", here / "data"):
        if cand.is_dir():
            return cand
    raise ProfileError("the target profile folder was not found", file=str(here.parent.parent / "targets"))


@dataclass(frozen=True)
class TargetProfile:
    name: str
    kind: str
    python_version: str | None
    resolver: str
    platform_tags: tuple[str, ...]
    implementation: str = "cp"
    uv_python_platform: str | None = None
    aliases: tuple[str, ...] = ()
    read_only_platforms: tuple[str, ...] = ()
    denied_capabilities: tuple[str, ...] = ()
    sys_platform: str = "linux"
    platform_system: str = "Linux"
    platform_machine: str = "x86_64"
    os_name: str = "posix"
    runtime: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    file: str = ""
    #: Python callables can cross the boundary (``callables = false``: a WIT world has no function values).
    callables: bool = True
    #: The index carries no builds for the platform tags: only pure wheels (and a distribution lock) apply.
    index_pure_only: bool = False
    #: Target-specific wording of resolution errors (``[messages]``; see targets/README.md).
    messages: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def marker_environment(self, python_version: str) -> dict[str, str]:
        major_minor = ".".join(python_version.split(".")[:2])
        full = python_version if python_version.count(".") == 2 else f"{major_minor}.0"
        return {
            "implementation_name": "cpython", "implementation_version": full,
            "os_name": self.os_name, "platform_machine": self.platform_machine,
            "platform_python_implementation": "CPython", "platform_release": "", "platform_system":
            self.platform_system, "platform_version": "", "python_full_version": full,
            "python_version": major_minor, "sys_platform": self.sys_platform, "extra": "",
        }

    def supported_tags(self, python_version: str | None = None) -> list[Tag]:
        """Tags in priority order (best first) for the target interpreter."""
        ver = python_version or self.python_version
        if not ver:
            raise ProfileError(f"profile {self.name} needs a python version", file=self.file)
        return list(_tags_for(self.platform_tags, ver))


@lru_cache(maxsize=64)
def _tags_for(platforms: tuple[str, ...], version: str) -> tuple[Tag, ...]:
    major, minor = (int(x) for x in version.split(".")[:2])
    tags = list(cpython_tags((major, minor), platforms=list(platforms)))
    seen = set(tags)
    tags += [t for t in compatible_tags((major, minor), platforms=list(platforms)) if t not in seen]
    return tuple(tags)


def parse_profile(data: dict[str, Any], *, file: str) -> TargetProfile:
    problems = [f"{k}: missing" for k in _REQUIRED if k not in data]
    problems += [f"{k}: unknown key" for k in data if k not in _KNOWN]
    if data.get("kind") not in (None, *KINDS):
        problems.append(f"kind: expected native, pyodide or wasi, got {data.get('kind')!r}")
    problems += [f"messages.{k}: unknown key" for k in data.get("messages", {}) if k not in _MESSAGES]
    problems += [f"{k}: expected true or false" for k in ("callables", "index-pure-only")
                 if not isinstance(data.get(k, False), bool)]
    if data.get("resolver") not in (None, "uv", "resolvelib"):
        problems.append(f"resolver: expected uv or resolvelib, got {data.get('resolver')!r}")
    if problems:
        raise ProfileError("invalid target profile: " + "; ".join(problems), file=file)
    pv = str(data["python-version"])
    return TargetProfile(
        name=str(data["name"]), kind=str(data["kind"]), python_version=None if pv == "project" else pv,
        resolver=str(data["resolver"]), platform_tags=tuple(data["platforms"]),
        implementation=str(data.get("implementation", "cp")),
        uv_python_platform=data.get("uv-python-platform"), aliases=tuple(data.get("aliases", ())),
        read_only_platforms=tuple(data.get("read-only-platforms", ())),
        denied_capabilities=tuple(data.get("denied-capabilities", ())),
        sys_platform=str(data.get("sys-platform", "linux")), platform_system=str(data.get("platform-system", "Linux")),
        platform_machine=str(data.get("platform-machine", "x86_64")), os_name=str(data.get("os-name", "posix")),
        runtime=dict(data.get("runtime", {})), file=file, callables=bool(data.get("callables", True)),
        index_pure_only=bool(data.get("index-pure-only", False)),
        messages={str(k): str(v) for k, v in data.get("messages", {}).items()},
    )


@cache
def _all_profiles(root: Path) -> dict[str, TargetProfile]:
    out: dict[str, TargetProfile] = {}
    for path in sorted(root.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ProfileError(f"not valid TOML: {exc}", file=str(path)) from exc
        prof = parse_profile(data, file=str(path))
        out[prof.name] = prof
    return out


def list_profiles(root: Path | None = None) -> list[str]:
    return sorted(_all_profiles(root or profiles_dir()))


def load_profile(name: str, *, root: Path | None = None) -> TargetProfile:
    profiles = _all_profiles(root or profiles_dir())
    if name in profiles:
        return profiles[name]
    for prof in profiles.values():
        if name in prof.aliases:
            return prof
    raise UnknownProfileError(f"unknown target {name!r}; known: {', '.join(sorted(profiles))}", field="target")


def callables_cross(target: str) -> bool:
    """Whether Python callables can cross the boundary on ``target``: a profile name or alias
    (its ``callables`` key), or the ``subprocess`` runtime mode (never: a worker process)."""
    if target in _NO_CALLABLE_MODES:
        return False
    try:
        return load_profile(target).callables
    except UnknownProfileError:
        return True
