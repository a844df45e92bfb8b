"""The errors of installing a target's environment (WT820-WT839) are the target backends' and
are defined in :mod:`wasmtool.targets.errors`; importable from here, where they were defined
before. The operations in :mod:`wasmtool.ops` coordinate the backends and the other
subpackages and let their errors through.
"""

from __future__ import annotations

from wasmtool.targets.errors import DistributionPackageError as DistributionPackageError
from wasmtool.targets.errors import SmokeTestError as SmokeTestError
from wasmtool.targets.errors import WasiInstallError as WasiInstallError

__all__ = ["DistributionPackageError", "SmokeTestError", "WasiInstallError"]
