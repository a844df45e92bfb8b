"""What every operation needs: :class:`wasmtool.context.Context` (defined there, below the
target backends that use it too; importable from here)."""

from __future__ import annotations

from wasmtool.context import Context as Context
from wasmtool.context import verified_artefact as verified_artefact

__all__ = ["Context", "verified_artefact"]
