"""A real tomli component: build, cache, call, differential against the native module,
typed errors, traps, timeouts and the ``.cwasm`` warm start (phase 16.1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.wit.surfaces import TOMLI_EXTERNS_DIR, tomli_surface
from wasmtool.run.errors import RemotePythonError
from wasmtool.run.protocol import Runtime
from wasmtool.run.wasi import WasiComponentRuntime
from wasmtool.wit.build import BuiltComponent, build_component, build_stats, input_hash
from wasmtool.wit.errors import (
    ComponentBuildError,
    GuestPythonError,
    InstanceTrappedError,
    WitCallTimeoutError,
    WitMethodNotFoundError,
    WitValueError,
)
from wasmtool.wit.guest import render_app, values_module_source
from wasmtool.wit.render import render_package

pytestmark = pytest.mark.slow

DOC = 'title = "Demo"\nn = 42\nratio = 0.5\nflag = true\nitems = [1, 2]\n[server]\nhost = "x"\n'


@pytest.fixture(scope="module")
def runtime(tomli_component: BuiltComponent) -> Any:
    with WasiComponentRuntime(tomli_component) as rt:
        yield rt


def test_built_component_layout(tomli_component: BuiltComponent) -> None:
    c = tomli_component
    assert c.path.is_file() and c.path.stat().st_size > 1_000_000
    assert c.world == "tomli" and len(c.input_hash) == 64
    assert (c.wit_dir / "world.wit").read_text() == render_package(tomli_surface()).text
    assert c.plan.exported == render_package(tomli_surface()).exported
    assert json.loads((c.directory / "build.json").read_text())["input_hash"] == c.input_hash


def test_runtime_protocol(runtime: WasiComponentRuntime) -> None:
    assert isinstance(runtime, Runtime)
    assert "tomli_loads_json" in runtime.methods and "tomli_on_key" not in runtime.methods


DIFFERENTIAL: list[tuple[str, list[Any], dict[str, Any] | None]] = [
    ("tomli_loads_json", [DOC], None),
    ("tomli_loads_json", ["a = = 1"], None),                      # raises TOMLDecodeError
    ("tomli_keys", [DOC], None),
    ("tomli_keys", [""], None),
    ("tomli_has_key", [DOC, "n"], None),
    ("tomli_has_key", [DOC, "zz"], None),
    ("tomli_get_int", [DOC, "n"], None),
    ("tomli_get_int", [DOC, "missing"], None),                    # option -> None
    ("tomli_get_int", [DOC, "title"], None),                      # raises TypeError
    ("tomli_get_int_full", [DOC, "missing"], {"default": -7}),    # keyword-only
    ("tomli_get_int_full", [DOC, "n"], None),
    ("tomli_kind_of", [DOC, "server"], None),                     # enum
    ("tomli_kind_of", [DOC, "ratio"], None),
    ("tomli_kind_of", [DOC, "nope"], None),                       # raises KeyError
    ("tomli_summary", [DOC], None),                               # record with map, tuple, option
    ("tomli_summary", ["a = 1\n"], None),                         # not-required field absent
    ("tomli_describe", [{"keys": ["a"], "tables": 0, "first_key": None, "kinds": {"a": "integer"},
                         "size": {"t0": 6, "t1": 1}}], None),
    ("tomli_count_kinds", [["table", "array", "table"]], None),
    ("tomli_loads_bytes", [list(b"x = [1, 2]\n")], None),         # bytes
    ("tomli_scale", [1.25, -4.0], None),
    ("tomli_pair", [DOC, "n"], None),                             # tuple
    ("tomli_parse_float", ["6.5e3"], None),                       # second interface
    ("tomli_parse_float", ["nope"], None),
    ("tomli_fail", ["value"], None),
    ("tomli_fail", ["fine"], None),
]


def _outcome(rt: Runtime, method: str, args: list[Any], kwargs: dict[str, Any] | None) -> tuple[str, Any]:
    try:
        return "ok", rt.call(method, args, kwargs)
    except RemotePythonError as exc:
        return "error", (exc.python_type, exc.python_message)


@pytest.mark.parametrize(("method", "args", "kwargs"), DIFFERENTIAL,
                         ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(DIFFERENTIAL)])
def test_differential_against_native(runtime: WasiComponentRuntime, native_tomli: Runtime, method: str,
                                     args: list[Any], kwargs: dict[str, Any] | None) -> None:
    wasm = _outcome(runtime, method, args, kwargs)
    native = _outcome(native_tomli, method, args, kwargs)
    assert wasm == native


def test_handles_are_resources(runtime: WasiComponentRuntime, native_tomli: Runtime) -> None:
    from wasmtool.run.codec import Handle

    parser = runtime.call("tomli_Parser_new", ["p-"])
    assert isinstance(parser, Handle)
    assert runtime.call("tomli_Parser_keys", [parser, "b = 1\na = 2"]) == ["p-a", "p-b"]
    pair = runtime.call("tomli_Parser_pair", [parser])        # own<parser> inside a list result
    assert len(pair) == 2 and all(isinstance(h, Handle) for h in pair)
    assert runtime.call("tomli_Parser_keys", [pair[1], "x = 1"]) == ["p-p-x"]
    assert runtime.call("tomli_Parser_keys", [pair[0], "x = 1"]) == ["p-x"]   # the same object again
    with pytest.raises(WitValueError, match="no Parser handle 999"):
        runtime.call("tomli_Parser_keys", [Handle(999), "x = 1"])
    with pytest.raises(WitValueError, match="expected a Parser handle"):
        runtime.call("tomli_Parser_keys", ["not a handle", "x = 1"])
    assert "tomli_Parser_count" not in runtime.methods       # handles inside a container parameter
    native = native_tomli.call("tomli_Parser_keys", [native_tomli.call("tomli_Parser_new", ["p-"]), "b = 1"])
    assert native == ["p-b"]


def test_guest_error_is_typed(runtime: WasiComponentRuntime) -> None:
    with pytest.raises(GuestPythonError) as info:
        runtime.call("tomli_loads_json", ["a = = 1"])
    err = info.value
    assert isinstance(err, RemotePythonError) and err.code == "WT873"
    assert err.python_type == "tomli._parser.TOMLDecodeError"
    assert "Invalid value" in err.python_message and "line 1" in err.python_message
    assert "Traceback" in err.traceback and "tomli_externs.py" in err.traceback
    assert err.method == "tomli_loads_json"


def test_base_exceptions_do_not_trap(runtime: WasiComponentRuntime) -> None:
    # natively SystemExit propagates; in the component it must not trap the instance
    before = runtime.instantiations
    with pytest.raises(GuestPythonError) as info:
        runtime.call("tomli_fail", ["system-exit"])
    assert (info.value.python_type, info.value.python_message) == ("SystemExit", "4")
    with pytest.raises(GuestPythonError, match="expected str, got int"):
        runtime.call("tomli_fail", ["bad-return"])      # a wrong return type is an err, not a trap
    assert runtime.instantiations == before


def test_method_names(runtime: WasiComponentRuntime) -> None:
    assert runtime.call("api#keys", ["b = 1\na = 2"]) == ["a", "b"]           # WIT path
    assert runtime.call("tomli._parser:loads", ["2"]) == 2.0                  # the Python target, unique
    with pytest.raises(WitMethodNotFoundError):
        runtime.call("tomli:loads", ["a = 1"])                                # wrapped by many functions
    with pytest.raises(WitMethodNotFoundError):
        runtime.call("tomli_on_key", [])                                      # skipped on wasi-p2


#: Calls whose arguments cannot be passed: method, args, kwargs, what the error says.
BAD_ARGUMENTS: list[tuple[str, list[Any], dict[str, Any] | None, str]] = [
    ("tomli_keys", [1], None, "expected str"),
    ("tomli_has_key", ["a", "b", "c"], None, "takes 2 arguments, 3 given"),
    ("tomli_has_key", [DOC], {"nope": 1}, "missing argument"),
    ("tomli_has_key", [], None, "missing argument"),
    ("tomli_count_kinds", [["table", "pony"]], None, "not one of"),
    ("tomli_get_int_full", [DOC, "x"], {"default": 2**63}, "s64"),
]


def test_argument_errors_do_not_touch_the_instance(tomli_component: BuiltComponent) -> None:
    """Arguments are checked before the component is entered: refused calls neither create an
    instance (a fresh runtime has none after them) nor replace the one there is."""
    def refuse_all(rt: WasiComponentRuntime) -> None:
        for method, args, kwargs, says in BAD_ARGUMENTS:
            with pytest.raises(WitValueError, match=says):
                rt.call(method, args, kwargs)

    with WasiComponentRuntime(tomli_component) as fresh:
        refuse_all(fresh)
        assert (fresh.instantiations, fresh._instance) == (0, None)
        assert fresh.call("tomli_keys", ["a = 1"]) == ["a"]
        assert fresh.instantiations == 1
        instance = fresh._instance
        refuse_all(fresh)
        assert fresh._instance is instance
        assert fresh.call("tomli_keys", ["b = 1\nc = 2"]) == ["b", "c"]
        assert fresh.instantiations == 1 and fresh._instance is instance


def test_trap_reinstantiates(runtime: WasiComponentRuntime) -> None:
    runtime.call("tomli_keys", ["a = 1"])
    before = runtime.instantiations
    with pytest.raises(InstanceTrappedError, match="exited with status"):
        runtime.call("tomli_fail", ["exit"])               # os._exit(3): WASI p2 exit only tells ok from err
    assert runtime.call("tomli_keys", ["b = 1"]) == ["b"]
    assert runtime.instantiations == before + 1


def test_timeout_interrupts_and_recovers(runtime: WasiComponentRuntime) -> None:
    with pytest.raises(WitCallTimeoutError) as info:
        runtime.call("tomli_spin", [], timeout=0.3)
    assert isinstance(info.value, TimeoutError)
    assert runtime.call("tomli_keys", ["c = 1"], timeout=30) == ["c"]


def test_second_build_is_a_cache_hit(tomli_component: BuiltComponent, tomli_wheel: Path,
                                     component_cache: Path) -> None:
    runs = build_stats().componentize_runs
    again = build_component(tomli_surface(), externs_dir=TOMLI_EXTERNS_DIR, wheels=[tomli_wheel],
                            cache_dir=component_cache)
    assert build_stats().componentize_runs == runs
    assert again.from_cache and again.input_hash == tomli_component.input_hash
    assert again.path == tomli_component.path


def test_input_hash_covers_every_input(tmp_path: Path, tomli_wheel: Path, wit_tools: None) -> None:
    rendered = render_package(tomli_surface())
    app = render_app(rendered.plan, externs_module="tomli_externs")
    externs = tmp_path / "ext"
    shutil.copytree(TOMLI_EXTERNS_DIR, externs, ignore=shutil.ignore_patterns("__pycache__"))
    base = dict(wit_files=rendered.files, app=app, values=values_module_source(), externs_dir=externs,
                wheels=[tomli_wheel], tool_version="componentize-py 0.25.1", world="tomli")
    h0 = input_hash(**base)  # type: ignore[arg-type]
    assert input_hash(**base) == h0  # type: ignore[arg-type]
    (externs / "__pycache__").mkdir()
    (externs / "__pycache__" / "x.pyc").write_bytes(b"ignored")
    assert input_hash(**base) == h0  # type: ignore[arg-type]
    changed = [
        {**base, "app": app + "#"},
        {**base, "tool_version": "componentize-py 0.26.0"},
        {**base, "wit_files": (*rendered.files[:-1], (rendered.files[-1][0], rendered.files[-1][1] + " "))},
        {**base, "wheels": []},
    ]
    hashes = {input_hash(**c) for c in changed}  # type: ignore[arg-type]
    (externs / "tomli_externs.py").write_text((externs / "tomli_externs.py").read_text() + "\n# changed\n")
    hashes.add(input_hash(**base))  # type: ignore[arg-type]
    assert h0 not in hashes and len(hashes) == 5


def test_warm_start_deserializes_the_cwasm(tomli_component: BuiltComponent, runtime: WasiComponentRuntime) -> None:
    runtime.call("tomli_keys", ["a = 1"])          # the module runtime compiled (or deserialized) it
    assert tomli_component.cwasm_path.is_file()
    with WasiComponentRuntime(tomli_component) as warm:
        assert warm.call("tomli_keys", ["z = 1\ny = 2"]) == ["y", "z"]
        assert warm.load_path == "deserialize"
        assert warm.cwasm_load_errors == []


def test_bad_cwasm_falls_back_to_compile(tomli_component: BuiltComponent, tmp_path: Path) -> None:
    copy = tmp_path / "c"
    copy.mkdir()
    for name in ("component.wasm", "plan.json", "build.json"):
        shutil.copy2(tomli_component.directory / name, copy / name)
    shutil.copytree(tomli_component.wit_dir, copy / "wit")
    moved = BuiltComponent.load(copy)
    moved.cwasm_path.write_bytes(b"not an ELF file")
    with WasiComponentRuntime(moved) as rt:
        assert rt.call("tomli_has_key", ["a = 1", "a"]) is True
        assert rt.load_path == "compile"
        assert rt.cwasm_load_errors
    assert moved.cwasm_path.read_bytes()[:4] == b"\x7fELF"   # rewritten with the compiled code


def test_build_failure_is_typed_without_backtrace(wit_tools: None, tomli_wheel: Path, tmp_path: Path) -> None:
    externs = tmp_path / "ext"
    externs.mkdir()
    (externs / "tomli_externs.py").write_text("import tomli\n\ndef tomli_keys(s):\n    return []\n")
    with pytest.raises(ComponentBuildError) as info:
        build_component(tomli_surface(), externs_dir=externs, wheels=[tomli_wheel], cache_dir=tmp_path / "cache")
    err = info.value
    assert err.code == "WT872" and err.returncode not in (0, None)
    assert "tomli_loads_json" in err.output_tail or "has no attribute" in err.output_tail
    assert "Stack backtrace" not in str(err)
    assert not list((tmp_path / "cache" / "components").iterdir())   # nothing half-built left behind
