"""Content-addressed artefact cache: SHA-256 checked, BLAKE3 recorded, crash-safe.

Layout under the root (see :func:`~wasmtool.cache.location.default_cache_dir`)::

    <root>/
      wheels/<blake3>/<filename>   the artefact bytes; the folder is the BLAKE3-256 of the file
                                   (formats.md §6), so every file here can check itself
      by-sha256/<sha256>.json      ref: {"blake3", "filename", "package", "sha256", "size"}
                                   (+ "checked": the wheel-check verdict);
                                   the SHA-256 is what indexes and locks publish, so this is
                                   the lookup key
      tmp/<sha256>.<random>.part   a download in progress (or abandoned by a crash)
      tmp/<sha256>.<random>.ref    a ref being written
      locks/<sha256>.lock          per-artefact lock, held for a whole fetch
      locks/cache.lock             global lock: shared by fetch/lookup/sweep, exclusive for clean
      sidecars/<sha256>.<kind>     a document about the artefact with that SHA-256 (``provenance``:
                                   its PEP 740 provenance), written atomically, checked by its reader
      stubs/, surfaces/, components/... what other layers derive from artefacts
                                   (:data:`DERIVED_FOLDERS`), keyed by all it depends on

Write protocol (:meth:`ArtifactCache.fetch`), under the global lock (shared) and the
artefact's lock:

1. if ``by-sha256/<sha256>.json`` exists and its file has the recorded size: return it;
2. stream the body into ``tmp/<sha256>.<random>.part``, feeding SHA-256 and BLAKE3 from the
   same chunks;
3. compare the SHA-256 with the expected one; on mismatch delete the temp file and raise
   :class:`~wasmtool.errors.HashMismatchError` (nothing else was touched); with
   ``check_wheels`` (what a project's context uses), a ``.whl`` must also pass
   :mod:`wasmtool.cache.wheel_check`, else :class:`~wasmtool.cache.errors.WheelRejectedError`
   (nothing touched either) — the ref records the verdict (``"checked"``), so a wheel is
   checked once; an entry without it (an older cache) is checked on first use, and evicted
   if refused;
4. ``fsync``, then ``os.replace`` into ``wheels/<blake3>/<filename>``;
5. write the ref into ``tmp/``, ``fsync``, ``os.replace`` into ``by-sha256/``.

``tmp/`` is inside the root, so both renames stay on one filesystem and are atomic. A crash
at any moment leaves under ``wheels/`` and ``by-sha256/`` only complete files: at worst an
artefact without a ref (never served, reported by :meth:`~ArtifactCache.verify_all`, removed
by :meth:`~ArtifactCache.clean`, overwritten by the next fetch) and a file in ``tmp/``.
Temp files older than ``stale_after`` seconds whose artefact lock nobody holds are removed
by the next fetch (the kernel drops a killed process's locks, so "not locked" means
"abandoned").

A ref is only trusted with its file's size checked; ``lookup(verify=True)`` and
``verify_all`` re-hash both digests. Wrong bytes are always an error
(:class:`~wasmtool.errors.HashMismatchError`, or its subclass
:class:`~wasmtool.cache.errors.CachedSizeMismatchError`), never served; ``fetch`` replaces
a cached file whose size or ref is wrong.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wasmtool.cache._locks import LockTimeout, SharedExclusiveLock, artefact_lock
from wasmtool.cache._progress import progress_reporter
from wasmtool.cache._source import Opener, Source, open_local, open_url
from wasmtool.cache.errors import (
    CORRUPT_HINT,
    CachedArtifactMissingError,
    CachedSizeMismatchError,
    CacheIOError,
    CacheLockTimeoutError,
    CacheRefError,
    InvalidDigestError,
    InvalidFilenameError,
    OrphanArtifactError,
    WheelRejectedError,
)
from wasmtool.cache.hashing import DualHasher, hash_file, is_hex_digest
from wasmtool.cache.wheel_check import VALIDATOR_VERSION
from wasmtool.errors import CacheError, HashMismatchError

if TYPE_CHECKING:  # imported by _source when a URL is opened; lookups never need it
    import httpx

__all__ = ["ArtifactCache", "CacheInfo", "CacheProblem", "CachedArtifact"]

GLOBAL_LOCK_NAME = "cache.lock"
#: ``<root>/verified.json``: when ``cache verify`` last ran and how many problems it found.
VERIFIED_NAME = "verified.json"
_PART_SUFFIX = ".part"
_REF_SUFFIX = ".ref"
#: A ref's ``checked`` value for a wheel the current rules accept (wasmtool.cache.wheel_check).
_VERDICT_OK = f"{VALIDATOR_VERSION} ok"


@dataclass(frozen=True)
class CachedArtifact:
    """One artefact in the cache. ``path`` is ``<root>/wheels/<blake3>/<filename>``."""

    path: Path
    filename: str
    sha256: str
    blake3: str
    size: int


#: The cache's folders of what ``lock``, ``bind`` and ``install`` derive from artefacts, each
#: entry keyed by everything it depends on (stub sets, mapped surfaces, rendered workspaces,
#: wheel summaries, built components, verdicts...): :meth:`ArtifactCache.clean` removes them
#: with the artefacts. Their writers name them; the list is here so that ``clean`` knows them.
DERIVED_FOLDERS = ("builds", "components", "declarations", "pyodide-bytecode", "stubs", "summaries", "surfaces",
                   "verdicts", "workspaces")


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


@dataclass(frozen=True)
class CacheInfo:
    """``artefacts``/``bytes``: files under ``wheels/`` and their total size.

    ``tmp_files``: files under ``tmp/`` (downloads in progress or abandoned).
    """

    root: Path
    artefacts: int
    bytes: int
    tmp_files: int


@dataclass(frozen=True)
class CacheProblem:
    """One inconsistency :meth:`ArtifactCache.verify_all` found: the path and the error it would raise."""

    path: Path
    error: CacheError

    @property
    def code(self) -> str:
        return self.error.code

    def __str__(self) -> str:
        return str(self.error)


@dataclass(frozen=True)
class _Ref:
    """The content of ``by-sha256/<sha256>.json`` (pure: no file IO here)."""

    filename: str
    blake3: str
    sha256: str
    size: int
    package: str
    #: the wheel-check verdict, ``"<VALIDATOR_VERSION> ok"``; empty: never checked
    checked: str = ""

    def to_json(self) -> str:
        data: dict[str, object] = {
            "blake3": self.blake3,
            "filename": self.filename,
            "package": self.package,
            "sha256": self.sha256,
            "size": self.size,
        }
        if self.checked:
            data["checked"] = self.checked
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: Any) -> _Ref:
        """Validate a parsed ref; ``ValueError`` names every problem found."""
        if not isinstance(data, dict):
            raise ValueError("ref is not a JSON object")
        problems: list[str] = []
        for key in ("filename", "blake3", "sha256", "package"):
            if not isinstance(data.get(key), str):
                problems.append(f"{key}: missing or not a string")
        size = data.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            problems.append("size: missing or not a non-negative integer")
        for key in ("blake3", "sha256"):
            value = data.get(key)
            if isinstance(value, str) and not is_hex_digest(value):
                problems.append(f"{key}: not 64 lower-case hex characters")
        filename = data.get("filename")
        if isinstance(filename, str) and not _is_plain_filename(filename):
            problems.append("filename: not a plain file name")
        if problems:
            raise ValueError("; ".join(problems))
        return cls(
            filename=data["filename"],
            blake3=data["blake3"],
            sha256=data["sha256"],
            size=data["size"],
            package=data["package"],
            checked=data["checked"] if isinstance(data.get("checked"), str) else "",
        )


def _is_plain_filename(name: str) -> bool:
    return (
        bool(name)
        and name not in (".", "..")
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
        and not name.startswith(".")  # keeps artefacts apart from any hidden bookkeeping file
    )


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (best effort; not every platform can open a folder)."""
    if sys.platform == "win32":  # pragma: no cover
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_all(fh: Any, data: bytes) -> None:
    """Write ``data`` through an unbuffered file (so the file size on disk tracks the bytes received)."""
    view = memoryview(data)
    while view:
        written = fh.write(view)
        if written is None:  # pragma: no cover - only non-blocking files return None
            continue
        view = view[written:]


