"""Errors of the artefact cache (WT302-WT349).

``WT301`` :class:`~wasmtool.errors.HashMismatchError` (bytes that do not hash to what they
should) and ``WT350`` :class:`~wasmtool.errors.WheelMetadataError` (a wheel's contents are
unreadable) live in :mod:`wasmtool.errors`, because the bundle and resolve layers raise them
too; everything else the cache raises is defined here::

    CacheError                       WT300  (wasmtool.errors)
    ├── HashMismatchError            WT301  (wasmtool.errors) downloaded or cached bytes hash wrong
    │   └── CachedSizeMismatchError  WT303  a cached file has the wrong length (truncated, grown)
    ├── WheelMetadataError           WT350  (wasmtool.errors) a wheel's name / contents are unreadable
    └── ArtifactError                WT302  base of the errors below: names package, filename, path
        ├── DownloadError            WT304  the source could not be opened or read (HTTP, OS)
        ├── CacheRefError            WT305  a ``by-sha256/<sha256>.json`` ref is unreadable or inconsistent
        ├── CachedArtifactMissingError WT306  a ref points at a file that is not there
        ├── CacheLockTimeoutError    WT307  a cache lock was not acquired in time
        ├── InvalidDigestError       WT308  a digest is not 64 hex characters   (also ValueError)
        ├── InvalidFilenameError     WT309  a filename is not a plain file name (also ValueError)
        ├── CacheIOError             WT310  reading or writing the cache itself failed (disk full, ...)
        ├── OrphanArtifactError      WT311  a cached file no ref points at (reported by verify_all)
        └── WheelRejectedError       WT340  a wheel breaks the rules of wasmtool.cache.wheel_check
                                            (unsafe path, symlink, duplicate, RECORD lie, bomb) (also ValueError)
    CacheVerifyError                 WT320  ``cache verify`` found problems (one line each; exit 1)
    RemoteCacheError                 WT970  the OCI remote tier, push and pull (wasmtool.cache.remote, .oci)
    ├── RemoteConfigError            WT971  ``[cache] remote`` / ``WASMTOOL_CACHE_REMOTE`` / a REF is malformed
    ├── RemoteAuthError              WT972  the registry wants credentials the Docker config does not give
    ├── RemoteUnavailableError       WT973  the registry cannot be reached or timed out
    ├── RemoteProtocolError          WT974  the registry answered something the OCI API does not allow
    ├── RemoteNotFoundError          WT975  no manifest under that reference
    ├── RemoteDigestError            WT976  bytes from the registry do not hash to their descriptor
    ├── RemoteArtifactError          WT977  a pulled manifest is not a wasmtool / Wasm artifact, or
    │                                       there is nothing to push
    ├── ComponentPlanError           WT978  a pulled component carries no (or a malformed) wasmtool plan
    └── PulledAliasError             WT979  ``call --component``: ALIAS is not an alias the pulled
                                            component serves (exit 2)

Every concrete error carries ``package``, ``filename`` and ``path`` (the file at fault:
a cache path, a source path or a URL) so a message alone says what to look at.
"""

from __future__ import annotations

from pathlib import Path

from wasmtool.errors import CacheError, HashMismatchError

__all__ = [
    "ArtifactError",
    "CacheIOError",
    "CacheLockTimeoutError",
    "CacheRefError",
    "CacheVerifyError",
    "CachedArtifactMissingError",
    "CachedSizeMismatchError",
    "ComponentPlanError",
    "DownloadError",
    "InvalidDigestError",
    "InvalidFilenameError",
    "OrphanArtifactError",
    "PulledAliasError",
    "RemoteArtifactError",
    "RemoteAuthError",
    "RemoteCacheError",
    "RemoteConfigError",
    "RemoteDigestError",
    "RemoteNotFoundError",
    "RemoteProtocolError",
    "RemoteUnavailableError",
    "WheelRejectedError",
]

#: The hint every "cached bytes are wrong" error carries.
CORRUPT_HINT = ("the cached file is corrupt; `wasmtool cache verify --fix` evicts it (the next install "
                "fetches it again), or run `wasmtool cache clean`")


class ArtifactError(CacheError):
    """A cache error about one artefact: names its package, filename and path."""

    code = "WT302"

    def __init__(
        self,
        message: str,
        *,
        package: str,
        filename: str,
        path: Path | str,
        hint: str | None = None,
    ) -> None:
        super().__init__(f"{filename}: {message}", package=package or None, file=str(path), hint=hint)
        self.filename = filename
        self.path = str(path)


class CachedSizeMismatchError(HashMismatchError):
    """A cached file does not have the size its ref records (truncated or appended to).

    A subclass of :class:`HashMismatchError` so one ``except`` catches every kind of
    corrupted artefact; ``algorithm`` is ``"size"`` and expected/actual are byte counts.
    """

    code = "WT303"

    def __init__(self, *, package: str, filename: str, expected: int, actual: int, path: Path | str) -> None:
        super().__init__(
            package=package,
            filename=filename,
            algorithm="size",
            expected=str(expected),
            actual=str(actual),
            file=str(path),
        )
        self.hint = CORRUPT_HINT
        self.path = str(path)


class DownloadError(ArtifactError):
    """The artefact's source (HTTP response, local file, opener) failed before all bytes arrived."""

    code = "WT304"


