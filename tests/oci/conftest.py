"""Fixtures for the OCI tests: a real registry (Debian's docker-registry) per test, on 127.0.0.1.

Without ``docker-registry`` the tests fail, naming what is missing (tests/skip_policy.py: a
missing tool is never a reason to skip); ``scripts/setup.sh`` installs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.skip_policy import missing
from tests.support.oci_registry import Registry, registry_available, running_registry
from wasmtool.cache import remote


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    if not registry_available():
        missing("docker-registry (Debian package docker-registry)", "run `bash scripts/setup.sh` as root")
    with running_registry(tmp_path / "registry") as reg:
        yield reg


@pytest.fixture
def auth_registry(tmp_path: Path) -> Iterator[Registry]:
    if not registry_available():
        missing("docker-registry (Debian package docker-registry)", "run `bash scripts/setup.sh` as root")
    with running_registry(tmp_path / "auth-registry", users={"ci": "s3cret-pass"}) as reg:
        yield reg


@pytest.fixture(autouse=True)
def _no_ambient_remote(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No remote from the environment, an empty Docker config, and no tier left attached after a test."""
    monkeypatch.delenv(remote.ENV_REMOTE, raising=False)
    monkeypatch.delenv(remote.ENV_TIMEOUT, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    yield
    for root in list(remote._TIERS):
        tier = remote._TIERS.pop(root)
        tier.close()
