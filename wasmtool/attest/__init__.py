"""PEP 740 attestations: fetch a file's provenance, verify it with Sigstore, pin the publisher.

:mod:`~wasmtool.attest.policy` (pure: modes, publisher pins and labels),
:mod:`~wasmtool.attest.trust` (trust roots), :mod:`~wasmtool.attest.verify` (the checks),
:mod:`~wasmtool.attest.fetch` (provenance over HTTP and in the cache). The lock and install
steps that use them live in :mod:`wasmtool.ops.attest`. See docs/attestations.md.
"""
