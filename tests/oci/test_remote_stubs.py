"""The remote tier for what ``bind`` derives: stub sets (``stubs-<key>``) and rendered bindings
(``surface-<key>``). Two projects with separate caches share one registry: the second one's
``bind`` discovers no stubs and renders nothing, with the same workspace; an entry altered in
the registry is refused and derived locally; a down remote is a warning; without a remote the
hooks do nothing."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_project
from tests.support.index_server import IndexServer
from tests.support.oci_registry import Registry
from wasmtool.cache import remote
from wasmtool.ops.bind import bind
from wasmtool.ops.context import Context
from wasmtool.ops.lock import run_lock


def _bind(project: Path, cache: Path, index: IndexServer) -> Any:
    with Context.open(project, cache_dir=cache, index_url=index.url, progress=False) as ctx:
        if not ctx.lock_path.is_file():
            run_lock(ctx)
        return bind(ctx)


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file() and p.name not in ("bind.lock", ".wasmtool-files.json")}   # the record holds mtimes


def _two_projects(tmp_path: Path) -> tuple[Path, Path]:
    first = write_project(tmp_path / "first", {"tomli": "*"})
    second = write_project(tmp_path / "second", {"tomli": "*"})
    return first, second


def _refuse(monkeypatch: pytest.MonkeyPatch, *names: str, why: str) -> None:
    """Each of ``names`` in ``wasmtool.ops.bind`` fails with ``why`` if it runs at all."""
    import wasmtool.ops.bind as ops_bind

    def refuse(*_args: object, **_kwargs: object) -> Any:
        raise AssertionError(why)

    for name in names:
        monkeypatch.setattr(ops_bind, name, refuse)


def _derive_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stub discovery and rendering fail if they run at all."""
    _refuse(monkeypatch, "_discover_stubs", "surface_files", why="derived locally")


