"""Memory snapshots of Pyodide bundles: ``wasmtool install --target=pyodide-314 --snapshot``.

The snapshot is Pyodide's linear memory after it started, unpacked the bundle's verified wheels
into site-packages and imported every package (``runtime/pyodide/snapshot.mjs``). It is made in
Node (``runtime/pyodide/snapshot_make.mjs make``), restored once in a second Node process
(``... verify``: the same loader code path a page takes, with a failure an error instead of a
fallback), and only then written into the bundle::

    snapshot.bin    the snapshot's bytes
    snapshot.json   format, file, sha256, sizes (raw, gzip, brotli), key, the key's inputs,
                    the imports, heap size, function-table length, compiled libraries (none)
    bundle.json     gains "snapshot": {file, record, sha256, size, gzip, brotli, key, runtime}

The key is the sha256 of :func:`key_text`: the sha256 of each Pyodide runtime file
(:data:`RUNTIME_KEY_FILES`, pinned in :mod:`wasmtool.bundle.runtime_pins`), the bundle's
packages (name, version, sha256, in load order) and the loader's files (:data:`LOADER_FILES`).
``loader.mjs`` computes the same text when it loads the bundle; on any difference it warns,
naming it, and starts Pyodide the plain way.

Pure logic (inputs, key, records) is separate from the IO (:func:`make_snapshot`,
:func:`add_snapshot`), which runs Node through :func:`wasmtool.tools.run_tool`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wasmtool.bundle.errors import (
    BundleError,
    SnapshotError,
    SnapshotExtensionError,
    SnapshotHeapError,
    SnapshotImportError,
    SnapshotKeyError,
    SnapshotRecordError,
    SnapshotRestoreError,
)
from wasmtool.bundle.pyodide import LOADER_NAME, MANIFEST_NAME, RUNTIME_DIR, BundleManifest, read_manifest
from wasmtool.fsutil import atomic_write_bytes, sha256_file

__all__ = ["LOADER_FILES", "MAKE_SCRIPT", "RUNTIME_KEY_FILES", "SNAPSHOT_BIN", "SNAPSHOT_FORMAT",
           "SNAPSHOT_FORMAT_VERSION", "SNAPSHOT_JSON", "SNAPSHOT_MODULE", "SnapshotInfo", "SnapshotInputs",
           "add_snapshot", "inputs_for", "key_text", "make_snapshot", "snapshot_key"]

SNAPSHOT_FORMAT = "wasmtool-pyodide-snapshot"
SNAPSHOT_FORMAT_VERSION = 1
SNAPSHOT_JSON = "snapshot.json"
SNAPSHOT_BIN = "snapshot.bin"
#: The loader's second file, shipped beside loader.mjs in every bundle.
SNAPSHOT_MODULE = "snapshot.mjs"
#: The Pyodide files whose sha256 enter the key, in key order (as in snapshot.mjs).
RUNTIME_KEY_FILES = ("pyodide.asm.mjs", "pyodide.asm.wasm", "pyodide.mjs", "python_stdlib.zip")
#: The loader files whose sha256 enter the key, in key order (as in snapshot.mjs).
LOADER_FILES = (LOADER_NAME, SNAPSHOT_MODULE)
MAKE_SCRIPT = RUNTIME_DIR / "snapshot_make.mjs"
#: Seconds Node gets to make, and to verify, a snapshot.
NODE_TIMEOUT = 600.0


# --------------------------------------------------------------------------- pure


@dataclass(frozen=True)
class SnapshotInputs:
    """What a snapshot is made from: ``pyodide`` and ``loader`` map file name -> sha256,
    ``packages`` are (name, version, sha256) in load order."""

    pyodide: Mapping[str, str]
    packages: tuple[tuple[str, str, str], ...]
    loader: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"pyodide": {f: self.pyodide.get(f) for f in RUNTIME_KEY_FILES},
                "packages": [{"name": n, "version": v, "sha256": s} for n, v, s in self.packages],
                "loader": {f: self.loader.get(f) for f in LOADER_FILES}}

    @classmethod
    def from_dict(cls, data: Any, *, file: str | None = None) -> SnapshotInputs:
        try:
            return cls(pyodide={str(k): str(v) for k, v in data["pyodide"].items()},
                       packages=tuple((str(p["name"]), str(p["version"]), str(p["sha256"]))
                                      for p in data["packages"]),
                       loader={str(k): str(v) for k, v in data["loader"].items()})
        except (KeyError, TypeError, AttributeError) as exc:
            raise SnapshotRecordError(f"the snapshot's inputs are malformed: {exc!r}", file=file) from exc


def key_text(inputs: SnapshotInputs) -> str:
    """The canonical text the key hashes (``keyText`` in snapshot.mjs writes the same)."""
    lines = [f"{SNAPSHOT_FORMAT} {SNAPSHOT_FORMAT_VERSION}"]
    lines += [f"pyodide {f} {inputs.pyodide.get(f) or '-'}" for f in RUNTIME_KEY_FILES]
    lines += [f"package {n} {v} {s}" for n, v, s in inputs.packages]
    lines += [f"loader {f} {inputs.loader.get(f) or '-'}" for f in LOADER_FILES]
    return "\n".join(lines) + "\n"


def snapshot_key(inputs: SnapshotInputs) -> str:
    return hashlib.sha256(key_text(inputs).encode("utf-8")).hexdigest()


def inputs_for(manifest: BundleManifest, pyodide_files: Mapping[str, str],
               loader_files: Mapping[str, str]) -> SnapshotInputs:
    """The key's inputs for a bundle: its packages in load order, then the referenced ones."""
    packages = [(p.name, p.version, p.sha256) for p in manifest.packages]
    packages += [(r.name, r.version, r.sha256) for r in manifest.referenced]
    return SnapshotInputs(pyodide=dict(pyodide_files), packages=tuple(packages), loader=dict(loader_files))


