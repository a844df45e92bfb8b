"""Index client errors (WT100-WT199): one stable code per failure kind.

Every error names what is at fault through the :class:`~wasmtool.errors.WasmtoolError`
slots: ``file`` = the URL (or local path) of the page / file / metadata document,
``package`` = the project (PEP 503-normalised), ``field`` = the JSON key path
(``files[2].hashes.sha256``) or the HTML line (``line 14``)::

    IndexError_                      WT100  (wasmtool.errors)
    ├── IndexHTTPError               WT101  unexpected HTTP status (after retries for 5xx/429)
    ├── IndexNetworkError            WT102  connection / protocol error after retries
    │   └── IndexTimeoutError        WT111  timed out after retries
    ├── ProjectNotFoundError         WT103  404/410 on every index tried
    ├── MalformedJSONPageError       WT104  PEP 691 document is not what the PEP says
    ├── MalformedHTMLPageError       WT105  PEP 503 document cannot be used
    ├── UnsupportedContentTypeError  WT106  neither PEP 691 JSON nor PEP 503 HTML
    ├── UnsupportedAPIVersionError   WT107  meta.api-version / pypi:repository-version major != 1
    ├── MetadataMismatchError        WT108  .metadata hash or name/version differ from the index
    ├── MetadataUnavailableError     WT109  no PEP 658 file and no wheel to read METADATA from
    ├── Md5OnlyFileError             WT110  the file offers only md5 (never downloaded)
    ├── YankedFileError              WT112  yanked and not pinned by exact filename
    ├── FileNotListedError           WT113  the index does not list that filename
    ├── MetadataInvalidError         WT114  METADATA cannot be parsed
    ├── InvalidIndexURLError         WT115  configured index URL unusable (scheme, syntax)
    ├── LocalIndexError              WT116  a ``file://`` index cannot be read
    ├── NoDefaultIndexError          WT117  nothing configured and pip's default not available
    └── MissingHashError             WT118  the file offers no sha256 to verify against
"""

from __future__ import annotations

from wasmtool.errors import IndexError_

__all__ = [
    "FileNotListedError",
    "IndexError_",
    "IndexHTTPError",
    "IndexNetworkError",
    "IndexTimeoutError",
    "InvalidIndexURLError",
    "LocalIndexError",
    "MalformedHTMLPageError",
    "MalformedJSONPageError",
    "Md5OnlyFileError",
    "MetadataInvalidError",
    "MetadataMismatchError",
    "MetadataUnavailableError",
    "MissingHashError",
    "NoDefaultIndexError",
    "ProjectNotFoundError",
    "UnsupportedAPIVersionError",
    "UnsupportedContentTypeError",
    "YankedFileError",
]


class IndexHTTPError(IndexError_):
    code = "WT101"

    def __init__(self, message: str, *, status: int | None = None, file: str | None = None,
                 package: str | None = None, field: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, file=file, package=package, field=field, hint=hint)
        self.status = status


class IndexNetworkError(IndexError_):
    code = "WT102"


class IndexTimeoutError(IndexNetworkError):
    code = "WT111"


class ProjectNotFoundError(IndexError_, LookupError):
    code = "WT103"

    def __init__(self, message: str, *, indexes: tuple[str, ...] = (), file: str | None = None,
                 package: str | None = None, field: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, file=file, package=package, field=field, hint=hint)
        self.indexes = indexes


class MalformedJSONPageError(IndexError_, ValueError):
    code = "WT104"


class MalformedHTMLPageError(IndexError_, ValueError):
    code = "WT105"


class UnsupportedContentTypeError(IndexError_):
    code = "WT106"


class UnsupportedAPIVersionError(IndexError_):
    code = "WT107"


class MetadataMismatchError(IndexError_):
    code = "WT108"


class MetadataUnavailableError(IndexError_):
    code = "WT109"


class Md5OnlyFileError(IndexError_):
    code = "WT110"


class YankedFileError(IndexError_):
    code = "WT112"


class FileNotListedError(IndexError_, LookupError):
    code = "WT113"


class MetadataInvalidError(IndexError_, ValueError):
    code = "WT114"


class InvalidIndexURLError(IndexError_, ValueError):
    code = "WT115"
    exit_code = 2


class LocalIndexError(IndexError_):
    code = "WT116"


class NoDefaultIndexError(IndexError_):
    code = "WT117"
    exit_code = 2


class MissingHashError(IndexError_):
    code = "WT118"
