"""PEP 503/691 simple-API client (see :mod:`wasmtool.index.client`).

Re-exports are resolved lazily: importing :mod:`wasmtool.index.config` must not pull in
httpx (a quarter of a second), so that `wasmtool lock` can start uv first.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "IndexClient": "wasmtool.index.client", "read_wheel_metadata": "wasmtool.index.client",
    "IndexUrls": "wasmtool.index.config", "resolve_index_urls": "wasmtool.index.config",
    "IndexFile": "wasmtool.index.models", "ProjectPage": "wasmtool.index.models",
    "parse_html_page": "wasmtool.index.parse", "parse_json_page": "wasmtool.index.parse",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'wasmtool.index' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
