"""``[cache] remote`` / ``WASMTOOL_CACHE_REMOTE`` and OCI references, parsed (no registry)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from wasmtool.cache.errors import RemoteConfigError
from wasmtool.cache.oci import _credentials, docker_config_path, parse_ref
from wasmtool.cache.remote import DEFAULT_TIMEOUT, resolve_remote
from wasmtool.project.errors import ManifestError
from wasmtool.project.manifest import parse_manifest


def test_references() -> None:
    ref = parse_ref("oci://127.0.0.1:5000/team/wasmtool-cache", what="x")
    assert (ref.host, ref.repository, ref.tag, ref.scheme) == ("127.0.0.1:5000", "team/wasmtool-cache", "", "http")
    ref = parse_ref("oci://registry.example/team/app:1.0", what="x")
    assert (ref.host, ref.repository, ref.tag, ref.scheme) == ("registry.example", "team/app", "1.0", "https")
    assert parse_ref("oci+http://build-host:5000/a/b:t", what="x").scheme == "http"
    assert str(parse_ref("oci://localhost:5000/a/b:t", what="x")) == "oci://localhost:5000/a/b:t"


@pytest.mark.parametrize("text", ["http://host/a", "oci://host/UPPER", "oci://host/", "oci:///a",
                                  "oci://host/a:bad tag", "oci://ho st/a"])
def test_malformed_references_are_wt971(text: str) -> None:
    with pytest.raises(RemoteConfigError) as info:
        parse_ref(text, what="REF")
    assert info.value.code == "WT971" and info.value.field == "REF"


def test_push_and_pull_need_a_tag() -> None:
    with pytest.raises(RemoteConfigError, match="name a tag"):
        parse_ref("oci://host/a", what="REF", need_tag=True)


def test_the_environment_wins_over_the_manifest_and_off_turns_it_off() -> None:
    manifest = "oci://a.example/team/cache"
    ref, timeout = resolve_remote(manifest, None, env={}) or (None, 0.0)
    assert ref is not None and ref.host == "a.example" and timeout == DEFAULT_TIMEOUT
    ref, timeout = resolve_remote(manifest, 2.5, env={"WASMTOOL_CACHE_REMOTE": "oci://b.example/x/y",
                                                     "WASMTOOL_CACHE_REMOTE_TIMEOUT": "7"}) or (None, 0.0)
    assert ref is not None and ref.host == "b.example" and timeout == 7.0
    assert resolve_remote(manifest, None, env={"WASMTOOL_CACHE_REMOTE": "off"}) is None
    assert resolve_remote("", None, env={}) is None
    with pytest.raises(RemoteConfigError, match="WASMTOOL_CACHE_REMOTE_TIMEOUT"):
        resolve_remote(manifest, None, env={"WASMTOOL_CACHE_REMOTE_TIMEOUT": "soon"})
    with pytest.raises(RemoteConfigError, match="without a tag"):
        resolve_remote("oci://a.example/team/cache:latest", None, env={})


def test_the_manifest_table() -> None:
    m = parse_manifest('[cache]\nremote = "oci://h:1/a/b"\nremote-timeout = 3\n', file="mochi.toml")
    assert (m.cache_remote, m.cache_remote_timeout) == ("oci://h:1/a/b", 3.0)
    with pytest.raises(ManifestError) as info:
        parse_manifest('[cache]\nremote = "https://h/a"\nremote-timeout = 0\nother = 1\n', file="mochi.toml")
    text = str(info.value)
    assert "cache.remote" in text and "cache.remote-timeout" in text and "cache.other: unknown key" in text


def test_credentials_come_from_the_docker_config(tmp_path: Path) -> None:
    env = {"DOCKER_CONFIG": str(tmp_path)}
    assert docker_config_path(env) == tmp_path / "config.json"
    assert _credentials("h:5000", env) is None
    (tmp_path / "config.json").write_text(json.dumps({"auths": {
        "h:5000": {"auth": base64.b64encode(b"ci:pa:ss").decode()},
        "https://other.example": {"username": "u", "password": "p"}}}))
    assert _credentials("h:5000", env) == ("ci", "pa:ss")
    assert _credentials("other.example", env) == ("u", "p")
    assert _credentials("third.example", env) is None
