"""What a wheel's file list says about it (pure): the import names it provides.

Shared by :mod:`wasmtool.resolve` (lock entries) and :mod:`wasmtool.bundle` (Pyodide
bundles), which do not import each other.
"""

from __future__ import annotations

__all__ = ["import_names_from"]


def import_names_from(files: list[str], top_level: str | None) -> tuple[str, ...]:
    """Import packages a wheel provides: ``top_level.txt`` when present, else the RECORD's
    top-level directories with an ``__init__.py`` and top-level modules (``.py``/``.so``)."""
    names: set[str] = set()
    if top_level is not None:
        names = {ln.strip().split("/")[0] for ln in top_level.splitlines() if ln.strip()}
    else:
        for f in files:
            head = f.split("/", 1)[0]
            if head.endswith((".dist-info", ".data")):
                continue
            if "/" in f:
                names.add(head)
            elif f.endswith(".py"):
                names.add(f[:-3])
            elif f.endswith((".so", ".pyd")):
                names.add(f.split(".", 1)[0])
    # Private helpers (``_cffi_backend``) are not names users bind, unless the
    # distribution provides nothing else.
    public = sorted(n for n in names if n and not n.startswith("_"))
    return tuple(public) if public else tuple(sorted(n for n in names if n))
