"""``wasmtool push`` / ``pull`` against a real registry: a component read back as a Wasm artifact
(by ``skopeo inspect`` and the registry's API), a bundle, digests checked on pull, and basic
auth with and without a Docker config."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_project
from tests.skip_policy import missing
from tests.support.oci_registry import Registry

#: the smallest valid component: the preamble alone (magic, version 0x0d, layer 1)
EMPTY_COMPONENT = b"\x00asm\x0d\x00\x01\x00"


def _project(root: Path) -> Path:
    """A project whose wasi-p2 install left one project component (what push reads)."""
    write_project(root, {})
    folder = root / ".mochi" / "wasi-p2" / "project-component"
    folder.mkdir(parents=True)
    (folder / "component.wasm").write_bytes(EMPTY_COMPONENT)
    (folder / "build.json").write_text(json.dumps({"world": "mochi:sample/sample@0.1.0", "input_hash": "0" * 64}))
    return root


def _cli(args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(args, cache=tmp_path / "cache", index_url="http://127.0.0.1:9/simple/",
                   env={"DOCKER_CONFIG": str(tmp_path / "no-docker-config"), **(env or {})})


def test_a_pushed_component_is_a_wasm_artifact(tmp_path: Path, registry: Registry) -> None:
    project = _project(tmp_path / "p")
    ref = registry.url("team/components") + ":v1"
    proc = _cli(["-C", str(project), "push", "--target", "wasi-p2", ref], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"pushed {ref} (sha256:")
    if shutil.which("skopeo") is None:
        missing("skopeo (Debian package skopeo)", "run `bash scripts/setup.sh` as root")
    raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                          f"docker://{registry.host}/team/components:v1"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    manifest = json.loads(raw)
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["config"]["mediaType"] == "application/vnd.wasm.config.v0+json"
    assert [layer["mediaType"] for layer in manifest["layers"]] == ["application/wasm"]
    assert manifest["annotations"]["dev.wasmtool.wit.world"] == "mochi:sample/sample@0.1.0"
    assert set(manifest["annotations"]) >= {"dev.wasmtool.lock.sha256", "dev.wasmtool.source.packages"}
    # the config the registry's API serves is the Wasm config, naming the one layer
    config = subprocess.run(["skopeo", "inspect", "--config", "--raw", "--tls-verify=false",
                             f"docker://{registry.host}/team/components:v1"],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    assert json.loads(config)["layerDigests"] == [manifest["layers"][0]["digest"]]

    out = tmp_path / "pulled"
    proc = _cli(["pull", ref, "-o", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (out / "component.wasm").read_bytes() == EMPTY_COMPONENT


def test_pull_refuses_a_blob_altered_in_the_registry(tmp_path: Path, registry: Registry) -> None:
    project = _project(tmp_path / "p")
    ref = registry.url("team/components") + ":v1"
    assert _cli(["-C", str(project), "push", "--target", "wasi-p2", ref], tmp_path).returncode == 0
    import hashlib

    blob = registry.blob_path("sha256:" + hashlib.sha256(EMPTY_COMPONENT).hexdigest())
    blob.write_bytes(b"\x00asm\x0d\x00\x01\x01")
    out = tmp_path / "pulled"
    proc = _cli(["pull", ref, "-o", str(out)], tmp_path)
    assert proc.returncode == 1
    assert "WT976" in proc.stderr and "refused" in proc.stderr
    assert not (out / "component.wasm").exists()


def test_a_bundle_round_trips(tmp_path: Path, registry: Registry) -> None:
    project = write_project(tmp_path / "p", {})
    bundle = project / ".mochi" / "pyodide-314"
    (bundle / "wheels").mkdir(parents=True)
    (bundle / "index.html").write_text("<!doctype html>\n")
    (bundle / "wheels" / "a.whl").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    ref = registry.url("team/bundles") + ":v1"
    proc = _cli(["-C", str(project), "push", "--target", "pyodide-314", ref], tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "pulled"
    proc = _cli(["pull", ref, "-o", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (out / "index.html").read_text() == "<!doctype html>\n"
    assert (out / "wheels" / "a.whl").read_bytes() == (bundle / "wheels" / "a.whl").read_bytes()


def test_push_with_nothing_installed_names_the_install(tmp_path: Path, registry: Registry) -> None:
    project = write_project(tmp_path / "p", {})
    proc = _cli(["-C", str(project), "push", "--target", "wasi-p2", registry.url("team/c") + ":v1"], tmp_path)
    assert proc.returncode == 1
    assert "WT977" in proc.stderr and "install --target=wasi-p2" in proc.stderr


def test_basic_auth_works_with_a_docker_config_and_fails_clearly_without(
        tmp_path: Path, auth_registry: Registry) -> None:
    project = _project(tmp_path / "p")
    ref = auth_registry.url("team/components") + ":v1"
    proc = _cli(["-C", str(project), "push", "--target", "wasi-p2", ref], tmp_path)
    assert proc.returncode == 1
    assert "WT972" in proc.stderr and "no credentials" in proc.stderr and auth_registry.host in proc.stderr
    config = auth_registry.docker_config(tmp_path / "docker")
    proc = _cli(["-C", str(project), "push", "--target", "wasi-p2", ref], tmp_path, env={"DOCKER_CONFIG": str(config)})
    assert proc.returncode == 0, proc.stderr
    assert "s3cret-pass" not in proc.stdout + proc.stderr
    out = tmp_path / "pulled"
    proc = _cli(["pull", ref, "-o", str(out)], tmp_path, env={"DOCKER_CONFIG": str(config)})
    assert proc.returncode == 0, proc.stderr
    assert (out / "component.wasm").read_bytes() == EMPTY_COMPONENT
    # wrong credentials: refused, said so, not printed
    (config / "config.json").write_text(json.dumps({"auths": {auth_registry.host: {"auth": "Y2k6d3Jvbmc="}}}))
    proc = _cli(["pull", ref, "-o", str(tmp_path / "again")], tmp_path, env={"DOCKER_CONFIG": str(config)})
    assert proc.returncode == 1
    assert "WT972" in proc.stderr and "were refused" in proc.stderr and "wrong" not in proc.stderr


def test_the_cache_tier_without_credentials_warns_and_stays_local(
        tmp_path: Path, auth_registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from wasmtool.cache.oci import parse_ref
    from wasmtool.cache.remote import RemoteTier

    tier = RemoteTier(parse_ref(auth_registry.url("team/wasmtool-cache"), what="t"), timeout=5)
    with caplog.at_level(logging.WARNING, logger="wasmtool.cache.remote"):
        assert tier.guarded("probing", lambda: tier.client.get_manifest("wheel-" + "0" * 64)) is None
    assert "WT972" in caplog.text
    tier.close()


def test_per_package_pushes_one_artifact_per_package_component(tmp_path: Path, registry: Registry) -> None:
    project = write_project(tmp_path / "p", {})
    for alias, world in (("tomli", "mochi:py-tomli/tomli@2.5.0"), ("idna", "mochi:py-idna/idna@3.10")):
        folder = project / ".mochi" / "wasi-p2" / alias
        folder.mkdir(parents=True)
        (folder / "component.wasm").write_bytes(EMPTY_COMPONENT)
        (folder / "build.json").write_text(json.dumps({"world": world, "input_hash": "1" * 64}))
    ref = registry.url("team/components") + ":v2"
    proc = _cli(["-C", str(project), "push", "--target", "wasi-p2", ref], tmp_path)
    assert proc.returncode == 1 and "--per-package" in proc.stderr      # two components, no project one
    proc = _cli(["-C", str(project), "push", "--target", "wasi-p2", "--per-package", ref], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(line.split()[1] for line in proc.stdout.splitlines()) == [f"{ref}-idna", f"{ref}-tomli"]
    out = tmp_path / "idna"
    assert _cli(["pull", f"{ref}-idna", "-o", str(out)], tmp_path).returncode == 0
    manifest = json.loads((out / "oci-manifest.json").read_text())
    assert manifest["annotations"]["dev.wasmtool.wit.world"] == "mochi:py-idna/idna@3.10"
