"""Read a wheel file for :mod:`wasmtool.cache.wheel_check` (the IO half: the rules are there).

Reads the zip directory and ``RECORD``, runs :func:`~wasmtool.cache.wheel_check.check_archive`,
and only for a wheel without problems decompresses every file member: that verifies each
member's CRC and local header (``zipfile`` refuses a local name that differs from the
directory's) and hashes the members ``RECORD`` has a digest for. The declared sizes were
checked first, and ``zipfile`` never returns more than a member's declared size, so the
work is bounded by :data:`~wasmtool.cache.wheel_check.MAX_TOTAL_SIZE`.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from pathlib import Path

from wasmtool.cache.wheel_check import Member, Problem, check_archive, check_member_digest, dist_info_dir

__all__ = ["check_wheel_file"]

_CHUNK = 1 << 20
#: A RECORD larger than this is not read (real ones are well under 1 MiB; torch's is ~2 MiB).
_MAX_RECORD = 64 * 1024**2


def check_wheel_file(path: Path) -> list[Problem]:
    """Every problem of the wheel at ``path``; empty when the cache may accept it. A problem
    of the whole archive (not a zip, truncated) has the member ``""``."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            members = [Member(i.filename, i.file_size, i.compress_size, i.external_attr, i.compress_type)
                       for i in infos]
            info, _ = dist_info_dir([m.name for m in members])
            record_text: str | None = None
            record_name = f"{info}/RECORD"
            record_infos = [i for i in infos if i.filename == record_name]
            if info is not None and len(record_infos) == 1 and record_infos[0].file_size <= _MAX_RECORD:
                try:
                    record_text = zf.read(record_infos[0]).decode("utf-8")
                except UnicodeDecodeError:
                    return [Problem(record_name, "RECORD is not UTF-8")]
            check = check_archive(members, record_text)
            if check.problems:
                return check.problems
            problems: list[Problem] = []
            for zi in infos:
                if zi.is_dir():
                    continue
                entry = check.to_hash.get(zi.filename)
                hasher = hashlib.new(entry.algorithm) if entry is not None else None
                with zf.open(zi) as fh:
                    while chunk := fh.read(_CHUNK):
                        if hasher is not None:
                            hasher.update(chunk)
                if entry is not None and hasher is not None:
                    problem = check_member_digest(entry, hasher.digest())
                    if problem is not None:
                        problems.append(problem)
            return problems
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError,
            ValueError, OSError) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression method
        return [Problem("", f"not a readable zip archive: {exc}")]
