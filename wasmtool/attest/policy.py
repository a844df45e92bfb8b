"""Attestation policy (pure): the project's mode, per-dependency publisher pins, publisher labels.

A *publisher label* is how a verified identity is written in ``mochi.lock`` and compared
between locks (the trust-on-first-use key)::

    github:<owner>/<repo>            a GitHub Actions Trusted Publisher
    gitlab:<group>/<project>         a GitLab CI/CD Trusted Publisher
    google:<service-account email>   a Google Cloud Trusted Publisher
    circleci:<project id>            a CircleCI Trusted Publisher
    identity:<identity> issuer:<url> any other Sigstore identity (an email, a workflow URI)

No IO happens here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Mode = Literal["off", "warn", "require"]
MODES: tuple[Mode, ...] = ("off", "warn", "require")

_SLUG = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+")
_FORGE_ISSUERS = {
    "github": "https://token.actions.githubusercontent.com",
    "gitlab": "https://gitlab.com",
}


@dataclass(frozen=True)
class PublisherPin:
    """A dependency's ``trusted-publisher``: ``kind`` is ``github``, ``gitlab`` or ``identity``.

    ``github``/``gitlab``: ``subject`` is the repository slug, ``workflow`` optional (the
    workflow file name; for GitLab the CI file path). ``identity``: ``subject`` is the
    certificate identity (an email, a URI) and ``issuer`` the OIDC issuer URL.
    """

    kind: Literal["github", "gitlab", "identity"]
    subject: str
    workflow: str = ""
    issuer: str = ""

    @property
    def label(self) -> str:
        if self.kind == "identity":
            return identity_label(self.subject, self.issuer)
        return f"{self.kind}:{self.subject}"


def identity_label(identity: str, issuer: str) -> str:
    return f"identity:{identity} issuer:{issuer}"


def parse_pin(value: object, *, workflow: object = None) -> PublisherPin | str:
    """A pin from the manifest value, or the reason it is not one (a string)."""
    if isinstance(value, str):
        kind, sep, slug = value.partition(":")
        if not sep or kind not in _FORGE_ISSUERS or not _SLUG.fullmatch(slug):
            return (f"{value!r}: expected \"github:<owner>/<repo>\", \"gitlab:<group>/<project>\" or a table "
                    "{ identity = \"...\", issuer = \"https://...\" }")
        if workflow is not None and (not isinstance(workflow, str) or not workflow or "\n" in workflow):
            return "workflow: expected a non-empty string (the workflow file name)"
        return PublisherPin(kind, slug, workflow=workflow or "")  # type: ignore[arg-type]
    if isinstance(value, dict):
        if workflow is not None:
            return "workflow: only valid with a \"github:...\" or \"gitlab:...\" publisher"
        identity, issuer = value.get("identity"), value.get("issuer")
        extra = sorted(set(value) - {"identity", "issuer"})
        if extra:
            return f"{extra[0]}: unknown key (expected identity and issuer)"
        if not isinstance(identity, str) or not identity or not isinstance(issuer, str) \
                or not issuer.startswith("https://"):
            return "expected { identity = \"someone@example.org\", issuer = \"https://issuer\" }"
        return PublisherPin("identity", identity, issuer=issuer)
    return f"expected a string or a table, got {type(value).__name__}"


def publisher_label(kind: str, fields: dict[str, object]) -> str | None:
    """The label of a PEP 740 bundle publisher (``kind`` + its fields), ``None`` if unknown."""
    k = kind.lower()
    if k in ("github", "gitlab") and isinstance(fields.get("repository"), str):
        return f"{k}:{fields['repository']}"
    if k == "google" and isinstance(fields.get("email"), str):
        return f"google:{fields['email']}"
    if k == "circleci" and isinstance(fields.get("project_id") or fields.get("project-id"), str):
        return f"circleci:{fields.get('project_id') or fields.get('project-id')}"
    return None


def describe_drift(package: str, old: str, new: str) -> str:
    return f"publisher changed for {package}: {old} \u2192 {new}"
