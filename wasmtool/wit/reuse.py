"""What a warm install takes from a component's cache entry instead of redoing it: the
compiled ``.cwasm`` and the self-check's verdict (see :func:`wasmtool.wit.build.run_selfcheck`).

Both are pure functions of the component's bytes and of the engine (the wasmtime version and
its configuration, :func:`wasmtool.wit.component.engine_key`):

- the ``.cwasm`` is named ``component-<input-hash>-<engine-key>.cwasm``; the cache entry
  ``components/<input-hash>/`` holds exactly one ``component.wasm`` for that input hash, and an
  install publishes the entry's ``component.wasm`` and ``.cwasm`` together. A ``.cwasm`` that
  does not load (another wasmtime, a damaged file) is compiled again;
- the verdict ``selfcheck-<engine-key>.json`` records the SHA-256 of the ``component.wasm`` it
  was computed on, and is used only for a component with exactly those bytes; a verdict that
  does not parse, has another format or another engine, or names other bytes is ignored (the
  check runs again and rewrites it).

Both are written atomically (a reader never meets half a file) and copied, never linked: an
installed project keeps working when the cache is cleaned, and nothing done to the cache
afterwards reaches into a project.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from wasmtool.fsutil import atomic_write_bytes, atomic_write_text, sha256_file

__all__ = ["VERDICT_FORMAT", "publish_copy", "read_verdict", "verdict_path", "write_verdict"]

log = logging.getLogger("wasmtool.wit.reuse")

#: Bump when what a verdict holds changes.
VERDICT_FORMAT = "wasmtool-selfcheck-verdict/1"

Failure = tuple[str, str, str]


def verdict_path(entry: Path, engine: str) -> Path:
    """Where the cache entry ``entry`` keeps the self-check's verdict for engine key ``engine``."""
    return entry / f"selfcheck-{engine}.json"


def _failures(value: object) -> list[Failure] | None:
    if not isinstance(value, list):
        return None
    out: list[Failure] = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 3 and all(isinstance(x, str) for x in item)):
            return None
        out.append((item[0], item[1], item[2]))
    return sorted(out)


def read_verdict(entry: Path, engine: str, component: Path) -> list[Failure] | None:
    """The failures the self-check found for ``component`` (its bytes) under ``engine``, as
    recorded in ``entry``; None when there is no usable verdict (see the module docstring)."""
    path = verdict_path(entry, engine)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:     # ValueError: not JSON, not UTF-8
        log.info("ignoring %s: %s", path, exc)
        return None
    if not isinstance(data, dict) or data.get("format") != VERDICT_FORMAT or data.get("engine") != engine:
        log.info("ignoring %s: another format or engine", path)
        return None
    failures = _failures(data.get("failures"))
    if failures is None:
        log.info("ignoring %s: no failure list", path)
        return None
    try:
        digest = sha256_file(component)
    except OSError:
        return None
    if data.get("component_sha256") != digest:
        log.info("ignoring %s: recorded for other component bytes", path)
        return None
    return failures


def write_verdict(entry: Path, engine: str, component: Path, failures: Sequence[Failure]) -> None:
    """Record the self-check's ``failures`` for ``component`` (its bytes) under ``engine`` in
    ``entry``; a failure to write is logged (the next install checks again)."""
    data = {"format": VERDICT_FORMAT, "engine": engine, "component_sha256": sha256_file(component),
            "failures": [list(f) for f in sorted(failures)]}
    try:
        atomic_write_text(verdict_path(entry, engine), json.dumps(data, indent=1, sort_keys=True) + "\n")
    except OSError as exc:
        log.warning("cannot write %s: %s", verdict_path(entry, engine), exc)


def publish_copy(src: Path, dest: Path, *, replace: bool = False) -> bool:
    """Copy ``src`` to ``dest`` atomically unless ``dest`` exists (or with ``replace``, over it;
    a copy, not a link: see the module docstring); True when ``dest`` is there afterwards. A
    failure is logged."""
    if dest.is_file() and not replace:
        return True
    if src == dest or not src.is_file():
        return False
    try:
        atomic_write_bytes(dest, src.read_bytes())
    except OSError as exc:
        log.warning("cannot copy %s to %s: %s", src, dest, exc)
        return False
    return True
