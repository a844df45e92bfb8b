"""Errors of Pyodide bundles and of the Node runtime that loads them (WT840-WT869; memory snapshots WT650-WT659).

::

    TargetError (WT800)
    └── BundleError                 WT840
        ├── WheelNotFoundError      WT841  a wheel given to the bundle (or listed in bundle.json) is missing
        ├── WheelHashMismatchError  WT842  a wheel does not hash to its pinned sha256 (build or load time;
        │                                  also :class:`~wasmtool.errors.HashMismatchError`)
        ├── DistributionLockError   WT843  the Pyodide distribution's pyodide-lock.json is unusable
        ├── WheelTagError           WT845  a wheel is not for this Pyodide ABI (e.g. manylinux)
        ├── MissingDependencyError  WT846  a package depends on something that is not bundled
        ├── DuplicatePackageError   WT847  two wheels for one distribution name
        ├── DependencyCycleError    WT848  the app's packages depend on each other in a cycle
        ├── EntryModuleError        WT849  the entry module belongs to no bundled package
        ├── BundleOutputError       WT850  the output folder exists and is not a bundle
        ├── BundleManifestError     WT851  bundle.json missing, invalid, or disagreeing with the lock
        ├── NodeNotFoundError       WT852  (also ExternalToolError) no ``node`` executable
        ├── PyodideNotInstalledError WT853 node_modules/pyodide missing (scripts/setup-node.sh)
        ├── PackageLoadError        WT854  Pyodide did not load a requested package
        ├── MicropipLoadedError     WT855  micropip got imported: the bundle must need no resolution
        ├── PyodideCallError        WT856  (also RuntimeError) the Python function raised
        ├── CallTargetError         WT857  the module or function to call does not exist
        ├── ResultEncodingError     WT858  the call's result is not JSON-serialisable
        ├── RuntimeProtocolError    WT859  the Node process died or spoke something else than the protocol
        ├── RuntimeTimeoutError     WT860  (also TimeoutError) a request exceeded its timeout
        ├── ReferencedWheelError    WT861  a package the bundle references by URL is described wrongly
        ├── RuntimeFilesError       WT862  the Pyodide runtime files to ship are missing, another version,
        │                                  or not the bytes pinned for that version
        ├── PyodideUrlError         WT863  ``install --pyodide-url``: not a usable URL of a hosted Pyodide
        ├── RemoteFetchError        WT864  the loader could not fetch a referenced wheel or a hosted runtime file
        ├── BundleNotInstalledError WT865  ``wasmtool serve``: the target has no installed bundle
        ├── ServeError              WT866  ``wasmtool serve``: the address cannot be served (port taken, ...)
        ├── AppFolderError          WT869  ``[browser] app``: the folder is missing, or holds a link or a
        │                                  file the bundle writes itself
        └── SnapshotError           WT650  the memory snapshot (``install --snapshot``, docs/snapshot.md)
            ├── SnapshotHeapError   WT651  it does not fit Pyodide's memory on restore (RangeError)
            ├── SnapshotKeyError    WT652  its key does not match this Pyodide, these packages or this loader
            ├── SnapshotExtensionError WT653 importing the packages loaded a compiled extension (.so)
            ├── SnapshotRestoreError WT654 restoring it failed otherwise (the verification restore)
            ├── SnapshotImportError WT655  a package failed to import while it was made
            └── SnapshotRecordError WT656  snapshot.json or snapshot.bin missing, invalid or not matching

A wheel whose file name or contents are unreadable or inconsistent raises
:class:`wasmtool.errors.WheelMetadataError` (WT350; WT844 is retired), which
:mod:`wasmtool.resolve` raises too; it is importable from here as ``WheelMetadataError``.

The JavaScript side (``runtime/pyodide/loader.mjs``) reports the same codes, so an error
raised in Node is mapped back to the class with that code by :func:`error_for_code`.
"""

from __future__ import annotations

from wasmtool.errors import ExternalToolError, HashMismatchError, TargetError, WheelMetadataError

__all__ = [
    "AppFolderError",
    "BundleError",
    "BundleManifestError",
    "BundleNotInstalledError",
    "BundleOutputError",
    "CallTargetError",
    "DependencyCycleError",
    "DistributionLockError",
    "DuplicatePackageError",
    "EntryModuleError",
    "MicropipLoadedError",
    "MissingDependencyError",
    "NodeNotFoundError",
    "PackageLoadError",
    "PyodideCallError",
    "PyodideNotInstalledError",
    "PyodideUrlError",
    "ReferencedWheelError",
    "RemoteFetchError",
    "ResultEncodingError",
    "RuntimeFilesError",
    "RuntimeProtocolError",
    "RuntimeTimeoutError",
    "ServeError",
    "SnapshotError",
    "SnapshotExtensionError",
    "SnapshotHeapError",
    "SnapshotImportError",
    "SnapshotKeyError",
    "SnapshotRecordError",
    "SnapshotRestoreError",
    "WheelHashMismatchError",
    "WheelMetadataError",
    "WheelNotFoundError",
    "WheelTagError",
    "error_for_code",
]


class BundleError(TargetError):
    code = "WT840"


class WheelNotFoundError(BundleError, FileNotFoundError):
    code = "WT841"


