"""PEP 503/691 simple-API client (see :mod:`wasmtool.index.client`)."""

from wasmtool.index.client import IndexClient, read_wheel_metadata
from wasmtool.index.config import IndexUrls, resolve_index_urls
from wasmtool.index.models import IndexFile, ProjectPage
from wasmtool.index.parse import parse_html_page, parse_json_page

__all__ = ["IndexClient", "IndexFile", "IndexUrls", "ProjectPage", "parse_html_page", "parse_json_page",
           "read_wheel_metadata", "resolve_index_urls"]
