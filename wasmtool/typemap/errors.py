"""Errors of the type table and the declaration mapper (WT600-WT619).

Unmappable annotations are not errors: they become ``SkipReport`` values. These errors
cover misuse of the API (bad settings), never the content of a stub.
"""

from __future__ import annotations

from wasmtool.errors import SynthError


class TypemapSettingError(SynthError, ValueError):
    """A mapper setting is malformed (e.g. a ``monomorphise`` entry that is not ``T=type``)."""

    code = "WT601"
