"""What a killed run leaves in the cache, swept when the next command opens the cache.

A wasmtool killed with ``SIGKILL`` keeps its temp files: ``tmp/<sha256>.<random>.part`` (a
download, possibly tens of MB) and ``tmp/<sha256>.<random>.ref``. ``fetch`` only sweeps the
ones older than :attr:`~wasmtool.cache.ArtifactCache.stale_after` (an hour), so without this
a crash leaves them for an hour, unseen by ``cache info``'s artefact count.

A temp file of the cache is written only while its artefact's lock is held, and that lock is
a kernel lock (``flock``) the kernel drops when its process dies: a file whose lock is free
belongs to a dead (or finished) writer, whatever its age, and a file whose lock is held is
being written by a live wasmtool and is kept. :func:`sweep_stale` therefore removes the
lock-guarded temp files at once. A file it cannot tie to a lock (a name that does not start
with a digest; wasmtool never writes one) keeps the one-hour rule. The sweep never waits: if
``cache clean`` holds the cache exclusively, or the cache is unreadable, it does nothing (the
next command tries again) and it never fails the command that opened the cache.
"""

from __future__ import annotations

import time
from pathlib import Path

from wasmtool.cache.hashing import is_hex_digest
from wasmtool.cache.store import ArtifactCache
from wasmtool.errors import CacheError

__all__ = ["UNOWNED_MAX_AGE", "sweep_stale"]

#: Age in seconds after which a temp file that no artefact lock guards is abandoned.
UNOWNED_MAX_AGE = 3600.0


def _only_lock_guarded(tmp_dir: Path, *, now: float) -> bool | None:
    """``None`` when ``tmp_dir`` holds no file; else whether every young file is lock-guarded
    (its name starts with a SHA-256), so that an age of zero is safe for all of them."""
    try:
        entries = list(tmp_dir.iterdir())
    except OSError:
        return None
    seen = False
    for entry in entries:
        try:
            if not entry.is_file():
                continue
            seen = True
            if not is_hex_digest(entry.name.split(".", 1)[0]) and now - entry.stat().st_mtime < UNOWNED_MAX_AGE:
                return False
        except OSError:
            continue
    return True if seen else None


def sweep_stale(cache: ArtifactCache) -> int:
    """Remove the temp files under ``cache``'s ``tmp/`` that no live process is writing (see
    the module docstring). Returns how many were removed; never raises, never blocks."""
    guarded = _only_lock_guarded(cache.tmp_dir, now=time.time())
    if guarded is None:
        return 0
    # a copy that tries each lock once: the sweep must not wait behind `cache clean`
    probe = ArtifactCache(cache.root, lock_timeout=0.0, stale_after=cache.stale_after)
    try:
        return probe.clean_stale_tmp(0.0 if guarded else UNOWNED_MAX_AGE)
    except (CacheError, OSError):
        return 0