class WheelHashMismatchError(BundleError, HashMismatchError):
    """The bytes of ``filename`` (a wheel, or a Pyodide runtime file the loader fetched) hash to
    ``actual``, but ``expected`` was pinned (``algorithm`` is ``"sha256"``); one ``except
    HashMismatchError`` catches it with the cache's."""

    code = "WT842"

    def __init__(self, *, filename: str, expected: str, actual: str, package: str | None = None,
                 file: str | None = None) -> None:
        super().__init__(
            package=package, filename=filename, algorithm="sha256", expected=expected, actual=actual, file=file,
            hint="the wheel was changed after the bundle was built; rebuild the bundle from verified wheels",
        )


class DistributionLockError(BundleError, ValueError):
    code = "WT843"


class WheelTagError(BundleError, ValueError):
    code = "WT845"


class MissingDependencyError(BundleError, ValueError):
    code = "WT846"


class DuplicatePackageError(BundleError, ValueError):
    code = "WT847"


class DependencyCycleError(BundleError, ValueError):
    code = "WT848"


class EntryModuleError(BundleError, ValueError):
    code = "WT849"


class BundleOutputError(BundleError):
    code = "WT850"


class BundleManifestError(BundleError, ValueError):
    code = "WT851"


class NodeNotFoundError(BundleError, ExternalToolError):
    code = "WT852"


class PyodideNotInstalledError(BundleError):
    code = "WT853"


class PackageLoadError(BundleError):
    code = "WT854"


class MicropipLoadedError(BundleError):
    code = "WT855"


class PyodideCallError(BundleError, RuntimeError):
    """The called Python function raised ``py_type`` (qualified name) inside Pyodide."""

    code = "WT856"

    def __init__(self, message: str, *, py_type: str, package: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(f"{py_type}: {message}", package=package, hint=hint)
        self.py_type = py_type
        self.py_message = message


class CallTargetError(BundleError, LookupError):
    code = "WT857"


class ResultEncodingError(BundleError, TypeError):
    code = "WT858"


class RuntimeProtocolError(BundleError, RuntimeError):
    code = "WT859"


class RuntimeTimeoutError(BundleError, TimeoutError):
    code = "WT860"


class ReferencedWheelError(BundleError, ValueError):
    code = "WT861"


class RuntimeFilesError(BundleError):
    code = "WT862"


class PyodideUrlError(BundleError, ValueError):
    code = "WT863"


class RemoteFetchError(BundleError):
    code = "WT864"


class BundleNotInstalledError(BundleError, FileNotFoundError):
    code = "WT865"


class ServeError(BundleError, OSError):
    code = "WT866"



class AppFolderError(BundleError, ValueError):
    """The ``[browser] app`` folder is missing or not a folder, or holds a file the bundle owns
    (``bundle.json``, ``loader.mjs``, ``wheels/...``, ...) or a symbolic link."""

    code = "WT869"


class SnapshotError(BundleError):
    """The bundle's memory snapshot could not be made, verified or read (docs/snapshot.md)."""

    code = "WT650"


class SnapshotHeapError(SnapshotError, MemoryError):
    """Restoring the snapshot overran Pyodide's memory (``RangeError``): found by the restore
    ``install --snapshot`` does before it writes the snapshot, not in the user's browser."""

    code = "WT651"


class SnapshotKeyError(SnapshotError, ValueError):
    """The snapshot's key (Pyodide runtime files, packages, loader) does not match."""

    code = "WT652"


class SnapshotExtensionError(SnapshotError):
    """Importing the bundle's packages loaded a compiled extension, which a snapshot cannot hold yet."""

    code = "WT653"


class SnapshotRestoreError(SnapshotError, RuntimeError):
    code = "WT654"


class SnapshotImportError(SnapshotError, ImportError):
    code = "WT655"


class SnapshotRecordError(SnapshotError, ValueError):
    code = "WT656"

_BY_CODE: dict[str, type[BundleError]] = {
    cls.code: cls
    for cls in (
        BundleError, WheelNotFoundError, DistributionLockError, WheelTagError,
        MissingDependencyError, DuplicatePackageError, DependencyCycleError, EntryModuleError,
        BundleOutputError, BundleManifestError, NodeNotFoundError, PyodideNotInstalledError,
        PackageLoadError, MicropipLoadedError, CallTargetError, ResultEncodingError,
        RuntimeProtocolError, RuntimeTimeoutError, RemoteFetchError,
        SnapshotError, SnapshotHeapError, SnapshotKeyError, SnapshotExtensionError, SnapshotRestoreError,
        SnapshotImportError, SnapshotRecordError,
    )
}


def error_for_code(code: str, message: str, *, py_type: str | None = None, file: str | None = None,
                   package: str | None = None, expected: str | None = None,
                   actual: str | None = None) -> BundleError:
    """The error the Node side reported as ``{"code", "message", ...}``, as a Python exception."""
    if code == WheelHashMismatchError.code and file and expected and actual:
        return WheelHashMismatchError(filename=file, expected=expected, actual=actual, package=package)
    if code == PyodideCallError.code:
        return PyodideCallError(message, py_type=py_type or "Exception", package=package)
    cls = _BY_CODE.get(code, RuntimeProtocolError)
    if cls is RuntimeProtocolError and code != RuntimeProtocolError.code:
        message = f"[{code}] {message}"
    return cls(message, file=file, package=package)
