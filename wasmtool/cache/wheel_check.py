"""What a wheel may contain before the cache accepts it (pure: no file or zip IO here).

The cache runs these checks once, when a wheel enters it (:mod:`wasmtool.cache.store` reads
the zip directory and ``RECORD``, calls :func:`check_archive`, then hashes the members
``RECORD`` has digests for and calls :func:`check_member_digest`). A wheel with any problem is
refused, so nothing below ever reaches uv, the Pyodide bundle or a WASI component.

The rules follow the wheel specification (binary distribution format) and what pypa/installer
enforces when it validates a wheel:

* member paths are relative POSIX paths: not empty, no NUL or control character, no
  backslash, no ``:`` (drive letters, Windows streams), no leading ``/``, no
  ``.``/``..``/empty component (``a/../b`` is refused too: no builder writes it, and
  "normalise, then check" is where zip-slip bugs live);
* ``<dist>.data/<scheme>/...`` only for the five schemes (``purelib``, ``platlib``,
  ``headers``, ``scripts``, ``data``), with ``<dist>`` the ``.dist-info`` directory's;
* exactly one top-level ``.dist-info`` directory, holding ``RECORD``;
* no two members with the same name, also after Unicode NFC folding and case folding (they
  would overwrite each other on macOS and Windows);
* regular files and directories only: no symlink, device or FIFO members (zip external
  attributes carry a Unix mode);
* ``RECORD`` parses as CSV of ``path,algorithm=digest,size``; every file member except
  ``RECORD`` itself and its signatures (``RECORD.jws``, ``RECORD.p7s``) is listed once; a
  listed size equals the member's; a listed digest uses SHA-256 or stronger and matches the
  member's bytes; every listed path is itself a safe path inside the archive (installers
  keep ``RECORD`` and uninstallers delete what it names);
* sizes under :data:`MAX_TOTAL_SIZE` in total and, for members over :data:`RATIO_MIN_SIZE`,
  a compression ratio under :data:`MAX_RATIO` (decompression bombs).

A ``RECORD`` line with neither digest nor size (``path,,``) lists the member without
vouching for it: it is accepted. It says nothing false, and the wheel's bytes as a whole
are pinned by the SHA-256 the index and the lock publish; a digest or size that is given
must be right.
"""

from __future__ import annotations

import base64
import binascii
import csv
import re
import stat
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "MAX_RATIO",
    "MAX_TOTAL_SIZE",
    "RATIO_MIN_SIZE",
    "VALIDATOR_VERSION",
    "ArchiveCheck",
    "Member",
    "Problem",
    "RecordEntry",
    "check_archive",
    "check_member_digest",
    "dist_info_dir",
    "first_problems",
    "path_problem",
]

#: Recorded beside a cache entry with the verdict; bump it when a rule is added, so wheels
#: cached under an older rule set are checked again on first use.
VALIDATOR_VERSION = "wheel-check/1"

#: Total expanded size of all members. The largest wheels in common use (torch, tensorflow,
#: jaxlib builds) expand to under 2 GiB; anything larger is a bomb or not worth installing.
MAX_TOTAL_SIZE = 2 * 1024**3

#: Largest expanded/compressed ratio for one member over :data:`RATIO_MIN_SIZE`. Deflate
#: cannot do better than ~1032:1 (a run of one byte value, the classic bomb); real wheels'
#: large members compress 2-20:1, but libraries that auditwheel grafted and patchelf padded
#: with zeros reach ~220:1 (pillow's libXau). 500 keeps those and refuses the runs. The
#: bytes a bomb can cost are bounded by :data:`MAX_TOTAL_SIZE` whatever its ratio.
MAX_RATIO = 500

#: Members at most this large are not ratio-checked: tiny files of repeated bytes compress
#: "too well" without costing anything.
RATIO_MIN_SIZE = 1024**2

#: ``RECORD`` digests wheel tools may use (the spec asks for SHA-256 or better).
ALLOWED_ALGORITHMS = frozenset({"sha256", "sha384", "sha512"})

DATA_SCHEMES = frozenset({"purelib", "platlib", "headers", "scripts", "data"})

_DRIVE = re.compile(r"^[A-Za-z]:")
_S_IFMT = 0o170000
#: Stored (0) and deflate (8), the methods the wheel specification allows: bzip2 and LZMA
#: would reach ratios of millions to one.
_COMPRESSIONS = frozenset({0, 8})


@dataclass(frozen=True)
class Member:
    """One zip directory entry: what ``zipfile.ZipInfo`` says, nothing read from the data."""

    name: str
    file_size: int
    compress_size: int
    external_attr: int = 0
    compress_type: int = 8  # zipfile.ZIP_DEFLATED

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    @property
    def unix_mode(self) -> int:
        return (self.external_attr >> 16) & 0xFFFF


