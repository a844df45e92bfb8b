"""Memory snapshots of Pyodide bundles (``install --snapshot``, docs/snapshot.md): made at install,
verified by a restore, keyed to the Pyodide build, the packages and the loader; a bundle whose key
does not match falls back to the plain path with a warning that says why; a compiled extension
(pydantic-core) is loaded again at its recorded bases; the parity rows answer the same through a
snapshot bundle as natively."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from pathlib import Path
from typing import cast

import pytest

from tests.e2e.parity import make_project, normalised
from tests.e2e.test_three_way_parity import CALLS, HANDLE_CALLS
from tests.pyodide.wheelmaker import EXTRA_SET, make_wheel, real_wheels
from tests.support.session_cache import SharedIndex
from wasmtool.bundle.errors import (
    SnapshotExtensionError,
    SnapshotHeapError,
    SnapshotKeyError,
    SnapshotRestoreError,
)
from wasmtool.bundle.pyodide import RUNTIME_DIR, build_bundle
from wasmtool.bundle.snapshot import (
    LOADER_FILES,
    RUNTIME_KEY_FILES,
    SNAPSHOT_BIN,
    SNAPSHOT_JSON,
    SnapshotInputs,
    error_from_node,
    key_text,
    make_snapshot,
    snapshot_key,
)
from wasmtool.run.pyodide import pyodide_dir

pytestmark = pytest.mark.slow

CALL = RUNTIME_DIR / "call.mjs"
LOADER_URL = (RUNTIME_DIR / "loader.mjs").as_uri()
SNAPSHOT_URL = (RUNTIME_DIR / "snapshot.mjs").as_uri()
DOC = 'a = 1\n[t]\nb = "x"\n'


def node_eval(node: str, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([node, "--input-type=module", "-e", script, "--", *args], capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL, cwd=RUNTIME_DIR)


def node_call(node: str, bundle: Path, module: str, function: str, args: list[object]
              ) -> tuple[dict[str, object], str]:
    proc = subprocess.run([node, str(CALL), "--bundle", str(bundle), "--module", module, "--function", function,
                           "--args", json.dumps(args)], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def restored(node: str, bundle: Path) -> bool:
    """Did the loader start this bundle from its snapshot (bundle.snapshot)?"""
    proc = node_eval(node, f"""
        import {{ loadBundle }} from {json.dumps(LOADER_URL)};
        const b = await loadBundle({{ bundleDir: process.argv[1], warn: () => {{}} }});
        process.stdout.write(JSON.stringify({{ snapshot: b.snapshot }}));
    """, str(bundle))
    assert proc.returncode == 0, proc.stderr
    return bool(json.loads(proc.stdout)["snapshot"])


def rezip(data: bytes) -> bytes:
    """The same wheel contents in other bytes (an archive comment)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        dst.comment = b"rebuilt"
    assert out.getvalue() != data
    return out.getvalue()


# ----------------------------------------------------------------------------- pure


def test_the_key_text_is_the_same_in_python_and_in_the_loader(node: str) -> None:
    inputs = SnapshotInputs(pyodide={f: hashlib.sha256(f.encode()).hexdigest() for f in RUNTIME_KEY_FILES},
                            packages=(("attrs", "26.1.0", "a" * 64), ("tomli", "2.5.0", "b" * 64)),
                            loader={f: "c" * 64 for f in LOADER_FILES})
    proc = node_eval(node, f"""
        import {{ keyText, snapshotKey }} from {json.dumps(SNAPSHOT_URL)};
        const inputs = JSON.parse(process.argv[1]);
        process.stdout.write(JSON.stringify({{ text: keyText(inputs), key: await snapshotKey(inputs) }}));
    """, json.dumps(inputs.to_dict()))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out == {"text": key_text(inputs), "key": snapshot_key(inputs)}
    other = SnapshotInputs(pyodide=inputs.pyodide, packages=(("attrs", "26.1.0", "d" * 64),), loader=inputs.loader)
    assert snapshot_key(other) != snapshot_key(inputs)


