"""``wasmtool audit --wheel FILE``, run as users run it (the console script in a subprocess)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.support.audit_builders import compile_shared, pack_wheel, rename_wasm_import

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "tests" / "data" / "artefacts"
MSGPACK_LINUX = "msgpack-1.2.4-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl"
MSGPACK_WASM = "msgpack-1.2.4-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
NO_INDEX = "http://127.0.0.1:9/simple/"     # audit --wheel reads no index; a closed port proves it


def artefact(name: str) -> Path:
    path = ARTEFACTS / name
    if not path.is_file():
        pytest.fail(f"missing test artefact {name}: run scripts/fetch_artefacts.py", pytrace=False)
    return path


def test_clean_wheel_human_output(tmp_path: Path) -> None:
    proc = run_cli(["audit", "--wheel", str(artefact(MSGPACK_LINUX))], cache=tmp_path / "cache", index_url=NO_INDEX)
    assert proc.returncode == 0, proc.stderr
    assert f"{MSGPACK_LINUX} [native]: ok" in proc.stdout
    assert "msgpack/_cmsgpack.cpython-312-x86_64-linux-gnu.so (elf): ok" in proc.stdout


def test_wasm_wheel_picks_its_target_and_json(tmp_path: Path) -> None:
    proc = run_cli(["audit", "--wheel", str(artefact(MSGPACK_WASM)), "--json"], cache=tmp_path / "cache",
                   index_url=NO_INDEX)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True
    [audit] = doc["audits"]
    assert (audit["target"], audit["verdict"]) == ("pyodide-314", "ok")
    assert [m["format"] for m in audit["modules"]] == ["wasm"]


def test_findings_exit_1_with_the_rule_code(tmp_path: Path) -> None:
    ext = compile_shared(tmp_path / "_lim.so", "extern void *_PyObject_GetAttrId(void *, void *);\n"
                         "void *PyInit__lim(void *o) { return _PyObject_GetAttrId(o, 0); }\n")
    wheel = pack_wheel(tmp_path, "lim-0.1-cp39-abi3-manylinux_2_17_x86_64.whl", {"lim/_lim.abi3.so": ext.read_bytes()})
    proc = run_cli(["audit", "--wheel", str(wheel)], cache=tmp_path / "cache", index_url=NO_INDEX)
    assert proc.returncode == 1
    assert "lim/_lim.abi3.so (elf): findings" in proc.stdout
    assert "WT953 abi3-non-limited-symbol: _PyObject_GetAttrId" in proc.stdout
    assert "WT953" in proc.stderr and wheel.name in proc.stderr and "lim/_lim.abi3.so" in proc.stderr

    as_json = run_cli(["audit", "--wheel", str(wheel), "--json"], cache=tmp_path / "cache", index_url=NO_INDEX)
    assert as_json.returncode == 1
    doc = json.loads(as_json.stdout)
    assert doc["ok"] is False
    [finding] = doc["audits"][0]["modules"][0]["findings"]
    assert finding == {"code": "WT953", "member": "lim/_lim.abi3.so", "rule": "abi3-non-limited-symbol",
                       "subject": "_PyObject_GetAttrId", "detail": finding["detail"]}


def test_explicit_targets_each_get_a_verdict(tmp_path: Path) -> None:
    with zipfile.ZipFile(artefact(MSGPACK_WASM)) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if ".dist-info/" not in n}
    so = next(n for n in members if n.endswith(".so"))
    members[so] = rename_wasm_import(members[so], "PyLong_FromLong", "PyLong_FromMochiAudit")
    wheel = pack_wheel(tmp_path, MSGPACK_WASM, members)
    proc = run_cli(["audit", "--wheel", str(wheel), "--target", "pyodide-314", "--target", "native", "--json"],
                   cache=tmp_path / "cache", index_url=NO_INDEX)
    assert proc.returncode == 1
    verdicts = {a["target"]: a["verdict"] for a in json.loads(proc.stdout)["audits"]}
    assert verdicts == {"pyodide-314": "findings", "native": "skipped"}
    assert "WT954" in proc.stderr and "PyLong_FromMochiAudit" in proc.stderr and so in proc.stderr


def test_unknown_target_names_the_known_ones(tmp_path: Path) -> None:
    proc = run_cli(["audit", "--wheel", str(artefact(MSGPACK_LINUX)), "--target", "no-such-target"],
                   cache=tmp_path / "cache", index_url=NO_INDEX)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "WT802" in proc.stderr and "'no-such-target'" in proc.stderr and "pyodide-314" in proc.stderr
