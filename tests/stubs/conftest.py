"""Helpers for the stub-discovery tests: tiny synthetic wheels built with zipfile."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

ARTEFACTS = Path(__file__).resolve().parents[1] / "data" / "artefacts"

WheelMaker = Callable[..., Path]


def build_wheel(folder: Path, dist: str, version: str, files: Mapping[str, str | bytes], *,
                top_level: str | None = None) -> Path:
    """A minimal wheel ``<dist>-<version>-py3-none-any.whl`` holding ``files`` plus dist-info."""
    norm = dist.replace("-", "_")
    path = folder / f"{norm}-{version}-py3-none-any.whl"
    info = f"{norm}-{version}.dist-info"
    members: dict[str, str | bytes] = dict(files)
    members[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
    members[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if top_level is not None:
        members[f"{info}/top_level.txt"] = top_level
    members[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in sorted(members)) + f"{info}/RECORD,,\n"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name in sorted(members):
            data = members[name]
            zf.writestr(name, data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


@pytest.fixture
def make_wheel(tmp_path: Path) -> WheelMaker:
    def make(dist: str, version: str, files: Mapping[str, str | bytes], **kw: str | None) -> Path:
        return build_wheel(tmp_path / "wheels", dist, version, files, **kw)

    return make


def artefact(pattern: str) -> Path:
    """One pinned real wheel from tests/data/artefacts."""
    found = sorted(ARTEFACTS.glob(pattern))
    if not found:
        pytest.fail(f"pinned artefact {pattern} missing (scripts/setup.sh fetches them)")
    return found[0]
