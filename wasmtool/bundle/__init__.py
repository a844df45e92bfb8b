"""Target bundles: pre-solved Pyodide bundles (``wasmtool.bundle.pyodide``)."""

from wasmtool.bundle.pyodide import (
    BundleManifest,
    BundlePackage,
    BundleWheel,
    build_bundle,
    read_manifest,
)

__all__ = ["BundleManifest", "BundlePackage", "BundleWheel", "build_bundle", "read_manifest"]
