"""Fixtures for the index client tests: a folder of tiny wheels behind a loopback index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.index._helpers import LoopbackIndex, make_wheel


@pytest.fixture
def wheelhouse(tmp_path: Path) -> Path:
    folder = tmp_path / "wheelhouse"
    make_wheel(folder, "tiny_pkg-1.0-py3-none-any.whl", requires=("other-pkg>=1",))
    make_wheel(folder, "tiny_pkg-1.1-py3-none-any.whl", requires=("other-pkg>=1",))
    make_wheel(folder, "other_pkg-2.0-py3-none-any.whl")
    return folder


@pytest.fixture
def loopback(wheelhouse: Path) -> Iterator[LoopbackIndex]:
    with LoopbackIndex(wheelhouse) as index:
        yield index
