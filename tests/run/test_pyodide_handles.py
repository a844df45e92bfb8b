"""Handles cross the Pyodide boundary as they do natively (docs/value-encoding.md, Handles).

The bridge (``wasmtool_runtime.bridge``) is the worker's value encoding and handle table behind
``loader.mjs``'s ``callFunction``; these tests drive it three ways:

* in CPython directly (the answer shapes, numbering, release, errors);
* in real Pyodide under Node through :class:`PyodideNodeRuntime` (``server.mjs``), compared
  call for call with the same module run natively by :class:`InProcessRuntime`;
* in real Pyodide through ``callFunction`` alone, on a bundle whose bindings wheel (the real
  :func:`wasmtool.targets.pyodide.bindings_wheel`) ships ``wasmtool_runtime``: the path a
  browser takes, with nothing provided by the Node scripts.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from wasmtool_runtime.bridge import Bridge

from tests.pyodide.wheelmaker import make_wheel
from tests.skip_policy import missing
from wasmtool.bundle.errors import CallTargetError, PyodideCallError, PyodideNotInstalledError, ResultEncodingError
from wasmtool.bundle.pyodide import BundleWheel, build_bundle
from wasmtool.run.codec import Handle
from wasmtool.run.errors import InvalidParamsError, RemotePythonError, ReturnTypeMismatchError
from wasmtool.run.inprocess import InProcessRuntime
from wasmtool.run.pyodide import PyodideNodeRuntime, dist_lock_path, pyodide_dir
from wasmtool.targets.pyodide import bindings_wheel

MODULE = "wt_graph"

#: A module of flat functions over a live object, like generated wrappers of a class.
GRAPH_SOURCE = textwrap.dedent('''
    """A tiny graph: built by one call, queried by the next."""


    class Graph:
        def __init__(self, name):
            self.name = name
            self.edges = {}

        def add(self, a, b):
            self.edges.setdefault(a, set()).add(b)
            self.edges.setdefault(b, set()).add(a)


    class StrictMismatch(TypeError):
        wasmtool_rpc_code = -32001


    def new_graph(name):
        return Graph(name)


    def add_edge(graph, a, b):
        graph.add(a, b)
        return graph                       # the same object: the same handle


    def neighbours(graph, node):
        return sorted(graph.edges.get(node, ()))


    def name_of(graph):
        return graph.name


    def union(first, second):
        out = Graph(first.name + "+" + second.name)
        for g in (first, second):
            for a, bs in g.edges.items():
                for b in bs:
                    out.add(a, b)
        return out


    def summary(graph):
        return {"name": graph.name, "nodes": len(graph.edges), "graph": graph}


    def degree_of(graph, node):
        if node not in graph.edges:
            raise KeyError(node)
        return len(graph.edges[node])


    def wrong_return():
        raise StrictMismatch("wrong_return: expected int, got str")


    def tagged():
        return {"big": 2 ** 60, "nan": float("nan"), "raw": b"hi", "keys": {1: "a"}}


    def too_big():
        return 10 ** 5000                  # more digits than int -> str allows


    async def later():
        return 1


    def runtime_origin():
        import wasmtool_runtime
        return wasmtool_runtime.__file__
''')

#: (function, args) run natively and in Pyodide; ``{"$handle": n}`` as in a calls file.
SCRIPT: list[tuple[str, list[Any]]] = [
    ("new_graph", ["g"]),
    ("add_edge", [{"$handle": 1}, "a", "b"]),
    ("add_edge", [{"$handle": 1}, "a", "c"]),
    ("neighbours", [{"$handle": 1}, "a"]),
    ("name_of", [{"$handle": 1}]),
    ("new_graph", ["h"]),
    ("add_edge", [{"$handle": 2}, "c", "d"]),
    ("union", [{"$handle": 1}, {"$handle": 2}]),
    ("neighbours", [{"$handle": 3}, "c"]),
    ("name_of", [{"$handle": 3}]),
    ("summary", [{"$handle": 2}]),
    ("degree_of", [{"$handle": 1}, "zz"]),
    ("neighbours", [{"$handle": 9}, "a"]),
    ("neighbours", [{"$handle": 1}]),
    ("tagged", []),
]


def _as_handles(value: Any) -> Any:
    from wasmtool.run.codec import decode_value

    return decode_value(value)


def outcome(runtime: Any, method: str, args: list[Any]) -> tuple[Any, ...]:
    """("ok", value) or (error class name, code, the details a calls file shows) of one call."""
    try:
        return "ok", _wire(runtime.call(method, _as_handles(args)))
    except RemotePythonError as exc:
        return type(exc).__name__, exc.code, exc.python_type, exc.python_message
    except InvalidParamsError as exc:
        return type(exc).__name__, exc.code, str(exc)


def _wire(value: Any) -> Any:
    from wasmtool.run.codec import encode_value

    return encode_value(value)


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def node() -> str:
    try:
        dist_lock_path()
    except PyodideNotInstalledError as exc:
        missing(str(exc))
    found = shutil.which("node")
    if found is None:
        missing("node is not on PATH (Node.js 20 or newer)")
    return found


@pytest.fixture(scope="module")
def graph_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """``wt_graph`` imported natively (not left in sys.modules)."""
    path = tmp_path_factory.mktemp("native") / f"{MODULE}.py"
    path.write_text(GRAPH_SOURCE)
    spec = importlib.util.spec_from_file_location(MODULE, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(MODULE, None)


@pytest.fixture(scope="module")
def bare_bundle(tmp_path_factory: pytest.TempPathFactory, node: str) -> Path:
    """``wt_graph`` alone: no wasmtool_runtime in it (the Node scripts provide wasmtool's)."""
    root = tmp_path_factory.mktemp("bare-bundle")
    wheel = make_wheel(root / "made", "wt-graph", "1.0", {f"{MODULE}.py": GRAPH_SOURCE})
    build_bundle(root / "bundle", dist_lock_path=dist_lock_path(), wheels=[wheel.bundle_wheel()],
                 entry_module=MODULE)
    return root / "bundle"


def graph_workspace(root: Path) -> Path:
    """A workspace whose one alias, ``wtg``, wraps :data:`GRAPH_SOURCE`."""
    workspace = root / "workspace"
    (workspace / "python_wrap" / "wtg").mkdir(parents=True)
    (workspace / "_mochi_wrap.py").write_text('"""stand-in"""\n')
    (workspace / "python_wrap" / "__init__.py").write_text("")
    (workspace / "python_wrap" / "wtg" / "__init__.py").write_text("")
    (workspace / "python_wrap" / "wtg" / "wtg_externs.py").write_text(GRAPH_SOURCE)
    return workspace


@pytest.fixture(scope="module")
def bindings_bundle(tmp_path_factory: pytest.TempPathFactory, node: str) -> Path:
    """A bundle with a real bindings wheel: its wrapper module is ``python_wrap.wtg.wtg_externs``."""
    root = tmp_path_factory.mktemp("bindings-bundle")
    path, sha = bindings_wheel(graph_workspace(root), root / "wheels", [])
    build_bundle(root / "bundle", dist_lock_path=dist_lock_path(),
                 wheels=[BundleWheel(path, "mochi-bindings", "0", sha)])
    return root / "bundle"


@pytest.fixture(scope="module")
def pyodide(bare_bundle: Path, node: str) -> Iterator[PyodideNodeRuntime]:
    with PyodideNodeRuntime(bare_bundle, node=node) as runtime:
        yield runtime


class PyodideModule:
    """One module of a :class:`PyodideNodeRuntime`, called like a native runtime."""

    def __init__(self, node: PyodideNodeRuntime, module: str) -> None:
        self.node = node
        self.module = module

    def call(self, method: str, args: list[Any]) -> Any:
        return self.node.call_method(self.module, method, args)


# ----------------------------------------------------------------------------- the bridge in CPython


def answer(bridge: Bridge, function: str, args: list[Any], kwargs: dict[str, Any] | None = None) -> Any:
    return json.loads(bridge.call(MODULE, function, json.dumps(args), json.dumps(kwargs or {})))


def test_bridge_hands_out_handles_and_takes_them_back(graph_module: ModuleType) -> None:
    bridge = Bridge()
    assert answer(bridge, "new_graph", ["g"]) == {"ok": True, "value": {"$handle": 1}}
    # the same object returned again is the same number
    assert answer(bridge, "add_edge", [{"$handle": 1}, "a", "b"]) == {"ok": True, "value": {"$handle": 1}}
    assert answer(bridge, "neighbours", [{"$handle": 1}, "a"]) == {"ok": True, "value": ["b"]}
    assert answer(bridge, "summary", [{"$handle": 1}])["value"] == {"name": "g", "nodes": 2, "graph": {"$handle": 1}}
    assert answer(bridge, "new_graph", ["h"])["value"] == {"$handle": 2}
    # numbered per module: another module starts at 1
    other = json.loads(bridge.call("types", "SimpleNamespace", "[]", "{}"))
    assert other == {"ok": True, "value": {"$handle": 1}}
    assert len(bridge.handles(MODULE)) == 2 and len(bridge.handles("types")) == 1


def test_bridge_release_matches_the_worker(graph_module: ModuleType) -> None:
    bridge = Bridge()
    handle = answer(bridge, "new_graph", ["g"])["value"]
    assert answer(bridge, "wasmtool.release", [handle, 77]) == {"ok": True, "value": 1}
    gone = answer(bridge, "neighbours", [handle, "a"])
    assert gone["ok"] is False
    assert gone["error"]["code"] == "WT727" and gone["error"]["rpc_code"] == -32602
    assert "unknown handle 1 (released or never issued)" in gone["error"]["message"]
    # a released number is not issued again
    assert answer(bridge, "new_graph", ["h"])["value"] == {"$handle": 2}
    bad = answer(bridge, "wasmtool.release", ["one"])
    assert bad["error"]["code"] == "WT727"
    assert answer(bridge, "wasmtool.ping", []) == {"ok": True, "value": "pong"}
    assert "new_graph" in answer(bridge, "wasmtool.methods", [])["value"]


def test_bridge_errors(graph_module: ModuleType) -> None:
    bridge = Bridge()
    raised = answer(bridge, "degree_of", [answer(bridge, "new_graph", ["g"])["value"], "x"])["error"]
    assert (raised["code"], raised["type"], raised["py_type"], raised["rpc_code"]) == ("WT856", "KeyError",
                                                                                      "KeyError", -32000)
    assert raised["message"] == "'x'" and "raise KeyError(node)" in raised["traceback"]
    strict = answer(bridge, "wrong_return", [])["error"]
    assert strict["rpc_code"] == -32001 and strict["type"] == f"{MODULE}.StrictMismatch"
    unbound = answer(bridge, "neighbours", [{"$handle": 1}])["error"]
    assert unbound["code"] == "WT727" and "missing a required argument: 'node'" in unbound["message"]
    assert answer(bridge, "nope", [])["error"]["code"] == "WT857"
    assert json.loads(bridge.call("wt_no_such_module", "f"))["error"]["code"] == "WT857"
    assert answer(bridge, "too_big", [])["error"]["code"] == "WT858"
    assert "awaitable" in answer(bridge, "later", [])["error"]["message"]
    assert json.loads(bridge.call(MODULE, "name_of", "not json"))["error"]["code"] == "WT858"
    assert answer(bridge, "tagged", [])["value"] == {
        "big": {"$int": str(2 ** 60)}, "nan": {"$float": "nan"}, "raw": {"$bytes": "aGk="},
        "keys": {"$map": [[1, "a"]]}}


# ----------------------------------------------------------------------------- real Pyodide under Node


def test_pyodide_answers_the_script_as_natively(graph_module: ModuleType, pyodide: PyodideNodeRuntime) -> None:
    native = InProcessRuntime(graph_module, roundtrip=True)
    remote = PyodideModule(pyodide, MODULE)
    native_answers = [outcome(native, fn, args) for fn, args in SCRIPT]
    pyodide_answers = [outcome(remote, fn, args) for fn, args in SCRIPT]
    assert pyodide_answers == native_answers
    # and the answers are the ones a calls file expects
    assert native_answers[0] == ("ok", {"$handle": 1})
    assert native_answers[2] == ("ok", {"$handle": 1})
    assert native_answers[3] == ("ok", ["b", "c"])
    assert native_answers[7] == ("ok", {"$handle": 3})
    assert native_answers[8] == ("ok", ["a", "d"])
    assert native_answers[9] == ("ok", "g+h")
    assert native_answers[10] == ("ok", {"name": "h", "nodes": 2, "graph": {"$handle": 2}})
    assert native_answers[11] == ("RemotePythonError", "WT724", "KeyError", "'zz'")
    assert native_answers[12][:2] == ("InvalidParamsError", "WT727")
    assert "neighbours: unknown handle 9 (released or never issued)" in native_answers[12][2]
    assert native_answers[13][:2] == ("InvalidParamsError", "WT727")
    assert "missing a required argument: 'node'" in native_answers[13][2]
    assert native_answers[14] == ("ok", {"big": {"$int": str(2 ** 60)}, "nan": {"$float": "nan"},
                                         "raw": {"$bytes": "aGk="}, "keys": {"$map": [[1, "a"]]}})


def test_pyodide_handles_values_and_release(pyodide: PyodideNodeRuntime) -> None:
    graph = pyodide.call(f"{MODULE}:new_graph", ["r"])
    assert isinstance(graph, Handle)
    assert pyodide.call(f"{MODULE}:add_edge", [graph, 1, 2]) == graph
    assert pyodide.call(f"{MODULE}:neighbours", [graph, 1]) == [2]
    assert pyodide.call(f"{MODULE}:tagged")["raw"] == b"hi"
    assert pyodide.release(MODULE, [graph, 12345]) == 1
    with pytest.raises(InvalidParamsError, match="unknown handle") as info:
        pyodide.call(f"{MODULE}:neighbours", [graph, 1])
    assert info.value.code == "WT727"
    with pytest.raises(PyodideCallError) as raised:
        pyodide.call(f"{MODULE}:degree_of", [pyodide.call(f"{MODULE}:new_graph", ["s"]), "q"])
    assert raised.value.py_type == "KeyError"
    with pytest.raises(ReturnTypeMismatchError) as strict:
        pyodide.call_method(MODULE, "wrong_return")
    assert strict.value.code == "WT725" and "StrictMismatch" in strict.value.python_type
    with pytest.raises(RemotePythonError) as remote:
        pyodide.call_method(MODULE, "degree_of", [pyodide.call(f"{MODULE}:new_graph", ["t"]), "q"])
    assert "raise KeyError(node)" in remote.value.traceback
    with pytest.raises(ResultEncodingError, match="too_big"):
        pyodide.call(f"{MODULE}:too_big")
    with pytest.raises(CallTargetError):
        pyodide.call(f"{MODULE}:no_such_function")
    # wasmtool's own copy serves a bundle that does not ship one
    assert pyodide.call(f"{MODULE}:runtime_origin").startswith("/wasmtool-runtime/wasmtool_runtime/")


def test_bindings_wheel_ships_the_bridge(bindings_bundle: Path, node: str) -> None:
    with PyodideNodeRuntime(bindings_bundle, node=node) as runtime:
        module = "python_wrap.wtg.wtg_externs"
        origin = runtime.call_method(module, "runtime_origin")
        assert "site-packages/wasmtool_runtime/" in origin
        assert runtime.smoke() == []          # wasmtool_runtime is among the bundled imports


CALL_FUNCTION_SCRIPT = r"""
import { loadBundle, callFunction } from "./loader.mjs";
console.log = (...a) => console.error(...a);
const bundle = await loadBundle({ bundleDir: ".", indexURL: process.argv[2],
                                  stdout: (s) => process.stderr.write(s + "\n"),
                                  stderr: (s) => process.stderr.write(s + "\n") });
const M = "python_wrap.wtg.wtg_externs";
const out = [];
const call = (fn, args) => { const r = callFunction(bundle, M, fn, JSON.stringify(args)); out.push(r); return r; };
const g = call("new_graph", ["browser"]).value;
call("add_edge", [g, "x", "y"]);
call("neighbours", [g, "x"]);
const h = call("new_graph", ["other"]).value;
call("union", [g, h]);
call("name_of", [{ "$handle": 3 }]);
call("tagged", []);
call("wasmtool.release", [g]);
call("neighbours", [g, "x"]);
process.stdout.write(JSON.stringify(out) + "\n");
"""


def test_call_function_in_a_loaded_bundle_is_the_browser_path(bindings_bundle: Path, node: str,
                                                               tmp_path: Path) -> None:
    # Only the bundle's own loader.mjs, nothing from the Node scripts: what a page does.
    folder = tmp_path / "bundle"
    shutil.copytree(bindings_bundle, folder)
    (folder / "page.mjs").write_text(CALL_FUNCTION_SCRIPT)
    proc = subprocess.run([node, "page.mjs", str(pyodide_dir()) + "/"], cwd=folder, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    values = [r.get("value") for r in results[:8]]
    assert all(r["ok"] for r in results[:8]), results
    assert values == [{"$handle": 1}, {"$handle": 1}, ["y"], {"$handle": 2}, {"$handle": 3}, "browser+other",
                      {"big": {"$int": str(2 ** 60)}, "nan": {"$float": "nan"}, "raw": {"$bytes": "aGk="},
                       "keys": {"$map": [[1, "a"]]}},
                      1]
    last = results[8]
    assert last["ok"] is False and last["error"]["code"] == "WT727"
    assert "unknown handle 1" in last["error"]["message"]
