"""Shared by the cross-target parity tests: a project driven through the real CLI, and
`wasmtool run` output normalised so targets can be compared."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.conftest import run_cli
from tests.support.session_cache import Index

#: A Python exception in the callee: WT724 (native, Pyodide) or WT873 (a WASI component's
#: err(py-error)). The Python type and message must agree; the code names the bridge.
PYTHON_EXCEPTION_CODES = frozenset({"WT724", "WT873"})

Cli = Callable[..., tuple[int, str, str]]


def normalised(stdout: str) -> list[dict[str, object]]:
    """`wasmtool run` lines with the bridge's exception code replaced by one token."""
    out = []
    for line in stdout.splitlines():
        record = json.loads(line)
        error = record.get("error")
        if isinstance(error, dict):
            assert error["code"] in PYTHON_EXCEPTION_CODES, record
            error["code"] = "python-exception"
        out.append(record)
    return out


def make_project(tmp_path: Path, name: str, manifest: str, calls: Sequence[dict[str, object]],
                 cache_dir: Path, index_server: Index) -> tuple[Path, Path, Cli]:
    """The project folder, its calls file, and ``cli(*args, check=True) -> (code, stdout, stderr)``."""
    project = tmp_path / name
    project.mkdir()
    (project / "mochi.toml").write_text(textwrap.dedent(manifest))
    calls_file = tmp_path / "calls.jsonl"
    calls_file.write_text("".join(json.dumps(c) + "\n" for c in calls))

    def cli(*args: str, check: bool = True) -> tuple[int, str, str]:
        proc = run_cli(["-C", str(project), *args], cache=cache_dir, index_url=index_server.url, check=check,
                       timeout=1200)
        return proc.returncode, proc.stdout, proc.stderr

    return project, calls_file, cli