def test_node_failures_map_to_coded_errors(tmp_path: Path) -> None:
    err = error_from_node("verify", {"code": "WT651", "message": "RangeError: offset is out of bounds",
                                     "file": "snapshot.bin"}, tmp_path)
    assert isinstance(err, SnapshotHeapError) and err.code == "WT651" and "RangeError" in str(err)
    assert "without --snapshot" in str(err)
    assert isinstance(error_from_node("verify", {"code": "WT859", "message": "x"}, tmp_path), SnapshotRestoreError)
    assert isinstance(error_from_node("make", {"code": "WT653", "message": "x"}, tmp_path), SnapshotExtensionError)


def test_a_restore_that_cannot_grow_the_memory_is_a_range_error(node: str) -> None:
    """restoringFactory: Pyodide's memory cannot reach the snapshot's heap -> RangeError (WT651 in the loader)."""
    proc = node_eval(node, f"""
        import {{ restoringFactory }} from {json.dumps(SNAPSHOT_URL)};
        const Module = {{ HEAP8: new Int8Array(16), growMemory: () => undefined,
                         API: {{ restoreSnapshot: () => "restored" }} }};
        const make = restoringFactory(async () => Module);
        const m = await make({{}});
        const snap = new Uint8Array(64); new Uint32Array(snap.buffer)[1] = 16;   // heap: 48 bytes
        let out;
        try {{ out = m.API.restoreSnapshot(snap); }} catch (e) {{ out = e.name + ": " + e.message; }}
        const small = new Uint8Array(24); new Uint32Array(small.buffer)[1] = 16;  // heap: 8 bytes
        process.stdout.write(JSON.stringify([out, m.API.restoreSnapshot(small)]));
    """)
    assert proc.returncode == 0, proc.stderr
    grown, fits = json.loads(proc.stdout)
    assert grown.startswith("RangeError: cannot grow Pyodide's memory from 16 to 48 bytes")
    assert fits == "restored"


# ----------------------------------------------------------------------------- bundles in Node


@pytest.fixture(scope="module")
def pure_bundle(tmp_path_factory: pytest.TempPathFactory, test_wheels: Path, dist_lock: Path, node: str) -> Path:
    out = tmp_path_factory.mktemp("snap") / "bundle"
    build_bundle(out, dist_lock_path=dist_lock, wheels=real_wheels(test_wheels, EXTRA_SET), entry_module="tomli")
    make_snapshot(out, node=node, pyodide_dir=pyodide_dir())
    return out


def test_a_snapshot_bundle_restores_and_answers_like_the_plain_one(pure_bundle: Path, node: str) -> None:
    record = json.loads((pure_bundle / SNAPSHOT_JSON).read_text())
    manifest = json.loads((pure_bundle / "bundle.json").read_text())
    data = (pure_bundle / SNAPSHOT_BIN).read_bytes()
    assert record["sha256"] == hashlib.sha256(data).hexdigest() == manifest["snapshot"]["sha256"]
    assert record["size"] == len(data) and 0 < record["brotli"] < record["gzip"] < record["size"]
    assert set(manifest["snapshot"]["runtime"]) == set(RUNTIME_KEY_FILES)
    assert {"tomli", "attr", "attrs"} <= set(record["imports"]) and record["libraries"] == []
    assert restored(node, pure_bundle)
    value, err = node_call(node, pure_bundle, "tomli", "loads", [DOC])
    assert value == {"ok": True, "value": {"a": 1, "t": {"b": "x"}}}
    assert "snapshot not used" not in err
    # the files are back (the snapshot holds memory, not the file system): the wheels' metadata,
    # and a standard-library module nothing imported before the snapshot was taken
    value, _ = node_call(node, pure_bundle, "importlib.metadata", "version", ["tomli"])
    assert value == {"ok": True, "value": "2.5.0"}
    value, _ = node_call(node, pure_bundle, "statistics", "median", [[1, 5, 3]])
    assert value == {"ok": True, "value": 3}


def _copy(bundle: Path, dest: Path) -> Path:
    subprocess.run(["cp", "-a", str(bundle), str(dest)], check=True)
    return dest


def test_a_snapshot_of_another_pyodide_falls_back_with_a_warning(pure_bundle: Path, tmp_path: Path,
                                                                 node: str) -> None:
    bundle = _copy(pure_bundle, tmp_path / "b")
    record = json.loads((bundle / SNAPSHOT_JSON).read_text())
    record["inputs"]["pyodide"]["pyodide.asm.wasm"] = "0" * 64
    (bundle / SNAPSHOT_JSON).write_text(json.dumps(record))
    value, err = node_call(node, bundle, "tomli", "loads", [DOC])
    assert value == {"ok": True, "value": {"a": 1, "t": {"b": "x"}}}
    assert "memory snapshot not used" in err and "the Pyodide runtime differs (pyodide.asm.wasm" in err
    assert not restored(node, bundle)


