"""Defaults that work: a fresh project naming one package and the target `pyodide-314`, with no
other setting, locks, installs and answers a call in Pyodide under Node, through the real CLI
against the hermetic index on 127.0.0.1.

Each package here is one the Pyodide distribution also ships (its `pyodide-lock.json` pins
it to a wheel on Pyodide's CDN, which is not reachable here): by default (`[python]
pyodide-packages = "index-first"`) the index's build for the target is taken instead
(pydantic-core's PEP 783 `pyemscripten_2026_0_wasm32` wheel, pure wheels), so every package is
bundled and nothing is referenced by URL.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.support.session_cache import SharedIndex
from wasmtool.run.pyodide import dist_lock_path

pytestmark = pytest.mark.slow

TARGET = "pyodide-314"


@dataclass(frozen=True)
class Case:
    dependency: str                  # the one line under [python-dependencies]
    locked: dict[str, str]           # name -> version mochi.lock pins for the target
    call: str
    args: list[object]
    expect: object


CASES = {
    "pydantic": Case('pydantic = "^2"', {"annotated-types": "0.8.0", "pydantic": "2.14.4", "pydantic-core": "2.50.5",
                                         "typing-extensions": "4.16.0", "typing-inspection": "0.4.5"},
                     "pydantic.alias_generators.to_camel", ["first_call_name"], "firstCallName"),
    "idna": Case('idna = "^3"', {"idna": "3.20"}, "idna.decode", ["xn--eckwd4c7c.xn--zckzah"], "ドメイン.テスト"),
    "attrs": Case('attrs = ">=23"', {"attrs": "26.1.0"}, "attrs.converters.to_bool", ["yes"], True),
    "python-dateutil": Case('python-dateutil = "*"', {"python-dateutil": "4.0.0", "tzdata": "2026.6"},
                            "dateutil.parser.parse", ["2026-12-03T10:00:00+01:00"], "2026-12-03T10:00:00+01:00"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_fresh_project_locks_installs_and_answers_with_no_setting(
        name: str, tmp_path: Path, shared_cache: Path, shared_index: SharedIndex) -> None:
    # a fresh project, not a fresh cache: the session's cache and index serve it
    cache_dir, index_server = shared_cache, shared_index
    case = CASES[name]
    distribution = json.loads(dist_lock_path().read_text(encoding="utf-8"))["packages"]
    assert name in distribution, f"{name} is not a package Pyodide ships; the case proves nothing"
    root = tmp_path / "app"
    root.mkdir()
    (root / "mochi.toml").write_text(f'name = "app"\n\n[python]\ntargets = ["{TARGET}"]\n\n'
                                     f"[python-dependencies]\n{case.dependency}\n", encoding="utf-8")

    def cli(*args: str) -> str:
        proc = run_cli(["-C", str(root), *args], cache=cache_dir, index_url=index_server.url)
        assert proc.returncode == 0, f"wasmtool {' '.join(args)}:\n{proc.stderr}"
        return proc.stdout + proc.stderr

    cli("lock")
    lock = tomllib.loads((root / "mochi.lock").read_text(encoding="utf-8"))
    pins = {p["name"]: p for p in lock["python-package"] if p["target"] == TARGET}
    assert {n: p["version"] for n, p in pins.items()} == case.locked
    # from the index, although Pyodide's lock pins the package too (on its CDN)
    files = index_server.url.removesuffix("/simple/") + "/files/"
    assert {n: (p["origin"], p["wheel-url"]) for n, p in pins.items()} == {
        n: ("index", files + p["wheel-filename"]) for n, p in pins.items()}
    if name == "pydantic":
        assert pins["pydantic-core"]["wheel-filename"] == \
            "pydantic_core-2.50.5-cp314-cp314-pyemscripten_2026_0_wasm32.whl"

    out = cli("install", f"--target={TARGET}")
    bundle = root / ".mochi" / TARGET
    assert f"bundled {len(case.locked)} package(s) for {TARGET} into {bundle}" in out
    assert "referenced" not in out
    manifest = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))
    assert {p["name"] for p in manifest["packages"]} == {*case.locked, "mochi-bindings"}
    assert not manifest.get("referenced")
    for p in manifest["packages"]:
        assert (bundle / p["file"]).is_file()

    proc = run_cli(["-C", str(root), "call", case.call, "--args", json.dumps(case.args), f"--target={TARGET}", "-v"],
                   cache=cache_dir, index_url=index_server.url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == case.expect
    assert f"runtime: pyodide ({TARGET} runs its bundle in Pyodide under Node)" in proc.stderr