@dataclass(frozen=True)
class SnapshotInfo:
    """A made and verified snapshot: what ``snapshot.json`` records."""

    sha256: str
    size: int
    gzip: int
    brotli: int
    key: str
    inputs: SnapshotInputs
    imports: tuple[str, ...]
    heap_bytes: int
    table_length: int
    libraries: tuple[Mapping[str, Any], ...] = ()   # compiled libraries: name, handle, bases, sizes, wheel
    runtime: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # Pyodide's files: sizes
    timings: Mapping[str, float] = field(default_factory=dict)               # the verification restore, ms

    def to_dict(self) -> dict[str, Any]:
        return {"format": SNAPSHOT_FORMAT, "format_version": SNAPSHOT_FORMAT_VERSION, "file": SNAPSHOT_BIN,
                "sha256": self.sha256, "size": self.size, "gzip": self.gzip, "brotli": self.brotli,
                "key": self.key, "inputs": self.inputs.to_dict(), "imports": list(self.imports),
                "heap_bytes": self.heap_bytes, "table_length": self.table_length,
                "libraries": [dict(lib) for lib in self.libraries]}

    def manifest_entry(self) -> dict[str, Any]:
        """``bundle.json``'s ``snapshot``: the sizes beside Pyodide's own files."""
        return {"file": SNAPSHOT_BIN, "record": SNAPSHOT_JSON, "sha256": self.sha256, "key": self.key,
                "size": self.size, "gzip": self.gzip, "brotli": self.brotli,
                "runtime": {f: dict(v) for f, v in sorted(self.runtime.items())}}

    def lines(self) -> list[str]:
        """What install prints: the snapshot's sizes, and Pyodide's own files' for comparison."""
        rt = {k: sum(int(v.get(k, 0)) for v in self.runtime.values()) for k in ("size", "gzip", "brotli")}
        out = [f"memory snapshot {SNAPSHOT_BIN}: {_mb(self.size)} raw, {_mb(self.gzip)} gzip, "
               f"{_mb(self.brotli)} brotli (key {self.key[:12]})"]
        if self.runtime:
            out.append(f"  beside Pyodide's own files: {_mb(rt['size'])} raw, {_mb(rt['gzip'])} gzip, "
                       f"{_mb(rt['brotli'])} brotli")
        if self.timings:
            out.append("  verified by restoring it in Node: " + ", ".join(
                f"{k} {v:.0f} ms" for k, v in self.timings.items()))
        return out


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


