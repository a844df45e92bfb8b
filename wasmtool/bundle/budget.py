"""Measure a Pyodide bundle's cold start (the IO side of docs/budget.md).

:func:`measure_bundle` runs ``node runtime/pyodide/measure.mjs --bundle DIR`` (through
:func:`wasmtool.tools.run_tool`): the bundle's own ``loader.mjs`` loads it as a user's page
would (a memory snapshot when the loader restores one, else Pyodide plus ``loadPackage``),
every package is imported and one call goes through the bridge; Node reports the times. The
bytes are counted here: the gzip size of every file a page load fetches (:func:`fetched_files`),
by part (each package's wheel, Pyodide's runtime files, a memory snapshot, the rest).

The comparison with the budget is pure: :func:`wasmtool.project.budget.overruns`.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wasmtool.errors import ExternalToolError
from wasmtool.project.budget import OTHER_PART, RUNTIME_PART, SNAPSHOT_PART, Measurement, PackageMeasure
from wasmtool.project.errors import BudgetMeasureError
from wasmtool.tools import run_tool

__all__ = ["MEASURE_SCRIPT", "SNAPSHOT_FILES", "fetched_files", "gzip_size", "measure_bundle", "parse_report"]

MEASURE_SCRIPT = Path(__file__).resolve().parent.parent.parent / "runtime" / "pyodide" / "measure.mjs"
#: The memory snapshot's files beside bundle.json (runtime/pyodide/snapshot.mjs).
SNAPSHOT_FILES = ("snapshot.bin", "snapshot.json")
#: Files of a bundle no page load fetches: the TypeScript declarations for an editor.
_NOT_FETCHED = (".d.ts", ".d.mts")
#: zlib's strongest level, as a static server precompresses; mtime 0 keeps the size stable.
_GZIP_LEVEL = 9


def gzip_size(data: bytes) -> int:
    """The size of ``data`` gzip-compressed (the standard library's gzip: what a server sends)."""
    return len(gzip.compress(data, compresslevel=_GZIP_LEVEL, mtime=0))


def _manifest(bundle_dir: Path) -> dict[str, Any]:
    path = bundle_dir / "bundle.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BudgetMeasureError(f"cannot read the bundle's manifest: {exc}", file=str(path)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("packages"), list):
        raise BudgetMeasureError("not a wasmtool Pyodide bundle manifest", file=str(path))
    return data


def fetched_files(bundle_dir: Path, manifest: Mapping[str, Any], pyodide_dir: Path) -> dict[Path, str]:
    """Every file a page load of the bundle fetches, with the part of ``bundle-bytes`` it counts
    towards: a package's wheel (the package's name), Pyodide's runtime files (in the bundle, or
    the same pinned files of ``pyodide_dir`` when the bundle loads them from a hosted URL), the
    memory snapshot, and everything else in the bundle folder (page, loader, bundle.json, the
    lock, the app's files). Referenced packages live elsewhere and are not counted."""
    parts: dict[Path, str] = {}
    for path in sorted(p for p in bundle_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(bundle_dir).as_posix()
        if rel.endswith(_NOT_FETCHED):
            continue
        parts[path] = SNAPSHOT_PART if rel in SNAPSHOT_FILES else OTHER_PART
    for pkg in manifest.get("packages", []):
        if isinstance(pkg, Mapping) and isinstance(pkg.get("file"), str):
            parts[bundle_dir / pkg["file"]] = str(pkg.get("name", pkg["file"]))
    runtime = manifest.get("runtime")
    if isinstance(runtime, Mapping) and isinstance(runtime.get("index_url"), str):
        index_url = runtime["index_url"]
        local = "://" not in index_url
        for f in runtime.get("files", []):
            if isinstance(f, Mapping) and isinstance(f.get("file"), str):
                parts[(bundle_dir / index_url / f["file"]) if local else (pyodide_dir / f["file"])] = RUNTIME_PART
    return parts


def _sizes(parts: Mapping[Path, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for path, part in parts.items():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BudgetMeasureError(f"cannot read a file the page load fetches: {exc}", file=str(path)) from exc
        out[part] = out.get(part, 0) + gzip_size(data)
    return out


def parse_report(text: str, *, target: str, sizes: Mapping[str, int]) -> Measurement:
    """The measurement from measure.mjs's JSON line and the gzip ``sizes`` by part."""
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        report = json.loads(lines[-1]) if lines else None
    except ValueError:
        report = None
    if not isinstance(report, dict):
        raise BudgetMeasureError(f"the measurement of {target} printed no result: {text[-400:]!r}",
                                 file=str(MEASURE_SCRIPT))
    if not report.get("ok"):
        raw_error = report.get("error")
        error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
        code = error.get("code", "")
        raise BudgetMeasureError(f"the bundle of {target} did not load under Node: {error.get('message', report)}"
                                 + (f" ({code})" if code else ""),
                                 package=error.get("package"), file=error.get("file"))
    try:
        packages = tuple(PackageMeasure(str(p["name"]), round(float(p["import_ms"])), sizes.get(str(p["name"]), 0))
                         for p in report["packages"])
        cold, load, call = (round(float(report[k])) for k in ("cold_start_ms", "load_ms", "first_call_ms"))
        measured_with = f"pyodide {report['pyodide']}, node {report['node']}"
        snapshot = report["snapshot"] is True
    except (KeyError, TypeError, ValueError) as exc:
        raise BudgetMeasureError(f"the measurement of {target} is incomplete: missing or bad {exc}",
                                 file=str(MEASURE_SCRIPT)) from exc
    named = {p.name for p in packages}
    return Measurement(
        target=target, cold_start_ms=cold, import_ms=sum(p.import_ms for p in packages),
        bundle_bytes=sum(sizes.values()), load_ms=load, first_call_ms=call,
        runtime_bytes=sizes.get(RUNTIME_PART, 0), snapshot_bytes=sizes.get(SNAPSHOT_PART, 0),
        other_bytes=sizes.get(OTHER_PART, 0)
        + sum(v for k, v in sizes.items() if k not in named and k not in (RUNTIME_PART, SNAPSHOT_PART, OTHER_PART)),
        snapshot=snapshot, measured_with=measured_with, packages=packages)


def measure_bundle(bundle_dir: Path, target: str, *, pyodide_dir: Path, node: str = "node",
                   timeout: float = 300.0) -> Measurement:
    """One cold start of ``bundle_dir`` under Node (a fresh process) and its bytes."""
    manifest = _manifest(bundle_dir)
    sizes = _sizes(fetched_files(bundle_dir, manifest, pyodide_dir))
    runtime = manifest.get("runtime")
    local_runtime = (isinstance(runtime, Mapping) and isinstance(runtime.get("index_url"), str)
                     and "://" not in runtime["index_url"])
    index = bundle_dir / runtime["index_url"] if local_runtime and isinstance(runtime, Mapping) else pyodide_dir
    try:
        proc = run_tool("node", [node, MEASURE_SCRIPT, "--bundle", bundle_dir, "--pyodide", index],
                        timeout=timeout, check=False)
    except ExternalToolError as exc:
        raise BudgetMeasureError(f"cannot measure the cold start of {target}: {exc.message}",
                                 file=str(bundle_dir)) from exc
    return parse_report(proc.stdout, target=target, sizes=sizes)
