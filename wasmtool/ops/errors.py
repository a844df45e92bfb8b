"""Errors of installing a target's environment (WT820-WT839).

The operations in :mod:`wasmtool.ops` coordinate the other subpackages and mostly let their
errors through; these are the failures that belong to the operation itself::

    TargetError                      WT800  (wasmtool.errors)
    ├── DistributionPackageError     WT820  a package is pinned from the Pyodide distribution, which a
    │                                       bundle cannot hold offline (``install --target=pyodide-*``)
    ├── SmokeTestError               WT821  the installed bundle does not import in Pyodide
    └── WasiInstallError             WT830  no bound package has a WASI component
                                            (``install --target=wasi-p2``)

Other errors the operations raise are defined where their code range is:
``TargetNotLockableError`` (WT805) in :mod:`wasmtool.targets.errors`, ``NotBoundError``
(WT623) in :mod:`wasmtool.synth.errors`.
"""

from __future__ import annotations

from wasmtool.errors import TargetError

__all__ = ["DistributionPackageError", "SmokeTestError", "WasiInstallError"]


class DistributionPackageError(TargetError):
    code = "WT820"


class SmokeTestError(TargetError):
    code = "WT821"


class WasiInstallError(TargetError):
    code = "WT830"
