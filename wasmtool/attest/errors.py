"""PEP 740 attestation errors (WT270-WT289): one stable code per way a check fails.

Every error names the distribution file (``file``: its filename, or the provenance URL for
fetch failures) and the package::

    ResolveError                         WT200  (wasmtool.errors)
    └── AttestationError                 WT270  base of the attestation errors
        ├── AttestationMissingError      WT271  policy ``require``: the file has no attestation (no provenance URL, 404)
        ├── ProvenanceHTTPError          WT272  the provenance URL answered an error status (5xx after retries)
        ├── ProvenanceTimeoutError       WT273  the provenance URL timed out (after retries)
        ├── MalformedProvenanceError     WT274  the provenance is not a PEP 740 provenance object (JSON, schema)
        ├── SubjectDigestMismatchError   WT275  the statement's sha256 is not the file's (changed bytes)
        ├── SubjectNameMismatchError     WT276  the statement names another distribution file
        ├── AttestationSignatureError    WT277  the signature, certificate or transparency log proof does not verify
        ├── PublisherMismatchError       WT278  the signing identity is not the expected publisher
        ├── PublisherChangedError        WT279  the verified publisher differs from the one in mochi.lock
        ├── TrustRootError               WT280  the trust root cannot be loaded or refreshed
        ├── UnsupportedPublisherError    WT281  the bundle's publisher cannot be turned into a policy
        ├── ProvenanceNotCachedError     WT282  install: the lock records an attestation the cache no longer holds
        ├── ProvenanceChangedError       WT283  install: the cached provenance is not the one the lock records
        └── AttestationPolicyError       WT284  an attestation setting or option is not usable
"""

from __future__ import annotations

from wasmtool.errors import ResolveError

__all__ = [
    "AttestationError",
    "AttestationMissingError",
    "AttestationPolicyError",
    "AttestationSignatureError",
    "MalformedProvenanceError",
    "ProvenanceChangedError",
    "ProvenanceHTTPError",
    "ProvenanceNotCachedError",
    "ProvenanceTimeoutError",
    "PublisherChangedError",
    "PublisherMismatchError",
    "SubjectDigestMismatchError",
    "SubjectNameMismatchError",
    "TrustRootError",
    "UnsupportedPublisherError",
]


class AttestationError(ResolveError):
    code = "WT270"


class AttestationMissingError(AttestationError):
    code = "WT271"


class ProvenanceHTTPError(AttestationError):
    code = "WT272"


class ProvenanceTimeoutError(AttestationError):
    code = "WT273"


class MalformedProvenanceError(AttestationError):
    code = "WT274"


class SubjectDigestMismatchError(AttestationError):
    code = "WT275"


class SubjectNameMismatchError(AttestationError):
    code = "WT276"


class AttestationSignatureError(AttestationError):
    code = "WT277"


class PublisherMismatchError(AttestationError):
    code = "WT278"


class PublisherChangedError(AttestationError):
    code = "WT279"


class TrustRootError(AttestationError):
    code = "WT280"


class UnsupportedPublisherError(AttestationError):
    code = "WT281"


class ProvenanceNotCachedError(AttestationError):
    code = "WT282"


class ProvenanceChangedError(AttestationError):
    code = "WT283"


class AttestationPolicyError(AttestationError):
    code = "WT284"