@dataclass(frozen=True)
class Problem:
    """Why a wheel is refused: the member (or ``RECORD`` line's path) at fault, and what is wrong."""

    member: str
    message: str

    def __str__(self) -> str:
        return f"{self.member!r}: {self.message}"


@dataclass(frozen=True)
class RecordEntry:
    """A ``RECORD`` line with a digest to check: ``digest`` is the URL-safe base64 text, unpadded."""

    path: str
    algorithm: str
    digest: str
    size: int | None


@dataclass(frozen=True)
class ArchiveCheck:
    """:func:`check_archive`'s answer: the problems found, and the members still to hash."""

    problems: list[Problem] = field(default_factory=list)
    to_hash: dict[str, RecordEntry] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def path_problem(name: str) -> str | None:
    """Why ``name`` is not a safe relative member path, or ``None``. Directory entries end in ``/``."""
    if not name or name == "/":
        return "empty path"
    if "\0" in name:
        return "path contains a NUL character"
    if "\\" in name:
        return "path contains a backslash (a separator on Windows)"
    if name.startswith("/") or _DRIVE.match(name):
        return "absolute path"
    if ":" in name:
        return "path contains ':' (a drive or an alternate data stream on Windows)"
    body = name[:-1] if name.endswith("/") else name
    parts = body.split("/")
    if ".." in parts:
        return "path escapes the install directory ('..')"
    if any(part in ("", ".") for part in parts):
        return "path has an empty or '.' component"
    if any(ord(ch) < 0x20 for ch in name):
        return "path contains a control character"
    return None


def dist_info_dir(names: Sequence[str]) -> tuple[str | None, Problem | None]:
    """The one top-level ``*.dist-info`` directory among member ``names``."""
    found = sorted({n.split("/", 1)[0] for n in names if "/" in n and n.split("/", 1)[0].endswith(".dist-info")})
    if not found:
        return None, Problem("*.dist-info/", "the wheel has no .dist-info directory")
    if len(found) > 1:
        return None, Problem(found[1] + "/", f"more than one .dist-info directory ({', '.join(found)})")
    return found[0], None


