"""What a page's first call costs: ``bindAlias`` reads the alias's small method table
(``methods.json``, :func:`wasmtool.synth.typescript.method_table`) rather than its whole
surface, and the bindings wheel ships its modules compiled by Pyodide's own CPython
(:func:`wasmtool.targets.pyodide.pyodide_bytecode`), so the externs module is not compiled in
the page. Both are checked on a real bindings wheel in real Pyodide under Node; the bytecode
must leave the wheel byte-identical from one build to the next, cached or not."""

from __future__ import annotations

import io
import json
import shutil
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.run.test_pyodide_handles import graph_workspace
from wasmtool.bundle.pyodide import BundleWheel, build_bundle
from wasmtool.run.pyodide import dist_lock_path, pyodide_dir
from wasmtool.synth.typescript import METHOD_TABLE_FORMAT, method_table, render_method_table
from wasmtool.targets.pyodide import bindings_wheel
from wasmtool.tools import run_tool

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "runtime" / "pyodide"


def _param(name: str, has_default: bool = False) -> dict[str, Any]:
    return {"name": name, "mochi_name": name, "kind": "positional_or_keyword", "has_default": has_default,
            "type": {"kind": "any"}}


def _fn(extern: str, *params: dict[str, Any]) -> dict[str, Any]:
    return {"extern_name": extern, "target": "wtg:" + extern, "kind": "function", "params": list(params),
            "returns": {"kind": "any"}, "doc": "", "full": False, "is_async": False, "owner": ""}


#: The surface.json of the alias ``wtg`` over GRAPH_SOURCE (the externs are its functions).
SURFACE: dict[str, Any] = {
    "alias": "wtg", "dist": "wt-graph", "version": "1.0", "import_names": ["wtg"], "tier": "typed",
    "records": [], "enums": [], "handles": [], "skips": [],
    "functions": [_fn("name_of", _param("graph")), _fn("new_graph", _param("name")),
                  _fn("neighbours", _param("graph"), _param("node")),
                  _fn("add_edge", _param("graph"), _param("a"), _param("b", True))],
}


def test_method_table_is_what_bindings_mjs_derives_from_the_surface(node: str, tmp_path: Path) -> None:
    surfaces = [SURFACE,
                {"alias": "x2y", "import_names": ["b.c", "a.b"],
                 "functions": [_fn("x_two_y_f", _param("v", True)), _fn("x2y_f"), _fn("f"), _fn("x2y_g"), _fn("g")]}]
    (tmp_path / "bindings.mjs").write_bytes((RUNTIME / "bindings.mjs").read_bytes())
    (tmp_path / "loader.mjs").write_bytes((RUNTIME / "loader.mjs").read_bytes())
    (tmp_path / "probe.mjs").write_text(
        'import { methodTable } from "./bindings.mjs";\n'
        'console.log(JSON.stringify(JSON.parse(process.argv[2]).map(methodTable)));\n')
    out = run_tool("node", [node, str(tmp_path / "probe.mjs"), json.dumps(surfaces)], cwd=tmp_path).stdout
    from_js = json.loads(out)
    for surface, js in zip(surfaces, from_js, strict=True):
        table = method_table(surface)
        assert table["format"] == METHOD_TABLE_FORMAT
        assert {k: v for k, v in table.items() if k not in ("format", "format_version")} == js
        assert json.loads(render_method_table(surface)) == table
    assert from_js[0]["module"] == "python_wrap.wtg.wtg_externs"
    assert from_js[0]["methods"][0] == ["add_edge", "add_edge", [["graph", False], ["a", False], ["b", True]]]
    assert from_js[1]["module"] == "python_wrap.x2y.a_b_externs"
    # the prefix is dropped as written or spelled; a short name another extern has keeps its extern name
    assert [m[:2] for m in from_js[1]["methods"]] == [
        ["f", "f"], ["g", "g"], ["x2y_f", "x2y_f"], ["x2y_g", "x2y_g"], ["x_two_y_f", "x_two_y_f"]]


def _workspace(root: Path) -> Path:
    workspace = graph_workspace(root)
    (workspace / "python_wrap" / "wtg" / "surface.json").write_text(json.dumps(SURFACE, indent=1))
    return workspace


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory, node: str) -> tuple[Path, Path]:
    """A bundle whose bindings wheel carries .pyc; (bundle, wheel)."""
    root = tmp_path_factory.mktemp("first-call")
    path, sha = bindings_wheel(_workspace(root), root / "wheels", [], bytecode=True, cache_root=root / "cache")
    build_bundle(root / "bundle", dist_lock_path=dist_lock_path(),
                 wheels=[BundleWheel(path, "mochi-bindings", "0", sha)])
    return root / "bundle", path


