"""hash_bytes / hash_file / DualHasher."""

from __future__ import annotations

import hashlib
from pathlib import Path

import blake3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasmtool.cache import hash_bytes, hash_file
from wasmtool.cache.hashing import DualHasher, is_hex_digest

# Published test vectors of the empty input.
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
EMPTY_BLAKE3 = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"


def test_empty_input_vectors() -> None:
    assert hash_bytes(b"") == (EMPTY_SHA256, EMPTY_BLAKE3)


@pytest.mark.parametrize("data", [b"a", b"wasmtool" * 1000, bytes(range(256)) * 5000])
def test_matches_reference_implementations(tmp_path: Path, data: bytes) -> None:
    expected = (hashlib.sha256(data).hexdigest(), blake3.blake3(data).hexdigest())
    assert hash_bytes(data) == expected
    path = tmp_path / "f"
    path.write_bytes(data)
    assert hash_file(path) == expected


@pytest.mark.property
@given(st.lists(st.binary(max_size=300), max_size=20))
def test_chunking_does_not_matter(chunks: list[bytes]) -> None:
    hasher = DualHasher()
    for chunk in chunks:
        hasher.update(chunk)
    whole = b"".join(chunks)
    assert (hasher.sha256, hasher.blake3) == hash_bytes(whole)
    assert hasher.size == len(whole)


@pytest.mark.parametrize(
    ("value", "ok"),
    [(EMPTY_SHA256, True), (EMPTY_SHA256.upper(), False), (EMPTY_SHA256[:-1], False), ("", False)],
)
def test_is_hex_digest(value: str, ok: bool) -> None:
    assert is_hex_digest(value) is ok
