"""Issue 6 through the real CLI: lock and install for wasi-p2 build a component from the
GENERATED wrapper (componentize-py), calls under wasmtime equal the native generated wrapper's
(a differential table), a second install builds nothing, and packages with only native
wheels fail `lock` with the documented error."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.support.index_server import IndexServer
from tests.support.session_cache import SharedIndex

pytestmark = pytest.mark.slow

MANIFEST = """
name = "wasi"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["native", "wasi-p2"]

[python-dependencies]
packaging = { version = "*", import-names = ["packaging.utils"] }
"""

TABLE: list[tuple[str, list[object]]] = [
    ("packaging_canonicalize_name", ["Foo_Bar.baz"]),
    ("packaging_canonicalize_name", ["already-normal"]),
    ("packaging_canonicalize_name_full", ["Foo__Bar", True]),
    ("packaging_canonicalize_name_full", ["-bad-", True]),          # raises InvalidName
    ("packaging_is_normalized_name", ["foo-bar"]),
    ("packaging_is_normalized_name", ["Foo_Bar"]),
]


def native_results(project: Path) -> list[object]:
    code = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(project / '.mochi' / 'python_workspace')!r})
        from python_wrap.packaging import packaging_utils_externs as w
        out = []
        for name, args in json.loads(sys.argv[1]):
            try:
                out.append({{"ok": getattr(w, name)(*args)}})
            except Exception as exc:
                out.append({{"error": type(exc).__name__}})
        print(json.dumps(out))
    """)
    proc = subprocess.run([str(project / ".mochi" / "venv" / "bin" / "python"), "-c", code, json.dumps(TABLE)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout))


def test_wasi_install_builds_components_from_generated_wrappers(
        tmp_path: Path, cache_dir: Path, index_server: IndexServer) -> None:
    from wasmtool.ops.context import Context
    from wasmtool.ops.wasi_install import install_wasi
    from wasmtool.run.errors import RemotePythonError
    from wasmtool.run.wasi import WasiComponentRuntime

    project = tmp_path / "wasi"
    project.mkdir()
    (project / "mochi.toml").write_text(textwrap.dedent(MANIFEST))
    run_cli(["-C", str(project), "lock"], cache=cache_dir, index_url=index_server.url, check=True)
    run_cli(["-C", str(project), "install"], cache=cache_dir, index_url=index_server.url, check=True)
    proc = run_cli(["-C", str(project), "install", "--target=wasi-p2"], cache=cache_dir,
                   index_url=index_server.url, check=True)
    assert "component packaging:" in proc.stderr and "(built)" in proc.stderr
    assert (project / ".mochi" / "wasi-p2" / "packaging" / "component.wasm").is_file()
    world = (project / ".mochi" / "wasi-p2" / "packaging" / "wit" / "world.wit").read_text()
    assert "canonicalize-name: func(name: string) -> result<string, py-error>" in world
    proc = run_cli(["-C", str(project), "install", "--target=wasi-p2"], cache=cache_dir,
                   index_url=index_server.url, check=True)
    assert "(cached)" in proc.stderr and "(built)" not in proc.stderr     # nothing rebuilt

    expected = native_results(project)
    with Context.open(project, cache_dir=cache_dir, index_url=index_server.url) as ctx:
        built = install_wasi(ctx).components[0].built
    assert built.from_cache
    got: list[object] = []
    with WasiComponentRuntime(built) as rt:
        for name, args in TABLE:
            try:
                got.append({"ok": rt.call(name, args)})
            except RemotePythonError as exc:
                got.append({"error": exc.python_type.rsplit(".", 1)[-1]})
    assert got == expected
    assert expected[0] == {"ok": "foo-bar-baz"} and expected[3] == {"error": "InvalidName"}


@pytest.mark.parametrize("dep", ["numpy", "pydantic"])
def test_compiled_packages_fail_lock_for_wasi_with_the_documented_error(
        tmp_path: Path, shared_cache: Path, shared_index: SharedIndex, dep: str) -> None:
    project = tmp_path / dep
    project.mkdir()
    (project / "mochi.toml").write_text(textwrap.dedent(f"""
        name = "x"
        [python]
        requires-python = ">=3.12"
        targets = ["wasi-p2"]
        [python-dependencies]
        {dep} = "*"
    """))
    proc = run_cli(["-C", str(project), "lock"], cache=shared_cache, index_url=shared_index.url)
    assert proc.returncode != 0 and "WT231" in proc.stderr and "Traceback" not in proc.stderr
    assert ("numpy" if dep == "numpy" else "pydantic-core") in proc.stderr
    assert not (project / "mochi.lock").exists()
