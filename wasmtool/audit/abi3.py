"""The Limited API / stable ABI symbol set, from the published ``abi3info`` package.

``abi3info`` (the data package behind abi3audit) carries CPython's ``Misc/stable_abi.toml`` as
values: each function and data symbol of the stable ABI and the version that added it.
:func:`non_limited` judges the symbols an extension imports against the minimum version of an
``abi3`` wheel (``cp39-abi3`` -> 3.9), as abi3audit does: a ``Py*``/``_Py*`` symbol that is not
in the stable ABI, or was added after that version, is a finding. ``PyInit_*`` (the module's
own entry point) is never one. Symbols marked ``abi_only`` (``_Py_Dealloc``, called by the
limited API's macros) are part of the stable ABI and allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import abi3info
from abi3info.models import Symbol

__all__ = ["abi3info_version", "minimum_version", "non_limited"]


@cache
def _added() -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for table in (abi3info.FUNCTIONS, abi3info.DATAS):
        for sym, item in table.items():
            out[sym.name] = (item.added.major, item.added.minor)
    return out


def abi3info_version() -> str:
    try:
        return version("abi3info")
    except PackageNotFoundError:        # pragma: no cover - a declared dependency
        return ""


def minimum_version(python_tags: Iterable[str]) -> tuple[int, int] | None:
    """The lowest ``cpXY`` among an abi3 wheel's interpreter tags (``cp39`` -> (3, 9))."""
    found: list[tuple[int, int]] = []
    for tag in python_tags:
        if tag.startswith("cp") and tag[2:].isdigit() and len(tag) >= 4:
            found.append((int(tag[2]), int(tag[3:])))
    return min(found) if found else None


def non_limited(imported: Iterable[str], minimum: tuple[int, int]) -> list[tuple[str, str]]:
    """(symbol, why) for each imported ``Py*``/``_Py*`` symbol outside the Limited API of ``minimum``."""
    added = _added()
    out: list[tuple[str, str]] = []
    for name in sorted(set(imported)):
        if not name.startswith(("Py", "_Py")) or name.startswith("PyInit_"):
            continue
        when = added.get(Symbol(name).name)
        if when is None:
            out.append((name, "not in the stable ABI"))
        elif when > minimum:
            out.append((name, f"in the stable ABI only since {when[0]}.{when[1]}, "
                              f"the wheel claims {minimum[0]}.{minimum[1]}"))
    return out
