"""Verification of the recorded PEP 740 fixtures: what verifies, and each bad case's own code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.attest.attest_index import (
    PUBLISH,
    SDIST,
    SDIST_ATTESTATION,
    SDIST_LABEL,
    SDIST_PROVENANCE,
    WHEEL,
    WHEEL_ATTESTATION,
    WHEEL_IDENTITY,
    WHEEL_ISSUER,
    WHEEL_LABEL,
    altered_statement,
    flipped,
    require_fixtures,
    sha256,
    wheel_provenance,
)
from wasmtool.attest import errors as E
from wasmtool.attest.policy import PublisherPin
from wasmtool.attest.trust import load_trust_root
from wasmtool.attest.verify import parse_attestation, verify_attestation, verify_provenance

PIN = PublisherPin("identity", WHEEL_IDENTITY, issuer=WHEEL_ISSUER)


@pytest.fixture(autouse=True)
def _fixtures() -> None:
    require_fixtures()


def _wheel(att: bytes | None = None, *, pin: PublisherPin | None = PIN, root: str = "staging",
           data: bytes | None = None, filename: str = WHEEL.name):
    a = parse_attestation(att if att is not None else WHEEL_ATTESTATION.read_bytes(), filename=filename, source="t")
    return verify_attestation(a, filename=filename, sha256=sha256(data if data is not None else WHEEL.read_bytes()),
                              pin=pin, trust=load_trust_root(root))


def _sdist_prov(doc: bytes | None = None, *, pin: PublisherPin | None = None, root: str = "production",
                filename: str = SDIST.name, data: bytes | None = None):
    return verify_provenance(doc if doc is not None else SDIST_PROVENANCE.read_bytes(), filename=filename,
                             sha256=sha256(data if data is not None else SDIST.read_bytes()),
                             package="pypi-attestations", pin=pin, trust=load_trust_root(root), source="t")


def test_wheel_verifies_on_staging_with_its_identity() -> None:
    v = _wheel()
    assert (v.publisher, v.predicate, v.attestations) == (WHEEL_LABEL, PUBLISH, 1)


def test_wheel_without_identity_reports_the_signer() -> None:
    assert _wheel(pin=None).publisher == WHEEL_LABEL


def test_wheel_against_the_production_root_fails() -> None:
    with pytest.raises(E.AttestationSignatureError) as info:
        _wheel(root="production")
    assert info.value.code == "WT277" and info.value.file == WHEEL.name


def test_wheel_with_a_wrong_identity_fails() -> None:
    with pytest.raises(E.PublisherMismatchError) as info:
        _wheel(pin=PublisherPin("identity", "fake@example.com", issuer=WHEEL_ISSUER))
    assert info.value.code == "WT278"
    assert "fake@example.com" in info.value.message and WHEEL_IDENTITY in info.value.message


def test_sdist_provenance_verifies_against_its_bundle_publisher_on_production() -> None:
    v = _sdist_prov()
    assert (v.publisher, v.predicate) == (SDIST_LABEL, PUBLISH)


def test_sdist_attestation_with_its_github_publisher_and_workflow() -> None:
    a = parse_attestation(SDIST_ATTESTATION.read_bytes(), filename=SDIST.name, source="t")
    pin = PublisherPin("github", "trailofbits/pypi-attestations", workflow="release.yml")
    v = verify_attestation(a, filename=SDIST.name, sha256=sha256(SDIST.read_bytes()), pin=pin,
                           trust=load_trust_root("production"))
    assert v.publisher == SDIST_LABEL


def test_sdist_pinned_to_another_repository_fails_naming_both() -> None:
    with pytest.raises(E.PublisherMismatchError) as info:
        _sdist_prov(pin=PublisherPin("github", "someone/else"))
    assert "github:someone/else" in info.value.message and SDIST_LABEL in info.value.message


def test_sdist_on_the_staging_root_fails() -> None:
    with pytest.raises(E.AttestationSignatureError):
        _sdist_prov(root="staging")


def test_flipped_byte_in_the_file_fails_on_the_digest() -> None:
    with pytest.raises(E.SubjectDigestMismatchError) as info:
        _wheel(data=flipped(WHEEL.read_bytes()))
    assert info.value.code == "WT275" and info.value.file == WHEEL.name


def test_provenance_for_another_file_fails_on_the_name() -> None:
    with pytest.raises(E.SubjectNameMismatchError) as info:
        _sdist_prov(filename=WHEEL.name, data=WHEEL.read_bytes())
    assert info.value.code == "WT276" and "pypi_attestations-0.0.19.tar.gz" in info.value.message


def test_altered_statement_fails_the_signature() -> None:
    with pytest.raises(E.AttestationSignatureError) as info:
        _wheel(altered_statement(WHEEL_ATTESTATION.read_bytes()))
    assert info.value.code == "WT277"


@pytest.mark.parametrize(("doc", "field"), [
    (b"{not json", "$"),
    (b"[]", "$"),
    (b'{"version": 2, "attestation_bundles": []}', "version"),
    (b'{"version": 1, "attestation_bundles": []}', "attestation_bundles"),
    (b'{"version": 1, "attestation_bundles": [{"publisher": {"kind": "GitHub"}, "attestations": [{}]}]}',
     "attestation_bundles[0].attestations[0]"),
])
def test_malformed_provenance(doc: bytes, field: str) -> None:
    with pytest.raises(E.MalformedProvenanceError) as info:
        _sdist_prov(doc)
    assert (info.value.code, info.value.field, info.value.file) == ("WT274", field, SDIST.name)


def test_a_publisher_that_is_no_trusted_publisher_kind_needs_a_pin() -> None:
    doc = wheel_provenance()
    with pytest.raises(E.UnsupportedPublisherError) as info:
        verify_provenance(doc, filename=WHEEL.name, sha256=sha256(WHEEL.read_bytes()), package="rfc8785", pin=None,
                          trust=load_trust_root("staging"), source="t")
    assert info.value.code == "WT281" and "trusted-publisher" in (info.value.hint or "")
    v = verify_provenance(doc, filename=WHEEL.name, sha256=sha256(WHEEL.read_bytes()), package="rfc8785", pin=PIN,
                          trust=load_trust_root("staging"), source="t")
    assert v.publisher == WHEEL_LABEL


def test_trust_root_from_a_file(tmp_path: Path) -> None:
    from sigstore._internal.tuf import STAGING_TUF_URL
    from sigstore._utils import read_embedded

    data = read_embedded("trusted_root.json", STAGING_TUF_URL)
    root_file = tmp_path / "root.json"
    root_file.write_bytes(data)
    root = load_trust_root(str(root_file))
    assert root.label == f"sha256:{sha256(data)}"
    a = parse_attestation(WHEEL_ATTESTATION.read_bytes(), filename=WHEEL.name, source="t")
    assert verify_attestation(a, filename=WHEEL.name, sha256=sha256(WHEEL.read_bytes()), pin=PIN,
                              trust=root).publisher == WHEEL_LABEL
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"mediaType": "nonsense"}))
    with pytest.raises(E.TrustRootError):
        load_trust_root(str(bad))
    with pytest.raises(E.TrustRootError):
        load_trust_root(str(tmp_path / "missing.json"))
    with pytest.raises(E.TrustRootError):
        load_trust_root(str(root_file), refresh=True)