class CacheRefError(ArtifactError):
    """A ``by-sha256/<sha256>.json`` ref is not valid JSON or disagrees with its own name."""

    code = "WT305"


class CachedArtifactMissingError(ArtifactError):
    """A ref points at ``wheels/<blake3>/<filename>`` but no such file exists."""

    code = "WT306"


class CacheLockTimeoutError(ArtifactError):
    """A cache lock (per artefact, or the global one ``clean`` takes) was not acquired in time."""

    code = "WT307"


class InvalidDigestError(ArtifactError, ValueError):
    """A SHA-256 or BLAKE3 digest given to the cache is not 64 hexadecimal characters."""

    code = "WT308"


class InvalidFilenameError(ArtifactError, ValueError):
    """An artefact filename is empty, has a path separator, or is ``.``/``..``."""

    code = "WT309"


class CacheIOError(ArtifactError):
    """The operating system refused a read or write inside the cache (permissions, disk full)."""

    code = "WT310"


class OrphanArtifactError(ArtifactError):
    """A file under ``wheels/`` that no ref points at (e.g. a crash between the two renames).

    Harmless (never served) and removed by ``clean``; ``verify_all`` reports it.
    """

    code = "WT311"


class CacheVerifyError(CacheError):
    """``wasmtool cache verify`` found entries that are wrong; ``lines`` holds one line per
    problem (its code, the file and what is wrong)."""

    code = "WT320"
    exit_code = 1

    def __init__(self, lines: list[str], *, root: Path) -> None:
        self.lines = lines
        super().__init__(
            f"{len(lines)} problem(s) in the cache:\n  " + "\n  ".join(lines),
            file=str(root),
            hint="`wasmtool cache verify --fix` evicts them (the next install fetches them again); "
            "`wasmtool cache clean` removes everything",
        )


class WheelRejectedError(ArtifactError, ValueError):
    """A wheel that :mod:`wasmtool.cache.wheel_check` refuses: a member path that leaves the
    install directory (``../``, absolute, backslash, a ``.data`` escape), a symlink or special
    member, duplicate members, a ``RECORD`` that is missing or lies about a member's digest or
    size, or a decompression bomb (expanded size or ratio over the documented limits).

    Raised when the wheel would enter the cache (nothing is stored), or when a wheel cached by
    an older wasmtool is first used (its entry is removed). ``member`` is the first member at
    fault; ``problems`` every ``(member, message)`` found.
    """

    code = "WT340"

    def __init__(
        self,
        *,
        package: str,
        filename: str,
        path: Path | str,
        problems: list[tuple[str, str]],
    ) -> None:
        shown = "; ".join(f"member {m!r}: {msg}" if m else msg for m, msg in problems[:5])
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        super().__init__(
            f"refused: {shown}{more}",
            package=package,
            filename=filename,
            path=path,
            hint="the wheel is malformed or malicious; it was not installed or cached. Report it to "
            "the package's maintainers, or pin another version",
        )
        self.member = problems[0][0] if problems else ""
        self.problems = list(problems)


class RemoteCacheError(CacheError):
    """The OCI remote tier (``[cache] remote``), ``wasmtool push`` or ``wasmtool pull`` failed.

    For the cache tier every such error turns into a warning and the local path (the index,
    a local build); ``push`` and ``pull`` report it. ``file`` is the registry reference
    (never with credentials)."""

    code = "WT970"


class RemoteConfigError(RemoteCacheError, ValueError):
    """``[cache] remote``, ``WASMTOOL_CACHE_REMOTE``, ``remote-timeout`` or a push/pull REF is
    malformed (expected ``oci://host[:port]/repository[:tag]``)."""

    code = "WT971"
    exit_code = 2


class RemoteAuthError(RemoteCacheError):
    """The registry answered 401/403: no credentials for its host in the Docker config
    (``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``), or it refused them."""

    code = "WT972"


class RemoteUnavailableError(RemoteCacheError):
    """The registry could not be reached, closed the connection, or did not answer in time."""

    code = "WT973"


class RemoteProtocolError(RemoteCacheError):
    """The registry answered with a status or a document the OCI distribution API does not allow."""

    code = "WT974"


class RemoteNotFoundError(RemoteCacheError):
    """No manifest (or blob) under that reference in the registry."""

    code = "WT975"


class RemoteDigestError(RemoteCacheError):
    """Bytes from the registry do not hash to the digest their descriptor names (altered in the
    registry's storage, or on the way), or a cache entry's content does not match what it
    records (a stub set's or rendered binding's texts and their digests); they are refused,
    never used."""

    code = "WT976"


class RemoteArtifactError(RemoteCacheError):
    """A pulled manifest is not what was asked for (not a Wasm component or a wasmtool bundle
    artifact, a layer missing or unsafe), or a push has nothing to publish."""

    code = "WT977"


class ComponentPlanError(RemoteCacheError):
    """A pulled component carries no wasmtool plan (the ``dev.wasmtool.plans`` entry of its
    config: pushed by another tool or an older wasmtool), or one that is malformed, so
    ``call --component`` cannot map ``ALIAS.FUNC`` to the component's exports."""

    code = "WT978"


class PulledAliasError(RemoteCacheError):
    """``call --component``: ``ALIAS.FUNC`` names an alias the pulled component does not serve."""

    code = "WT979"
    exit_code = 2