def _parse_record(text: str, record_path: str) -> tuple[dict[str, tuple[str, str]], list[Problem]]:
    """``path -> (hash field, size field)``, and the malformed / duplicated lines."""
    rows: dict[str, tuple[str, str]] = {}
    problems: list[Problem] = []
    try:
        parsed = list(csv.reader(text.splitlines()))
    except csv.Error as exc:
        return rows, [Problem(record_path, f"RECORD is not valid CSV: {exc}")]
    for number, row in enumerate(parsed, start=1):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != 3:
            problems.append(Problem(row[0] or record_path, f"RECORD line {number} has {len(row)} fields, not 3"))
            continue
        path, hash_field, size_field = row
        if path in rows:
            problems.append(Problem(path, "listed twice in RECORD"))
            continue
        rows[path] = (hash_field, size_field)
    return rows, problems


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def check_archive(members: Sequence[Member], record_text: str | None) -> ArchiveCheck:
    """Every problem of a wheel that its zip directory and ``RECORD`` text show.

    ``record_text`` is ``None`` when the archive has no ``RECORD`` (or it could not be
    decoded). The result's ``to_hash`` lists the members whose ``RECORD`` digest the caller
    must compare with :func:`check_member_digest` (only when there are no problems: a wheel
    already refused is not worth decompressing).
    """
    result = ArchiveCheck()
    problems = result.problems
    seen: dict[str, str] = {}
    total = 0
    total_reported = False
    for m in members:
        why = path_problem(m.name)
        if why is not None:
            problems.append(Problem(m.name, why))
            continue
        key = _fold(m.name)
        if seen.get(key) == m.name:
            problems.append(Problem(m.name, "duplicate member"))
            continue
        if key in seen:
            problems.append(Problem(m.name, f"duplicate member (differs from {seen[key]!r} only in case "
                                            "or Unicode form)"))
            continue
        seen[key] = m.name
        kind = m.unix_mode & _S_IFMT
        if kind == stat.S_IFLNK:
            problems.append(Problem(m.name, "symlink member"))
        elif kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            problems.append(Problem(m.name, f"special file member (mode {m.unix_mode:o})"))
        if m.compress_type not in _COMPRESSIONS:
            problems.append(Problem(m.name, f"compression method {m.compress_type} (a wheel uses stored or "
                                            "deflate only)"))
        if m.file_size < 0 or m.compress_size < 0:
            problems.append(Problem(m.name, "negative size in the zip directory"))
            continue
        total += m.file_size
        if total > MAX_TOTAL_SIZE and not total_reported:
            total_reported = True
            problems.append(Problem(m.name, f"expanded size passes {MAX_TOTAL_SIZE} bytes in total "
                                            "(decompression bomb?)"))
        if m.file_size > RATIO_MIN_SIZE and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            ratio = m.file_size // max(m.compress_size, 1)
            problems.append(Problem(m.name, f"compression ratio {ratio}:1 over {MAX_RATIO}:1 "
                                            f"({m.file_size} bytes expanded; decompression bomb?)"))

    names = [m.name for m in members]
    info, info_problem = dist_info_dir(names)
    if info_problem is not None:
        problems.append(info_problem)
    if info is None:
        return result
    prefix = info.removesuffix(".dist-info")
    for name in names:
        top = name.split("/", 1)[0]
        if not top.endswith(".data") or "/" not in name:
            continue
        if top != f"{prefix}.data":
            problems.append(Problem(name, f"a .data directory not named after the .dist-info ({prefix}.data)"))
            continue
        rest = name.split("/", 2)
        if len(rest) == 2 and rest[1]:
            problems.append(Problem(name, "a file directly in the .data directory (outside every scheme)"))
        elif rest[1] and rest[1] not in DATA_SCHEMES:
            problems.append(Problem(name, f"unknown .data scheme {rest[1]!r} "
                                          f"(one of {', '.join(sorted(DATA_SCHEMES))})"))

    record_path = f"{info}/RECORD"
    exempt = {record_path, f"{info}/RECORD.jws", f"{info}/RECORD.p7s"}
    if record_text is None or record_path not in seen.values():
        problems.append(Problem(record_path, "the wheel has no RECORD"))
        return result
    rows, record_problems = _parse_record(record_text, record_path)
    problems.extend(record_problems)
    by_name = {m.name: m for m in members}
    for path, (hash_field, size_field) in rows.items():
        member = by_name.get(path)
        why = path_problem(path)
        if why is not None:
            if member is None:  # a member's own unsafe path is reported once, above
                problems.append(Problem(path, f"RECORD lists an unsafe path: {why}"))
            continue
        if member is None or member.is_dir:
            problems.append(Problem(path, "RECORD lists a file the wheel does not contain"))
            continue
        if path in exempt:
            continue
        size: int | None = None
        if size_field:
            if not size_field.isdigit():
                problems.append(Problem(path, f"RECORD size {size_field!r} is not a number"))
                continue
            size = int(size_field)
            if size != member.file_size:
                problems.append(Problem(path, f"RECORD says {size} bytes, the member has {member.file_size}"))
                continue
        if not hash_field:
            continue
        algorithm, sep, digest = hash_field.partition("=")
        if not sep or not digest:
            problems.append(Problem(path, f"RECORD hash {hash_field!r} is not <algorithm>=<digest>"))
        elif algorithm not in ALLOWED_ALGORITHMS:
            problems.append(Problem(path, f"RECORD hash algorithm {algorithm!r} is not one of "
                                          f"{', '.join(sorted(ALLOWED_ALGORITHMS))}"))
        else:
            result.to_hash[path] = RecordEntry(path=path, algorithm=algorithm, digest=digest.rstrip("="), size=size)
    for m in members:
        if not m.is_dir and m.name not in rows and m.name not in exempt and path_problem(m.name) is None:
            problems.append(Problem(m.name, "not listed in RECORD"))
    if problems:
        result.to_hash.clear()
    return result


def check_member_digest(entry: RecordEntry, actual: bytes) -> Problem | None:
    """Compare a member's ``actual`` digest (raw bytes, of ``entry.algorithm``) with ``RECORD``."""
    try:
        expected = base64.urlsafe_b64decode(entry.digest + "=" * (-len(entry.digest) % 4))
    except (binascii.Error, ValueError):
        return Problem(entry.path, f"RECORD digest {entry.digest!r} is not URL-safe base64")
    if expected != actual:
        got = base64.urlsafe_b64encode(actual).rstrip(b"=").decode()
        return Problem(entry.path, f"RECORD says {entry.algorithm}={entry.digest}, the member hashes to "
                                   f"{entry.algorithm}={got}")
    return None


def first_problems(problems: Sequence[Problem], limit: int = 5) -> str:
    """A one-line summary for a message: the first ``limit`` problems, and how many more."""
    shown = "; ".join(str(p) for p in problems[:limit])
    more = len(problems) - limit
    return shown + (f"; and {more} more" if more > 0 else "")