def test_the_wheel_carries_hash_checked_bytecode_and_rebuilds_byte_identical(
        compiled: tuple[Path, Path], tmp_path: Path) -> None:
    _, wheel = compiled
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        record = zf.read("mochi_bindings-0.dist-info/RECORD").decode()
        pycs = {n: zf.read(n) for n in names if n.endswith(".pyc")}
    sources = [n for n in names if n.endswith(".py")]
    assert "python_wrap/wtg/methods.json" in names
    assert len(pycs) == len(sources) and sources
    for src in sources:
        folder, _, stem = src.rpartition("/")
        pyc = f"{folder + '/' if folder else ''}__pycache__/{stem[:-3]}.cpython-314.pyc"
        assert pyc in pycs, src
        assert int.from_bytes(pycs[pyc][4:8], "little") == 0b11, pyc   # PEP 552: hash-based, checked
        assert f"{pyc},sha256=" in record
    assert names[-1] == "mochi_bindings-0.dist-info/RECORD"
    # no cache, then the cache: the same bytes
    again, _ = bindings_wheel(_workspace(tmp_path), tmp_path / "cold", [], bytecode=True, cache_root=tmp_path / "c")
    cached, _ = bindings_wheel(_workspace(tmp_path / "w2"), tmp_path / "warm", [], bytecode=True,
                               cache_root=tmp_path / "c")
    assert again.read_bytes() == wheel.read_bytes() == cached.read_bytes()
    # a damaged cache entry is compiled again, to the same bytes
    for entry in (tmp_path / "c" / "pyodide-bytecode").iterdir():
        entry.write_bytes(b"not a zip")
    fixed, _ = bindings_wheel(_workspace(tmp_path / "w3"), tmp_path / "fixed", [], bytecode=True,
                              cache_root=tmp_path / "c")
    assert fixed.read_bytes() == wheel.read_bytes()
    # so is an entry that lacks a module's .pyc
    for entry in (tmp_path / "c" / "pyodide-bytecode").iterdir():
        with zipfile.ZipFile(entry, "w") as zf:
            zf.writestr("_mochi_wrap.pyc", b"")
    partial, _ = bindings_wheel(_workspace(tmp_path / "w5"), tmp_path / "partial", [], bytecode=True,
                                cache_root=tmp_path / "c")
    assert partial.read_bytes() == wheel.read_bytes()
    plain, _ = bindings_wheel(_workspace(tmp_path / "w4"), tmp_path / "plain", [])
    with zipfile.ZipFile(io.BytesIO(plain.read_bytes())) as zf:
        assert not [n for n in zf.namelist() if n.endswith(".pyc")]


FIRST_CALL = textwrap.dedent(r"""
    import { loadBundle } from "./loader.mjs";
    import { bindAlias, WasmtoolCallError } from "./bindings.mjs";
    console.log = (...a) => console.error(...a);
    const bundle = await loadBundle({ bundleDir: ".", indexURL: process.argv[2] });
    const out = {};
    // before any import: the shipped .pyc is the one CPython in Pyodide would use for the source
    out.pyc = JSON.parse(bundle.pyodide.runPython(`
    import importlib.util, json, sys
    spec = importlib.util.find_spec("python_wrap.wtg.wtg_externs")
    data = open(spec.cached, "rb").read()
    src = open(spec.origin, "rb").read()
    json.dumps({"magic": data[:4] == importlib.util.MAGIC_NUMBER, "flags": int.from_bytes(data[4:8], "little"),
                "hash": data[8:16] == importlib.util.source_hash(src),
                "imported": "python_wrap.wtg.wtg_externs" in sys.modules})
    `));
    const wtg = bindAlias(bundle, "wtg");
    out.methods = Object.keys(wtg);
    const g = await wtg.new_graph("page");
    await wtg.add_edge(g, "x", "y");
    out.neighbours = await wtg.neighbours(g, "x");
    out.name = await wtg.name_of(g);
    try { await wtg.neighbours(g); } catch (err) {
      out.missing = [err instanceof WasmtoolCallError, err.code, err.message];
    }
    try { bindAlias(bundle, "nope"); } catch (err) { out.unknown = [err.code, err.message]; }
    out.loaded = bundle.pyodide.runPython(`
    import sys
    m = sys.modules["python_wrap.wtg.wtg_externs"]
    str(m.__spec__.cached)
    `);
    process.stdout.write(JSON.stringify(out) + "\n");
""")


def test_bind_alias_reads_the_method_table_and_the_page_imports_the_bytecode(
        compiled: tuple[Path, Path], node: str, tmp_path: Path) -> None:
    bundle, _ = compiled
    folder = tmp_path / "bundle"
    shutil.copytree(bundle, folder)
    (folder / "first_call.mjs").write_text(FIRST_CALL)
    proc = run_tool("node", [node, "first_call.mjs", str(pyodide_dir())], cwd=folder, timeout=300)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["pyc"] == {"magic": True, "flags": 3, "hash": True, "imported": False}
    assert out["methods"] == ["add_edge", "name_of", "neighbours", "new_graph"]
    assert out["neighbours"] == ["y"] and out["name"] == "page"
    assert out["missing"] == [True, "WT727", "wtg.neighbours: missing argument node"]
    assert out["unknown"][0] == "WT706" and "no alias nope is bound in this bundle" in out["unknown"][1]
    assert out["loaded"].endswith("python_wrap/wtg/__pycache__/wtg_externs.cpython-314.pyc")
