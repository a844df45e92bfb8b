"""Errors of wrapper, shim and workspace synthesis (WT620-WT639).

A surface that cannot be rendered is a bug in the mapper or a hand-edited surface file:
the errors name the distribution and the item at fault.
"""

from __future__ import annotations

from wasmtool.errors import SynthError


class SurfaceRenderError(SynthError, ValueError):
    """The mapped surface holds something the renderers cannot express (e.g. a name clash)."""

    code = "WT620"


class ShimSyntaxError(SynthError, ValueError):
    """A Mochi shim is outside the emitted subset's grammar (line and column in the message)."""

    code = "WT621"


class WorkspaceError(SynthError, OSError):
    """The generated workspace cannot be read or written."""

    code = "WT622"
