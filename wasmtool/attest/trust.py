"""Sigstore trust roots: which certificate authorities, logs and timestamp authorities a
verification accepts.

- ``production`` (default) and ``staging``: the trusted root ``sigstore`` ships for that
  instance, read from the installed package -- offline, so a lock does not depend on the
  network or on a refresh some other tool made.
- a path: a trusted-root JSON file (Sigstore's ``TrustedRoot`` format) pinned by the user.
- ``refresh=True`` (``--refresh-trust-root``): the instance's TUF repository is asked for
  its current trusted root (network; production or staging only).

A root's ``label`` is what ``mochi.lock`` records (``production``, ``staging``, or
``sha256:<hex>`` of a file), so ``install`` can check it verifies against the same root.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wasmtool.attest.errors import TrustRootError

if TYPE_CHECKING:
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier

INSTANCES = ("production", "staging")


@dataclass(frozen=True)
class TrustRoot:
    label: str
    root: TrustedRoot

    def verifier(self) -> Verifier:
        from sigstore.verify import Verifier

        return Verifier(trusted_root=self.root)


_MEMO: dict[tuple[str, bool], TrustRoot] = {}


def load_trust_root(spec: str = "production", *, refresh: bool = False) -> TrustRoot:
    """The trust root named by ``spec`` (an instance name or a file path); see the module doc."""
    key = (spec, refresh)
    if key not in _MEMO:
        _MEMO[key] = _load(spec, refresh=refresh)
    return _MEMO[key]


def _load(spec: str, *, refresh: bool) -> TrustRoot:
    if spec in INSTANCES:
        if refresh:
            from sigstore.models import ClientTrustConfig

            try:
                config = ClientTrustConfig.production() if spec == "production" else ClientTrustConfig.staging()
                return TrustRoot(spec, config.trusted_root)
            except Exception as exc:  # sigstore raises TUFError and assorted network errors
                raise TrustRootError(f"cannot refresh the {spec} trust root: {exc}", field="--refresh-trust-root",
                                     hint="retry with network access, or drop --refresh-trust-root to use the "
                                          "root the installed sigstore ships") from exc
        data = _embedded(spec)
        return TrustRoot(spec, _parse(data, source=f"the {spec} trust root shipped with sigstore"))
    if refresh:
        raise TrustRootError("--refresh-trust-root applies to the production and staging instances, not to a file",
                             file=spec, field="--refresh-trust-root")
    path = Path(spec)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TrustRootError(f"cannot read the trust root: {exc.strerror or exc}", file=spec,
                             hint="pass production, staging, or the path of a trusted-root JSON file") from exc
    root = _parse(data, source=spec)
    return TrustRoot(f"sha256:{hashlib.sha256(data).hexdigest()}", root)


def _embedded(instance: str) -> bytes:
    try:
        from sigstore._internal.tuf import DEFAULT_TUF_URL, STAGING_TUF_URL
        from sigstore._utils import read_embedded

        return read_embedded("trusted_root.json", DEFAULT_TUF_URL if instance == "production" else STAGING_TUF_URL)
    except (ImportError, OSError) as exc:
        raise TrustRootError(f"the installed sigstore ships no {instance} trust root: {exc}",
                             hint="reinstall wasmtool's dependencies, or pass --trust-root FILE") from exc


def _parse(data: bytes, *, source: str) -> TrustedRoot:
    from sigstore.models import TrustedRoot
    from sigstore_models.trustroot import v1 as trustroot_v1  # sigstore's own model of the file

    try:
        return TrustedRoot(trustroot_v1.TrustedRoot.from_json(data))
    except Exception as exc:  # the protobuf/pydantic models raise several kinds on bad input
        raise TrustRootError(f"not a Sigstore trusted root: {exc}", file=source) from exc
