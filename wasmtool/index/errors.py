"""Index client errors (WT100-WT199); each names the URL and the project, and for
malformed documents the JSON key path or HTML line at fault."""

from __future__ import annotations

from wasmtool.errors import IndexError_


class IndexHTTPError(IndexError_):
    code = "WT101"


class IndexNetworkError(IndexError_):
    code = "WT102"


class ProjectNotFoundError(IndexError_):
    code = "WT103"


class MalformedJSONPageError(IndexError_):
    code = "WT104"


class MalformedHTMLPageError(IndexError_):
    code = "WT105"


class UnsupportedContentTypeError(IndexError_):
    code = "WT106"


class UnsupportedAPIVersionError(IndexError_):
    code = "WT107"


class MetadataMismatchError(IndexError_):
    code = "WT108"


class MetadataUnavailableError(IndexError_):
    code = "WT109"
