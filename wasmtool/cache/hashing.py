"""SHA-256 + BLAKE3 in one pass.

SHA-256 is what indexes and locks publish (``wheel-sha256``, ``#sha256=``), so it is the
value every artefact is checked against; BLAKE3-256 is recorded alongside
(``wheel-blake3``) and names the artefact's folder in the cache. Both are computed from the
same chunks so a download is read exactly once.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import blake3 as _blake3

__all__ = ["CHUNK_SIZE", "DualHasher", "hash_bytes", "hash_file", "is_hex_digest"]

#: Read size for hashing and copying local files.
CHUNK_SIZE = 1 << 20

_HEX64 = re.compile(r"[0-9a-f]{64}")


def is_hex_digest(value: str) -> bool:
    """True for a 256-bit digest written as 64 lower-case hexadecimal characters."""
    return _HEX64.fullmatch(value) is not None


class DualHasher:
    """Feeds every chunk to SHA-256 and BLAKE3 and counts the bytes."""

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self._blake3 = _blake3.blake3()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._sha256.update(chunk)
        self._blake3.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @property
    def blake3(self) -> str:
        digest: str = self._blake3.hexdigest()
        return digest


def hash_bytes(data: bytes) -> tuple[str, str]:
    """``(sha256, blake3)`` hex digests of ``data``."""
    hasher = DualHasher()
    hasher.update(data)
    return hasher.sha256, hasher.blake3


def hash_file(path: Path) -> tuple[str, str]:
    """``(sha256, blake3)`` hex digests of the file at ``path``, read in 1 MiB chunks.

    Raises ``OSError`` as-is: callers know which package the file belongs to and translate it.
    """
    hasher = DualHasher()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            hasher.update(chunk)
    return hasher.sha256, hasher.blake3
