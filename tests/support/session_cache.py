"""The folder one test session shares between its processes (pytest-xdist workers inherit
the environment of the process that starts them), and what lives in it. Kept apart from the
corpus pipeline so that naming it costs tests/conftest.py no import of wasmtool at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

#: Set by tests/conftest.py; the corpus pipeline keeps its per-package results there.
SESSION_CACHE_ENV = "WASMTOOL_TEST_CORPUS_CACHE"
#: Set by tests/conftest.py in the xdist controller: the URL of the session's shared index.
SHARED_INDEX_ENV = "WASMTOOL_TEST_SHARED_INDEX"


def shared_cache_dir() -> Path:
    """The wasmtool artefact cache of the session (``<session folder>/wasmtool-cache``)."""
    folder = os.environ.get(SESSION_CACHE_ENV)
    if not folder:
        raise RuntimeError(f"{SESSION_CACHE_ENV} is not set: tests/conftest.py sets it for every session")
    return Path(folder) / "wasmtool-cache"


@dataclass(frozen=True)
class SharedIndex:
    """The session's hermetic index, by URL (the server may live in another process)."""

    url: str


class Index(Protocol):
    """An index the CLI is pointed at: a test's own ``index_server`` or the session's ``shared_index``."""

    @property
    def url(self) -> str: ...
