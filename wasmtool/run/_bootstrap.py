"""Make :mod:`wasmtool_runtime` importable from a source checkout.

Installed wasmtool ships ``wasmtool_runtime`` as a top-level package. In a checkout it
lives in ``<repo>/runtime/wasmtool_runtime``; if it cannot be imported, that directory is
appended to ``sys.path`` (appended, so an installed copy always wins).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

RUNTIME_SOURCE_DIR = Path(__file__).resolve().parent.parent.parent / "runtime"

if (
    importlib.util.find_spec("wasmtool_runtime") is None
    and (RUNTIME_SOURCE_DIR / "wasmtool_runtime").is_dir()
):
    sys.path.append(str(RUNTIME_SOURCE_DIR))