#: The JS side's codes for its snapshot failures, as the classes here.
_BY_CODE: dict[str, type[SnapshotError]] = {
    cls.code: cls for cls in (SnapshotError, SnapshotHeapError, SnapshotKeyError, SnapshotExtensionError,
                              SnapshotRestoreError, SnapshotImportError, SnapshotRecordError)}


def error_from_node(step: str, error: Mapping[str, Any], bundle_dir: Path) -> SnapshotError:
    """The failure snapshot_make.mjs reported (``{code, message, file, package}``) as an error."""
    code = str(error.get("code", ""))
    message = str(error.get("message", "unknown error"))
    cls = _BY_CODE.get(code)
    hints = {
        SnapshotHeapError: "the snapshot is larger than Pyodide can restore; install without --snapshot",
        SnapshotExtensionError: "install without --snapshot (compiled extensions are not supported yet: "
                                "docs/snapshot.md)",
        SnapshotImportError: "fix the import, or install without --snapshot",
    }
    if cls is None:
        cls = SnapshotRestoreError if step == "verify" else SnapshotError
        message = f"[{code or 'no code'}] {message}"
    return cls(f"{step} the memory snapshot of {bundle_dir}: {message}",
               file=str(error["file"]) if error.get("file") else None,
               package=str(error["package"]) if error.get("package") else None,
               hint=hints.get(cls))