def test_the_second_project_derives_nothing(tmp_path: Path, registry: Registry, index_server: IndexServer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(remote.ENV_REMOTE, registry.url("team/wasmtool-cache"))
    stats = remote.remote_stats()
    first, second = _two_projects(tmp_path)
    pushed0, warned0 = stats.pushed, len(stats.warnings)
    cold = _bind(first, tmp_path / "cache-1", index_server)
    assert stats.warnings[warned0:] == []
    assert stats.pushed - pushed0 >= 3       # the wheel, its stub set and its rendered binding
    # the second project locks against the index, then binds with an empty cache of its own
    with Context.open(second, cache_dir=tmp_path / "cache-2", index_url=index_server.url, progress=False) as ctx:
        run_lock(ctx)
    _derive_nothing(monkeypatch)
    fetched0 = stats.fetched
    warm = _bind(second, tmp_path / "cache-2", index_server)
    assert stats.warnings[warned0:] == []
    assert stats.fetched - fetched0 == 2     # the stub set and the rendered binding; no wheel needed
    assert _files(warm.directory) == _files(cold.directory)
    assert sorted(p.name for p in (tmp_path / "cache-2" / "stubs").iterdir()) == sorted(
        p.name for p in (tmp_path / "cache-1" / "stubs").iterdir())


def test_packages_rendered_only_renamed_share_their_mapping(tmp_path: Path, registry: Registry,
                                                           index_server: IndexServer,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx and requests both declare `Request`: the first project renders their folders only
    renamed, and pushes their mappings; the second one maps neither again."""
    monkeypatch.setenv(remote.ENV_REMOTE, registry.url("team/wasmtool-cache"))
    deps = {"httpx": "*", "requests": "*"}
    first, second = write_project(tmp_path / "first", deps), write_project(tmp_path / "second", deps)
    cold = _bind(first, tmp_path / "cache-1", index_server)
    with Context.open(second, cache_dir=tmp_path / "cache-2", index_url=index_server.url, progress=False) as ctx:
        run_lock(ctx)
    _refuse(monkeypatch, "map_package", why="mapped again")
    warm = _bind(second, tmp_path / "cache-2", index_server)
    assert _files(warm.directory) == _files(cold.directory)


@pytest.mark.parametrize("kind", ["stubs", "surface"])
def test_an_entry_altered_in_the_registry_is_refused_and_derived_locally(
        tmp_path: Path, registry: Registry, index_server: IndexServer, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, kind: str) -> None:
    from wasmtool.cache.oci import OciClient, parse_ref

    monkeypatch.setenv(remote.ENV_REMOTE, registry.url("team/wasmtool-cache"))
    first, second = _two_projects(tmp_path)
    cold = _bind(first, tmp_path / "cache-1", index_server)
    folder = "stubs" if kind == "stubs" else "surfaces"
    key = next(p.name for p in (tmp_path / "cache-1" / folder).glob("*.json")
               if not p.name.endswith(".files.json")).removesuffix(".json")
    with OciClient(parse_ref(registry.url("team/wasmtool-cache"), what="t"), timeout=10) as client:
        manifest, _ = client.get_manifest(f"{kind}-{key}")
    # the last layer (the stub set; the head naming the digests) rewritten in the registry's storage
    blob = registry.blob_path(manifest["layers"][-1]["digest"])
    data = json.loads(blob.read_bytes())
    if kind == "stubs":
        data["files"] = [[path, text] for path, text in data["files"][:-1]]   # drops a file, keeps the hash
    else:
        data["digests"] = {name: "0" * 64 for name in data["digests"]}
    blob.write_bytes(json.dumps(data).encode())
    refused0 = remote.remote_stats().refused
    with caplog.at_level(logging.WARNING, logger="wasmtool.cache.remote"):
        warm = _bind(second, tmp_path / "cache-2", index_server)
    assert remote.remote_stats().refused == refused0 + 1
    assert "WT976" in caplog.text and f"{kind} {key[:12]}" in caplog.text
    assert _files(warm.directory) == _files(cold.directory)     # derived locally, the same


def test_a_forged_entry_with_right_digests_is_refused_by_its_content(
        tmp_path: Path, registry: Registry, index_server: IndexServer, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """A writer pushes a stub set whose blobs hash right but whose files are not the ones its
    SHA-256 names (another package's, edited): the content check refuses it."""
    from wasmtool.cache.oci import parse_ref

    monkeypatch.setenv(remote.ENV_REMOTE, registry.url("team/wasmtool-cache"))
    first, second = _two_projects(tmp_path)
    cold = _bind(first, tmp_path / "cache-1", index_server)
    (entry,) = (tmp_path / "cache-1" / "stubs").glob("*.json")
    forged = json.loads(entry.read_text())
    forged["files"] = [[path, "ZGVmIGV2aWwoKSAtPiBOb25lOiAuLi4K"] for path, _data in forged["files"]]
    forged_file = tmp_path / "forged.json"
    forged_file.write_text(json.dumps(forged))
    key = entry.name.removesuffix(".json")
    tier = remote.RemoteTier(parse_ref(registry.url("team/wasmtool-cache"), what="t"), timeout=10)
    tag = f"stubs-{key}"
    tier.put_entry(tag, [(forged_file, remote.BLOB_MEDIA_TYPE, "forged.json")], {"kind": "stubs", "key": key})
    tier.close()
    refused0 = remote.remote_stats().refused
    with caplog.at_level(logging.WARNING, logger="wasmtool.cache.remote"):
        warm = _bind(second, tmp_path / "cache-2", index_server)
    assert remote.remote_stats().refused == refused0 + 1
    assert "WT976" in caplog.text and "recorded sha256" in caplog.text
    assert _files(warm.directory) == _files(cold.directory)
    assert json.loads((tmp_path / "cache-2" / "stubs" / entry.name).read_text()) == json.loads(entry.read_text())


def test_a_down_remote_is_a_warning_and_the_local_path(tmp_path: Path, index_server: IndexServer,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]            # closed again: nothing listens there
    monkeypatch.setenv(remote.ENV_REMOTE, f"oci://127.0.0.1:{port}/team/wasmtool-cache")
    monkeypatch.setenv(remote.ENV_TIMEOUT, "2")
    project = write_project(tmp_path / "p", {"tomli": "*"})
    with caplog.at_level(logging.WARNING, logger="wasmtool.cache.remote"):
        outcome = _bind(project, tmp_path / "cache", index_server)
    assert outcome.bound and "WT973" in caplog.text
    assert any((tmp_path / "cache" / "stubs").glob("*.json"))


def test_without_a_remote_the_hooks_do_nothing(tmp_path: Path) -> None:
    assert remote.tier_for(tmp_path) is None
    calls: list[object] = []

    def check(files: object) -> None:
        calls.append(files)

    dest = tmp_path / "stubs" / "k.json"
    assert remote.restore_derived(tmp_path, "stubs", "k", [dest], check) is False
    dest.parent.mkdir()
    dest.write_text("{}")
    remote.publish_derived(tmp_path, "stubs", "k", [dest])
    assert calls == [] and sorted(p.name for p in tmp_path.rglob("*")) == ["k.json", "stubs"]
