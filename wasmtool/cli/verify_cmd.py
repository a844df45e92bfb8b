"""``wasmtool verify``: PEP 740 attestations of the locked files, or of one file on disk.

- ``wasmtool verify [--target T] [--json]``: for every entry of mochi.lock (per target) whose
  file came from an index: attested or not, the publisher and predicate type, and why a
  check failed. The provenance comes from the artefact cache, else from the index. Exit 1
  when a file that records an attestation no longer verifies, or, under ``require``, has none.
- ``wasmtool verify FILE --attestation A [--identity I --issuer U]``: one distribution file
  (wheel or sdist) against one attestation (``<file>.publish.attestation``) or a provenance
  object (``attestation_bundles``). Without ``--identity``, a provenance is checked against the
  publishers it names, a lone attestation against any identity (which is printed).

Both take ``--trust-root production|staging|FILE`` and ``--refresh-trust-root``.
:func:`attestation_options` adds the options ``lock`` and ``install`` share.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from wasmtool.errors import UsageError

__all__ = ["attestation_options", "verify_command"]

_TRUST_HELP = ("Sigstore trust root: production (default), staging, or a trusted-root JSON file; "
               "the roots sigstore ships are used offline.")


def provenance_timeout() -> float:
    """Seconds one provenance request may take: ``WASMTOOL_PROVENANCE_TIMEOUT``, default 30."""
    raw = os.environ.get("WASMTOOL_PROVENANCE_TIMEOUT", "").strip()
    if not raw:
        return 30.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < 3600:
        raise UsageError(f"WASMTOOL_PROVENANCE_TIMEOUT={raw!r}: expected seconds between 0 and 3600",
                         field="WASMTOOL_PROVENANCE_TIMEOUT")
    return value


def attestation_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--require-attestations``, ``--trust-root``, ``--refresh-trust-root`` and
    ``--accept-publisher-change PKG`` to a command; it receives them as ``attest``."""

    @functools.wraps(f)
    def wrapper(*args: Any, require_attestations: bool, trust_root: str | None, refresh_trust_root: bool,
                accept_publisher_change: tuple[str, ...], **kwargs: Any) -> Any:
        from packaging.utils import canonicalize_name

        from wasmtool.ops.attest import AttestOptions

        attest = AttestOptions(require=require_attestations, trust_root=trust_root,
                               refresh_trust_root=refresh_trust_root,
                               accept_publisher_change=frozenset(str(canonicalize_name(n))
                                                                 for n in accept_publisher_change),
                               timeout=provenance_timeout())
        return f(*args, attest=attest, **kwargs)

    options = [
        click.option("--require-attestations", is_flag=True,
                     help="Fail for any file without a verified PEP 740 attestation (as attestations = \"require\")."),
        click.option("--trust-root", default=None, metavar="production|staging|FILE", help=_TRUST_HELP),
        click.option("--refresh-trust-root", is_flag=True,
                     help="Fetch the instance's current trust root over the network first."),
        click.option("--accept-publisher-change", multiple=True, metavar="PKG",
                     help="Record a new verified publisher for PKG instead of failing (repeatable)."),
    ]
    out: Callable[..., Any] = wrapper
    for option in reversed(options):
        out = option(out)
    return out


@click.command("verify")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--attestation", "attestation", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With FILE: the attestation (or provenance object) to check it against.")
@click.option("--identity", default=None, help="With FILE: the signer identity required (an email, a URI).")
@click.option("--issuer", default=None, help="With FILE and --identity: the OIDC issuer URL required.")
@click.option("--target", "targets", multiple=True, help="Only these targets' entries (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--trust-root", default=None, metavar="production|staging|FILE", help=_TRUST_HELP)
@click.option("--refresh-trust-root", is_flag=True, help="Fetch the instance's current trust root first.")
@click.pass_obj
def verify_command(opts: Any, file: Path | None, attestation: Path | None, identity: str | None, issuer: str | None,
                   targets: tuple[str, ...], as_json: bool, trust_root: str | None, refresh_trust_root: bool) -> None:
    """Verify PEP 740 attestations: of the locked files, or of FILE against --attestation."""
    from wasmtool.attest.trust import load_trust_root

    if file is None:
        if attestation or identity or issuer:
            raise UsageError("--attestation, --identity and --issuer need a FILE", field="--attestation")
        _verify_lock(opts, targets, as_json, trust_root, refresh_trust_root)
        return
    if attestation is None:
        raise UsageError("verify FILE needs --attestation", field="--attestation")
    if bool(identity) != bool(issuer):
        raise UsageError("--identity and --issuer go together", field="--issuer" if identity else "--identity")
    trust = load_trust_root(trust_root or "production", refresh=refresh_trust_root)
    result = _verify_file(file, attestation, identity, issuer, trust)
    if as_json:
        click.echo(json.dumps(result, indent=1, sort_keys=True))
    else:
        click.echo(f"{file.name}: verified, publisher {result['publisher']}, predicate {result['predicate']} "
                   f"({result['trust-root']} trust root)")


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the {what}: {exc.strerror or exc}", file=str(path)) from exc


def _verify_file(file: Path, attestation: Path, identity: str | None, issuer: str | None, trust: Any
                 ) -> dict[str, Any]:
    from wasmtool.attest.policy import PublisherPin
    from wasmtool.attest.verify import parse_attestation, verify_attestation, verify_provenance

    data, doc = _read(file, "file"), _read(attestation, "attestation")
    sha = hashlib.sha256(data).hexdigest()
    pin = PublisherPin("identity", identity, issuer=issuer) if identity and issuer else None
    try:
        is_provenance = "attestation_bundles" in json.loads(doc)
    except (ValueError, TypeError):
        is_provenance = False
    if is_provenance:
        verified = verify_provenance(doc, filename=file.name, sha256=sha, package=None, pin=pin, trust=trust,
                                     source=str(attestation))
    else:
        att = parse_attestation(doc, filename=file.name, source=str(attestation))
        verified = verify_attestation(att, filename=file.name, sha256=sha, pin=pin, trust=trust)
    return {"file": file.name, "sha256": sha, "verified": True, "publisher": verified.publisher,
            "predicate": verified.predicate, "attestations": verified.attestations, "trust-root": trust.label}


def _verify_lock(opts: Any, targets: tuple[str, ...], as_json: bool, trust_root: str | None,
                 refresh: bool) -> None:
    from wasmtool.ops.attest import AttestOptions, report_lock

    attest = AttestOptions(trust_root=trust_root, refresh_trust_root=refresh, timeout=provenance_timeout())
    with opts.context() as ctx:
        rows, errors = report_lock(ctx, targets, attest)
    failed = [r for r in rows if r["status"] == "failed"]
    if as_json:
        click.echo(json.dumps({"files": rows, "ok": not failed}, indent=1, sort_keys=True))
    else:
        for r in rows:
            what = (f"attested by {r['publisher']} ({r['predicate']})" if r["status"] == "verified"
                    else str(r["status"]) + (f": {r['error']}" if r.get("error") else ""))
            click.echo(f"[{r['target']}] {r['name']} {r['version']} {r['filename']}: {what}")
    if errors:
        raise errors[0]  # the first failure, with its own code (every one is listed above)
