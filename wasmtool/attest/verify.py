"""Verifying PEP 740 attestations against a distribution file, with ``pypi-attestations``
(the attestation and provenance models) and ``sigstore`` (every cryptographic check).

Each attestation is checked in this order, each step with its own error:

1. it parses as a PEP 740 attestation (:class:`MalformedProvenanceError`, WT274);
2. its Sigstore bundle verifies against the trust root -- certificate chain, transparency
   log inclusion, signed timestamps, the DSSE signature over the statement
   (:class:`AttestationSignatureError`, WT277);
3. the verified statement has exactly one subject, naming this file
   (:class:`SubjectNameMismatchError`, WT276) with this file's SHA-256
   (:class:`SubjectDigestMismatchError`, WT275), and a predicate type PyPI knows;
4. the signing certificate satisfies the publisher policy: the dependency's pinned
   ``trusted-publisher``, else the publisher the provenance names for the bundle
   (:class:`PublisherMismatchError`, WT278, naming expected and actual identity;
   :class:`UnsupportedPublisherError`, WT281, when there is nothing to check it against).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from wasmtool.attest.errors import (
    AttestationSignatureError,
    MalformedProvenanceError,
    PublisherMismatchError,
    SubjectDigestMismatchError,
    SubjectNameMismatchError,
    UnsupportedPublisherError,
)
from wasmtool.attest.policy import PublisherPin, identity_label, publisher_label
from wasmtool.attest.trust import TrustRoot

if TYPE_CHECKING:
    from pypi_attestations import Attestation
    from sigstore.verify.policy import VerificationPolicy

__all__ = ["Verified", "parse_provenance", "verify_attestation", "verify_provenance"]

_GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
_GITLAB_ISSUER = "https://gitlab.com"
#: Fulcio certificate extensions: OIDC issuer (v2, then v1) and the source repository URI.
_OID_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"
_OID_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"
_OID_SOURCE_REPO = "1.3.6.1.4.1.57264.1.12"


@dataclass(frozen=True)
class Verified:
    """What a verification established: the publisher label, the predicate type, how many
    attestations verified."""

    publisher: str
    predicate: str
    attestations: int


@dataclass(frozen=True)
class _Bundle:
    publisher_kind: str
    publisher: dict[str, Any]
    attestations: tuple[Attestation, ...]


def parse_provenance(data: bytes, *, filename: str, package: str | None, source: str) -> tuple[_Bundle, ...]:
    """The bundles of a PEP 740 provenance object (``{"version": 1, "attestation_bundles": [...]}``)."""
    from pydantic import ValidationError
    from pypi_attestations import Attestation

    def bad(message: str, where: str) -> MalformedProvenanceError:
        return MalformedProvenanceError(f"provenance from {source}: {message}", file=filename,
                                        package=package, field=where)

    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise bad(f"not valid JSON: {exc}", "$") from exc
    if not isinstance(doc, dict):
        raise bad("expected a JSON object", "$")
    if doc.get("version") != 1:
        raise bad(f"version is {doc.get('version')!r}, expected 1", "version")
    raw_bundles = doc.get("attestation_bundles")
    if not isinstance(raw_bundles, list) or not raw_bundles:
        raise bad("expected a non-empty array", "attestation_bundles")
    bundles: list[_Bundle] = []
    for i, raw in enumerate(raw_bundles):
        where = f"attestation_bundles[{i}]"
        if not isinstance(raw, dict):
            raise bad("expected an object", where)
        pub = raw.get("publisher")
        if not isinstance(pub, dict) or not isinstance(pub.get("kind"), str):
            raise bad("expected an object with a string kind", f"{where}.publisher")
        atts = raw.get("attestations")
        if not isinstance(atts, list) or not atts:
            raise bad("expected a non-empty array", f"{where}.attestations")
        parsed: list[Attestation] = []
        for j, att in enumerate(atts):
            try:
                parsed.append(Attestation.model_validate(att))
            except ValidationError as exc:
                raise bad(f"not a PEP 740 attestation: {exc.errors()[0].get('msg', exc)}",
                          f"{where}.attestations[{j}]") from exc
        bundles.append(_Bundle(pub["kind"], dict(pub), tuple(parsed)))
    return tuple(bundles)


def parse_attestation(data: bytes, *, filename: str, source: str) -> Attestation:
    """One PEP 740 attestation document (``<file>.publish.attestation``)."""
    from pydantic import ValidationError
    from pypi_attestations import Attestation

    try:
        return Attestation.model_validate_json(data)
    except (ValidationError, ValueError) as exc:
        raise MalformedProvenanceError(f"{source} is not a PEP 740 attestation: {exc}",
                                       file=filename, field="$") from exc


def verify_provenance(data: bytes, *, filename: str, sha256: str, package: str | None, pin: PublisherPin | None,
                      trust: TrustRoot, source: str) -> Verified:
    """Every attestation of every bundle in the provenance ``data``, against the file
    ``filename`` whose bytes hash to ``sha256``."""
    bundles = parse_provenance(data, filename=filename, package=package, source=source)
    labels: set[str] = set()
    predicates: set[str] = set()
    count = 0
    for bundle in bundles:
        if pin is not None:
            policy, label = pin_policy(pin), pin.label
        else:
            policy, label = _bundle_policy(bundle, filename=filename, package=package)
        for att in bundle.attestations:
            predicates.add(_verify_one(att, policy, label, filename=filename, sha256=sha256, package=package,
                                       trust=trust))
            count += 1
        labels.add(label)
    return Verified(", ".join(sorted(labels)), ", ".join(sorted(predicates)), count)


def verify_attestation(att: Attestation, *, filename: str, sha256: str, pin: PublisherPin | None,
                       trust: TrustRoot, package: str | None = None) -> Verified:
    """One attestation against one file; without ``pin`` any identity is accepted (and reported)."""
    if pin is not None:
        policy, label = pin_policy(pin), pin.label
        predicate = _verify_one(att, policy, label, filename=filename, sha256=sha256, package=package, trust=trust)
    else:
        predicate = _verify_one(att, _AnyIdentity(), "", filename=filename, sha256=sha256, package=package,
                                trust=trust)
        label = signer_label(att)
    return Verified(label, predicate, 1)


def pin_policy(pin: PublisherPin) -> VerificationPolicy:
    from sigstore.verify import policy

    if pin.kind == "identity":
        return policy.Identity(identity=pin.subject, issuer=pin.issuer)
    if pin.workflow:
        from pypi_attestations import GitHubPublisher, GitLabPublisher

        pub = (GitHubPublisher(repository=pin.subject, workflow=pin.workflow) if pin.kind == "github"
               else GitLabPublisher(repository=pin.subject, workflow_filepath=pin.workflow))
        return pub._as_policy()
    issuer = _GITHUB_ISSUER if pin.kind == "github" else _GITLAB_ISSUER
    host = "github.com" if pin.kind == "github" else "gitlab.com"
    return policy.AllOf([policy.OIDCIssuerV2(issuer), policy.OIDCSourceRepositoryURI(f"https://{host}/{pin.subject}")])


def _bundle_policy(bundle: _Bundle, *, filename: str, package: str | None) -> tuple[VerificationPolicy, str]:
    from pydantic import TypeAdapter, ValidationError
    from pypi_attestations import Publisher

    label = publisher_label(bundle.publisher_kind, bundle.publisher)
    try:
        pub: Any = TypeAdapter(Publisher).validate_python(bundle.publisher)
    except ValidationError as exc:
        pub = None
        problem = str(exc.errors()[0].get("msg", exc))
    if pub is None or label is None:
        raise UnsupportedPublisherError(
            f"the provenance names a {bundle.publisher_kind!r} publisher, which is not a Trusted "
            f"Publisher kind this wasmtool can check" + (f" ({problem})" if pub is None else ""),
            file=filename, package=package,
            hint="pin the identity: trusted-publisher = { identity = \"...\", issuer = \"https://...\" } "
                 "in the dependency's table")
    return pub._as_policy(), label


class _AnyIdentity:
    """The identity step of ``verify_dsse`` is done apart (step 3), so that a wrong identity and
    a bad signature get different codes: this policy accepts any certificate."""

    def verify(self, cert: object) -> None:
        return None


def _verify_one(att: Attestation, policy: VerificationPolicy, label: str, *, filename: str, sha256: str,
                package: str | None, trust: TrustRoot) -> str:
    import sigstore.errors

    try:
        bundle = att.to_bundle()
        _type, payload = trust.verifier().verify_dsse(bundle, _AnyIdentity())
    except (sigstore.errors.Error, ValueError) as exc:
        raise AttestationSignatureError(
            f"the attestation does not verify against the {trust.label} trust root: {exc}",
            file=filename, package=package,
            hint="the file's attestation was altered, or it was signed on another Sigstore instance "
                 "(--trust-root staging | FILE)") from exc
    predicate = _check_statement(payload, filename=filename, sha256=sha256, package=package)
    try:
        policy.verify(bundle.signing_certificate)
    except sigstore.errors.VerificationError as exc:
        raise PublisherMismatchError(
            f"signed by {signer_label(att)}, expected {label or 'another identity'}: {exc}",
            file=filename, package=package) from exc
    return predicate


def _check_statement(payload: bytes, *, filename: str, sha256: str, package: str | None) -> str:
    from pypi_attestations import AttestationType

    try:
        statement = json.loads(payload)
        subjects = statement["subject"]
        predicate = statement["predicateType"]
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedProvenanceError(f"the signed statement is not an in-toto statement: {exc}",
                                       file=filename, package=package) from exc
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise SubjectNameMismatchError("the statement must have exactly one subject",
                                       file=filename, package=package)
    name = subjects[0].get("name")
    if not isinstance(name, str) or _dist_key(name) is None or _dist_key(name) != _dist_key(filename):
        raise SubjectNameMismatchError(f"the attestation is for {name!r}, not for this file",
                                       file=filename, package=package)
    digest = (subjects[0].get("digest") or {}).get("sha256") if isinstance(subjects[0].get("digest"), dict) else None
    if digest != sha256:
        raise SubjectDigestMismatchError(
            f"the attestation is for sha256 {digest}, the file's is {sha256}",
            file=filename, package=package, hint="the file's bytes are not the ones that were signed")
    if predicate not in {t.value for t in AttestationType}:
        raise MalformedProvenanceError(f"unknown attestation predicate type {predicate!r}",
                                       file=filename, package=package)
    return str(predicate)


def _dist_key(filename: str) -> tuple[str, str, Sequence[str]] | None:
    """Name, version and tags of a distribution filename (what must match, as pypi-attestations does)."""
    try:
        if filename.endswith(".whl"):
            name, version, build, tags = parse_wheel_filename(filename)
            return str(name), str(version), [*sorted(str(t) for t in tags), str(build)]
        name, version = parse_sdist_filename(filename)
        return str(canonicalize_name(name)), str(version), [filename.rsplit(".", 2)[-1]]
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None


def signer_label(att: Attestation) -> str:
    """Who signed ``att``, from its certificate (for messages and ``verify FILE``)."""
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(att.verification_material.certificate)
    except ValueError:
        return "an unreadable certificate"
    claims = {}
    for ext in cert.extensions:
        claims[ext.oid.dotted_string] = ext.value
    issuer = ""
    try:
        claims_v2 = att.certificate_claims
        issuer = claims_v2.get(_OID_ISSUER_V2, "")
        repo = claims_v2.get(_OID_SOURCE_REPO, "")
    except Exception:  # a certificate without the Fulcio v2 extensions
        repo = ""
    if not issuer and _OID_ISSUER_V1 in claims:
        raw = claims[_OID_ISSUER_V1]
        issuer = raw.value.decode("utf-8", "replace") if hasattr(raw, "value") else ""
    for forge, forge_issuer in (("github", _GITHUB_ISSUER), ("gitlab", _GITLAB_ISSUER)):
        if issuer == forge_issuer and repo.startswith("https://"):
            return f"{forge}:{repo.split('/', 3)[-1]}"
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [*san.get_values_for_type(x509.RFC822Name), *san.get_values_for_type(x509.UniformResourceIdentifier)]
    except x509.ExtensionNotFound:
        names = []
    return identity_label(names[0] if names else "?", issuer or "?")
