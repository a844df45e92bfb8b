"""``wasmtool lock`` and ``wasmtool lock --check``.

Everything is computed in memory first (resolution by each target's backend, downloads into
the verified cache, entries); only then are mochi.lock and the pylock files rendered and
written, each atomically. A failure at any step leaves both files exactly as they were. What
is kept, what changed and which bindings belong to a lock are the pure rules of
:mod:`wasmtool.lock.rules`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wasmtool.context import Context
from wasmtool.errors import UsageError
from wasmtool.lock.check import diff_locks
from wasmtool.lock.errors import LockDriftError, LockMissingError
from wasmtool.lock.io import read_lock, render_pylock_for, write_text_files
from wasmtool.lock.model import LockedPackage, MochiLock, TargetInputs
from wasmtool.lock.rules import BINDING_FIELDS as BINDING_FIELDS  # re-exported: defined here before
from wasmtool.lock.rules import binding_drift, bound_entries, lock_files
from wasmtool.lock.rules import carry_bindings as carry_bindings  # re-exported: defined here before
from wasmtool.lock.rules import up_to_date as up_to_date  # re-exported: defined here before
from wasmtool.lock.rules import with_bindings as with_bindings  # re-exported: defined here before
from wasmtool.targets.backend import TargetBackend, backend_for
from wasmtool.targets.errors import TargetNotLockableError as TargetNotLockableError  # re-exported: defined here before
from wasmtool.targets.profile import TargetProfile, load_profile


@dataclass(frozen=True)
class LockOutcome:
    lock: MochiLock
    written: tuple[Path, ...]
    changed: bool


def requested_targets(ctx: Context, targets: Sequence[str]) -> list[TargetProfile]:
    names = list(targets) or list(ctx.project.manifest.python.targets) or [ctx.project.manifest.python.target]
    seen: dict[str, TargetProfile] = {}
    for n in names:
        prof = load_profile(n)
        seen[prof.name] = prof
    return [seen[k] for k in sorted(seen)]


def lock_target(
    ctx: Context, profile: TargetProfile, existing: MochiLock | None
) -> tuple[TargetInputs, list[LockedPackage]]:
    """Resolve and pin one target with its backend, preferring the pins ``existing`` holds."""
    prefs = None
    if existing is not None and existing.for_target(profile.name):
        prefs = render_pylock_for(existing, profile.name)
    return backend_for(profile).lock(ctx, preferences=prefs)


def current_inputs(ctx: Context, profile: TargetProfile) -> TargetInputs:
    """What a target would be locked from now (requirements, interpreter, index)."""
    return backend_for(profile).current_inputs(ctx)


def compute_lock(ctx: Context, targets: Sequence[str], *, reuse: bool = False
                 ) -> tuple[MochiLock, MochiLock | None, list[TargetProfile]]:
    try:
        existing: MochiLock | None = read_lock(ctx.lock_path)
    except LockMissingError:
        existing = None
    profiles = requested_targets(ctx, targets)
    new = existing or MochiLock()
    new = MochiLock(packages=new.packages, inputs=new.inputs,
                    requires_python=ctx.project.manifest.python.requires_python)
    for profile in profiles:
        backend = backend_for(profile)
        if reuse and up_to_date(existing, backend.current_inputs(ctx)):
            continue  # the target's entries are kept as they are
        inputs, packages = lock_target(ctx, profile, existing)
        new = new.replace_target(profile.name, inputs, carry_bindings(existing, packages))
    return new, existing, profiles


def output_files(ctx: Context, lock: MochiLock) -> dict[Path, str]:
    """The files ``lock`` is written as (:func:`wasmtool.lock.rules.lock_files`)."""
    return lock_files(lock, lock_path=ctx.lock_path, configured_target=ctx.project.manifest.python.target)


def run_lock(ctx: Context, targets: Sequence[str] = (), *, upgrade: bool = False, smoke: bool = False
             ) -> LockOutcome:
    """Lock the targets. An existing lock whose inputs still match is kept (no resolution);
    ``upgrade`` re-resolves anyway (pins that still fit are preferred unless they are stale).
    ``smoke``: each target's backend proves its packages installable (Pyodide: loaded and
    imported in Pyodide under Node) BEFORE anything is written (a failure leaves the files as
    they were)."""
    new, _existing, profiles = compute_lock(ctx, targets, reuse=not upgrade)
    if smoke:
        for profile in profiles:
            backend: TargetBackend = backend_for(profile)
            backend.smoke(ctx, list(new.for_target(profile.name)))
    files = output_files(ctx, new)
    changed = any(not p.exists() or p.read_text(encoding="utf-8") != text for p, text in files.items())
    if changed:
        write_text_files(files)
    return LockOutcome(new, tuple(sorted(files)), changed)


def check_bindings(ctx: Context, lock: MochiLock, targets: Sequence[str]) -> list[str]:
    """Recompute stub provenance and hashes, wrapper and shim hashes of bound entries."""
    from wasmtool.ops.bind import binding_fields, bound_for_check, project_dialect

    lines: list[str] = []
    for target in targets:
        recorded = bound_entries(lock, target)
        if not recorded:
            continue
        fresh = binding_fields(bound_for_check(ctx, lock, target, sorted(recorded)), dialect=project_dialect(ctx))
        lines += binding_drift(target, recorded, fresh)
    return lines


def run_check(ctx: Context, targets: Sequence[str] = ()) -> MochiLock:
    existing = read_lock(ctx.lock_path)
    if not targets and not existing.targets:
        raise UsageError("the lock holds no target", file=str(ctx.lock_path))
    new, _, profiles = compute_lock(ctx, list(targets) or [t for t in existing.targets])
    lines = diff_locks(existing, new, [p.name for p in profiles])
    if not lines:
        lines = check_bindings(ctx, existing, [p.name for p in profiles])
    if lines:
        raise LockDriftError(lines, file=str(ctx.lock_path))
    return existing
