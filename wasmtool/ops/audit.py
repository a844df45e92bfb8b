"""``wasmtool audit`` over a lock, and the audit ``lock`` runs (docs/audit.md).

Every locked wheel with compiled code (a platform tag other than ``any``) is audited for its
target with :func:`wasmtool.audit.service.audit_wheel`. The verdict is recorded on the entry
(``audit-verdict``, ``audit-findings``) with the hash of everything the audit read
(``audit-inputs-sha256``: the wheel's SHA-256, the rule-set version, the pinned runtime of a
wasm target and the other wheels it may take symbols from). While that hash matches, the
recorded verdict is the answer: a second ``wasmtool audit`` or ``lock`` opens no wheel
(:attr:`AuditReport.audited` counts the wheels actually opened).

``lock`` also keeps each verdict it computes in the artefact cache's verdict store
(:mod:`wasmtool.cache.verdicts`, kind ``audit``), by a key made of the inputs hash, the wheel's
file name and the audit's own code: a later lock of the same wheel with the same inputs (another
project, or the same one locked afresh) reads the verdict, whole with its findings' details, and
opens no wheel (:attr:`AuditReport.cached`). An entry that fails its checks is ignored and the
wheel audited again. What ``lock`` records is the same either way. ``wasmtool audit`` neither
reads nor writes the store: it audits every wheel whose recorded hash does not match.

``[python] audit`` decides what ``lock`` does with findings: ``off`` (no audit), ``warn`` (the
default: printed and recorded) or ``require`` (the first finding fails the lock with its own
code; nothing is written and the files this lock downloaded leave the cache again).

The free-threaded pass (``[python] free-threaded = true``) records ``freethread-status`` on
every entry of a free-threaded target and applies ``freethread-deny-list``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from wasmtool.context import Context, verified_artefact
from wasmtool.lock.model import LockedPackage, MochiLock
from wasmtool.targets.abi_policy import TagPolicy, freethread_status

if TYPE_CHECKING:
    from wasmtool.audit.model import WheelAudit
    from wasmtool.audit.service import RuntimeFacts

__all__ = ["AuditReport", "audit_entries", "audit_lock", "audit_report", "compiled", "freethread_entries",
           "lock_time_audit", "store_key", "store_verdicts"]

MODES = ("off", "warn", "require")


@dataclass(frozen=True)
class AuditReport:
    """The audits of one run: ``audited`` wheels were opened and checked, ``reused`` verdicts
    came from mochi.lock (their inputs hash matched), ``cached`` ones from the cache's verdict
    store; pure wheels are not counted. ``fresh``: the verdicts computed in this run, by store
    key (what :func:`store_verdicts` keeps once the lock succeeded)."""

    audits: tuple[WheelAudit, ...]
    audited: int = 0
    reused: int = 0
    cached: int = 0
    fresh: tuple[tuple[str, WheelAudit], ...] = ()

    def lines(self) -> list[str]:
        return [f"{self.audited} wheel(s) audited, {self.reused} verdict(s) reused from mochi.lock"
                + (f", {self.cached} from the cache" if self.cached else "")]


def compiled(filename: str) -> bool:
    """Whether a wheel's tags say it carries compiled code (a platform other than ``any``).
    A wheel tagged ``any`` that ships a binary anyway is not seen (docs/audit.md)."""
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return False
    return any(t.platform != "any" for t in tags)


def _recorded(p: LockedPackage) -> WheelAudit:
    """The verdict an entry records, as a :class:`WheelAudit` (findings from their summaries)."""
    from wasmtool.audit.model import Finding, ModuleAudit, WheelAudit

    by_member: dict[str, list[Finding]] = {}
    for line in p.audit_findings:
        rule, _, rest = line.partition(" ")
        member, _, subject = rest.partition(" ")
        by_member.setdefault(member, []).append(Finding(member=member, rule=rule, subject=subject,
                                                        detail="recorded in mochi.lock"))
    modules = [ModuleAudit(member=m, format="recorded", findings=tuple(sorted(fs))) for m, fs in by_member.items()]
    return WheelAudit.build(p.wheel_filename, p.target, modules, reason="recorded in mochi.lock",
                            skipped=p.audit_verdict == "skipped")


#: The verdict store's kind (wasmtool.cache.verdicts) and the shape of its entries.
STORE_KIND = "audit"
_STORE_FORMAT = 1


@cache
def _audit_code() -> str:
    """SHA-256 of the audit's own code (every module of :mod:`wasmtool.audit`), so that a
    changed check never reuses a stored verdict, even without a new ``AUDIT_VERSION``."""
    import hashlib

    import wasmtool.audit

    h = hashlib.sha256()
    for path in sorted(Path(wasmtool.audit.__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def store_key(fingerprint: str, filename: str) -> str:
    """The verdict store key of one audit: its inputs hash (the wheel's SHA-256, the rule-set
    and data versions, the target's audit inputs: :func:`~wasmtool.audit.service.inputs_fingerprint`),
    the wheel's file name (its tags choose the checks) and the audit's code."""
    import hashlib
    import json

    from wasmtool import __version__

    body = json.dumps({"format": _STORE_FORMAT, "inputs": fingerprint, "filename": filename,
                       "code": _audit_code(), "wasmtool": __version__}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _stored(ctx: Context, key: str, p: LockedPackage) -> WheelAudit | None:
    """The stored verdict for ``key``, when there is one that is about this entry's wheel and
    target and reads back whole; else ``None`` (the wheel is audited again)."""
    from wasmtool.audit.model import WheelAudit
    from wasmtool.cache.verdicts import read_verdict

    body = read_verdict(ctx.cache.root, STORE_KIND, key)
    if body is None:
        return None
    try:
        audit = WheelAudit.from_dict(body)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if audit.filename != p.wheel_filename or audit.target != p.target or audit.to_dict() != body:
        return None
    return audit


def store_verdicts(ctx: Context, report: AuditReport) -> None:
    """Keep the verdicts ``report`` computed in the verdict store (atomic; a store that cannot
    be written only costs the next lock the audit again)."""
    from wasmtool.cache.verdicts import write_verdict

    for key, audit in report.fresh:
        body: dict[str, Any] = audit.to_dict()
        write_verdict(ctx.cache.root, STORE_KIND, key, body)


class _Runtimes:
    """Each target's runtime facts (what a wasm runtime gives side modules), read once."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._facts: dict[str, RuntimeFacts | None] = {}

    def facts(self, target: str) -> RuntimeFacts | None:
        if target not in self._facts:
            from wasmtool.ops.audit_runtime import runtime_facts
            from wasmtool.targets.profile import load_profile

            self._facts[target] = runtime_facts(self.ctx.project.root, load_profile(target))
        return self._facts[target]


def audit_entries(ctx: Context, lock: MochiLock, targets: Iterable[str], *, reuse: bool = True,
                  distribution: bool = True, stored: bool = False) -> tuple[MochiLock, AuditReport]:
    """Audit the compiled wheels of ``targets``' entries and record the verdicts on them; an
    entry whose recorded ``audit-inputs-sha256`` still matches keeps its verdict (``reuse``).
    ``stored``: a verdict the cache's verdict store holds for the same inputs is read instead of
    auditing (with ``reuse``), and the verdicts computed are returned in ``AuditReport.fresh``.

    Entries pinned from a runtime's own distribution (Pyodide's lock: built with that runtime)
    are audited only with ``distribution`` and only when their wheel is already in the cache
    (``wasmtool audit`` downloads nothing from the distribution's CDN); ``lock`` leaves them out,
    so that what it records never depends on what the cache holds."""
    from wasmtool.audit.model import WheelAudit
    from wasmtool.audit.service import audit_wheel, inputs_fingerprint

    wanted = set(targets)
    runtimes = _Runtimes(ctx)
    audits: list[WheelAudit] = []
    audited = reused = from_store = 0
    fresh: list[tuple[str, WheelAudit]] = []
    packages: list[LockedPackage] = []
    for p in sorted(lock.packages, key=lambda e: (e.target, e.name)):
        if p.target not in wanted or not p.wheel_filename or not p.wheel_sha256 or not compiled(p.wheel_filename):
            packages.append(p)
            continue
        if p.origin == "pyodide-lock" and (not distribution or ctx.cache.lookup(p.wheel_sha256) is None):
            packages.append(p)
            if distribution:
                audits.append(WheelAudit.build(p.wheel_filename, p.target, (), skipped=True,
                                               reason="a package of the runtime's distribution, not in the cache"))
            continue
        runtime = runtimes.facts(p.target)
        # a wasm module may take symbols from the other wheels of its lock; a native one does not
        # (the files of the runtime's distribution are not read: see above)
        others = ([e for e in lock.for_target(p.target) if e.name != p.name and e.wheel_sha256 and e.wheel_filename
                   and e.origin != "pyodide-lock" and compiled(e.wheel_filename)] if runtime is not None else [])
        fingerprint = inputs_fingerprint(p.wheel_sha256, p.target, runtime, sorted(e.wheel_sha256 for e in others))
        if reuse and p.audit_verdict and p.audit_inputs_sha256 == fingerprint:
            audits.append(_recorded(p))
            reused += 1
            packages.append(p)
            continue
        key = store_key(fingerprint, p.wheel_filename) if stored else ""
        result = _stored(ctx, key, p) if stored and reuse else None
        if result is not None:
            from_store += 1
        else:
            path = verified_artefact(ctx, p).path
            lock_wheels: Sequence[Path] = [verified_artefact(ctx, e).path for e in others]
            result = audit_wheel(path, target=p.target, runtime=runtime, lock_wheels=lock_wheels)
            audited += 1
            if stored:
                fresh.append((key, result))
        audits.append(result)
        packages.append(replace(p, audit_verdict=result.verdict, audit_inputs_sha256=fingerprint,
                                audit_findings=tuple(sorted(f.summary() for f in result.findings))))
    return replace(lock, packages=tuple(packages)), AuditReport(tuple(audits), audited, reused, from_store,
                                                                tuple(fresh))


def audit_report(ctx: Context, targets: Sequence[str] = ()) -> AuditReport:
    """``wasmtool audit``: every compiled wheel of mochi.lock (of ``targets``, else of every
    locked target). Reads the lock; writes nothing (``lock`` records verdicts)."""
    from wasmtool.lock.io import read_lock

    lock = read_lock(ctx.lock_path)
    _, report = audit_entries(ctx, lock, targets or lock.targets)
    return report


def audit_lock(ctx: Context, targets: Sequence[str] = (), *, as_json: bool = False) -> list[WheelAudit]:
    """The audits of :func:`audit_report` (the CLI renders them; ``as_json`` is its business)."""
    del as_json
    return list(audit_report(ctx, targets).audits)


def _carry(existing: MochiLock | None, lock: MochiLock, targets: set[str]) -> MochiLock:
    """Entries locked again to the same file keep the verdict the existing lock recorded (its
    inputs hash still decides whether it is reused)."""
    if existing is None:
        return lock
    old = {p.key: p for p in existing.packages}
    out: list[LockedPackage] = []
    for p in lock.packages:
        before = old.get(p.key)
        if p.target in targets and not p.audit_verdict and before is not None \
                and before.wheel_sha256 == p.wheel_sha256 and before.audit_verdict:
            p = replace(p, audit_verdict=before.audit_verdict, audit_inputs_sha256=before.audit_inputs_sha256,
                        audit_findings=before.audit_findings)
        out.append(p)
    return replace(lock, packages=tuple(out))


def lock_time_audit(ctx: Context, lock: MochiLock, existing: MochiLock | None, targets: Iterable[str], *,
                    kept: Iterable[str] = ()) -> tuple[MochiLock, AuditReport, tuple[str, ...]]:
    """The audit ``lock`` runs on the entries of the targets it resolved (``[python] audit``);
    with ``require`` also on those of ``kept`` (targets kept as locked: their recorded verdicts
    are reused, so a lock made under ``warn`` with findings fails under ``require``).
    Returns the lock with verdicts recorded, the report and the warning lines (``warn``);
    ``require``: the first finding raises its error (:func:`wasmtool.audit.errors.first_error`)
    after the files this lock downloaded are taken back out of the cache."""
    mode = ctx.project.manifest.python.audit
    wanted = set(targets) | (set(kept) if mode == "require" else set())
    if mode == "off" or not wanted:
        return lock, AuditReport(()), ()
    lock = _carry(existing, lock, wanted)
    new, report = audit_entries(ctx, lock, wanted, distribution=False, stored=True)
    failed = [a for a in report.audits if a.verdict == "findings"]
    if failed and mode == "require":
        from wasmtool.audit.errors import first_error

        error = first_error(failed[0])
        if error is not None:
            _take_back(ctx, new, wanted)
            raise error
    store_verdicts(ctx, report)   # only now: a failed lock leaves the cache as it was
    warnings = tuple(f"warning: audit of {a.filename} for {a.target}: {f.summary()}"
                     + (f" ({f.detail})" if f.detail else "")
                     for a in failed for f in a.findings)
    return new, report, warnings


def _take_back(ctx: Context, lock: MochiLock, targets: set[str]) -> None:
    """A failed lock leaves the cache as it was: the files it added go again."""
    for p in lock.packages:
        if p.target in targets and p.wheel_sha256 and ctx.cache.discard_added(p.wheel_sha256):
            # the wheel's summary (import names, metadata) was made for it by this lock too
            (ctx.cache.root / "summaries" / f"{p.wheel_sha256}.json").unlink(missing_ok=True)


# -- free-threaded -------------------------------------------------------------------------------


def _abis(filename: str) -> list[str]:
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return []
    return sorted({t.abi for t in tags})


def denied_by(deny_list: Sequence[str], name: str, version: str) -> str | None:
    """The first deny-list requirement naming this package at this version (pure)."""
    for text in deny_list:
        req = Requirement(text)
        if canonicalize_name(req.name) != canonicalize_name(name):
            continue
        try:
            if not req.specifier or req.specifier.contains(Version(version), prereleases=True):
                return text
        except InvalidVersion:
            return text
    return None


def freethread_entries(ctx: Context, lock: MochiLock, targets: Iterable[str]) -> tuple[MochiLock, tuple[str, ...]]:
    """Record ``freethread-status`` on every entry of each free-threaded target among
    ``targets``; a deny-listed package fails (the deny list wins over every wheel), so does a
    GIL-only extension unless ``allow-untested-freethread`` (then a warning)."""
    from wasmtool.audit.errors import FreeThreadDeniedError, FreeThreadIncompatibleError

    py = ctx.project.manifest.python
    policy = TagPolicy(py.abi_tag_policy, py.free_threaded, py.allow_untested_freethread)
    free = {i.target for i in lock.inputs if i.freethread_status == "free-threaded"} & set(targets)
    if not free:
        return lock, ()
    out: list[LockedPackage] = []
    warnings: list[str] = []
    for p in lock.packages:
        if p.target not in free:
            out.append(p)
            continue
        rule = denied_by(py.freethread_deny_list, p.name, p.version)
        if rule is not None:
            raise FreeThreadDeniedError(
                f"{p.name} {p.version} is refused on free-threaded target {p.target} by freethread-deny-list "
                f"entry {rule!r}", file=ctx.project.manifest.file, package=p.name,
                field="python.freethread-deny-list",
                hint="drop the dependency, pin a version the entry does not name, or set free-threaded = false")
        status = freethread_status(_abis(p.wheel_filename), policy) if p.wheel_filename else "untested"
        if status == "incompatible":
            raise FreeThreadIncompatibleError(
                f"{p.wheel_filename} is built for the GIL ABI ({', '.join(_abis(p.wheel_filename))}); a "
                f"free-threaded CPython cannot load it (target {p.target})", file=p.wheel_filename, package=p.name,
                hint="use a version with a cp3XYt wheel, or set allow-untested-freethread = true")
        if status == "untested":
            warnings.append(f"warning: {p.wheel_filename or p.name} on free-threaded target {p.target}: "
                            "not built for the free-threaded ABI (allow-untested-freethread = true)")
        out.append(replace(p, freethread_status=status))
    return replace(lock, packages=tuple(out)), tuple(warnings)


def recorded_counts(lock: MochiLock) -> Mapping[str, int]:
    """How many entries record each audit verdict (for summaries)."""
    counts: dict[str, int] = {}
    for p in lock.packages:
        if p.audit_verdict:
            counts[p.audit_verdict] = counts.get(p.audit_verdict, 0) + 1
    return counts


#: Run by the free-threaded interpreter: import each module, then ask whether the GIL came back
#: (an extension that does not declare free-threading support re-enables it at import).
_GIL_PROBE = r"""
import importlib, json, sys
out = {}
for name in sys.argv[1:]:
    importlib.import_module(name)
    out[name] = bool(sys._is_gil_enabled())
print(json.dumps(out))
"""


def gil_after_import(python: str, site: Path, modules: Sequence[str], *, timeout: float = 120.0) -> dict[str, bool]:
    """Import ``modules`` (from the unpacked wheels in ``site``) one after the other under the
    free-threaded CPython ``python``; for each, whether the GIL was enabled after its import
    (``False``: the extension keeps the interpreter free-threaded)."""
    import json
    import os

    from wasmtool.tools import run_tool

    env = {**os.environ, "PYTHONPATH": str(site), "PYTHON_GIL": ""}
    env.pop("PYTHON_GIL")   # the interpreter decides, not an override left in the environment
    proc = run_tool("python (free-threaded)", [python, "-c", _GIL_PROBE, *modules], env=env, timeout=timeout)
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return {str(k): bool(v) for k, v in data.items()}
