"""``wasmtool lock`` and ``wasmtool lock --check``.

Everything is computed in memory first (resolution by each target's backend, downloads into
the verified cache, entries); then versions are joined across targets (:func:`join_versions`:
one version of a package on every target where the targets allow it, the reason where they
do not); only then are mochi.lock and the pylock files rendered and
written, each atomically. A failure at any step leaves both files exactly as they were. What
is kept, what changed and which bindings belong to a lock are the pure rules of
:mod:`wasmtool.lock.rules`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from wasmtool.context import Context
from wasmtool.errors import ResolveError, UsageError, WasmtoolError
from wasmtool.lock.check import diff_locks
from wasmtool.lock.errors import LockDriftError, LockMissingError
from wasmtool.lock.io import read_lock, render_pylock_for, write_text_files
from wasmtool.lock.model import LockedPackage, MochiLock, TargetInputs
from wasmtool.lock.rules import BINDING_FIELDS as BINDING_FIELDS  # re-exported: defined here before
from wasmtool.lock.rules import binding_drift, bound_entries, capability_drift, lock_files, pylock_drift
from wasmtool.lock.rules import carry_bindings as carry_bindings  # re-exported: defined here before
from wasmtool.lock.rules import up_to_date as up_to_date  # re-exported: defined here before
from wasmtool.lock.rules import with_bindings as with_bindings  # re-exported: defined here before
from wasmtool.lock.summary import VersionDifference, joint_version, summary_lines, version_differences
from wasmtool.ops.attest import AttestOptions, attest_lock, store_provenance
from wasmtool.ops.audit import freethread_entries, lock_time_audit
from wasmtool.project.capabilities import capability_growth
from wasmtool.targets.backend import TargetBackend, backend_for
from wasmtool.targets.errors import TargetNotLockableError as TargetNotLockableError  # re-exported: defined here before
from wasmtool.targets.profile import TargetProfile, load_profile


@dataclass(frozen=True)
class LockOutcome:
    lock: MochiLock
    written: tuple[Path, ...]
    changed: bool
    targets: tuple[str, ...] = ()
    differences: tuple[VersionDifference, ...] = ()
    warnings: tuple[str, ...] = ()   # files without a PEP 740 attestation (policy "warn")

    def summary_lines(self) -> list[str]:
        """What ``wasmtool lock`` prints: packages per target, versions that differ and why."""
        lines = list(self.warnings) + summary_lines(self.lock, self.targets or self.lock.targets,
                                                    changed=self.changed, differences=self.differences)
        # recorded for every target; only a WASI component is held to them (docs/configuration.md)
        return lines + [f"capabilities of {name}: {', '.join(g.describe())} (enforced under wasmtime; "
                        "recorded, not enforced, on native and Pyodide)" for name, g in self.lock.capabilities]


@dataclass(frozen=True)
class ComputedLock:
    lock: MochiLock
    existing: MochiLock | None
    profiles: list[TargetProfile]
    differences: tuple[VersionDifference, ...] = ()
    sidecars: Mapping[str, bytes] = field(default_factory=dict)   # new provenance documents, by sha256
    warnings: tuple[str, ...] = ()
    unattested: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # lookups that found none


def requested_targets(ctx: Context, targets: Sequence[str]) -> list[TargetProfile]:
    names = list(targets) or list(ctx.project.manifest.python.targets) or [ctx.project.manifest.python.target]
    seen: dict[str, TargetProfile] = {}
    for n in names:
        prof = load_profile(n)
        seen[prof.name] = prof
    return [seen[k] for k in sorted(seen)]


def lock_target(
    ctx: Context, profile: TargetProfile, existing: MochiLock | None, *, pins: Mapping[str, str] | None = None
) -> tuple[TargetInputs, list[LockedPackage]]:
    """Resolve and pin one target with its backend, preferring the pins ``existing`` holds.
    ``pins`` (name -> version) are required on top of the project's requirements; the entries
    and inputs returned are still those of the project (a pin is how a version is tried, not
    a requirement the user wrote)."""
    prefs = None
    if existing is not None and existing.for_target(profile.name):
        prefs = render_pylock_for(existing, profile.name)
    if not pins:
        return backend_for(profile).lock(ctx, preferences=prefs)
    # the same indexes (resolved once: with none configured that reads pip's configuration)
    tried = replace(ctx, project=ctx.project.with_pins(pins), index_urls=ctx.index)
    inputs, packages = backend_for(profile).lock(tried, preferences=prefs)
    direct = {str(canonicalize_name(r.name)): r for r in ctx.project.requirements()}
    fixed = [replace(p, specifier=direct[p.name].specifier if p.name in direct else "")
             if p.name in pins else p for p in packages]
    return replace(inputs, requirements=tuple(ctx.project.to_pep508())), fixed


def current_inputs(ctx: Context, profile: TargetProfile) -> TargetInputs:
    """What a target would be locked from now (requirements, interpreter, index)."""
    return backend_for(profile).current_inputs(ctx)


def compute_lock(ctx: Context, targets: Sequence[str], *, reuse: bool = False,
                 attest: AttestOptions | None = None) -> ComputedLock:
    try:
        existing: MochiLock | None = read_lock(ctx.lock_path)
    except LockMissingError:
        existing = None
    profiles = requested_targets(ctx, targets)
    new = existing or MochiLock()
    new = MochiLock(packages=new.packages, inputs=new.inputs,
                    requires_python=ctx.project.manifest.python.requires_python,
                    budget=new.budget)  # the last cold-start measurements stay until measured again
    fresh: list[TargetProfile] = []
    for profile in profiles:
        backend = backend_for(profile)
        if reuse and up_to_date(existing, backend.current_inputs(ctx)):
            continue  # the target's entries are kept as they are
        inputs, packages = lock_target(ctx, profile, existing)
        new = new.replace_target(profile.name, inputs, carry_bindings(existing, packages))
        fresh.append(profile)
    new, differences = join_versions(ctx, new, existing, fresh)
    new, ft_warnings = freethread_entries(ctx, new, [p.name for p in fresh])   # docs/audit.md
    attested = attest_lock(ctx, new, existing, [p.name for p in fresh], attest or AttestOptions(),
                           kept=[p.name for p in profiles if p not in fresh])
    audited, _report, audit_warnings = lock_time_audit(ctx, attested.lock, existing, [p.name for p in fresh],
                                                       kept=[p.name for p in profiles if p not in fresh])
    return ComputedLock(audited, existing, profiles, differences, attested.sidecars,
                        attested.warnings + ft_warnings + audit_warnings, attested.negatives)


def join_versions(ctx: Context, lock: MochiLock, existing: MochiLock | None, fresh: Sequence[TargetProfile]
                  ) -> tuple[MochiLock, tuple[VersionDifference, ...]]:
    """One version per package across the lock's targets where possible, the way a universal
    lock prefers one version across markers.

    Each target resolves on its own first (each takes the newest versions it can). For a
    package locked at different versions, every target resolved in this run that did not
    choose :func:`~wasmtool.lock.summary.joint_version` (the oldest choice, the one the most
    constrained target could have) is resolved again with that version required. Where that
    fails, the pins that work are kept and the others are reported with the resolver's reason.
    Targets kept from the existing lock are not resolved again (``lock --upgrade`` does)."""
    diffs = version_differences(lock, lock.targets)
    why: dict[str, str] = {}
    for profile in fresh:
        t = profile.name
        wanted = {n: joint_version(vs) for n, vs in diffs.items() if t in vs and vs[t] != joint_version(vs)}
        if not wanted:
            continue
        together = _lock_with_pins(ctx, profile, existing, wanted)
        best = together if not isinstance(together, WasmtoolError) else None
        if best is None:  # some pin does not fit: keep those that do, one at a time
            kept: dict[str, str] = {}
            for name, version in sorted(wanted.items()):
                one = _lock_with_pins(ctx, profile, existing, {**kept, name: version})
                if isinstance(one, WasmtoolError):
                    why[name] = f"{name} {version} does not lock for {t}: {_first_line(one)}"
                else:
                    kept[name], best = version, one
        if best is not None:
            inputs, packages = best
            lock = lock.replace_target(t, inputs, carry_bindings(existing, packages))
    fresh_names = {p.name for p in fresh}
    remaining = version_differences(lock, lock.targets)
    out: list[VersionDifference] = []
    for name, versions in remaining.items():
        reason = why.get(name, "")
        if not reason:
            kept_targets = sorted(t for t in versions if t not in fresh_names)
            if kept_targets:
                reason = (f"{', '.join(kept_targets)} kept as locked; `wasmtool lock --upgrade` resolves "
                          "every target again")
        out.append(VersionDifference(name, versions, reason))
    return lock, tuple(out)


def _lock_with_pins(ctx: Context, profile: TargetProfile, existing: MochiLock | None, pins: Mapping[str, str]
                    ) -> tuple[TargetInputs, list[LockedPackage]] | WasmtoolError:
    try:
        return lock_target(ctx, profile, existing, pins=pins)
    except ResolveError as exc:
        return exc


def _first_line(exc: WasmtoolError) -> str:
    """The resolver's reason in one line: uv's ``cause:`` line when it gave one, else the
    message's first line."""
    lines = [ln.strip() for ln in exc.message.splitlines() if ln.strip()]
    cause = next((ln.removeprefix("cause:").strip() for ln in lines if ln.startswith("cause:")), None)
    line = cause or (lines[0] if lines else exc.code)
    return line if len(line) <= 240 else line[:239] + "\u2026"


