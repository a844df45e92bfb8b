"""Small JSON verdicts about cached artefacts, by a key that names everything they depend on.

Layout under the cache root::

    verdicts/<kind>/<key>.json     {"format": 1, "kind", "key", "body", "body-sha256"}

``key`` is a hex SHA-256 the caller computes from every input of the verdict (for the wheel
audit: the wheel's SHA-256, the rule-set and data versions, the target's audit inputs, the
audit's own code); ``body`` is the verdict (a JSON object). A verdict about a content-addressed
file with the same inputs cannot change, so it is computed once and read afterwards.

Writes are atomic (temp file, ``fsync``, rename: :func:`wasmtool.fsutil.atomic_write_bytes`).
A read checks the entry before returning it: it must parse, name the same kind and key, and its
body must hash to the ``body-sha256`` it records. Anything else (missing, truncated, edited,
unreadable) reads as ``None``: the caller computes the verdict again and writes it over the bad
entry. A verdict store problem never fails a command.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["FORMAT", "read_verdict", "verdict_path", "write_verdict"]

#: Bumped when the entry's shape changes: older entries then read as missing.
FORMAT = 1
_KEY = re.compile(r"[0-9a-f]{64}")


def _canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def verdict_path(root: Path, kind: str, key: str) -> Path:
    """Where the ``kind`` verdict with ``key`` (a hex SHA-256) lives under the cache ``root``."""
    if not kind.isalnum():
        raise ValueError(f"verdict kind {kind!r} is not alphanumeric")
    if _KEY.fullmatch(key) is None:
        raise ValueError(f"verdict key {key!r} is not a hex SHA-256")
    return Path(root) / "verdicts" / kind / f"{key}.json"


def read_verdict(root: Path, kind: str, key: str) -> dict[str, Any] | None:
    """The stored body, or ``None`` when there is none or it fails its checks (see the module doc)."""
    try:
        raw = verdict_path(root, kind, key).read_bytes()
        data = json.loads(raw)
    except (OSError, ValueError, RecursionError):   # missing, unreadable, not JSON (or absurdly nested)
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("kind") != kind \
            or data.get("key") != key:
        return None
    body = data.get("body")
    if not isinstance(body, dict) or data.get("body-sha256") != hashlib.sha256(_canonical(body)).hexdigest():
        return None
    return body


def write_verdict(root: Path, kind: str, key: str, body: Mapping[str, Any]) -> bool:
    """Store ``body`` as the ``kind`` verdict with ``key`` (atomic replace). Returns whether it
    was written: a cache that cannot be written (read-only, full) only costs the next run the
    work again."""
    from wasmtool.fsutil import atomic_write_bytes

    path = verdict_path(root, kind, key)
    entry = {"format": FORMAT, "kind": kind, "key": key, "body": dict(body),
             "body-sha256": hashlib.sha256(_canonical(body)).hexdigest()}
    try:
        atomic_write_bytes(path, _canonical(entry) + b"\n")
    except OSError:
        return False
    return True