class ArtifactCache:
    """The artefact cache rooted at ``root`` (nothing is created until something is stored).

    ``lock_timeout``: seconds to wait for a lock (another process fetching the same
    artefact, or running ``clean``) before :class:`CacheLockTimeoutError`; negative waits
    forever. ``stale_after``: age in seconds after which an unlocked temp file is abandoned.
    ``check_wheels``: validate every ``.whl`` once, when it enters (or, cached without a
    verdict, when first used); off by default so the cache stays a plain byte store for
    callers that hold other artefacts, on in every project context.
    """

    def __init__(
        self,
        root: Path,
        *,
        lock_timeout: float = 600.0,
        stale_after: float = 3600.0,
        check_wheels: bool = False,
    ) -> None:
        self.root = Path(root)
        self.lock_timeout = lock_timeout
        self.stale_after = stale_after
        self.check_wheels = check_wheels
        #: entries this object stored (not found): what :meth:`discard_added` may take back
        self._added: set[str] = set()

    def __repr__(self) -> str:
        return f"ArtifactCache({str(self.root)!r})"

    # -- layout --------------------------------------------------------------------------

    @property
    def wheels_dir(self) -> Path:
        return self.root / "wheels"

    @property
    def refs_dir(self) -> Path:
        return self.root / "by-sha256"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    @property
    def locks_dir(self) -> Path:
        return self.root / "locks"

    def artefact_path(self, blake3: str, filename: str) -> Path:
        return self.wheels_dir / blake3 / filename

    def ref_path(self, sha256: str) -> Path:
        return self.refs_dir / f"{sha256}.json"

    def sidecar_path(self, sha256: str, kind: str) -> Path:
        """Where the ``kind`` document about the artefact ``sha256`` is kept (see the layout)."""
        sha = self._check_digest(sha256, package="", filename="", what="sha256")
        if not kind.isalnum():
            raise ValueError(f"sidecar kind {kind!r} is not alphanumeric")
        return self.root / "sidecars" / f"{sha}.{kind}"

    def read_sidecar(self, sha256: str, kind: str) -> bytes | None:
        """The ``kind`` document stored for ``sha256``, ``None`` when there is none."""
        try:
            return self.sidecar_path(sha256, kind).read_bytes()
        except FileNotFoundError:
            return None

    def write_sidecar(self, sha256: str, kind: str, data: bytes) -> Path:
        """Store ``data`` as the ``kind`` document for ``sha256`` (atomic replace)."""
        from wasmtool.fsutil import atomic_write_bytes

        path = self.sidecar_path(sha256, kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
        return path

    # -- public API ----------------------------------------------------------------------

    def lookup(self, sha256: str, *, verify: bool = False, evict: bool = False) -> CachedArtifact | None:
        """The cached artefact with this SHA-256, or ``None``.

        The file's size is always checked against the ref; ``verify=True`` also re-hashes
        SHA-256 and BLAKE3. A wrong file raises :class:`HashMismatchError` (size:
        :class:`CachedSizeMismatchError`), a missing one :class:`CachedArtifactMissingError`,
        an unreadable ref :class:`CacheRefError`. With ``evict=True`` such an entry is
        removed first (still wrong under its artefact lock), so the next ``fetch`` stores
        it again instead of every later read failing.
        """
        sha = self._check_digest(sha256, package="", filename="", what="sha256")
        if not self.ref_path(sha).exists():
            return None
        with self._global(shared=True, package="", filename=""):
            try:
                return self._checked(self._lookup_locked(sha, verify=verify), sha, locked=False)
            except (CacheRefError, CachedArtifactMissingError, HashMismatchError):
                if evict:
                    self._evict_if_bad_locked(sha, verify=verify)
                raise

    def discard_added(self, sha256: str) -> bool:
        """Remove the entry with this SHA-256 if this object stored it (a command that fails
        after a download, for a reason found in the file, leaves the cache as it was); an
        entry that was already cached is kept. Returns whether an entry was removed."""
        sha = self._check_digest(sha256, package="", filename="", what="sha256")
        if sha not in self._added:
            return False
        with self._global(shared=True, package="", filename=""), \
                self._artefact_locked(sha, package="", filename=""):
            ref = self._read_ref_file(self.ref_path(sha), sha256=sha, tolerant=True)
            self._evict_locked(sha)
            if ref is not None:
                with suppress(OSError):   # its folder, when nothing else is in it
                    self.artefact_path(ref.blake3, ref.filename).parent.rmdir()
        self._added.discard(sha)
        return True

    def evict_bad(self) -> list[CacheProblem]:
        """Remove every entry whose ref, file size or digests are wrong (what ``verify_all``
        reports for refs); return the problems of the entries removed. Files no ref points
        at are left to :meth:`clean`."""
        removed: list[CacheProblem] = []
        for ref_file in self._iter_files(self.refs_dir):
            sha = ref_file.name.removesuffix(".json")
            if not is_hex_digest(sha):
                continue
            try:
                self.lookup(sha, verify=True, evict=True)
            except (CacheRefError, CachedArtifactMissingError, HashMismatchError) as exc:
                removed.append(CacheProblem(path=Path(exc.file) if exc.file else ref_file, error=exc))
        return removed

    def record_verified(self, problems: int) -> None:
        """Note that :meth:`verify_all` just ran (``problems`` found), for :meth:`last_verified`
        (nothing is created for a cache that does not exist yet)."""
        if not self.root.is_dir():
            return
        data = json.dumps({"problems": problems, "time": time.time()}, sort_keys=True) + "\n"
        tmp = self.root / f".{VERIFIED_NAME}.{os.getpid()}.tmp"
        try:
            tmp.write_text(data, encoding="utf-8")
            os.replace(tmp, self.root / VERIFIED_NAME)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise CacheIOError(f"cannot record the verification: {exc}", package="", filename="",
                               path=self.root / VERIFIED_NAME) from exc

    def last_verified(self) -> tuple[float, int] | None:
        """When :meth:`verify_all` last ran through ``cache verify`` and how many problems it
        found; ``None``: never (or the record is unreadable)."""
        try:
            data = json.loads((self.root / VERIFIED_NAME).read_text(encoding="utf-8"))
            return float(data["time"]), int(data["problems"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _evict_if_bad_locked(self, sha: str, *, verify: bool) -> None:
        """Evict ``sha``'s entry if it is still wrong once its artefact lock is held (a
        concurrent fetch may have just repaired it). Caller holds the global lock, shared."""
        with self._artefact_locked(sha, package="", filename=""):
            try:
                self._lookup_locked(sha, verify=verify)
            except (CacheRefError, CachedArtifactMissingError, HashMismatchError):
                self._evict_locked(sha)

    def lookup_many(self, sha256s: Iterable[str], *, verify: bool = False) -> dict[str, CachedArtifact]:
        """:meth:`lookup` of each of ``sha256s`` under one hold of the global lock: the cached
        ones, keyed as given (absent ones are left out); a wrong file raises as in :meth:`lookup`."""
        wanted = {given: self._check_digest(given, package="", filename="", what="sha256") for given in sha256s}
        present = {given: sha for given, sha in wanted.items() if self.ref_path(sha).exists()}
        if not present:
            return {}
        found: dict[str, CachedArtifact] = {}
        with self._global(shared=True, package="", filename=""):
            for given, sha in present.items():
                hit = self._checked(self._lookup_locked(sha, verify=verify), sha, locked=False)
                if hit is not None:
                    found[given] = hit
        return found

    def fetch(
        self,
        url: str,
        *,
        package: str,
        filename: str,
        expected_sha256: str,
        opener: Opener | httpx.Client,
        progress: bool | None = None,
    ) -> CachedArtifact:
        """The artefact with ``expected_sha256``, downloaded from ``url`` unless cached.

        ``opener`` is an ``httpx.Client`` or any callable returning a context manager over
        byte chunks; ``file:`` URLs are read directly. ``progress``: ``None`` draws a bar
        only when stderr is a terminal. Raises :class:`HashMismatchError` (the cache is left
        exactly as it was), :class:`DownloadError`, :class:`CacheLockTimeoutError`,
        :class:`CacheIOError`.
        """
        self._check_filename(filename, package=package)
        sha = self._check_digest(expected_sha256, package=package, filename=filename, what="sha256")

        def from_url() -> CachedArtifact:
            return self._store(
                sha,
                package=package,
                filename=filename,
                origin=url,
                open_source=lambda: open_url(url, opener, package=package, filename=filename),
                progress=progress,
            )

        from wasmtool.cache.remote import fetch_through  # the remote tier, when one is attached (else from_url)

        return fetch_through(self, sha, package=package, filename=filename, fetch=from_url)

    def add_file(self, path: Path, *, package: str, expected_sha256: str | None = None) -> CachedArtifact:
        """Import a local file (e.g. from a ``file://`` index) under its own name.

        Its bytes are hashed while copied; with ``expected_sha256`` they must match it, and
        without it they must still match the first reading (a file changing underneath is
        caught).
        """
        path = Path(path)
        filename = path.name
        self._check_filename(filename, package=package)
        if expected_sha256 is None:
            with open_local(path, package=package, filename=filename) as source:
                hasher = DualHasher()
                for chunk in source.chunks:
                    hasher.update(chunk)
            expected_sha256 = hasher.sha256
        sha = self._check_digest(expected_sha256, package=package, filename=filename, what="sha256")
        return self._store(
            sha,
            package=package,
            filename=filename,
            origin=str(path),
            open_source=lambda: open_local(path, package=package, filename=filename),
            progress=False,
        )

    def info(self) -> CacheInfo:
        """Counts and sizes (a snapshot: not locked, concurrent fetches may change it)."""
        artefacts = total = 0
        for file in self._iter_artefact_files():
            try:
                size = file.stat().st_size
            except OSError:
                continue
            artefacts += 1
            total += size
        tmp_files = sum(1 for _ in self._iter_files(self.tmp_dir))
        return CacheInfo(root=self.root, artefacts=artefacts, bytes=total, tmp_files=tmp_files)

    def clean(self, *, older_than: float | None = None) -> int:
        """Remove artefacts, refs, temp and lock files, and what was derived from artefacts
        (:data:`DERIVED_FOLDERS`, sidecars); return how many files went.

        ``older_than`` (seconds) keeps whatever was stored or last fetched more recently
        than that (a fetch that finds an artefact refreshes its ref's modification time).
        Runs under the global lock held exclusively, so it waits for running fetches and
        holds new ones back.
        """
        if not self.root.is_dir():
            return 0
        cutoff = None if older_than is None else time.time() - older_than

        def is_old(path: Path) -> bool:
            if cutoff is None:
                return True
            try:
                return path.stat().st_mtime < cutoff
            except FileNotFoundError:
                return False

        removed = 0
        with self._global(shared=False, package="", filename=""):
            keep: set[str] = set()
            for ref_file in self._iter_files(self.refs_dir):
                if not is_old(ref_file):
                    ref = self._read_ref_file(ref_file, sha256=None, tolerant=True)
                    if ref is not None:
                        keep.add(ref.blake3)
                    continue
                # the ref goes first: a crash mid-clean must not leave a ref without its file
                ref_file.unlink(missing_ok=True)
            if self.wheels_dir.is_dir():
                for folder in sorted(self.wheels_dir.iterdir()):
                    if folder.name in keep:
                        continue
                    files = [folder] if not folder.is_dir() else list(self._iter_files(folder))
                    if not all(is_old(f) for f in files):
                        continue
                    if folder.is_dir():
                        shutil.rmtree(folder, ignore_errors=True)
                    else:
                        folder.unlink(missing_ok=True)
                    removed += len(files)
            for tmp_file in self._iter_files(self.tmp_dir):
                if is_old(tmp_file):
                    tmp_file.unlink(missing_ok=True)
                    removed += 1
            removed += self._clean_derived(is_old, keep_sidecars=self._kept_shas())
            # nobody holds an artefact lock while the global lock is exclusive
            for lock_file in self._iter_files(self.locks_dir):
                if lock_file.name != GLOBAL_LOCK_NAME:
                    lock_file.unlink(missing_ok=True)
        return removed

    def _kept_shas(self) -> set[str]:
        """The SHA-256 of every artefact a ref still points at (their sidecars stay)."""
        return {ref.stem for ref in self._iter_files(self.refs_dir)}

    def _clean_derived(self, is_old: Callable[[Path], bool], *, keep_sidecars: set[str]) -> int:
        """Remove the entries derived from artefacts (:data:`DERIVED_FOLDERS`) that are old, and
        the sidecars of artefacts that are gone; the number of files removed. An entry is a
        top-level file or folder of its folder, removed whole when every file in it is old. A
        hidden entry (a component build in progress, ``.tmp-*``) goes only once it is older
        than ``stale_after``, whatever ``is_old`` says: its writer does not take the global
        lock."""
        stale = time.time() - self.stale_after
        removed = 0
        for name in DERIVED_FOLDERS:
            folder = self.root / name
            try:
                entries = sorted(folder.iterdir())
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                # a link is removed itself, never followed (it may point out of the cache)
                folder_entry = entry.is_dir() and not entry.is_symlink()
                files = [p for p in entry.rglob("*") if p.is_file()] if folder_entry else [entry]
                # the folder's own time too: a build's folder is empty for a moment after mkdtemp
                if entry.name.startswith(".") and not all(_mtime(p) < stale for p in (entry, *files)):
                    continue
                if not all(is_old(f) for f in files):
                    continue
                if folder_entry:
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                removed += len(files)
        for sidecar in self._iter_files(self.root / "sidecars"):
            if sidecar.name.partition(".")[0] not in keep_sidecars:
                sidecar.unlink(missing_ok=True)
                removed += 1
        return removed

    def clean_stale_tmp(self, max_age: float | None = None) -> int:
        """Remove temp files older than ``max_age`` seconds (default ``stale_after``) nobody is writing.

        A temp file is being written exactly when its artefact lock is held; such files are
        kept whatever their age. Returns how many were removed. ``fetch`` runs this first.
        """
        if not self.tmp_dir.is_dir():
            return 0
        with self._global(shared=True, package="", filename=""):
            return self._sweep_tmp_locked(self.stale_after if max_age is None else max_age)

    def verify_all(self) -> list[CacheProblem]:
        """Re-check everything: every ref, its file's size and both digests, and every file
        under ``wheels/`` against the BLAKE3 that names its folder. Empty list = consistent."""
        if not self.root.is_dir():
            return []
        problems: list[CacheProblem] = []

        def report(error: CacheError, fallback: Path) -> None:
            problems.append(CacheProblem(path=Path(error.file) if error.file else fallback, error=error))

        with self._global(shared=True, package="", filename=""):
            referenced: set[str] = set()
            checked: set[Path] = set()
            for ref_file in self._iter_files(self.refs_dir):
                sha = ref_file.name.removesuffix(".json")
                if not (ref_file.name.endswith(".json") and is_hex_digest(sha)):
                    report(
                        CacheRefError(
                            "not a ref (expected <sha256>.json)", package="", filename="", path=ref_file
                        ),
                        ref_file,
                    )
                    continue
                try:
                    ref = self._read_ref_file(ref_file, sha256=sha, tolerant=False)
                    if ref is None:  # removed meanwhile
                        continue
                    referenced.add(ref.blake3)
                    checked.add(self.artefact_path(ref.blake3, ref.filename))
                    self._lookup_locked(sha, verify=True)
                except CacheError as exc:
                    report(exc, ref_file)
            for file in self._iter_artefact_files():
                if file in checked:
                    continue
                folder = file.parent.name
                if file.parent.parent != self.wheels_dir or folder not in referenced:
                    report(
                        OrphanArtifactError(
                            "no by-sha256 ref points at this file",
                            package="",
                            filename=file.name,
                            path=file,
                            hint="harmless; `clean` removes it",
                        ),
                        file,
                    )
                    continue
                # another name for bytes already referenced: it must hash to its folder's name
                try:
                    _, actual_b3 = hash_file(file)
                except OSError as exc:
                    report(
                        CacheIOError(f"cannot read: {exc}", package="", filename=file.name, path=file), file
                    )
                    continue
                if actual_b3 != folder:
                    err = HashMismatchError(
                        package="",
                        filename=file.name,
                        algorithm="blake3",
                        expected=folder,
                        actual=actual_b3,
                        file=str(file),
                    )
                    err.hint = CORRUPT_HINT
                    report(err, file)
        return problems

    # -- internals -----------------------------------------------------------------------

    def _store(
        self,
        sha: str,
        *,
        package: str,
        filename: str,
        origin: str,
        open_source: Callable[[], AbstractContextManager[Source]],
        progress: bool | None,
    ) -> CachedArtifact:
        with self._global(shared=True, package=package, filename=filename):
            with suppress(OSError):  # housekeeping only; never fails a fetch
                self._sweep_tmp_locked(self.stale_after)
            with self._artefact_locked(sha, package=package, filename=filename):
                hit = self._hit_locked(sha, package=package, filename=filename)
                if hit is not None:
                    return hit
                with open_source() as source:
                    stored = self._ingest_locked(
                        source, sha=sha, package=package, filename=filename, origin=origin, progress=progress
                    )
                self._added.add(sha)
                return stored

    def _hit_locked(self, sha: str, *, package: str, filename: str) -> CachedArtifact | None:
        """A usable cached copy under ``filename``; a broken entry is evicted (it is about to be replaced)."""
        try:
            cached = self._lookup_locked(sha, verify=False)
        except (CacheRefError, CachedArtifactMissingError, HashMismatchError):
            self._evict_locked(sha)
            return None
        if cached is None:
            return None
        if cached.filename != filename:
            # same bytes published under another name: copy them (verified) under this one
            with open_local(cached.path, package=package, filename=filename) as source:
                return self._ingest_locked(
                    source,
                    sha=sha,
                    package=package,
                    filename=filename,
                    origin=str(cached.path),
                    progress=False,
                )
        cached = self._checked(cached, sha, locked=True)
        with suppress(OSError):
            os.utime(self.ref_path(sha))  # "last used", for clean(older_than=...)
        return cached

    def _evict_locked(self, sha: str) -> None:
        ref_file = self.ref_path(sha)
        ref = self._read_ref_file(ref_file, sha256=sha, tolerant=True)
        ref_file.unlink(missing_ok=True)
        if ref is not None:
            self.artefact_path(ref.blake3, ref.filename).unlink(missing_ok=True)

    def _ingest_locked(
        self,
        source: Source,
        *,
        sha: str,
        package: str,
        filename: str,
        origin: str,
        progress: bool | None,
    ) -> CachedArtifact:
        """Steps 2-5 of the write protocol (module docstring). Caller holds the artefact lock."""
        hasher = DualHasher()
        tmp: Path | None = None
        try:
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f"{sha}.", suffix=_PART_SUFFIX, dir=self.tmp_dir)
            tmp = Path(tmp_name)
            with (
                os.fdopen(fd, "wb", buffering=0) as fh,
                progress_reporter(enabled=progress, description=filename, total=source.total) as advance,
            ):
                for chunk in source.chunks:
                    _write_all(fh, chunk)
                    hasher.update(chunk)
                    advance(len(chunk))
                os.fsync(fh.fileno())
            if hasher.sha256 != sha:
                raise HashMismatchError(
                    package=package,
                    filename=filename,
                    algorithm="sha256",
                    expected=sha,
                    actual=hasher.sha256,
                    file=origin,
                )
            checked = self._check_wheel(tmp, package=package, filename=filename, origin=origin)
            dest = self.artefact_path(hasher.blake3, filename)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
            tmp = None
        except OSError as exc:
            raise CacheIOError(
                f"cannot write into the cache: {exc}",
                package=package,
                filename=filename,
                path=tmp or self.tmp_dir,
            ) from exc
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        _fsync_dir(dest.parent)
        ref = _Ref(
            filename=filename, blake3=hasher.blake3, sha256=sha, size=hasher.size, package=package, checked=checked
        )
        self._write_ref(ref)
        return CachedArtifact(
            path=dest, filename=filename, sha256=sha, blake3=hasher.blake3, size=hasher.size
        )

    def _wants_check(self, filename: str) -> bool:
        return self.check_wheels and filename.endswith(".whl")

    def _check_wheel(self, path: Path, *, package: str, filename: str, origin: str) -> str:
        """The verdict to record for the complete file at ``path`` (``""``: not a checked
        kind); raises :class:`WheelRejectedError` naming ``origin`` for a refused wheel."""
        if not self._wants_check(filename):
            return ""
        from wasmtool.cache._wheel_zip import check_wheel_file

        problems = check_wheel_file(path)
        if problems:
            raise WheelRejectedError(
                package=package, filename=filename, path=origin,
                problems=[(p.member, p.message) for p in problems],
            )
        return _VERDICT_OK

    def _checked(self, cached: CachedArtifact | None, sha: str, *, locked: bool) -> CachedArtifact | None:
        """``cached`` once its wheel carries this validator's verdict. A wheel cached before
        (an older cache, or a cache used without checks) is checked now, once: its ref gains
        the verdict, or the entry is evicted and :class:`WheelRejectedError` raised.
        ``locked``: the caller holds the artefact lock (else it is taken here)."""
        if cached is None or not self._wants_check(cached.filename):
            return cached
        ref = self._read_ref_file(self.ref_path(sha), sha256=sha, tolerant=True)
        if ref is not None and ref.checked == _VERDICT_OK:
            return cached
        with ExitStack() as stack:
            if not locked:
                stack.enter_context(self._artefact_locked(sha, package="", filename=cached.filename))
            ref = self._read_ref_file(self.ref_path(sha), sha256=sha, tolerant=True)
            if ref is None or ref.checked == _VERDICT_OK:  # evicted or checked meanwhile
                return cached if ref is not None else None
            try:
                verdict = self._check_wheel(cached.path, package=ref.package, filename=ref.filename,
                                            origin=str(cached.path))
            except WheelRejectedError:
                self._evict_locked(sha)
                raise
            self._write_ref(dataclasses.replace(ref, checked=verdict))
        return cached

    def _write_ref(self, ref: _Ref) -> None:
        """Write a ref through ``tmp/`` so no partial ref is ever visible in ``by-sha256/``."""
        tmp: Path | None = None
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f"{ref.sha256}.", suffix=_REF_SUFFIX, dir=self.tmp_dir)
            tmp = Path(tmp_name)
            with os.fdopen(fd, "wb") as fh:
                fh.write(ref.to_json().encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
            self.refs_dir.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, self.ref_path(ref.sha256))
            tmp = None
        except OSError as exc:
            raise CacheIOError(
                f"cannot write the ref: {exc}",
                package=ref.package,
                filename=ref.filename,
                path=self.ref_path(ref.sha256),
            ) from exc
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        _fsync_dir(self.refs_dir)

    def _lookup_locked(self, sha: str, *, verify: bool) -> CachedArtifact | None:
        ref = self._read_ref_file(self.ref_path(sha), sha256=sha, tolerant=False)
        if ref is None:
            return None
        path = self.artefact_path(ref.blake3, ref.filename)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise CachedArtifactMissingError(
                f"the ref {self.ref_path(sha)} points at a missing file",
                package=ref.package,
                filename=ref.filename,
                path=path,
                hint=CORRUPT_HINT,
            ) from None
        except OSError as exc:
            raise CacheIOError(
                f"cannot stat: {exc}", package=ref.package, filename=ref.filename, path=path
            ) from exc
        if size != ref.size:
            raise CachedSizeMismatchError(
                package=ref.package, filename=ref.filename, expected=ref.size, actual=size, path=path
            )
        if verify:
            try:
                actual_sha, actual_b3 = hash_file(path)
            except OSError as exc:
                raise CacheIOError(
                    f"cannot read: {exc}", package=ref.package, filename=ref.filename, path=path
                ) from exc
            for algorithm, expected, actual in (
                ("sha256", ref.sha256, actual_sha),
                ("blake3", ref.blake3, actual_b3),
            ):
                if expected != actual:
                    err = HashMismatchError(
                        package=ref.package,
                        filename=ref.filename,
                        algorithm=algorithm,
                        expected=expected,
                        actual=actual,
                        file=str(path),
                    )
                    err.hint = CORRUPT_HINT
                    raise err
        return CachedArtifact(
            path=path, filename=ref.filename, sha256=ref.sha256, blake3=ref.blake3, size=ref.size
        )

    def _read_ref_file(self, path: Path, *, sha256: str | None, tolerant: bool) -> _Ref | None:
        """Parse a ref; ``None`` if absent. ``tolerant`` turns a bad ref into ``None`` too."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            if tolerant:
                return None
            raise CacheIOError(f"cannot read ref: {exc}", package="", filename="", path=path) from exc
        try:
            ref = _Ref.from_dict(json.loads(raw))
            if sha256 is not None and ref.sha256 != sha256:
                raise ValueError(f"sha256: {ref.sha256} does not match the ref's name")
        except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            if tolerant:
                return None
            raise CacheRefError(
                f"invalid ref: {exc}", package="", filename="", path=path, hint=CORRUPT_HINT
            ) from exc
        return ref

    def _sweep_tmp_locked(self, max_age: float) -> int:
        now = time.time()
        removed = 0
        for entry in self._iter_files(self.tmp_dir):
            try:
                if now - entry.stat().st_mtime < max_age:
                    continue
            except FileNotFoundError:
                continue
            sha = entry.name.split(".", 1)[0]
            if not is_hex_digest(sha):
                entry.unlink(missing_ok=True)  # not ours to coordinate on; old enough to go
                removed += 1
                continue
            try:
                with artefact_lock(self.locks_dir / f"{sha}.lock", timeout=0):
                    entry.unlink(missing_ok=True)
                    removed += 1
            except LockTimeout:
                continue  # someone is writing this artefact right now
        return removed

    @contextmanager
    def _artefact_locked(self, sha: str, *, package: str, filename: str) -> Iterator[None]:
        path = self.locks_dir / f"{sha}.lock"
        existed = path.exists()
        with ExitStack() as stack:
            try:
                stack.enter_context(artefact_lock(path, timeout=self.lock_timeout))
            except LockTimeout as exc:
                raise CacheLockTimeoutError(
                    f"another process has held the lock for over {self.lock_timeout:g}s",
                    package=package,
                    filename=filename,
                    path=path,
                ) from exc
            try:
                yield
            except BaseException:
                if not existed:
                    # leave the cache as it was. Safe while held: filelock re-opens a lock
                    # file that was unlinked under a waiter (it checks st_nlink).
                    path.unlink(missing_ok=True)
                raise

    @contextmanager
    def _global(self, *, shared: bool, package: str, filename: str) -> Iterator[None]:
        lock = SharedExclusiveLock(self.locks_dir / GLOBAL_LOCK_NAME, timeout=self.lock_timeout)
        with ExitStack() as stack:
            try:
                stack.enter_context(lock.shared() if shared else lock.exclusive())
            except LockTimeout as exc:
                raise CacheLockTimeoutError(
                    f"the cache lock was not acquired within {self.lock_timeout:g}s",
                    package=package,
                    filename=filename,
                    path=lock.path,
                ) from exc
            except OSError as exc:
                raise CacheIOError(
                    f"cannot create the cache lock: {exc}", package=package, filename=filename, path=lock.path
                ) from exc
            yield

    @staticmethod
    def _iter_files(folder: Path) -> Iterator[Path]:
        try:
            entries = sorted(folder.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if entry.is_file():
                yield entry

    def _iter_artefact_files(self) -> Iterator[Path]:
        try:
            folders = sorted(self.wheels_dir.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return
        for folder in folders:
            if folder.is_dir():
                yield from self._iter_files(folder)
            elif folder.is_file():
                yield folder

    @staticmethod
    def _check_digest(value: str, *, package: str, filename: str, what: str) -> str:
        digest = value.strip().lower()
        if not is_hex_digest(digest):
            raise InvalidDigestError(
                f"{what} {value!r} is not 64 hexadecimal characters",
                package=package,
                filename=filename,
                path="",
            )
        return digest

    @staticmethod
    def _check_filename(filename: str, *, package: str) -> None:
        if not _is_plain_filename(filename):
            raise InvalidFilenameError(
                f"{filename!r} is not a plain file name", package=package, filename=filename, path=""
            )
