"""The bundle in real Pyodide under Node: calls, integrity refusal, smoke imports, protocol."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pyodide.wheelmaker import PYDANTIC_SET, flip_byte, make_wheel
from wasmtool.bundle.errors import (
    CallTargetError,
    PackageLoadError,
    PyodideCallError,
    PyodideNotInstalledError,
    ResultEncodingError,
    RuntimeTimeoutError,
    WheelHashMismatchError,
)
from wasmtool.bundle.pyodide import BundleWheel, build_bundle, sha256_file
from wasmtool.run.codec import Handle
from wasmtool.run.pyodide import (
    CALL_SCRIPT,
    PyodideNodeRuntime,
    node_modules_dir,
    pyodide_dir,
    smoke,
    split_target,
)


def run_call_mjs(node: str, *args: str) -> tuple[int, list[dict[str, object]]]:
    proc = subprocess.run([node, str(CALL_SCRIPT), "--pyodide", str(pyodide_dir()), *args],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, lines


# ----------------------------------------------------------------------------- pydantic (real wheels)

def test_pydantic_type_adapter_through_the_runtime(pydantic_runtime: PyodideNodeRuntime) -> None:
    assert pydantic_runtime.call("wt_probe:int_via_pydantic", ["42"]) == 42
    assert pydantic_runtime.call("wt_probe.int_via_pydantic", ["-7"]) == -7
    assert set(pydantic_runtime.loaded) >= {"pydantic", "pydantic-core", "typing-extensions", "wt-probe"}


def test_pydantic_validation_error_keeps_its_python_type(pydantic_runtime: PyodideNodeRuntime) -> None:
    with pytest.raises(PyodideCallError) as info:
        pydantic_runtime.call("wt_probe:int_via_pydantic", ["forty-two"])
    assert info.value.py_type.endswith("ValidationError")
    assert "int_parsing" in info.value.py_message
    # The process survives a Python exception.
    assert pydantic_runtime.call("wt_probe:toml_keys", ["b = 1\na = 2\n"]) == ["a", "b"]
    assert pydantic_runtime.call("wt_probe:attrs_point", [3], {"y": 4}) == {"x": 3, "y": 4}


def test_smoke_passes_for_the_real_wheels(pydantic_runtime: PyodideNodeRuntime) -> None:
    assert pydantic_runtime.smoke() == []


def test_tampered_wheel_is_refused_naming_the_file(pydantic_bundle: Path, tmp_path: Path, node: str) -> None:
    copy = tmp_path / "tampered"
    shutil.copytree(pydantic_bundle, copy)
    victim = PYDANTIC_SET["pydantic-core"][0]
    expected = sha256_file(copy / "wheels" / victim)
    flip_byte(copy / "wheels" / victim)
    actual = sha256_file(copy / "wheels" / victim)
    with pytest.raises(WheelHashMismatchError) as info:
        PyodideNodeRuntime(copy, node=node).start()
    err = info.value
    assert err.filename == f"wheels/{victim}"
    assert (err.expected, err.actual) == (expected, actual)
    assert victim in str(err)
    assert expected in str(err)
    assert actual in str(err)
    # The one-shot CLI refuses it the same way, with one JSON line and status 1.
    status, lines = run_call_mjs(node, "--bundle", str(copy), "--module", "wt_probe",
                                 "--function", "int_via_pydantic", "--args", '["1"]')
    assert status == 1
    assert len(lines) == 1
    assert lines[0]["ok"] is False
    error = lines[0]["error"]
    assert isinstance(error, dict)
    assert error["code"] == "WT842"
    assert error["file"] == f"wheels/{victim}"


def test_call_mjs_one_shot(pydantic_bundle: Path, node: str) -> None:
    status, lines = run_call_mjs(node, "--bundle", str(pydantic_bundle), "--module", "wt_probe",
                                 "--function", "int_via_pydantic", "--args", '["42"]')
    assert (status, lines) == (0, [{"ok": True, "value": 42}])


# ----------------------------------------------------------------------------- made wheels only

def test_protocol_values_and_errors(small_runtime: PyodideNodeRuntime) -> None:
    assert small_runtime.call("wt_ok:add", [2, 3]) == 5
    payload = {"s": "é\n\"", "n": None, "f": 1.5, "l": [1, [2]], "b": True}
    assert small_runtime.call("wt_ok:echo", ["x", 1], payload) == {"args": ["x", 1], "kwargs": payload}
    with pytest.raises(PyodideCallError) as info:
        small_runtime.call("wt_ok:boom", ["no good"])
    assert info.value.py_type == "ValueError"
    assert info.value.py_message == "no good"
    with pytest.raises(CallTargetError, match="missing_fn"):
        small_runtime.call("wt_ok:missing_fn")
    with pytest.raises(CallTargetError, match="wt_nothing"):
        small_runtime.call("wt_nothing:f")
    # an object with no JSON form is a handle, as natively (tests/run/test_pyodide_handles.py)
    assert small_runtime.call("wt_ok:not_json") == Handle(1)
    assert small_runtime.call("wt_ok:micropip_loaded") is False
    with pytest.raises(ResultEncodingError, match="arguments"):
        small_runtime.call("wt_ok:add", [object(), 1])


def test_timeout_kills_and_the_next_call_restarts(small_bundle: Path, node: str) -> None:
    with PyodideNodeRuntime(small_bundle, node=node) as runtime:
        with pytest.raises(RuntimeTimeoutError):
            runtime.call("wt_ok:spin", timeout=2)
        assert runtime.call("wt_ok:add", [1, 1]) == 2


def test_smoke_reports_a_broken_import(tmp_path: Path, dist_lock: Path, node: str) -> None:
    good = make_wheel(tmp_path / "in", "wt-good", "1.0", {"wt_good.py": "X = 1\n"})
    broken = make_wheel(tmp_path / "in", "wt-broken", "0.1", {
        "wt_broken/__init__.py": "import wt_missing_dependency_xyz\n"})
    out = tmp_path / "bundle"
    build_bundle(out, dist_lock_path=dist_lock, wheels=[good.bundle_wheel(), broken.bundle_wheel()])
    failures = smoke(out, node=node)
    assert len(failures) == 1
    (failure,) = failures
    assert failure.package == "wt-broken"
    assert failure.import_name == "wt_broken"
    assert failure.error_type == "ModuleNotFoundError"
    assert "wt_missing_dependency_xyz" in failure.message
    assert "wt-broken" in str(failure)
    status, lines = run_call_mjs(node, "--bundle", str(out), "--smoke")
    assert status == 1
    assert lines[0]["imported"] == ["wt_good"]


def test_a_package_pyodide_cannot_load_fails_loudly(tmp_path: Path, dist_lock: Path, node: str) -> None:
    # Hash-correct but not a zip: Pyodide's loadPackage does not throw, the loader must.
    junk = tmp_path / "in" / "wt_junk-1.0-py3-none-any.whl"
    junk.parent.mkdir()
    junk.write_bytes(b"this is not a zip file\n" * 64)
    out = tmp_path / "bundle"
    build_bundle(out, dist_lock_path=dist_lock,
                 wheels=[BundleWheel(junk, "wt-junk", "1.0", sha256_file(junk), (), ("wt_junk",))])
    with pytest.raises(PackageLoadError, match="wt-junk") as info:
        PyodideNodeRuntime(out, node=node).start()
    assert "not a zip file" in str(info.value)


def test_node_modules_dir_without_pyodide(tmp_path: Path) -> None:
    with pytest.raises(PyodideNotInstalledError, match=r"setup-node\.sh"):
        node_modules_dir(tmp_path)


@pytest.mark.parametrize(("target", "expected"), [
    ("pkg.mod:func", ("pkg.mod", "func")),
    ("pkg.mod:Cls.method", ("pkg.mod", "Cls.method")),
    ("pkg.mod.func", ("pkg.mod", "func")),
])
def test_split_target(target: str, expected: tuple[str, str]) -> None:
    assert split_target(target) == expected


@pytest.mark.parametrize("target", ["func", ":f", "m:"])
def test_split_target_refuses(target: str) -> None:
    with pytest.raises(ValueError, match="module"):
        split_target(target)
