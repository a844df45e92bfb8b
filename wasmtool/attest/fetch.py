"""Fetching a file's PEP 740 provenance through the index client (its retries and timeouts),
with the failures translated into attestation errors that name the file."""

from __future__ import annotations

from wasmtool.attest.errors import ProvenanceHTTPError, ProvenanceTimeoutError
from wasmtool.index.client import IndexClient
from wasmtool.index.errors import IndexHTTPError, IndexNetworkError, IndexTimeoutError
from wasmtool.index.models import IndexFile

__all__ = ["fetch_provenance"]


def fetch_provenance(client: IndexClient, file: IndexFile, *, package: str | None) -> bytes | None:
    """The provenance body of ``file``; ``None`` when it has none (no URL on the page, 404/410)."""
    try:
        return client.get_provenance(file)
    except IndexTimeoutError as exc:
        raise ProvenanceTimeoutError(f"its provenance ({file.provenance}) timed out: {exc.message}",
                                     file=file.filename, package=package) from exc
    except (IndexHTTPError, IndexNetworkError) as exc:
        raise ProvenanceHTTPError(f"its provenance ({file.provenance}) could not be fetched: {exc.message}",
                                  file=file.filename, package=package) from exc
