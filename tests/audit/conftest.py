"""Fixtures of the lock-time audit tests: two compiled wheels made here (one whose extension
links outside what the policy allows, one that stays inside) served by an index of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audit.synthetic import extension_wheel
from tests.support.index_server import IndexServer

#: The member of ``badext`` whose linking the audit reports.
BAD_MEMBER = "badext/_ext.cpython-312-x86_64-linux-gnu.so"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("audit-wheels")
    return {"badext": extension_wheel(folder, "badext", outside=True),
            "goodext": extension_wheel(folder, "goodext", outside=False)}


@pytest.fixture
def index(wheels: dict[str, Path]) -> Iterator[IndexServer]:
    with IndexServer({}) as srv:
        for path in wheels.values():
            srv.add_file(path)
        yield srv
