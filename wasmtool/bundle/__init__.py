"""Target bundles: pre-solved Pyodide bundles (``wasmtool.bundle.pyodide``) and the Pyodide
runtime a browser loads them with (``wasmtool.bundle.runtime``)."""

from wasmtool.bundle.pyodide import (
    BundleManifest,
    BundlePackage,
    BundleWheel,
    ReferencedWheel,
    build_bundle,
    read_manifest,
)
from wasmtool.bundle.runtime import PyodideRuntime, bundled_runtime, hosted_runtime

__all__ = ["BundleManifest", "BundlePackage", "BundleWheel", "PyodideRuntime", "ReferencedWheel", "build_bundle",
           "bundled_runtime", "hosted_runtime", "read_manifest"]