def output_files(ctx: Context, lock: MochiLock) -> dict[Path, str]:
    """The files ``lock`` is written as (:func:`wasmtool.lock.rules.lock_files`)."""
    return lock_files(lock, lock_path=ctx.lock_path, configured_target=ctx.project.manifest.python.target)


def record_capabilities(ctx: Context, lock: MochiLock, existing: MochiLock | None, *, accept: bool = False
                        ) -> MochiLock:
    """``lock`` recording the manifest's ``[python.capabilities]``. Each package named must be
    locked on some target (:class:`CapabilityPackageError`); a grant beyond what ``existing``
    records is a capability growth (:class:`CapabilityGrowthError`) unless ``accept``. A first
    lock (no ``existing``) records the manifest's grants as they are."""
    # imported here: the error module pulls in the call runtime's, which a lock rarely needs
    from wasmtool.wit.errors import CapabilityGrowthError, CapabilityPackageError

    wanted = ctx.project.manifest.capabilities
    locked = {str(canonicalize_name(p.name)) for p in lock.packages}
    unknown = sorted(name for name, _ in wanted if name not in locked)
    if unknown:
        raise CapabilityPackageError(
            f"[python.capabilities] names {', '.join(unknown)}, which no locked target holds",
            file=ctx.project.manifest.file, field=f"python.capabilities.{unknown[0]}",
            hint="name a package the project depends on (directly or through another package)")
    if existing is not None and not accept:
        lines = capability_growth(existing.capabilities, wanted)
        if lines:
            raise CapabilityGrowthError(lines, file=str(ctx.lock_path))
    return replace(lock, capabilities=tuple((n, g) for n, g in wanted if not g.is_empty()))


