"""The remote cache tier for wheels, against a real registry: a second cache fed from the
remote, bytes altered in the registry's storage, a registry that is down, and one killed
halfway through a push."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer
from tests.support.oci_registry import Registry
from wasmtool.cache import ArtifactCache
from wasmtool.cache.errors import RemoteNotFoundError
from wasmtool.cache.oci import OciClient, parse_ref
from wasmtool.cache.remote import RemoteTier, attach, remote_stats

WHEEL = "tomli-2.5.0-py3-none-any.whl"
REPO = "team/wasmtool-cache"


def _cache(root: Path, registry_url: str, *, timeout: float = 5.0) -> ArtifactCache:
    cache = ArtifactCache(root, check_wheels=True)
    attach(cache.root, RemoteTier(parse_ref(registry_url, what="test"), timeout=timeout))
    return cache


def _fetch(cache: ArtifactCache, index: IndexServer) -> tuple[str, Path]:
    served = index.by_name[WHEEL]
    art = cache.fetch(f"{index.url.rsplit('/simple', 1)[0]}/files/{WHEEL}", package="tomli", filename=WHEEL,
                      expected_sha256=served.sha256, opener=_http())
    assert art.sha256 == served.sha256
    assert hashlib.sha256(art.path.read_bytes()).hexdigest() == served.sha256
    return served.sha256, art.path


def _http():  # type: ignore[no-untyped-def]
    import httpx

    return httpx.Client(timeout=30)


def _downloads(index: IndexServer) -> int:
    return sum(1 for method, path in index.behaviour.requests if method == "GET" and path.endswith(f"/{WHEEL}"))


def test_a_second_cache_is_fed_from_the_remote(tmp_path: Path, registry: Registry, index_server: IndexServer) -> None:
    stats = remote_stats()
    pushed, fetched = stats.pushed, stats.fetched
    _fetch(_cache(tmp_path / "a", registry.url(REPO)), index_server)
    assert _downloads(index_server) == 1
    assert stats.pushed == pushed + 1
    sha, path = _fetch(_cache(tmp_path / "b", registry.url(REPO)), index_server)
    assert _downloads(index_server) == 1          # the second cache never asked the index for the file
    assert stats.fetched == fetched + 1
    assert path.is_relative_to(tmp_path / "b")
    # the entry is one manifest per key, its layer the wheel under the lock's digest
    with OciClient(parse_ref(registry.url(REPO), what="t"), timeout=5) as client:
        manifest, _ = client.get_manifest(f"wheel-{sha}")
    assert [layer["digest"] for layer in manifest["layers"]] == [f"sha256:{sha}"]


def test_bytes_altered_in_the_registry_are_refused_and_the_index_used(
        tmp_path: Path, registry: Registry, index_server: IndexServer, caplog: pytest.LogCaptureFixture) -> None:
    sha, _ = _fetch(_cache(tmp_path / "a", registry.url(REPO)), index_server)
    blob = registry.blob_path(f"sha256:{sha}")
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF                 # same size, other bytes
    blob.write_bytes(bytes(data))
    refused = remote_stats().refused
    with caplog.at_level(logging.WARNING, logger="wasmtool.cache.remote"):
        _, path = _fetch(_cache(tmp_path / "b", registry.url(REPO)), index_server)
    assert remote_stats().refused == refused + 1
    assert _downloads(index_server) == 2          # fetched from the index instead
    assert "WT976" in caplog.text and "refused" in caplog.text
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha


def test_a_registry_that_is_down_is_a_warning_and_the_index(
        tmp_path: Path, registry: Registry, index_server: IndexServer, caplog: pytest.LogCaptureFixture) -> None:
    url = registry.url(REPO)
    registry.stop()
    cache = _cache(tmp_path / "a", url, timeout=2.0)
    with caplog.at_level(logging.WARNING, logger="wasmtool.cache.remote"):
        _fetch(cache, index_server)
    assert _downloads(index_server) == 1
    assert "WT973" in caplog.text
    assert caplog.text.count("remote cache") == 1   # one warning: the tier is off for the rest of the run


def test_a_registry_killed_halfway_through_a_push_shows_nothing(
        tmp_path: Path, registry: Registry, index_server: IndexServer, monkeypatch: pytest.MonkeyPatch) -> None:
    real_put = OciClient.put_manifest

    def killed_before_the_manifest(self: OciClient, reference: str, manifest: dict[str, object]) -> str:
        registry.kill()                            # the blobs are in; the manifest never arrives
        return real_put(self, reference, manifest)

    monkeypatch.setattr(OciClient, "put_manifest", killed_before_the_manifest)
    sha, _ = _fetch(_cache(tmp_path / "a", registry.url(REPO)), index_server)
    monkeypatch.setattr(OciClient, "put_manifest", real_put)
    assert registry.blob_path(f"sha256:{sha}").is_file()   # the wheel's blob did arrive
    registry.restart()
    with OciClient(parse_ref(registry.url(REPO), what="t"), timeout=5) as client, \
            pytest.raises(RemoteNotFoundError):
        client.get_manifest(f"wheel-{sha}")
    fetched = remote_stats().fetched
    _fetch(_cache(tmp_path / "b", registry.url(REPO)), index_server)
    assert remote_stats().fetched == fetched      # nothing half-visible was used: the index served it
    assert _downloads(index_server) == 2


def test_a_registry_that_never_answers_times_out_into_a_warning(
        tmp_path: Path, index_server: IndexServer, caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:   # accepts connections, says nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"oci://127.0.0.1:{silent.getsockname()[1]}/{REPO}"
        with caplog.at_level(logging.WARNING, logger="wasmtool.cache.remote"):
            _fetch(_cache(tmp_path / "a", url, timeout=1.0), index_server)
    assert _downloads(index_server) == 1
    assert "WT973" in caplog.text and "timed out" in caplog.text
