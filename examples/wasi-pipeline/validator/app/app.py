"""Validates what the parser component returns, with `packaging` (bundled as a pure wheel).

Everything is imported at module top level: the guest only has what was imported at build time.
"""

import wit_world
from componentize_py_types import Err
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from wit_world.imports import api


class WitWorld(wit_world.WitWorld):
    def check(self, text):
        try:
            info = api.project_info(text)
        except Err as exc:
            return f"parse error: {exc.value.kind}: {exc.value.message}"
        lines = []
        name = canonicalize_name(info.name) if info.name else ""
        if not name:
            lines.append("name: missing")
        try:
            version = Version(info.version)
            lines.append(f"version: {version}{' (pre-release)' if version.is_prerelease else ''}")
        except InvalidVersion:
            lines.append(f"version: invalid {info.version!r}")
        if info.requires_python is not None:
            try:
                spec = SpecifierSet(info.requires_python)
                lines.append(f"requires-python: {spec} ({'allows' if '3.14' in spec else 'excludes'} 3.14)")
            except InvalidSpecifier:
                lines.append(f"requires-python: invalid {info.requires_python!r}")
        for dep in info.dependencies:
            try:
                req = Requirement(dep)
                lines.append(f"dependency: {canonicalize_name(req.name)} {req.specifier or '(any)'}")
            except InvalidRequirement:
                lines.append(f"dependency: invalid {dep!r}")
        return f"{name or '?'}: " + "; ".join(lines)
