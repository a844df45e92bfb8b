"""Errors of target profiles (WT800-WT819).

::

    TargetError                      WT800  (wasmtool.errors)
    └── ProfileError                 WT801  a profile file is missing, not TOML, or invalid
        └── UnknownProfileError      WT802  no profile has that name or alias
    TargetNotLockableError           WT805  the profile needs a resolver this wasmtool does not ship

WT820-WT839 are the install operations' (:mod:`wasmtool.ops.errors`), WT840-WT869 the
Pyodide bundles' (:mod:`wasmtool.bundle.errors`), WT870-WT899 the WASI components'
(:mod:`wasmtool.wit.errors`).
"""

from __future__ import annotations

from wasmtool.errors import TargetError

__all__ = ["ProfileError", "TargetNotLockableError", "UnknownProfileError"]


class ProfileError(TargetError):
    code = "WT801"


class UnknownProfileError(ProfileError):
    code = "WT802"


class TargetNotLockableError(TargetError):
    """``wasmtool lock`` was asked for a target whose resolver is not available."""

    code = "WT805"
