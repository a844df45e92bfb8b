"""examples/wasi-pipeline: two components (tomli parser, packaging validator) composed with
``wasm-tools compose`` and run under wasmtime."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.wit.conftest import wheel_path

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_pipeline_example_runs(wit_tools: None, tmp_path: Path) -> None:
    wheels = wheel_path("tomli-2.5.0-py3-none-any.whl").parent
    wheel_path("packaging-26.3-py3-none-any.whl")
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "wasi-pipeline" / "run.py"),
                           "--wheels", str(wheels), "--cache", str(tmp_path / "cache")],
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines == [
        "good: demo-pkg: version: 1.0rc1 (pre-release); requires-python: >=3.12 (allows 3.14); "
        "dependency: requests >=2.31; dependency: tomli (any)",
        "bad-version: x: version: invalid 'one'; dependency: ok-pkg ==1; dependency: invalid 'not a req !!'",
        "no-project: parse error: KeyError: 'no [project] table'",
        "bad-toml: parse error: tomli._parser.TOMLDecodeError: Expected ']' at the end of a table declaration "
        "(at line 1, column 9)",
    ]
    composed = list((tmp_path / "cache").glob("pipeline-*.wasm"))
    assert len(composed) == 1 and composed[0].with_suffix(".cwasm").is_file()
