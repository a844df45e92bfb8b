"""PEP 740 attestations in ``lock`` and ``install`` (docs/attestations.md).

``lock``: for every entry of the targets being locked whose file came from an index, the
file's provenance is taken from the artefact cache (``sidecars/<sha256>.provenance``) or
fetched from the ``provenance`` URL the index page gives, verified (:mod:`wasmtool.attest.verify`)
against the file's name and SHA-256 -- the ones the cache checked when it stored the file --
and the verified publisher and predicate are written into the entry. A publisher different
from the one the existing lock records for that package is an error unless accepted. New
provenance documents are only returned (:class:`AttestOutcome`); the caller stores them
once everything succeeded, so a failed lock leaves the cache as it was.

``install``: every entry that records a verified attestation is verified again from the
cached provenance, offline, against the trust root the lock records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from wasmtool.attest.errors import (
    AttestationMissingError,
    ProvenanceChangedError,
    ProvenanceNotCachedError,
    PublisherChangedError,
    TrustRootError,
)
from wasmtool.attest.policy import PublisherPin, describe_drift
from wasmtool.attest.trust import INSTANCES, TrustRoot, load_trust_root
from wasmtool.attest.verify import Verified, verify_provenance
from wasmtool.context import Context
from wasmtool.errors import WasmtoolError
from wasmtool.lock.model import LockedPackage, MochiLock

if TYPE_CHECKING:
    from wasmtool.index.client import IndexClient

__all__ = ["AttestOptions", "AttestOutcome", "attest_lock", "report_lock", "store_provenance", "verify_locked"]

SIDECAR = "provenance"


@dataclass(frozen=True)
class AttestOptions:
    """The command line's say: ``--require-attestations``, ``--trust-root``,
    ``--refresh-trust-root``, ``--accept-publisher-change`` (repeatable)."""

    require: bool = False
    trust_root: str | None = None
    refresh_trust_root: bool = False
    accept_publisher_change: frozenset[str] = frozenset()
    timeout: float = 30.0
    retries: int = 3


@dataclass(frozen=True)
class AttestOutcome:
    """What :func:`store_provenance` keeps once the lock succeeded: ``sidecars``, the new
    provenance documents by the file's SHA-256, and ``negatives``, the lookups that found no
    attestation, by their verdict-store key (:func:`_negative_key`)."""

    lock: MochiLock
    sidecars: Mapping[str, bytes] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    negatives: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


# -- negative lookups ----------------------------------------------------------------------------
#
# A provenance document found for a file is kept by the file's SHA-256 (``sidecars/``) and
# verified again on every lock: the cryptographic check is never skipped. A lookup that found
# NO attestation is kept too (the verdict store's ``noattest`` kind), by the indexes asked, the
# file name and its SHA-256, so that a lock of files known to be unattested asks the index
# nothing. Why a negative may be cached: an index publishes a file's provenance with the file,
# and the public index only accepts attestations uploaded together with the file, which never
# changes afterwards; a negative for a hash-pinned file is then as permanent as a positive.
# Another index may still add provenance later, so a negative is used only where it cannot
# weaken a decision: under ``attestations = "warn"``, for a package without a trusted-publisher
# pin, and for an entry the existing lock does not record as attested (it then only leads to
# recording "unattested", which "warn" accepts); and it expires after NEGATIVE_TTL seconds.
# ``require`` (or a pin, or an attested entry) always asks the index.

NEGATIVE_KIND = "noattest"
#: How long a "no attestation" answer is reused (seconds).
NEGATIVE_TTL = 24 * 3600.0


def _negative_key(ctx: Context, filename: str, sha256: str) -> str:
    import json

    body = json.dumps({"indexes": list(ctx.index.all), "filename": filename, "sha256": sha256},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _known_unattested(ctx: Context, filename: str, sha256: str) -> bool:
    """A recent stored lookup of this file on these indexes found no attestation."""
    import time

    from wasmtool.cache.verdicts import read_verdict

    body = read_verdict(ctx.cache.root, NEGATIVE_KIND, _negative_key(ctx, filename, sha256))
    if body is None or body.get("filename") != filename or body.get("sha256") != sha256:
        return False
    checked = body.get("checked-at")
    return isinstance(checked, (int, float)) and 0 <= time.time() - checked < NEGATIVE_TTL


def _negative_record(ctx: Context, filename: str, sha256: str) -> tuple[str, dict[str, Any]]:
    import time

    body = {"filename": filename, "sha256": sha256, "indexes": list(ctx.index.all), "checked-at": int(time.time())}
    return _negative_key(ctx, filename, sha256), body


def _mode(ctx: Context, opts: AttestOptions) -> str:
    return "require" if opts.require else ctx.project.manifest.python.attestations


def _pins(ctx: Context) -> dict[str, PublisherPin]:
    return {d.name: d.trusted_publisher for d in ctx.project.manifest.dependencies if d.trusted_publisher}


def _attested_file(p: LockedPackage) -> tuple[str, str] | None:
    """(filename, sha256) of the index file an entry was locked from: the sdist a wheel was
    built from, else the wheel; ``None`` for files no index served (a distribution's lock)."""
    if p.origin != "index":
        return None
    if p.sdist_filename and getattr(p, "sdist_sha256", ""):
        return p.sdist_filename, p.sdist_sha256
    if p.wheel_filename and p.wheel_sha256:
        return p.wheel_filename, p.wheel_sha256
    return None


class _Roots:
    def __init__(self, opts: AttestOptions) -> None:
        self.opts = opts
        self._root: TrustRoot | None = None

    def default(self) -> TrustRoot:
        if self._root is None:
            self._root = load_trust_root(self.opts.trust_root or "production", refresh=self.opts.refresh_trust_root)
        return self._root

    def recorded(self, label: str, *, file: str, package: str) -> TrustRoot:
        """The root a lock entry names: an instance, or the ``--trust-root`` file that hashes to it."""
        if label in INSTANCES and not self.opts.trust_root:
            return load_trust_root(label)
        root = self.default()
        if root.label != label:
            raise TrustRootError(
                f"mochi.lock verified this file against the {label} trust root, this run uses {root.label}",
                file=file, package=package, hint="pass the same --trust-root as `wasmtool lock` did")
        return root


def attest_lock(ctx: Context, lock: MochiLock, existing: MochiLock | None, targets: Iterable[str],
                opts: AttestOptions, *, kept: Iterable[str] = ()) -> AttestOutcome:
    """Verify and record the attestations of ``targets``' entries (see the module doc).
    ``kept``: targets whose entries were kept from the existing lock; with ``require`` their
    entries without a verified attestation are checked too."""
    mode = _mode(ctx, opts)
    if mode == "off":
        return AttestOutcome(lock)
    wanted = set(targets) | (set(kept) if mode == "require" else set())
    pins = _pins(ctx)
    roots = _Roots(opts)
    old = {p.key: p for p in existing.packages} if existing is not None else {}
    results: dict[str, tuple[Verified | None, bytes | None, str]] = {}  # sha256 -> (verified, document, root)
    sidecars: dict[str, bytes] = {}
    negatives: dict[str, dict[str, Any]] = {}
    unattested: dict[str, list[str]] = {}
    client: IndexClient | None = None
    packages: list[LockedPackage] = []
    kept_names = set(kept) - set(targets)

    def negative_usable(p: LockedPackage, attested: tuple[str, str]) -> bool:
        """A stored "no attestation" answer may stand for asking the index (see above)."""
        before = old.get(p.key)
        return (mode == "warn" and p.name not in pins
                and not (before is not None and before.attestation_publisher)
                and _known_unattested(ctx, *attested))

    def needs_index(p: LockedPackage) -> bool:
        attested = _attested_file(p)
        if p.target not in wanted or attested is None or (p.target in kept_names and p.attestation_verified):
            return False
        return ctx.cache.read_sidecar(attested[1], SIDECAR) is None and not negative_usable(p, attested)

    # the project pages of the files whose provenance is not cached, fetched several at a time
    # (the client keeps them): the loop below then asks the index only for provenance documents
    # by file: when one entry of a file must ask the index, every entry of that file takes its answer
    asks = {f[1] for p in lock.packages if needs_index(p) and (f := _attested_file(p))}
    missing = sorted({p.name for p in lock.packages if (f := _attested_file(p)) and f[1] in asks})
    try:
        if missing:
            from concurrent.futures import ThreadPoolExecutor

            from wasmtool.index.client import IndexClient

            client = IndexClient(ctx.index, timeout=opts.timeout, retries=opts.retries)
            with ThreadPoolExecutor(max_workers=min(6, len(missing))) as pool:
                list(pool.map(client.get_project, missing))
        for p in lock.packages:
            attested = _attested_file(p)
            if p.target not in wanted or attested is None or (p.target in kept_names and p.attestation_verified):
                packages.append(p)
                continue
            filename, sha = attested
            before = old.get(p.key)
            # the root a file was verified against is kept, like its publisher (unless --trust-root);
            # loaded only when a provenance is there to verify (sigstore's import is not free)
            keep_root = (before.attestation_trust_root if before is not None and not opts.trust_root
                         and _attested_file(before) == attested else "")

            def root_for(keep: str = keep_root, filename: str = filename, name: str = p.name) -> TrustRoot:
                return roots.recorded(keep, file=filename, package=name) if keep else roots.default()

            if sha not in results:
                cached = ctx.cache.read_sidecar(sha, SIDECAR)
                data, source = cached, "the cache"
                if data is None and sha in asks:
                    if client is None:
                        from wasmtool.index.client import IndexClient

                        client = IndexClient(ctx.index, timeout=opts.timeout, retries=opts.retries)
                    data, source = _fetch(client, p.name, filename)
                    if data is None:
                        key, record = _negative_record(ctx, filename, sha)
                        negatives[key] = record
                verified, label = None, ""
                if data is not None:
                    root = root_for()
                    try:
                        verified = verify_provenance(data, filename=filename, sha256=sha, package=p.name,
                                                     pin=pins.get(p.name), trust=root, source=source)
                    except WasmtoolError:
                        ctx.cache.discard_added(sha)   # downloaded by this lock: the cache stays as it was
                        raise
                    label = root.label
                    if cached is None:
                        sidecars[sha] = data
                results[sha] = (verified, data, label)
            verified, data, root_label = results[sha]
            now = verified.publisher if verified is not None else ""
            if before is not None and before.attestation_publisher and before.attestation_publisher != now \
                    and p.name not in opts.accept_publisher_change:
                raise PublisherChangedError(
                    describe_drift(p.name, before.attestation_publisher, now or "no attestation"),
                    file=filename, package=p.name,
                    hint=f"if the new publisher is expected, run `wasmtool lock --accept-publisher-change {p.name}`")
            if verified is None or data is None:
                if mode == "require" or p.name in pins:
                    why = (f"its dependency table pins trusted-publisher {pins[p.name].label}" if p.name in pins
                           else "[python] attestations = \"require\" (or --require-attestations)")
                    raise AttestationMissingError(f"the index serves no PEP 740 attestation for it, and {why}",
                                                  file=filename, package=p.name)
                unattested.setdefault(p.target, []).append(filename)
                packages.append(replace(p, attestation_bundle="", attestation_verified=False,
                                        attestation_publisher="", attestation_predicate="",
                                        attestation_trust_root=""))
                continue
            packages.append(replace(p, attestation_bundle=hashlib.sha256(data).hexdigest(), attestation_verified=True,
                                    attestation_publisher=verified.publisher,
                                    attestation_predicate=verified.predicate,
                                    attestation_trust_root=root_label))
    finally:
        if client is not None:
            client.close()
    warnings = tuple(f"warning: {len(files)} file(s) locked for {target} have no PEP 740 attestation "
                     f"(attestations = \"warn\"): {', '.join(sorted(files))}"
                     for target, files in sorted(unattested.items()))
    return AttestOutcome(replace(lock, packages=tuple(packages)), sidecars, warnings, negatives)


def _fetch(client: IndexClient, name: str, filename: str) -> tuple[bytes | None, str]:
    from wasmtool.attest.fetch import fetch_provenance

    page = client.get_project(name)
    f = page.file(filename)
    if f is None or not f.provenance:
        return None, page.url
    return fetch_provenance(client, f, package=name), f.provenance


def store_provenance(ctx: Context, sidecars: Mapping[str, bytes],
                     negatives: Mapping[str, Mapping[str, Any]] = MappingProxyType({})) -> None:
    """Keep verified provenance documents in the artefact cache, by the file's SHA-256, and the
    lookups that found none in the verdict store (:class:`AttestOutcome`)."""
    from wasmtool.cache.verdicts import write_verdict

    for sha, data in sorted(sidecars.items()):
        ctx.cache.write_sidecar(sha, SIDECAR, data)
    for key, body in sorted(negatives.items()):
        write_verdict(ctx.cache.root, NEGATIVE_KIND, key, body)


def verify_locked(ctx: Context, lock: MochiLock, target: str, opts: AttestOptions | None = None) -> int:
    """``install``: verify again, offline from the cache, every entry of ``target`` that records a
    verified attestation; returns how many were verified."""
    opts = opts or AttestOptions()
    if _mode(ctx, opts) == "off":
        return 0
    pins = _pins(ctx)
    roots = _Roots(opts)
    done = 0
    for p in lock.for_target(target):
        attested = _attested_file(p)
        if not p.attestation_verified or attested is None:
            continue
        filename, sha = attested
        data = ctx.cache.read_sidecar(sha, SIDECAR)
        if data is None:
            raise ProvenanceNotCachedError(
                "mochi.lock records a verified attestation, but the cache holds no provenance for this file",
                file=filename, package=p.name, hint="run `wasmtool lock --upgrade` with network access")
        if hashlib.sha256(data).hexdigest() != p.attestation_bundle:
            raise ProvenanceChangedError(
                f"the cached provenance (sha256 {hashlib.sha256(data).hexdigest()}) is not the one mochi.lock "
                f"records ({p.attestation_bundle})", file=filename, package=p.name,
                hint="run `wasmtool cache clean` and `wasmtool lock --upgrade`")
        root = roots.recorded(p.attestation_trust_root or "production", file=filename, package=p.name)
        verified = verify_provenance(data, filename=filename, sha256=sha, package=p.name, pin=pins.get(p.name),
                                     trust=root, source="the cache")
        if verified.publisher != p.attestation_publisher:
            raise PublisherChangedError(describe_drift(p.name, p.attestation_publisher, verified.publisher),
                                        file=filename, package=p.name)
        done += 1
    return done


def report_lock(ctx: Context, targets: Iterable[str], opts: AttestOptions
                ) -> tuple[list[dict[str, object]], list[WasmtoolError]]:
    """``wasmtool verify``: one row per locked entry (``status``: ``verified``, ``unattested``,
    ``failed``, ``not-from-an-index``) and the errors of the failed ones, in row order. The
    provenance comes from the cache, else from the index; nothing is written."""
    from wasmtool.lock.io import read_lock

    lock = read_lock(ctx.lock_path)
    wanted = set(targets) or set(lock.targets)
    mode = _mode(ctx, opts)
    pins = _pins(ctx)
    roots = _Roots(opts)
    rows: list[dict[str, object]] = []
    errors: list[WasmtoolError] = []
    client: IndexClient | None = None
    try:
        for p in sorted(lock.packages, key=lambda p: (p.target, p.name)):
            if p.target not in wanted:
                continue
            attested = _attested_file(p)
            row: dict[str, object] = {"target": p.target, "name": p.name, "version": p.version,
                                      "filename": attested[0] if attested else p.wheel_filename,
                                      "publisher": "", "predicate": "", "recorded-publisher": p.attestation_publisher}
            rows.append(row)
            if attested is None:
                row["status"] = "not-from-an-index"
                continue
            filename, sha = attested
            try:
                data = ctx.cache.read_sidecar(sha, SIDECAR)
                source = "the cache"
                if data is None:
                    if client is None:
                        from wasmtool.index.client import IndexClient

                        client = IndexClient(ctx.index, timeout=opts.timeout, retries=opts.retries)
                    data, source = _fetch(client, p.name, filename)
                if data is None:
                    if p.attestation_publisher or mode == "require" or p.name in pins:
                        raise AttestationMissingError("the index serves no PEP 740 attestation for it",
                                                      file=filename, package=p.name)
                    row["status"] = "unattested"
                    continue
                root = (roots.recorded(p.attestation_trust_root, file=filename, package=p.name)
                        if p.attestation_trust_root else roots.default())
                verified = verify_provenance(data, filename=filename, sha256=sha, package=p.name,
                                             pin=pins.get(p.name), trust=root, source=source)
                if p.attestation_publisher and verified.publisher != p.attestation_publisher:
                    raise PublisherChangedError(describe_drift(p.name, p.attestation_publisher, verified.publisher),
                                                file=filename, package=p.name)
                row.update(status="verified", publisher=verified.publisher, predicate=verified.predicate,
                           **{"trust-root": root.label})
            except WasmtoolError as exc:
                row.update(status="failed", error=exc.message, code=exc.code)
                errors.append(exc)
    finally:
        if client is not None:
            client.close()
    return rows, errors