def run_lock(ctx: Context, targets: Sequence[str] = (), *, upgrade: bool = False, smoke: bool = False,
             accept_capabilities: bool = False, attest: AttestOptions | None = None) -> LockOutcome:
    """Lock the targets. An existing lock whose inputs still match is kept (no resolution);
    ``upgrade`` re-resolves anyway (pins that still fit are preferred unless they are stale).
    ``smoke``: each target's backend proves its packages installable (Pyodide: loaded and
    imported in Pyodide under Node) BEFORE anything is written (a failure leaves the files as
    they were). The manifest's capabilities are recorded (:func:`record_capabilities`; a
    growth fails before anything is written unless ``accept_capabilities``)."""
    computed = compute_lock(ctx, targets, reuse=not upgrade, attest=attest)
    new = record_capabilities(ctx, computed.lock, computed.existing, accept=accept_capabilities)
    profiles = computed.profiles
    if smoke:
        for profile in profiles:
            backend: TargetBackend = backend_for(profile)
            backend.smoke(ctx, list(new.for_target(profile.name)))
    files = output_files(ctx, new)
    changed = any(not p.exists() or p.read_text(encoding="utf-8") != text for p, text in files.items())
    store_provenance(ctx, computed.sidecars, computed.unattested)
    if changed:
        write_text_files(files)
    return LockOutcome(new, tuple(sorted(files)), changed, tuple(p.name for p in profiles), computed.differences,
                       computed.warnings)


def check_bindings(ctx: Context, lock: MochiLock, targets: Sequence[str]) -> list[str]:
    """Recompute stub provenance and hashes, wrapper and shim hashes of bound entries."""
    from wasmtool.ops.bind import binding_fields, bound_for_check

    lines: list[str] = []
    for target in targets:
        recorded = bound_entries(lock, target)
        if not recorded:
            continue
        fresh = binding_fields(*bound_for_check(ctx, lock, target, sorted(recorded)))
        lines += binding_drift(target, recorded, fresh)
    return lines


def _pylock_lines(ctx: Context, lock: MochiLock) -> list[str]:
    """The pylock files ``lock`` implies, compared with the ones on disk (a line per file
    that differs or is missing)."""
    expected = {p: t for p, t in output_files(ctx, lock).items() if p != ctx.lock_path}
    on_disk: dict[Path, bytes | None] = {}
    for path in expected:
        try:
            on_disk[path] = path.read_bytes()
        except FileNotFoundError:
            on_disk[path] = None
    return pylock_drift(expected, on_disk)


def run_check(ctx: Context, targets: Sequence[str] = (), *, attest: AttestOptions | None = None) -> MochiLock:
    """``lock --check``: the lock against a fresh resolution, the pylock files against the
    lock, then the recorded bindings against recomputed ones."""
    existing = read_lock(ctx.lock_path)
    if not targets and not existing.targets:
        raise UsageError("the lock holds no target", file=str(ctx.lock_path))
    computed = compute_lock(ctx, list(targets) or [t for t in existing.targets], attest=attest)
    new, profiles = computed.lock, computed.profiles
    lines = diff_locks(existing, new, [p.name for p in profiles])
    lines += capability_drift(existing, ctx.project.manifest.capabilities)
    lines += _pylock_lines(ctx, existing)
    if lines:
        raise LockDriftError(lines, file=str(ctx.lock_path))
    lines = check_bindings(ctx, existing, [p.name for p in profiles])
    if lines:  # the pins agree; only the bindings moved
        raise LockDriftError(lines, file=str(ctx.lock_path),
                             hint="run `wasmtool bind` (or `wasmtool install`) to update the bindings and the lock")
    return existing