def test_a_bundle_with_another_wheel_falls_back_and_a_tampered_one_is_refused(pure_bundle: Path, tmp_path: Path,
                                                                              node: str) -> None:
    bundle = _copy(pure_bundle, tmp_path / "b")
    manifest = json.loads((bundle / "bundle.json").read_text())
    tomli = next(p for p in manifest["packages"] if p["name"] == "tomli")
    wheel = bundle / tomli["file"]
    new = rezip(wheel.read_bytes())
    wheel.write_bytes(new)
    # the bundle as a rebuild with that wheel would write it, but the old snapshot kept
    sha = hashlib.sha256(new).hexdigest()
    lock = json.loads((bundle / "pyodide-lock.json").read_text())
    lock["packages"]["tomli"]["sha256"] = tomli["sha256"] = sha
    lock_bytes = json.dumps(lock).encode()
    (bundle / "pyodide-lock.json").write_bytes(lock_bytes)
    manifest["lock"]["sha256"] = hashlib.sha256(lock_bytes).hexdigest()
    (bundle / "bundle.json").write_text(json.dumps(manifest))
    value, err = node_call(node, bundle, "tomli", "loads", [DOC])
    assert value["ok"] is True and value["value"] == {"a": 1, "t": {"b": "x"}}
    assert "memory snapshot not used" in err and "package tomli differs" in err

    # a wheel edited behind bundle.json's back is refused outright, snapshot or not
    wheel.write_bytes(new[:-1] + bytes([new[-1] ^ 1]))
    value, _ = node_call(node, bundle, "tomli", "loads", [DOC])
    assert value["ok"] is False and value["error"]["code"] == "WT842"        # type: ignore[index]


def test_an_edited_snapshot_is_not_restored(pure_bundle: Path, tmp_path: Path, node: str) -> None:
    bundle = _copy(pure_bundle, tmp_path / "b")
    data = bytearray((bundle / SNAPSHOT_BIN).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bundle / SNAPSHOT_BIN).write_bytes(bytes(data))
    value, err = node_call(node, bundle, "tomli", "loads", [DOC])
    assert value["ok"] is True and "memory snapshot not used" in err and "sha256 mismatch" in err


def test_a_snapshot_larger_than_the_initial_memory_restores(tmp_path: Path, dist_lock: Path, node: str) -> None:
    """Pyodide 314 restores into 30 MiB of memory; a bigger heap needs the memory grown first."""
    big = make_wheel(tmp_path / "made", "wt-big", "1.0",
                     {"wt_big/__init__.py": "KEEP = bytearray(48 * 1024 * 1024)\n\ndef size():\n"
                                            "    return len(KEEP)\n"})
    bundle = tmp_path / "bundle"
    build_bundle(bundle, dist_lock_path=dist_lock, wheels=[big.bundle_wheel()], entry_module="wt_big")
    info = make_snapshot(bundle, node=node, pyodide_dir=pyodide_dir())
    assert info.heap_bytes > 48 * 1024 * 1024 > 30 * 1024 * 1024
    assert restored(node, bundle)
    value, _ = node_call(node, bundle, "wt_big", "size", [])
    assert value == {"ok": True, "value": 48 * 1024 * 1024}


