"""``call --target wasi-p2 --component REF``: a component pushed to a real registry is called from
an empty folder (no manifest, lock or install) with the same answer as ``call`` in the project
that built it; its plans travel in its verified config; the cache keeps it by manifest digest
(a second call fetches no blob); an altered plan is refused with a coded error."""

from __future__ import annotations

import hashlib
import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_project
from tests.support.oci_registry import Registry
from tests.support.session_cache import SharedIndex

#: the smallest valid component: the preamble alone (magic, version 0x0d, layer 1)
EMPTY_COMPONENT = b"\x00asm\x0d\x00\x01\x00"

MANIFEST = """
name = "callee"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["native", "wasi-p2"]

[python-dependencies]
tomli = { version = "*", import-names = ["tomli"] }
toml = "*"
"""

TOML = "a = 1\n[t]\nb = [1, 2]\n"


NO_INDEX = "http://127.0.0.1:9/simple/"


def _cli(args: list[str], cache: Path, index_url: str = NO_INDEX) -> subprocess.CompletedProcess[str]:
    return run_cli(args, cache=cache, index_url=index_url, timeout=900)


def _plan(alias: str) -> dict[str, object]:
    """A one-function plan of package ``py-<alias>`` (what ``WitPlan.to_dict`` writes)."""
    from wasmtool.wit.model import WitFunction, WitInterface, WitPlan

    fn = WitFunction("f", f"{alias}_f", f"{alias}:f", (), None)
    return WitPlan("mochi", f"py-{alias}", "1.0.0", alias, (WitInterface("api", alias, (fn,)),)).to_dict()


def _fake_install(root: Path, *, project: bool) -> None:
    """What install writes for two aliases: one project component (each alias's component.json
    names it), or one component per package."""
    place = root / ".mochi" / "wasi-p2"
    for alias in ("aa", "bb"):
        folder = place / alias
        folder.mkdir(parents=True)
        (folder / "plan.json").write_text(json.dumps(_plan(alias)))
        if project:
            (folder / "component.json").write_text(json.dumps({"component": "project-component"}))
        else:
            (folder / "component.wasm").write_bytes(EMPTY_COMPONENT)
            (folder / "build.json").write_text(json.dumps({
                "world": f"mochi:py-{alias}/{alias}@1.0.0", "input_hash": "1" * 64,
                "wheels": [f"{alias}-1.0-py3-none-any.whl"]}))
    if project:
        folder = place / "project-component"
        folder.mkdir(parents=True)
        (folder / "component.wasm").write_bytes(EMPTY_COMPONENT)
        (folder / "build.json").write_text(json.dumps({
            "world": "mochi:project/project@0.1.0", "input_hash": "2" * 64,
            "wheels": ["aa-1.0-py3-none-any.whl", "bb-1.0-py3-none-any.whl"]}))


