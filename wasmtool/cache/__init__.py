"""Content-addressed artefact cache (SHA-256 checked, BLAKE3 recorded, atomic, crash-safe).

Layout and write protocol: :mod:`wasmtool.cache.store`. Errors: :mod:`wasmtool.cache.errors`.
"""

from __future__ import annotations

from wasmtool.cache._source import Opener
from wasmtool.cache.hashing import hash_bytes, hash_file
from wasmtool.cache.location import default_cache_dir
from wasmtool.cache.store import ArtifactCache, CachedArtifact, CacheInfo, CacheProblem

__all__ = [
    "ArtifactCache",
    "CacheInfo",
    "CacheProblem",
    "CachedArtifact",
    "Opener",
    "default_cache_dir",
    "hash_bytes",
    "hash_file",
]