def test_a_compiled_extension_is_loaded_again_at_its_recorded_bases(pydantic_bundle: Path, tmp_path: Path,
                                                                     node: str) -> None:
    """pydantic-core's .so: recorded when the snapshot is made, loaded again at the same memory and
    table base on restore; calls into it work, and its errors cross as natively."""
    bundle = _copy(pydantic_bundle, tmp_path / "b")
    info = make_snapshot(bundle, node=node, pyodide_dir=pyodide_dir())
    (lib,) = info.libraries
    assert str(lib["name"]).endswith("_pydantic_core.cpython-314-wasm32-emscripten.so")
    assert str(lib["wheel"]).startswith("pydantic_core-2.50.5-") and int(lib["table_base"]) > 0
    assert restored(node, bundle)
    value, err = node_call(node, bundle, "wt_probe", "int_via_pydantic", ["42"])
    assert value == {"ok": True, "value": 42} and "snapshot not used" not in err
    value, _ = node_call(node, bundle, "wt_probe", "int_via_pydantic", ["x"])
    assert value["ok"] is False and "ValidationError" in str(value["error"])
    # a library whose bytes are not the recorded ones is not loaded: plain path, with the reason
    record = json.loads((bundle / SNAPSHOT_JSON).read_text())
    record["libraries"][0]["sha256"] = "0" * 64
    (bundle / SNAPSHOT_JSON).write_text(json.dumps(record))
    value, err = node_call(node, bundle, "wt_probe", "int_via_pydantic", ["42"])
    assert value == {"ok": True, "value": 42}
    assert "memory snapshot not used" in err and "the snapshot recorded " + "0" * 64 in err


def test_a_key_the_loader_disagrees_with_is_an_install_error(pure_bundle: Path, tmp_path: Path, node: str) -> None:
    bundle = _copy(pure_bundle, tmp_path / "b")
    (bundle / "snapshot.mjs").write_bytes((bundle / "snapshot.mjs").read_bytes() + b"\n// edited\n")
    with pytest.raises(SnapshotKeyError):
        make_snapshot(bundle, node=node, pyodide_dir=pyodide_dir())


# ----------------------------------------------------------------------------- through the CLI

MANIFEST = """
name = "snap"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["native", "pyodide-314"]

[python-dependencies]
packaging = { version = "*", import-names = ["packaging.utils", "packaging.version"] }
attrs = "*"
click = "*"
toml = "*"
tomli = "*"
"""


def test_install_snapshot_and_the_parity_rows(tmp_path: Path, shared_cache: Path, shared_index: SharedIndex,
                                              node: str) -> None:
    # the session's cache: the snapshot is made in the project's bundle, nothing asserted depends on the cache
    rows = cast("list[dict[str, object]]", CALLS)   # the parity table's rows (inferred as list[object] there)
    project, calls, cli = make_project(tmp_path, "snap", MANIFEST, rows, shared_cache, shared_index)
    cli("lock")
    cli("install")
    cli("install", "--target=pyodide-314")
    _, plain, _ = cli("call", "tomli.loads", "--args", json.dumps([DOC]), "--target=pyodide-314")
    _, _, err = cli("install", "--target=pyodide-314", "--snapshot")
    bundle = project / ".mochi" / "pyodide-314"
    assert "memory snapshot snapshot.bin:" in err and "gzip" in err and "brotli" in err
    assert "beside Pyodide's own files" in err and "verified by restoring it in Node" in err
    assert (bundle / SNAPSHOT_BIN).is_file() and "snapshot" in json.loads((bundle / "bundle.json").read_text())
    assert restored(node, bundle)
    _, snap, _ = cli("call", "tomli.loads", "--args", json.dumps([DOC]), "--target=pyodide-314")
    assert json.loads(snap) == json.loads(plain) == {"a": 1, "t": {"b": "x"}}

    answers = {}
    for target in ("native", "pyodide-314"):
        code, out, err = cli("run", f"--target={target}", str(calls), check=False)
        answers[target] = normalised(out)
        assert len(answers[target]) == len(CALLS) and code == 1, err
    assert answers["pyodide-314"] == answers["native"]
    handles = tmp_path / "handles.jsonl"
    handles.write_text("".join(json.dumps(c) + "\n" for c in HANDLE_CALLS))
    _, native_out, _ = cli("run", "--target=native", str(handles), check=False)
    _, pyodide_out, _ = cli("run", "--target=pyodide-314", str(handles), check=False)
    assert pyodide_out == native_out


def test_install_snapshot_refuses_a_native_target(tmp_path: Path, shared_cache: Path,
                                                  shared_index: SharedIndex) -> None:
    manifest = MANIFEST.replace('targets = ["native", "pyodide-314"]', 'targets = ["native"]')
    _, _, cli = make_project(tmp_path, "snapn", manifest, [], shared_cache, shared_index)
    code, _, err = cli("install", "--snapshot", check=False)
    assert code == 2 and "--snapshot applies to Pyodide targets, not to native" in err
