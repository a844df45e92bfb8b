"""Locking the native profile with uv: defined in :mod:`wasmtool.targets.native` (the native
backend) and :mod:`wasmtool.targets.pinning`; importable from here, where it was before."""

from __future__ import annotations

from wasmtool.context import Context
from wasmtool.lock.model import LockedPackage, TargetInputs
from wasmtool.targets.backend import backend_for
from wasmtool.targets.pinning import ChosenWheel as ChosenWheel
from wasmtool.targets.pinning import build_entries as build_entries
from wasmtool.targets.pinning import cross_check as cross_check
from wasmtool.targets.pinning import fetch_all as fetch_all
from wasmtool.targets.profile import TargetProfile
from wasmtool.targets.uv_lock import choose_wheels as choose_wheels
from wasmtool.targets.uv_lock import lock_uv

__all__ = ["ChosenWheel", "build_entries", "choose_wheels", "cross_check", "fetch_all", "lock_native",
           "target_python_version"]


def target_python_version(ctx: Context, profile: TargetProfile) -> str:
    """The interpreter X.Y ``profile`` resolves for (its backend's
    :meth:`~wasmtool.targets.base.TargetBackend.python_version`)."""
    return backend_for(profile).python_version(ctx.project)


def lock_native(
    ctx: Context, profile: TargetProfile, *, preferences: str | None
) -> tuple[TargetInputs, list[LockedPackage]]:
    """Resolve ``profile`` with uv for the interpreter its backend names."""
    return lock_uv(ctx, profile, preferences=preferences, python_version=target_python_version(ctx, profile))
