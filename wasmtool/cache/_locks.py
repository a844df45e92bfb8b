"""Cross-process locks of the cache.

- Per artefact: a :class:`filelock.FileLock` on ``locks/<sha256>.lock``. Held for a whole
  fetch, so two processes asking for the same artefact download it once.
- Global: :class:`SharedExclusiveLock` on ``locks/cache.lock``. Every fetch, lookup and
  stale-temp sweep holds it *shared*; ``clean`` holds it *exclusive*, so ``clean`` never
  deletes a file a fetch is writing. Always taken before any per-artefact lock.

Both are kernel locks (``flock``) on POSIX: a killed process loses them at once, which is
what lets a later run tell an abandoned temp file from one still being written. Windows
has no shared ``flock``; there the global lock is an exclusive :class:`filelock.FileLock`
(fetches then serialise with each other, which is slower but still correct).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a per-artefact lock is taken: lookups only take the global one
    import filelock

__all__ = ["LockTimeout", "SharedExclusiveLock", "artefact_lock"]


class LockTimeout(Exception):
    """Internal: a lock was not acquired in time (translated by the caller)."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


@contextmanager
def artefact_lock(path: Path, *, timeout: float) -> Iterator[filelock.FileLock]:
    """Hold the per-artefact lock at ``path``; ``timeout`` < 0 waits forever, 0 tries once."""
    import filelock

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(path), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise LockTimeout(path) from exc
    try:
        yield lock
    finally:
        lock.release()


class SharedExclusiveLock:
    """Readers/writer lock over one file: ``flock`` with a fresh open file description per hold."""

    def __init__(self, path: Path, *, timeout: float) -> None:
        self.path = path
        self.timeout = timeout

    def shared(self) -> AbstractContextManager[None]:
        return self._hold(shared=True)

    def exclusive(self) -> AbstractContextManager[None]:
        return self._hold(shared=False)

    @contextmanager
    def _hold(self, *, shared: bool) -> Iterator[None]:
        if sys.platform == "win32":  # pragma: no cover - no shared flock on Windows
            with artefact_lock(self.path, timeout=self.timeout):
                yield
            return
        import fcntl

        operation = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = None if self.timeout < 0 else time.monotonic() + self.timeout
            delay = 0.005
            while True:
                try:
                    fcntl.flock(fd, operation | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise LockTimeout(self.path) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.1)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
