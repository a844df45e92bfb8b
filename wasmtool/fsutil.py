"""Atomic file writes: temp file in the same folder, fsync, rename.

A replaced file keeps its mode (the user's ``chmod`` survives a re-lock); a new file gets the
mode a plain ``open(path, "w")`` would give it under the process's umask (``0o666 & ~umask``),
not the ``0o600`` of a temporary file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
import threading
from pathlib import Path

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask. Linux reports it in /proc; elsewhere it is read by setting and
    restoring it (under a lock, as ``os.umask`` is process-wide)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~current_umask()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def escaping_link(root: Path, path: Path) -> Path | None:
    """The first existing part of ``path`` (itself included) that is a symbolic link whose
    target lies outside ``root``, following links; ``None`` when writing ``path`` stays
    inside ``root``. A ``path`` not under ``root`` at all is returned as is.

    Only the file system is read (``lstat``/``resolve``); nothing is created. The check
    and the later write are not one atomic step: it guards against a project that ships
    a link, not against a process racing the tool.
    """
    base = root.resolve()
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        rel = absolute.relative_to(root if root.is_absolute() else Path.cwd() / root)
    except ValueError:
        try:
            rel = absolute.relative_to(base)
        except ValueError:
            return path
    current, shown = base, root
    for part in rel.parts:
        if part in ("", "."):
            continue
        current, shown = current / part, shown / part
        if part == ".." or current.is_symlink():
            target = current.resolve()
            if not target.is_relative_to(base):
                return shown
            current = target
    return None


def sha256_file(path: Path) -> str:
    """SHA-256 (hex) of the file at ``path``, read in chunks (``OSError`` as is)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
