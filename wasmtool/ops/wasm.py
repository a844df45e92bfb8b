"""Locking a WebAssembly target (``resolver = "resolvelib"``: pyodide-314, pyodide-2025, wasi-p2):
defined in :mod:`wasmtool.targets.wasm_lock`, the distribution lock in
:mod:`wasmtool.targets.pyodide`; importable from here, where they were before."""

from __future__ import annotations

from wasmtool.context import Context
from wasmtool.lock.model import LockedPackage, TargetInputs
from wasmtool.targets.backend import backend_for
from wasmtool.targets.profile import TargetProfile
from wasmtool.targets.pyodide import distribution_lock_for as distribution_lock_for
from wasmtool.targets.wasm_lock import entries_for as entries_for
from wasmtool.targets.wasm_lock import parse_preferences as parse_preferences

__all__ = ["distribution_lock_for", "entries_for", "lock_wasm", "parse_preferences"]


def lock_wasm(
    ctx: Context, profile: TargetProfile, *, preferences: str | None
) -> tuple[TargetInputs, list[LockedPackage]]:
    """Resolve and pin ``ctx``'s project for ``profile`` with its backend; same shape as ``lock_native``."""
    return backend_for(profile).lock(ctx, preferences=preferences)
