"""PEP 503/691 simple-API client: models, pure parsers, selection, index configuration.

Public API (re-exported here)::

    IndexFile, ProjectPage                         models (frozen)
    parse_json_page(data, *, url, project)         PEP 691 JSON -> ProjectPage   (pure)
    parse_html_page(text, *, url, project)         PEP 503 HTML -> ProjectPage   (pure)
    select_files(page, *, allow_yanked_pins)       usable files                  (pure)
    find_file(page, filename, *, allow_yanked_pins)  one file or the typed reason
    rejections(page, *, allow_yanked_pins)         filename -> why not selectable
    IndexUrls, resolve_index_urls(...)             which indexes, and why
    IndexClient(index_urls, ...)                   HTTP / file:// client
    read_wheel_metadata(path), parse_core_metadata(data, *, source)

Re-exports are resolved lazily: importing :mod:`wasmtool.index.config` must not pull in
httpx (a quarter of a second), so that ``wasmtool lock`` can start uv first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wasmtool.index.client import IndexClient
    from wasmtool.index.config import IndexUrls, resolve_index_urls
    from wasmtool.index.metadata import parse_core_metadata, read_wheel_metadata
    from wasmtool.index.models import IndexFile, ProjectPage
    from wasmtool.index.parse_html import parse_html_page
    from wasmtool.index.parse_json import parse_json_page
    from wasmtool.index.selection import find_file, rejections, select_files

_EXPORTS = {
    "IndexClient": "wasmtool.index.client",
    "IndexFile": "wasmtool.index.models",
    "IndexUrls": "wasmtool.index.config",
    "ProjectPage": "wasmtool.index.models",
    "find_file": "wasmtool.index.selection",
    "parse_core_metadata": "wasmtool.index.metadata",
    "parse_html_page": "wasmtool.index.parse_html",
    "parse_json_page": "wasmtool.index.parse_json",
    "read_wheel_metadata": "wasmtool.index.metadata",
    "rejections": "wasmtool.index.selection",
    "resolve_index_urls": "wasmtool.index.config",
    "select_files": "wasmtool.index.selection",
}
__all__ = [
    "IndexClient",
    "IndexFile",
    "IndexUrls",
    "ProjectPage",
    "find_file",
    "parse_core_metadata",
    "parse_html_page",
    "parse_json_page",
    "read_wheel_metadata",
    "rejections",
    "resolve_index_urls",
    "select_files",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'wasmtool.index' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
