"""The manylinux / musllinux policies, read from auditwheel's published package data.

auditwheel ships the PEP 600 / PEP 656 policies as ``auditwheel/policy/manylinux-policy.json``
and ``musllinux-policy.json`` (the libraries a wheel may leave to the system, ``lib_whitelist``,
and the symbol versions each system library may be asked for, ``symbol_versions``, per
architecture). They are read as data with :mod:`importlib.resources`; nothing of auditwheel
runs.

Which tag binds: a wheel must load on every system its platform tags claim, so it must satisfy
the policy of each Linux tag it names. The policies nest (an older glibc's policy allows a
subset of a newer one's), so the binding policy is the strictest claimed one: the tag with the
highest ``priority`` (``manylinux_2_17`` before ``manylinux_2_28``), the same ordering auditwheel
uses. Findings name that tag.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = ["LinuxPolicy", "auditwheel_version", "binding_policy", "data_version", "load_policies", "parse_linux_tag"]

_TAG = re.compile(r"^(?P<family>manylinux|musllinux)_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>.+)$")
_LEGACY = {"manylinux1": "manylinux_2_5", "manylinux2010": "manylinux_2_12", "manylinux2014": "manylinux_2_17"}
# The ELF dynamic loader is never a finding (auditwheel excludes it the same way).
_LOADERS = re.compile(r"^(ld-linux.*|ld64\.so\.[12]|ld-musl-.*)$")
# musl's libc is named per architecture on disk (libc.musl-x86_64.so.1); the policy says libc.so.
_MUSL_LIBC = re.compile(r"^libc\.musl-[\w]+\.so\.1$")


@dataclass(frozen=True)
class LinuxPolicy:
    tag: str                          # e.g. manylinux_2_17_x86_64
    family: str                       # manylinux | musllinux
    arch: str
    priority: int
    whitelist: frozenset[str]
    symbol_versions: Mapping[str, frozenset[str]]   # GLIBC -> {"2.2.5", ...}

    def allows_library(self, soname: str) -> bool:
        if _LOADERS.match(soname) or soname in self.whitelist:
            return True
        return self.family == "musllinux" and "libc.so" in self.whitelist and bool(_MUSL_LIBC.match(soname))

    def allows_version(self, library: str, version_name: str) -> bool:
        """``version_name`` (``GLIBC_2.34``) that ``library`` must provide: allowed unless its
        prefix is one the policy restricts and the version is not in its list."""
        if _LOADERS.match(library):
            return True
        prefix, sep, number = version_name.partition("_")
        if not sep or prefix not in self.symbol_versions:
            return True
        return number in self.symbol_versions[prefix]


@cache
def data_version(distribution: str) -> str:
    """The installed version of a data package the audit reads (``auditwheel``, ``abi3info``,
    whose import name is the distribution's), looked up once per process; "" when not installed.

    The ``Version`` of the package's own ``*.dist-info/METADATA`` beside it is read directly
    (:mod:`importlib.metadata` pulls in the e-mail parser, a tenth of a lock's imports); when
    that is not one unambiguous file, :func:`importlib.metadata.version` answers."""
    from importlib.util import find_spec

    try:
        spec = find_spec(distribution)
    except (ImportError, ValueError):
        spec = None
    origin = spec.origin if spec is not None else None
    if origin:
        site = Path(origin).parent.parent
        infos = list(site.glob(f"{distribution}-*.dist-info/METADATA"))
        if len(infos) == 1:
            found = _metadata_version(infos[0])
            if found:
                return found
    return _installed_version(distribution)


def _metadata_version(path: Path) -> str:
    """The ``Version:`` header of a core metadata file ("" when unreadable or absent)."""
    try:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    break                               # end of the headers
                if line.startswith("Version:"):
                    return line[len("Version:"):].strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return ""


def _installed_version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:        # pragma: no cover - a declared dependency
        return ""


def auditwheel_version() -> str:
    return data_version("auditwheel")


@cache
def _raw(family: str) -> tuple[dict[str, Any], ...]:
    text = resources.files("auditwheel.policy").joinpath(f"{family}-policy.json").read_text(encoding="utf-8")
    return tuple(json.loads(text))


def parse_linux_tag(platform: str) -> tuple[str, str, str] | None:
    """``manylinux2014_x86_64`` -> (``manylinux``, ``manylinux_2_17``, ``x86_64``); None for other tags."""
    for legacy, modern in _LEGACY.items():
        if platform.startswith(legacy + "_"):
            platform = modern + platform[len(legacy):]
            break
    m = _TAG.match(platform)
    if m is None:
        return None
    return m["family"], f"{m['family']}_{m['major']}_{m['minor']}", m["arch"]


@cache
def load_policies(family: str, arch: str) -> Mapping[str, LinuxPolicy]:
    """Every policy of ``family`` (manylinux, musllinux) for ``arch``, by policy name (built
    once per process and shared: read-only)."""
    out: dict[str, LinuxPolicy] = {}
    for raw in _raw(family):
        versions = raw.get("symbol_versions", {}).get(arch)
        if versions is None:
            continue
        out[str(raw["name"])] = LinuxPolicy(
            tag=f"{raw['name']}_{arch}", family=family, arch=arch, priority=int(raw["priority"]),
            whitelist=frozenset(str(x) for x in raw.get("lib_whitelist", ())),
            symbol_versions={str(k): frozenset(str(v) for v in vs) for k, vs in versions.items()})
    return MappingProxyType(out)


def binding_policy(platforms: Iterable[str]) -> LinuxPolicy | None:
    """The strictest policy among the Linux tags in ``platforms`` (see the module docstring);
    None when no tag names a policy auditwheel knows (``linux_x86_64``, other systems)."""
    return _binding_policy(frozenset(platforms))


@cache
def _binding_policy(platforms: frozenset[str]) -> LinuxPolicy | None:
    found: list[LinuxPolicy] = []
    for platform in platforms:
        parsed = parse_linux_tag(platform)
        if parsed is None:
            continue
        family, name, arch = parsed
        policy = load_policies(family, arch).get(name)
        if policy is not None:
            found.append(policy)
    if not found:
        return None
    return max(found, key=lambda p: (p.priority, p.tag))
