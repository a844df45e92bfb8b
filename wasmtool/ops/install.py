"""``wasmtool install``: put exactly the locked, verified wheels into the target's place.

Like ``uv sync``, install first makes sure the lock answers the project
(:func:`ensure_lock`): a missing or stale ``mochi.lock``, or one whose entries do not cover
the project (a direct requirement or a dependency without an entry: a hand edit), is locked
for the target first; ``--locked`` fails instead, ``--frozen`` installs the lock as it is
(but refuses one that does not cover what it records it was locked from). The target's backend
then decides what the place is and whether the bindings are part of it
(:meth:`wasmtool.targets.base.TargetBackend.install`): the native project venv (bound
afterwards unless ``--no-bind``), a Pyodide bundle, WASI components. This module gives the
backend the one thing it cannot reach itself, ``wasmtool bind`` for the target.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wasmtool.context import Context
from wasmtool.context import verified_artefact as verified_artefact  # re-exported: defined here before
from wasmtool.errors import TargetError, UsageError
from wasmtool.lock.errors import LockDriftError, LockIncompleteError, LockMissingError
from wasmtool.lock.io import read_lock
from wasmtool.lock.model import MochiLock
from wasmtool.lock.rules import capability_drift, coverage_gaps, input_drift, uncovered
from wasmtool.ops.attest import AttestOptions, verify_locked
from wasmtool.ops.budget import measure_install, previous_measurement
from wasmtool.ops.lock import LockOutcome, run_lock
from wasmtool.project.paths import ensure_inside
from wasmtool.targets.backend import BindResult, InstallReport, TargetBackend, backend_named
from wasmtool.targets.native import NativeInstall as InstallOutcome  # re-exported: defined here before
from wasmtool.targets.native import install_native as install_native  # re-exported: defined here before
from wasmtool.targets.pinning import check_inputs_current as check_inputs_current  # re-exported
from wasmtool.targets.pinning import locked_for_target as locked_for_target  # re-exported: defined here before

__all__ = ["LOCK_MODES", "InstallOutcome", "LockMode", "LockedFirst", "ensure_lock", "install", "install_native",
           "verified_artefact"]

LockMode = Literal["sync", "locked", "frozen"]
#: ``sync``: lock first when the lock is missing or stale (the default); ``locked``: fail
#: instead; ``frozen``: install the lock as it is, without comparing it with the project.
LOCK_MODES: tuple[LockMode, ...] = ("sync", "locked", "frozen")


def _existing(ctx: Context) -> MochiLock | None:
    try:
        return read_lock(ctx.lock_path)
    except LockMissingError:
        return None


def ensure_lock(ctx: Context, backend: TargetBackend, mode: LockMode = "sync",
                attest: AttestOptions | None = None) -> LockOutcome | None:
    """Make sure ``mochi.lock`` answers the project for ``backend``'s target before an
    install; returns what locking did (``None``: the lock was used as it is)."""
    if mode not in LOCK_MODES:
        raise UsageError(f"unknown lock mode {mode!r} (expected one of {', '.join(LOCK_MODES)})")
    target = backend.name
    existing = _existing(ctx)
    if mode == "frozen":
        if existing is None:
            raise LockMissingError("mochi.lock is missing: --frozen installs an existing lock as it is",
                                   file=str(ctx.lock_path), hint="run `wasmtool lock` first, or drop --frozen")
        recorded = existing.inputs_for(target)
        if recorded is None:
            raise TargetError(f"mochi.lock has no entries for target {target}: --frozen does not lock",
                              file=str(ctx.lock_path), hint=f"run `wasmtool lock --target={target}` first")
        # not compared with the project's requirements, but what the lock says it was
        # locked from must be in it: a hand-edited lock missing an entry is not installable
        gaps = coverage_gaps(existing, recorded)
        if gaps:
            raise LockIncompleteError(gaps, uncovered(existing, recorded), file=str(ctx.lock_path), target=target)
        return None
    inputs = backend.current_inputs(ctx)
    drift = input_drift(existing, inputs) + coverage_gaps(existing, inputs)
    drift += capability_drift(existing, ctx.project.manifest.capabilities)
    if not drift:
        return None
    if mode == "locked":
        if existing is None:
            raise LockMissingError("mochi.lock is missing and --locked forbids creating it",
                                   file=str(ctx.lock_path), hint="run `wasmtool lock`, or install without --locked")
        raise LockDriftError(drift, file=str(ctx.lock_path))
    return run_lock(ctx, [target], attest=attest)


def install(ctx: Context, target: str | None = None, *, smoke: bool = False, bind: bool = True,
            lock_mode: LockMode = "sync", runtime_url: str | None = None,
            attest: AttestOptions | None = None, per_package: bool = False,
            snapshot: bool = False) -> InstallReport:
    """Install the locked packages for ``target`` (default ``[python].target``) with its
    backend, locking first as ``lock_mode`` says (:func:`ensure_lock`); ``runtime_url``
    (``--pyodide-url``) goes to the backend, which refuses it where it does not apply;
    ``per_package`` (``--per-package``, WASI targets) and ``snapshot`` (``--snapshot``, Pyodide
    targets) go to the backend too, which refuses what does not apply to it."""
    from wasmtool.ops.bind import bind as bind_op

    backend = backend_named(target or ctx.project.manifest.python.target)
    # the places an install writes (the venv, the target's folder under .mochi) that are in the
    # project by name stay in it: no link may lead them out (a venv configured elsewhere is the
    # user's explicit choice)
    for place in (ctx.venv_path, ctx.root / ".mochi" / backend.name):
        lexical = Path(os.path.normpath(place))
        if lexical.is_relative_to(ctx.root):
            ensure_inside(ctx.root, lexical)
    previous = previous_measurement(ctx, backend.name) if smoke else None   # before a relock (docs/budget.md)
    locked = ensure_lock(ctx, backend, lock_mode, attest)
    verify_locked(ctx, read_lock(ctx.lock_path), backend.name, attest)  # PEP 740, offline from the cache
    report: InstallReport = backend.install(ctx, lambda: bind_op(ctx, target=backend.name), smoke=smoke,
                                            bind=bind, runtime_url=runtime_url, per_package=per_package,
                                            snapshot=snapshot)
    if smoke:  # a [python.budget.<target>]: measure the cold start, fail over budget, record it
        report = measure_install(ctx, backend, report, previous)
    return report if locked is None else LockedFirst(locked, report)


@dataclass(frozen=True)
class LockedFirst:
    """An install report preceded by the lock ``install`` made first (whose lines come first)."""

    locked: LockOutcome
    report: InstallReport

    @property
    def target(self) -> str:
        return self.report.target

    @property
    def bindings(self) -> BindResult | None:
        return self.report.bindings

    def lines(self) -> list[str]:
        return [*self.locked.summary_lines(), *self.report.lines()]
