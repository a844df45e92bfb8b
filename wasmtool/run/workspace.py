"""A bound project's generated workspace, as a session reads it: the bound aliases and their
wrapper functions (``python_wrap/<alias>/surface.json``) and what was skipped (``SKIPPED.txt``).

The workspace folder itself is the target backend's to name
(:meth:`wasmtool.targets.backend.TargetBackend.workspace_dir`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasmtool.run.errors import WorkspaceMissingError
from wasmtool.run.skipped import SkippedItem, read_skipped

__all__ = ["WRAP_MODULE", "WRAP_PACKAGE", "BoundAlias", "BoundFunction", "find_skipped", "load_aliases"]

WRAP_MODULE = "_mochi_wrap"
WRAP_PACKAGE = "python_wrap"


@dataclass(frozen=True)
class BoundFunction:
    """One wrapper function: ``name`` (the extern) in ``module``, wrapping ``target``."""

    alias: str
    name: str
    module: str
    target: str
    is_async: bool
    full: bool
    params: tuple[str, ...]


@dataclass(frozen=True)
class BoundAlias:
    """One bound package: its wrapper module and functions (sorted by name)."""

    alias: str
    dist: str
    version: str
    module: str
    functions: tuple[BoundFunction, ...]
    import_names: tuple[str, ...] = ()
    directory: Path | None = None          # python_wrap/<alias>/ (SKIPPED.txt, surface.json)

    def function(self, name: str) -> BoundFunction | None:
        """The function whose extern name is ``name``, if any."""
        return next((f for f in self.functions if f.name == name), None)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkspaceMissingError(f"cannot read {path.name}: {exc}", file=str(path),
                                    hint="run `wasmtool bind` to generate the workspace again") from exc


def _externs_module(alias_dir: Path, surface: dict[str, Any]) -> str:
    candidates = sorted(alias_dir.glob("*_externs.py"))
    if len(candidates) == 1:
        return f"{WRAP_PACKAGE}.{alias_dir.name}.{candidates[0].stem}"
    from wasmtool.synth.workspace import externs_module
    from wasmtool.typemap.surface import MappedSurface

    return externs_module(MappedSurface.from_dict(surface))


def load_aliases(workspace: Path, *, install_command: str = "wasmtool install") -> dict[str, BoundAlias]:
    """Every alias bound in ``workspace``, from its ``python_wrap/<alias>/surface.json``;
    ``install_command`` is the command the error names when nothing is installed there."""
    wrap_dir = workspace / WRAP_PACKAGE
    if not (workspace / f"{WRAP_MODULE}.py").is_file() or not wrap_dir.is_dir():
        raise WorkspaceMissingError(
            "nothing is installed for this target yet (no generated Python workspace)", file=str(workspace),
            hint=f"run `{install_command}` first (it locks, installs and binds)")
    aliases: dict[str, BoundAlias] = {}
    for surface_file in sorted(wrap_dir.glob("*/surface.json")):
        data = _read_json(surface_file)
        alias_dir = surface_file.parent
        alias = str(data.get("alias") or alias_dir.name)
        module = _externs_module(alias_dir, data)
        functions = tuple(sorted(
            (BoundFunction(alias=alias, name=str(f["extern_name"]), module=module, target=str(f.get("target", "")),
                           is_async=bool(f.get("is_async", False)), full=bool(f.get("full", False)),
                           params=tuple(str(p["name"]) for p in f.get("params", ())))
             for f in data.get("functions", ())),
            key=lambda f: f.name))
        aliases[alias] = BoundAlias(alias, str(data.get("dist", "")), str(data.get("version", "")), module,
                                    functions, tuple(str(n) for n in data.get("import_names", ())), alias_dir)
    if not aliases:
        raise WorkspaceMissingError("no package is bound in the workspace", file=str(wrap_dir),
                                    hint="add `import python \"<pkg>\" as <alias>` lines, then "
                                         f"`{install_command}`")
    return aliases


def _skip_keys(item: SkippedItem, alias: BoundAlias) -> set[str]:
    """The names a caller could have used for a skipped item (``alias.rest``, extern spelling)."""
    rest = next((item.path[len(imp) + 1:] for imp in sorted(alias.import_names, key=len, reverse=True)
                 if item.path.startswith(imp + ".")), item.path.partition(".")[2])
    rests = {rest}
    if rest.endswith(".__init__"):
        owner = rest.removesuffix(".__init__")
        rests |= {f"{owner}_new", f"{owner}_new_full", f"{owner}.new"}
    keys = {item.path}
    for r in rests:
        keys |= {f"{alias.alias}.{r}", f"{alias.alias}_{r.replace('.', '_')}"}
    return keys


def find_skipped(alias: BoundAlias, name: str) -> SkippedItem | None:
    """The ``SKIPPED.txt`` entry of ``alias`` that ``name`` refers to, if any."""
    if alias.directory is None:
        return None
    for item in read_skipped(alias.directory):
        if name in _skip_keys(item, alias):
            return item
    return None
