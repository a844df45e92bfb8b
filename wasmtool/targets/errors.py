"""Errors of target profiles (WT800-WT819) and of the backends' installs (WT820-WT839).

::

    TargetError                      WT800  (wasmtool.errors)
    ├── ProfileError                 WT801  a profile file is missing, not TOML, or invalid
    │   └── UnknownProfileError      WT802  no profile has that name or alias
    ├── TargetNotLockableError       WT805  the profile needs a resolver this wasmtool does not ship
    ├── DistributionPackageError     WT820  a package pinned from the Pyodide distribution is needed here
    │                                       (to bind or smoke-test it) but its wheel cannot be fetched
    ├── SmokeTestError               WT821  the installed bundle does not import in Pyodide
    └── WasiInstallError             WT830  no bound package has a WASI component
                                            (``install --target=wasi-p2``)

The install errors were defined in :mod:`wasmtool.ops.errors`, which re-exports them.
WT840-WT869 are the Pyodide bundles' (:mod:`wasmtool.bundle.errors`), WT870-WT899 the WASI
components' (:mod:`wasmtool.wit.errors`).
"""

from __future__ import annotations

from wasmtool.errors import TargetError

__all__ = ["DistributionPackageError", "ProfileError", "SmokeTestError", "TargetNotLockableError",
           "UnknownProfileError", "WasiInstallError"]


class ProfileError(TargetError):
    code = "WT801"


class UnknownProfileError(ProfileError):
    code = "WT802"


class TargetNotLockableError(TargetError):
    """``wasmtool lock`` was asked for a target whose resolver is not available."""

    code = "WT805"


class DistributionPackageError(TargetError):
    code = "WT820"


class SmokeTestError(TargetError):
    code = "WT821"


class WasiInstallError(TargetError):
    code = "WT830"
