"""A parameter named like a declared type (numpy's ``dtype(dtype: str) -> dtype``): the wrapper's
body reads its cast in the function's scope, where the parameter hides the type, so the cast
names the type through a private module alias. The wrapper must pass ``mypy --strict`` and
still answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from wasmtool.stubs.pyi import parse_stub
from wasmtool.synth.workspace import render_workspace
from wasmtool.typemap.lower import map_module

SOURCE = '''
from typing import TypedDict

class dtype:
    def __init__(self, dtype: str) -> None:
        self.name = dtype
    def kind(self) -> str:
        return self.name[0]

class Rec(TypedDict):
    a: int

def make(dtype: str) -> dtype:
    return globals()["dtype"](dtype)

def rec(Rec: int) -> Rec:
    return {"a": Rec}
'''


def test_a_parameter_named_like_a_type_keeps_the_wrapper_typed_and_working(tmp_path: Path) -> None:
    site = tmp_path / "site" / "shadow"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text(SOURCE)
    stub = parse_stub(SOURCE, module="shadow", file="shadow/__init__.py", python_version=(3, 12))
    s = map_module([stub], dist="shadow", version="1.0", alias="sh", import_names=["shadow"], tier="py.typed")
    render_workspace([s]).write(tmp_path / "ws")
    wrapper = tmp_path / "ws" / "python_wrap" / "sh" / "shadow_externs.py"
    text = wrapper.read_text()
    assert "_wt_T_dtype: _wt_t.TypeAlias = dtype" in text and "_wt_t.cast('_wt_T_Rec'," in text
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent",
                           str(wrapper)], capture_output=True, text=True, cwd=tmp_path / "ws", timeout=300,
                          env={"MYPYPATH": str(tmp_path / "ws"), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stdout
    script = ("import json\nfrom python_wrap.sh import shadow_externs as w\n"
              "print(json.dumps([w.sh_dtype_kind(w.sh_make('float64')), w.sh_rec(3)]))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(tmp_path / "ws")])}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == ["f", {"a": 3}]