def parse_node_line(stdout: str) -> dict[str, Any] | None:
    """The last JSON object line of a snapshot_make.mjs run, or ``None``."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                out = json.loads(line)
            except ValueError:
                return None
            return out if isinstance(out, dict) else None
    return None


# --------------------------------------------------------------------------- IO


def file_hashes(folder: Path, names: Sequence[str]) -> dict[str, str]:
    """sha256 of ``names`` in ``folder`` (a missing file is a :class:`SnapshotRecordError`)."""
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = sha256_file(folder / name)
        except OSError as exc:
            raise SnapshotRecordError(f"cannot read {name}: {exc}", file=str(folder / name)) from exc
    return out


def _run_node(step: str, argv: Sequence[str], bundle_dir: Path) -> dict[str, Any]:
    from wasmtool.errors import ExternalToolError
    from wasmtool.tools import describe_status, run_tool, tail

    try:
        proc = run_tool("node", argv, timeout=NODE_TIMEOUT, check=False)
    except ExternalToolError as exc:
        raise SnapshotError(f"{step} the memory snapshot of {bundle_dir}: {exc}") from exc
    out = parse_node_line(proc.stdout)
    if out is None:
        raise SnapshotError(f"{step} the memory snapshot of {bundle_dir}: node {describe_status(proc.returncode)}"
                            f" without a result line\n{tail(proc.stderr)}")
    if not out.get("ok"):
        raise error_from_node(step, out.get("error") or {}, bundle_dir)
    return out


def make_snapshot(bundle_dir: Path, *, node: str, pyodide_dir: Path) -> SnapshotInfo:
    """Make the snapshot of the bundle at ``bundle_dir``, verify it by restoring it in a second
    Node process, then write ``snapshot.bin``, ``snapshot.json`` and bundle.json's ``snapshot``
    (each atomically; bundle.json last, so a bundle never names a snapshot that is not there)."""
    manifest = read_manifest(bundle_dir)
    loader = file_hashes(bundle_dir, LOADER_FILES)
    inputs = inputs_for(manifest, file_hashes(pyodide_dir, RUNTIME_KEY_FILES), loader)
    key = snapshot_key(inputs)
    stage = Path(tempfile.mkdtemp(prefix=".snapshot-", dir=bundle_dir.parent))
    try:
        made = _run_node("make", [node, str(MAKE_SCRIPT), "make", "--bundle", str(bundle_dir), "--out",
                                  str(stage / SNAPSHOT_BIN), "--pyodide", str(pyodide_dir)], bundle_dir)
        if made.get("key") != key:
            # the loader and this module disagree on the key: the loader would never restore it
            raise SnapshotKeyError(
                f"the loader computed the snapshot key {made.get('key')}, wasmtool {key}: "
                f"{SnapshotInputs.from_dict(made.get('inputs')).to_dict()} vs {inputs.to_dict()}",
                file=str(bundle_dir / SNAPSHOT_JSON))
        record = made.get("record") or {}
        info = SnapshotInfo(
            sha256=str(made["sha256"]), size=int(made["size"]), gzip=int(made["gzip"]), brotli=int(made["brotli"]),
            key=key, inputs=inputs, imports=tuple(map(str, record.get("imports", []))),
            heap_bytes=int(record.get("heap_bytes", 0)), table_length=int(record.get("table_length", 0)),
            libraries=tuple(dict(lib) for lib in record.get("libraries", [])),
            runtime={str(f): {str(k): int(v) for k, v in sz.items()} for f, sz in (made.get("runtime") or {}).items()})
        (stage / SNAPSHOT_JSON).write_bytes(_dumps(info.to_dict()))
        verified = _run_node("verify", [node, str(MAKE_SCRIPT), "verify", "--bundle", str(bundle_dir),
                                        "--snapshot-dir", str(stage), "--pyodide", str(pyodide_dir)], bundle_dir)
        timings = {str(k): float(v) for k, v in (verified.get("timings") or {}).items()}
        info = SnapshotInfo(**{**info.__dict__, "timings": timings})
        if sha256_file(stage / SNAPSHOT_BIN) != info.sha256:
            raise SnapshotRecordError("the snapshot changed on disk while it was verified",
                                      file=str(stage / SNAPSHOT_BIN))
        _install(stage, bundle_dir, info)
    except BundleError:
        raise
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"make the memory snapshot of {bundle_dir}: {exc}") from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return info


def _install(stage: Path, bundle_dir: Path, info: SnapshotInfo) -> None:
    # rename within one file system: the stage folder is a sibling of the bundle
    bin_tmp = bundle_dir / f".{SNAPSHOT_BIN}.tmp"
    shutil.copyfile(stage / SNAPSHOT_BIN, bin_tmp)
    bin_tmp.chmod(0o644)
    bin_tmp.replace(bundle_dir / SNAPSHOT_BIN)
    atomic_write_bytes(bundle_dir / SNAPSHOT_JSON, (stage / SNAPSHOT_JSON).read_bytes())
    (bundle_dir / SNAPSHOT_JSON).chmod(0o644)
    manifest_path = bundle_dir / MANIFEST_NAME
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    data["snapshot"] = info.manifest_entry()
    atomic_write_bytes(manifest_path, _dumps(data))


def _dumps(data: Any) -> bytes:
    return (json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def add_snapshot(bundle_dir: Path, *, node: str, pyodide_dir: Path, demanded: bool,
                 warn: Callable[[str], None]) -> SnapshotInfo | None:
    """:func:`make_snapshot`; when the snapshot was ``demanded`` (``--snapshot``) a failure is
    raised, otherwise (a default that turns it on) it is a warning and the bundle has none."""
    try:
        return make_snapshot(bundle_dir, node=node, pyodide_dir=pyodide_dir)
    except SnapshotError as exc:
        if demanded:
            raise
        warn(f"no memory snapshot: {exc}")
        return None
