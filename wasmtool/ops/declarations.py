"""``python_wrap/<alias>/<alias>.d.ts`` in the workspace of a target whose bindings JavaScript
calls (:attr:`~wasmtool.targets.base.TargetBackend.typescript_declarations`; docs/typescript.md).

The text comes from :func:`wasmtool.synth.typescript.render_typescript` over the package's
surface, and is cached beside the surface (``<cache>/declarations/<surface key>.d.ts``, the
key covering the surface's inputs and the rendering code): a warm ``bind`` neither builds the
surface nor renders it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from wasmtool.synth.typescript import declaration_file, render_typescript
from wasmtool.synth.workspace import Workspace
from wasmtool.typemap.surface import MappedSurface

__all__ = ["DeclarationSource", "with_typescript"]


class DeclarationSource(Protocol):
    """One bound package (``wasmtool.ops.bind.BoundPackage``): its alias, surface cache key and surface."""

    @property
    def alias(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def surface(self) -> MappedSurface: ...


def _declaration(cache_root: Path, source: DeclarationSource) -> str:
    header = f"// {declaration_file(source.alias)}: "
    path = cache_root / "declarations" / f"{source.key}.d.ts"
    if source.key:
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            pass
        else:
            if text.startswith(header) and text.endswith("\n}\n"):
                return text
            # a damaged entry is rendered again
    text = render_typescript(source.surface)
    if source.key:
        from wasmtool.fsutil import atomic_write_text

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, text)
        except OSError:
            pass   # the cache is an optimisation: the workspace still gets the text
    return text


def with_typescript(cache_root: Path, workspace: Workspace, bound: Sequence[DeclarationSource]) -> Workspace:
    """``workspace`` with each bound package's ``python_wrap/<alias>/<alias>.d.ts``."""
    return workspace.with_files({
        f"python_wrap/{source.alias}/{declaration_file(source.alias)}": _declaration(cache_root, source).encode("utf-8")
        for source in bound})
