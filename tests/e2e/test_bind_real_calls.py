"""Issue 4 acceptance: real calls through GENERATED wrappers of real packages (native,
in-process in the project's interpreter), after the real lock / install / bind pipeline.

The project opts in, per item, to `any` where a package's stubs say `Any` (`allow-any`),
and narrows yaml's stream parameter to `str` (`monomorphise`): both explicit, both visible
in the shim. The driver imports the wrappers exactly as a Mochi program's Python target
does and asserts on the values it gets back.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import tomllib
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.support.index_server import IndexServer

pytestmark = pytest.mark.slow

MANIFEST = '''
name = "calls"

[python]
requires-python = ">=3.12"
python-version = "3.12"
allow-any = ["tomli.loads", "msgpack.packb", "msgpack.unpackb", "msgpack.unpack", "orjson.dumps", "orjson.loads",
             "yaml.safe_load",
             "numpy.ndarray.tolist", "attrs.asdict"]
monomorphise = [{ item = "yaml.safe_load", stream = "str" }, { item = "orjson.loads", __obj = "bytes" }]

[python-dependencies]
tomli = "*"
msgpack = "*"
orjson = "*"
attrs = "*"
click = { version = "*", import-names = ["click", "click.testing"] }
rich = { version = "*", import-names = ["rich", "rich.markup", "rich.text"] }
pyyaml = "*"
numpy = "*"
pydantic = "*"
'''

DRIVER = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
from python_wrap.tomli import tomli_externs as tomli
from python_wrap.msgpack import msgpack_externs as msgpack
from python_wrap.orjson import orjson_externs as orjson
from python_wrap.attrs import attrs_externs as attrs_w
from python_wrap.click import click_externs as click
from python_wrap.rich import rich_externs as rich
from python_wrap.yaml import yaml_externs as yaml
from python_wrap.numpy import numpy_externs as np
from python_wrap.pydantic import pydantic_externs as pyd
import attrs, _mochi_wrap

out = {}
out["tomli"] = tomli.tomli_loads('title = "x"\n[owner]\nname = "ann"\nids = [1, 2]\n')
packed = msgpack.msgpack_packb({"a": [1, 2, 3]})      # typed `-> bytes`: crosses as list<int>
out["msgpack_type"] = type(packed).__name__
import io
out["msgpack"] = msgpack.msgpack_unpack(io.BytesIO(bytes(packed)))
out["msgpack_unpackb"] = msgpack.msgpack_unpackb(packed)    # and goes back in as list<int>
out["orjson"] = orjson.orjson_dumps({"b": [1, 2]})            # bytes come back as list<int>
out["orjson_loads"] = orjson.orjson_loads(out["orjson"])        # and go in as list<int>

@attrs.define
class Point:
    x: int
    y: int
out["attrs"] = attrs_w.attrs_asdict(Point(1, 2))

cmd = click.click_Command_new_full("hello", None, None, "Say hello to the world.", None, None, None, None, True,
                                   None, None)
runner = click.click_CliRunner_new()
result = click.click_CliRunner_invoke(runner, cmd)
out["click"] = [click.click_Result_exit_code(result), click.click_Result_output(result)]

text = rich.rich_markup_render("[bold]Hello[/bold] [red]world[/red]!")
out["rich"] = rich.rich_Text_plain(text)
out["yaml"] = yaml.yaml_safe_load("a: 1\nb: [x, y]\n")
out["numpy_typename"] = np.numpy_typename("d")
out["numpy_identity"] = np.numpy_ndarray_tolist_unit_any(np.numpy_identity_int(2))   # @overload arms
url = pyd.pydantic_HttpUrl_build_full("https", None, None, "Example.ORG", 8443, "a b", "q=1&r=2", None)
out["pyd_url"] = [pyd.pydantic_HttpUrl_unicode_string(url), pyd.pydantic_HttpUrl_host(url),
                  pyd.pydantic_HttpUrl_port(url), pyd.pydantic_HttpUrl_query_params(url)]
try:
    pyd.pydantic_HttpUrl_build("ftp", "example.org")
except Exception as exc:
    out["pyd_invalid"] = type(exc).__name__
errors = {}
try:
    tomli.tomli_loads(42)
except TypeError as exc:
    errors["bad_arg"] = [type(exc).__name__, str(exc)]
try:
    tomli.tomli_loads("x = ")
except Exception as exc:
    errors["raises"] = type(exc).__name__
out["errors"] = errors
print(json.dumps(out, sort_keys=True))
'''


def test_generated_wrappers_call_real_packages(tmp_path: Path, cache_dir: Path, index_server: IndexServer) -> None:
    # a private cache: the second bind below compares a cold bind's bytes with a warm one's
    project = tmp_path / "calls"
    project.mkdir()
    (project / "mochi.toml").write_text(textwrap.dedent(MANIFEST))
    run_cli(["-C", str(project), "lock"], cache=cache_dir, index_url=index_server.url, check=True)
    proc = run_cli(["-C", str(project), "install"], cache=cache_dir, index_url=index_server.url, check=True)
    assert "bound yaml: pyyaml" in proc.stderr and "(stubs-package)" in proc.stderr
    workspace = project / ".mochi" / "python_workspace"
    bindings = json.loads((workspace / "bindings.json").read_text())["bindings"]
    assert bindings["tomli"]["stub-provenance"] == "py.typed"
    assert bindings["yaml"]["stub-provenance"] == "stubs-package"
    # compiled and untyped itself; its stubs come from the msgpack-types distribution on the index
    assert bindings["msgpack"]["stub-provenance"] == "stubs-package"
    shim = (workspace / "python_wrap" / "yaml" / "yaml_shim.mochi").read_text()
    assert 'import python "python_wrap.yaml.yaml_externs" as yaml' in shim    # the released Mochi's dialect
    assert "extern fun yaml.yaml_safe_load(stream_: string): any" in shim

    python = project / ".mochi" / "venv" / "bin" / "python"
    run = subprocess.run([str(python), "-c", DRIVER, str(workspace)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["tomli"] == {"title": "x", "owner": {"name": "ann", "ids": [1, 2]}}
    assert out["msgpack_type"] == "list" and out["msgpack"] == out["msgpack_unpackb"] == {"a": [1, 2, 3]}
    assert bytes(out["orjson"]) == b'{"b":[1,2]}' and out["orjson_loads"] == {"b": [1, 2]}
    assert out["attrs"] == {"x": 1, "y": 2}
    # no_args_is_help: click prints the usage and exits with status 2 (click >= 8.2)
    assert out["click"][0] == 2 and "Usage: hello" in out["click"][1] and "Say hello to the world." in out["click"][1]
    assert out["rich"] == "Hello world!"
    assert out["yaml"] == {"a": 1, "b": ["x", "y"]}
    assert out["numpy_typename"] == "double precision"
    assert out["numpy_identity"] == [[1.0, 0.0], [0.0, 1.0]]
    assert out["pyd_url"] == ["https://example.org:8443/a%20b?q=1&r=2", "example.org", 8443,
                              [{"t0": "q", "t1": "1"}, {"t0": "r", "t1": "2"}]]
    assert out["pyd_invalid"] == "ValidationError"
    assert out["errors"]["bad_arg"][0] == "BoundaryTypeError"
    assert "tomli_loads" in out["errors"]["bad_arg"][1] and "expected str, got int" in out["errors"]["bad_arg"][1]
    assert out["errors"]["raises"] == "TOMLDecodeError"

    # a second bind with unchanged inputs rewrites nothing and renders the same bytes
    before = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    proc = run_cli(["-C", str(project), "bind"], cache=cache_dir, index_url=index_server.url, check=True)
    assert "(0 file(s) changed)" in proc.stderr
    after = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert after == before

    # issue 7: the same calls through `wasmtool run` give the same answers in-process and in the worker
    calls = project / "calls.jsonl"
    calls.write_text("\n".join(json.dumps(c) for c in [
        {"call": "tomli.loads", "args": ['a = 1\n[t]\nb = "x"\n']},
        {"call": "yaml.safe_load", "args": ["k: [1, 2]\n"]},
        {"call": "pydantic.PaymentCardNumber.validate_luhn_check_digit", "args": ["4242424242424242"]},
        {"call": "pydantic.PaymentCardNumber.validate_luhn_check_digit", "args": ["4242424242424241"]},
        {"call": "tomli.loads", "args": ["x = "]},
        {"call": "orjson.dumps", "args": [{"z": [1]}]},
    ]) + "\n")
    outputs = {}
    for mode in ("inprocess", "subprocess"):
        proc = run_cli(["-C", str(project), "run", "--runtime", mode, str(calls)], cache=cache_dir,
                       index_url=index_server.url)
        assert proc.returncode == 1 and "2 of 6 line(s) failed (line(s) 4, 5)" in proc.stderr, proc.stderr
        outputs[mode] = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert outputs["inprocess"] == outputs["subprocess"]
    results = outputs["inprocess"]
    assert results[0]["ok"] and results[0]["result"] == {"a": 1, "t": {"b": "x"}}
    assert results[1]["result"] == {"k": [1, 2]} and results[2]["result"] == "4242424242424242"
    assert not results[3]["ok"] and "PydanticCustomError" in json.dumps(results[3]["error"])
    assert not results[4]["ok"] and "TOMLDecodeError" in json.dumps(results[4]["error"])
    # orjson.dumps returns bytes: list<int> through the wrapper, the same in both runtimes
    assert results[5] == {"line": 6, "call": "orjson.dumps", "ok": True, "result": list(b'{"z":[1]}')}

    # `surface` prints the mapped surface and the skips (JSON, and a table for people)
    proc = run_cli(["-C", str(project), "surface", "pyyaml", "--json"], cache=cache_dir, index_url=index_server.url,
                   check=True)
    data = json.loads(proc.stdout)
    assert data["alias"] == "yaml" and data["tier"] == "stubs-package" and data["stub-source"].startswith("types-")
    assert any(f["extern_name"] == "yaml_safe_load" for f in data["functions"])
    assert all(s["reason"].startswith("Skip") for s in data["skips"])
    proc = run_cli(["-C", str(project), "surface", "tomli"], cache=cache_dir, index_url=index_server.url, check=True)
    assert "tomli_loads" in proc.stdout and "skips by reason" in proc.stdout
    proc = run_cli(["-C", str(project), "surface", "attrs", "--json"], cache=cache_dir, index_url=index_server.url,
                   check=True)
    data = json.loads(proc.stdout)
    assert data["mochi-dialect"] == "0.10"
    ffi = data["mochi-dialects"]["0.10"]
    assert "attrs_asdict" not in ffi["externs"]          # takes a live object: not through the 0.10 FFI
    assert any(s["reason"] == "SkipStatelessFfi" and s["detail"].startswith("attrs_asdict:") for s in ffi["skips"])
    assert "attrs_asdict" in data["mochi-dialects"]["mep-71"]["externs"]

    # bind recorded provenance and hashes in mochi.lock; `lock --check` recomputes them
    lock = tomllib.loads((project / "mochi.lock").read_text())
    entries = {p["name"]: p for p in lock["python-package"]}
    assert entries["pyyaml"]["stub-provenance"] == "stubs-package" and len(entries["pyyaml"]["stub-sha256"]) == 64
    assert entries["tomli"]["wrapper-sha256"] == bindings["tomli"]["wrapper-sha256"]
    assert entries["tomli"]["shim-sha256"] == bindings["tomli"]["shim-sha256"]
    run_cli(["-C", str(project), "lock", "--check"], cache=cache_dir, index_url=index_server.url, check=True)
    # a settings change moves the surface: --check names the field, and the lock is untouched
    manifest = project / "mochi.toml"
    manifest.write_text(manifest.read_text().replace('"tomli.loads", ', ""))
    lock_bytes = (project / "mochi.lock").read_bytes()
    proc = run_cli(["-C", str(project), "lock", "--check"], cache=cache_dir, index_url=index_server.url)
    assert proc.returncode != 0 and "WT410" in proc.stderr
    assert "tomli" in proc.stderr and "wrapper-sha256" in proc.stderr and "shim-sha256" in proc.stderr
    assert (project / "mochi.lock").read_bytes() == lock_bytes
    # the shim dialect is part of the bindings: switching it changes the shim and --check says so
    manifest.write_text(manifest.read_text().replace("[python]\n", '[python]\nmochi-dialect = "mep-71"\n', 1))
    proc = run_cli(["-C", str(project), "lock", "--check"], cache=cache_dir, index_url=index_server.url)
    assert proc.returncode != 0 and "shim-sha256" in proc.stderr
    run_cli(["-C", str(project), "bind"], cache=cache_dir, index_url=index_server.url, check=True)
    shim = (workspace / "python_wrap" / "yaml" / "yaml_shim.mochi").read_text()
    assert "extern python fun yaml_safe_load(stream_: string): any" in shim and "import python" not in shim