@pytest.mark.parametrize("per_package", [False, True], ids=["project-component", "per-package"])
def test_the_plans_travel_in_the_verified_config(tmp_path: Path, registry: Registry, per_package: bool) -> None:
    from wasmtool.ops.oci_call import fetch_component

    project = write_project(tmp_path / "p", {})
    _fake_install(project, project=not per_package)
    ref = registry.url("team/components") + ":v1"
    push = ["-C", str(project), "push", "--target", "wasi-p2", *(["--per-package"] if per_package else []), ref]
    proc = _cli(push, tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    refs = [f"{ref}-aa", f"{ref}-bb"] if per_package else [ref]
    served = []
    for one in refs:
        pulled = fetch_component(one, tmp_path / "cache", timeout=30)
        assert pulled.fetched and pulled.wasm.read_bytes() == EMPTY_COMPONENT
        served += pulled.aliases
        for alias in pulled.aliases:
            assert pulled.bundle["aliases"][alias] == json.loads(
                (project / ".mochi" / "wasi-p2" / alias / "plan.json").read_text())
        manifest = json.loads((pulled.directory / "manifest.json").read_text())
        assert [layer["mediaType"] for layer in manifest["layers"]] == ["application/wasm"]   # still one layer
        config = json.loads((pulled.directory / "config.json").read_text())
        assert config["component"]["exports"] == [f"mochi:py-{alias}/api@1.0.0" for alias in pulled.aliases]
        # content-addressed: the same manifest again fetches nothing
        assert not fetch_component(one, tmp_path / "cache", timeout=30).fetched
    assert sorted(served) == ["aa", "bb"]


def test_an_artifact_without_plans_is_refused_with_a_code(tmp_path: Path, registry: Registry) -> None:
    project = write_project(tmp_path / "p", {})
    folder = project / ".mochi" / "wasi-p2" / "project-component"
    folder.mkdir(parents=True)
    (folder / "component.wasm").write_bytes(EMPTY_COMPONENT)
    (folder / "build.json").write_text(json.dumps({"world": "w", "input_hash": "0" * 64}))
    ref = registry.url("team/components") + ":bare"
    assert _cli(["-C", str(project), "push", "--target", "wasi-p2", ref], tmp_path / "cache").returncode == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = _cli(["-C", str(empty), "call", "--target", "wasi-p2", "--component", ref, "aa.f"], tmp_path / "cache")
    assert proc.returncode == 1
    assert "WT978" in proc.stderr and ref in proc.stderr


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_a_pulled_component_answers_as_the_installed_one(tmp_path: Path, registry: Registry,
                                                         shared_cache: Path, shared_index: SharedIndex) -> None:
    from tests.wit.conftest import need_tools

    need_tools()
    origin = tmp_path / "origin"
    origin.mkdir()
    (origin / "mochi.toml").write_text(textwrap.dedent(MANIFEST))
    build_cache = shared_cache          # the origin only needs *a* cache; the caller's below is empty
    for args in (["lock"], ["install", "--target=wasi-p2"]):
        proc = _cli(["-C", str(origin), *args], build_cache, shared_index.url)
        assert proc.returncode == 0, proc.stderr
    assert (origin / ".mochi" / "wasi-p2" / "project-component" / "component.wasm").is_file()
    call = ["call", "--target", "wasi-p2", "tomli.loads", "--args", json.dumps([TOML])]
    expected = _cli(["-C", str(origin), *call], build_cache)
    assert expected.returncode == 0, expected.stderr
    assert json.loads(expected.stdout) == {"a": 1, "t": {"b": [1, 2]}}
    # the other alias the one project component serves
    call_toml = ["call", "--target", "wasi-p2", "toml.loads", "--args", json.dumps([TOML])]
    expected_toml = _cli(["-C", str(origin), *call_toml], build_cache)
    assert expected_toml.returncode == 0, expected_toml.stderr

    ref = registry.url("team/components") + ":tomli"
    proc = _cli(["-C", str(origin), "push", "--target", "wasi-p2", ref], build_cache)
    assert proc.returncode == 0, proc.stderr

    # a DIFFERENT, empty folder and an empty cache: no manifest, no lock, no .mochi
    empty, cache = tmp_path / "elsewhere", tmp_path / "caller-cache"
    empty.mkdir()
    pulled = _cli(["-C", str(empty), *call, "--component", ref], cache)
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout == expected.stdout
    pulled_toml = _cli(["-C", str(empty), *call_toml, "--component", ref], cache)
    assert pulled_toml.returncode == 0, pulled_toml.stderr
    assert pulled_toml.stdout == expected_toml.stdout
    assert sorted(p.name for p in empty.iterdir()) == []          # nothing written into the caller's folder
    # a Python exception in the callee is the same coded error as in the original project
    bad = ["call", "--target", "wasi-p2", "tomli.loads", "--args", json.dumps(["a = ["])]
    origin_err, pulled_err = _cli(["-C", str(origin), *bad], build_cache), \
        _cli(["-C", str(empty), *bad, "--component", ref], cache)
    assert origin_err.returncode == pulled_err.returncode == 1
    assert origin_err.stderr.splitlines()[0] == pulled_err.stderr.splitlines()[0]

    # content-addressed: with the registry's copy of the component altered, the cached one is used
    manifest = json.loads(next((cache / "oci-components").glob("*/manifest.json")).read_text())
    wasm_blob = registry.blob_path(manifest["layers"][0]["digest"])
    wasm_blob.write_bytes(b"\x00asm\x0d\x00\x01\x00")
    again = _cli(["-C", str(empty), *call, "--component", ref], cache)
    assert again.returncode == 0, again.stderr
    assert again.stdout == expected.stdout

    # an alias the component does not serve: a usage error naming the ones it does
    proc = _cli(["-C", str(empty), "call", "--target", "wasi-p2", "--component", ref, "nope.loads"], cache)
    assert proc.returncode == 2 and "WT979" in proc.stderr and "tomli" in proc.stderr

    # the plan (the config blob) altered in the registry's storage: refused, nothing cached
    config_blob = registry.blob_path(manifest["config"]["digest"])
    config = json.loads(config_blob.read_bytes())
    config["dev.wasmtool.plans"]["aliases"]["tomli"]["interfaces"][0]["functions"][0]["target"] = "os:system"
    config_blob.write_bytes(json.dumps(config).encode())
    fresh = tmp_path / "fresh-cache"
    refused = _cli(["-C", str(empty), *call, "--component", ref], fresh)
    assert refused.returncode == 1
    assert "WT976" in refused.stderr and "refused" in refused.stderr
    assert not any((fresh / "oci-components").glob("*/config.json"))
    assert hashlib.sha256(config_blob.read_bytes()).hexdigest() != manifest["config"]["digest"].split(":")[1]
