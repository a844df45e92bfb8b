"""Errors of wrapper, shim and workspace synthesis, and of binding (WT620-WT699).

A surface that cannot be rendered is a bug in the mapper or a hand-edited surface file:
the errors name the distribution and the item at fault::

    SynthError                       WT600  (wasmtool.errors)
    ├── SurfaceRenderError           WT620  the surface holds something the renderers cannot express
    ├── ShimSyntaxError              WT621  a Mochi shim is outside the emitted subset's grammar
    ├── WorkspaceError               WT622  the generated workspace cannot be read or written (also OSError)
    └── NotBoundError                WT623  ``wasmtool bind``: an import names a package the lock does
                                            not hold for the target (also LookupError)

WT600-WT619 are the type mapper's (:mod:`wasmtool.typemap.errors`).
"""

from __future__ import annotations

from wasmtool.errors import SynthError

__all__ = ["NotBoundError", "ShimSyntaxError", "SurfaceRenderError", "WorkspaceError"]


class SurfaceRenderError(SynthError, ValueError):
    """The mapped surface holds something the renderers cannot express (e.g. a name clash)."""

    code = "WT620"


class ShimSyntaxError(SynthError, ValueError):
    """A Mochi shim is outside the emitted subset's grammar (line and column in the message)."""

    code = "WT621"


class WorkspaceError(SynthError, OSError):
    """The generated workspace cannot be read or written."""

    code = "WT622"


class NotBoundError(SynthError, LookupError):
    """A package to bind is not in mochi.lock for the target, or has no wheel there."""

    code = "WT623"
