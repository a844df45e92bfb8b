"""Finding a target's backend: :func:`backend_for` (from a profile) and :func:`backend_named`.

One backend per profile kind (:mod:`wasmtool.targets.native`, :mod:`wasmtool.targets.pyodide`,
:mod:`wasmtool.targets.wasi`); the contract they share is :class:`TargetBackend`
(:mod:`wasmtool.targets.base`, re-exported here).
"""

from __future__ import annotations

from wasmtool.targets.base import Binder, BindResult, InstallReport, RuntimeChoice, TargetBackend
from wasmtool.targets.native import NativeBackend
from wasmtool.targets.profile import TargetProfile, load_profile
from wasmtool.targets.pyodide import PyodideBackend
from wasmtool.targets.wasi import WasiBackend

__all__ = [
    "BACKENDS",
    "BindResult",
    "Binder",
    "InstallReport",
    "RuntimeChoice",
    "TargetBackend",
    "backend_for",
    "backend_named",
]

#: The backend class of each profile kind.
BACKENDS: dict[str, type[TargetBackend]] = {cls.kind: cls for cls in (NativeBackend, PyodideBackend, WasiBackend)}


def backend_for(profile: TargetProfile) -> TargetBackend:
    """The backend of ``profile``'s kind (:class:`UnsupportedTargetError` for a kind without one)."""
    cls = BACKENDS.get(profile.kind)
    if cls is None:
        from wasmtool.run.errors import UnsupportedTargetError  # imported here: the run package loads asyncio

        raise UnsupportedTargetError(profile.name, profile.kind)
    return cls(profile)


def backend_named(target: str) -> TargetBackend:
    """The backend of the profile named ``target`` (a name or an alias)."""
    return backend_for(load_profile(target))
