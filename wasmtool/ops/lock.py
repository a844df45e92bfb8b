"""``wasmtool lock`` and ``wasmtool lock --check``.

Everything is computed in memory first (resolution, downloads into the verified cache,
entries); only then are mochi.lock and the pylock files rendered and written, each
atomically. A failure at any step leaves both files exactly as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from wasmtool.errors import UsageError
from wasmtool.lock.check import diff_locks
from wasmtool.lock.errors import LockDriftError, LockMissingError
from wasmtool.lock.io import read_lock, render_lock, render_pylock_for, write_text_files
from wasmtool.lock.model import LockedPackage, MochiLock, TargetInputs
from wasmtool.lock.pylock import pylock_filename
from wasmtool.ops.context import Context
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
    if profile.resolver == "uv":
        from wasmtool.ops.native import lock_native

        prefs = None
        if existing is not None and existing.for_target(profile.name):
            prefs = render_pylock_for(existing, profile.name)
        return lock_native(ctx, profile, preferences=prefs)
    if profile.resolver == "resolvelib":
        from wasmtool.ops.wasm import lock_wasm

        prefs = None
        if existing is not None and existing.for_target(profile.name):
            prefs = render_pylock_for(existing, profile.name)
        return lock_wasm(ctx, profile, preferences=prefs)
    raise TargetNotLockableError(
        f"target {profile.name} needs the {profile.resolver} resolver, which this wasmtool does not ship yet",
        field="target", hint="lock the native target, or use a wasmtool release with wasm resolution",
    )


def current_inputs(ctx: Context, profile: TargetProfile) -> TargetInputs:
    """What a target would be locked from now (requirements, interpreter, index)."""
    from wasmtool.ops.native import target_python_version

    return TargetInputs(profile.name, target_python_version(ctx, profile), tuple(ctx.project.to_pep508()),
                        ctx.index.primary)


def up_to_date(existing: MochiLock | None, inputs: TargetInputs) -> bool:
    """The lock already answers these inputs (same requirement set, interpreter and index):
    like ``uv lock``, keep it rather than re-resolve; ``--upgrade`` re-resolves."""
    if existing is None:
        return False
    have = existing.inputs_for(inputs.target)
    return have is not None and (
        sorted(have.requirements), have.python_version, have.index_url
    ) == (sorted(inputs.requirements), inputs.python_version, inputs.index_url)


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
        if reuse and up_to_date(existing, current_inputs(ctx, profile)):
            continue  # the target's entries are kept as they are
        inputs, packages = lock_target(ctx, profile, existing)
        new = new.replace_target(profile.name, inputs, carry_bindings(existing, packages))
    return new, existing, profiles


#: Fields `wasmtool bind` records per bound package (formats.md §2); `lock` keeps them while
#: the wheel is the same, `lock --check` recomputes them.
BINDING_FIELDS = ("alias", "stub_provenance", "stub_sha256", "wrapper_sha256", "shim_sha256", "skipped_count")


def carry_bindings(existing: MochiLock | None, packages: list[LockedPackage]) -> list[LockedPackage]:
    """Keep the binding fields of entries whose wheel did not change (a re-lock does not bind)."""
    if existing is None:
        return packages
    old = {(p.target, p.name, p.wheel_sha256): p for p in existing.packages if p.stub_sha256}
    out: list[LockedPackage] = []
    for p in packages:
        prev = old.get((p.target, p.name, p.wheel_sha256))
        if prev is not None:
            p = replace(p, **{f: getattr(prev, f) for f in BINDING_FIELDS if f != "alias" or not p.alias})
        out.append(p)
    return out


def with_bindings(lock: MochiLock, target: str, fields_by_name: dict[str, dict[str, Any]]) -> MochiLock:
    """``lock`` with the binding fields of ``target``'s named entries set."""
    packages = tuple(replace(p, **fields_by_name[p.name]) if p.target == target and p.name in fields_by_name else p
                     for p in lock.packages)
    return replace(lock, packages=packages)


def output_files(ctx: Context, lock: MochiLock) -> dict[Path, str]:
    primary = _primary_target(ctx, lock)
    files = {ctx.lock_path: render_lock(lock)}
    for target in lock.targets:
        files[ctx.root / pylock_filename(target, primary)] = render_pylock_for(lock, target)
    return files


def _primary_target(ctx: Context, lock: MochiLock) -> str:
    configured = ctx.project.manifest.python.target
    return configured if configured in lock.targets else (lock.targets[0] if lock.targets else configured)


def run_lock(ctx: Context, targets: Sequence[str] = (), *, upgrade: bool = False, smoke: bool = False
             ) -> LockOutcome:
    """Lock the targets. An existing lock whose inputs still match is kept (no resolution);
    ``upgrade`` re-resolves anyway (pins that still fit are preferred unless they are stale).
    ``smoke``: every Pyodide target's packages are loaded and imported in Pyodide under Node
    BEFORE anything is written (a failure leaves the files as they were)."""
    new, existing, profiles = compute_lock(ctx, targets, reuse=not upgrade)
    if smoke:
        from wasmtool.ops.pyodide_install import smoke_entries

        for profile in profiles:
            if profile.kind == "pyodide":
                smoke_entries(ctx, list(new.for_target(profile.name)))
    files = output_files(ctx, new)
    changed = any(not p.exists() or p.read_text(encoding="utf-8") != text for p, text in files.items())
    if changed:
        write_text_files(files)
    del existing
    return LockOutcome(new, tuple(sorted(files)), changed)


def check_bindings(ctx: Context, lock: MochiLock, targets: Sequence[str]) -> list[str]:
    """Recompute stub provenance and hashes, wrapper and shim hashes of bound entries."""
    from wasmtool.ops.bind import binding_fields, bound_for_check, project_dialect

    lines: list[str] = []
    for target in targets:
        recorded = {p.name: p for p in lock.for_target(target) if p.stub_sha256}
        if not recorded:
            continue
        now = binding_fields(bound_for_check(ctx, lock, target, sorted(recorded)), dialect=project_dialect(ctx))
        for name, entry in sorted(recorded.items()):
            fresh = now.get(name, {})
            for f in BINDING_FIELDS:
                if f in fresh and fresh[f] != getattr(entry, f):
                    lines.append(f"[{target}] changed {entry.label} {f.replace('_', '-')}: "
                                 f"{getattr(entry, f)} -> {fresh[f]} (re-run `wasmtool bind`)")
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
