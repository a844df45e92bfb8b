"""A user's first hour, through the real CLI and the hermetic index: `install` locks first
(like `uv sync`), `--locked` and `--frozen`, `call` before anything is installed, the
`import-names` setting of a package that an `import python` line also names, and `surface`
piped to a file.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_project
from tests.support.index_server import IndexServer

pytestmark = pytest.mark.slow


def venv_has(project: Path, dist: str) -> bool:
    site = next((project / ".mochi" / "venv" / "lib").glob("python3.*/site-packages"))
    return any(site.glob(f"{dist}-*.dist-info"))


def test_install_locks_first_and_locked_frozen_say_what_they_do(
        tmp_path: Path, cache_dir: Path, index_server: IndexServer) -> None:
    project = write_project(tmp_path / "proj", {"tomli": "^2"})
    url = index_server.url

    # --locked and --frozen never create a lock
    for flag in ("--locked", "--frozen"):
        proc = run_cli(["-C", str(project), "install", flag], cache=cache_dir, index_url=url)
        assert proc.returncode == 1, proc.stderr
        assert "WT404" in proc.stderr and "mochi.lock is missing" in proc.stderr and flag in proc.stderr
        assert "Traceback" not in proc.stderr
        assert not (project / "mochi.lock").exists() and not (project / ".mochi").exists()

    # a fresh project with no lock: install locks first, says so, then installs and binds
    proc = run_cli(["-C", str(project), "install"], cache=cache_dir, index_url=url, check=True)
    assert "mochi.lock written for native" in proc.stderr
    assert "native: 1 package(s): tomli 2.5.0" in proc.stderr
    assert "bound tomli" in proc.stderr
    assert venv_has(project, "tomli")
    run_cli(["-C", str(project), "lock", "--check"], cache=cache_dir, index_url=url, check=True)
    locked = (project / "mochi.lock").read_bytes()

    # an up-to-date lock is used as it is: nothing about locking is printed, nothing rewritten
    proc = run_cli(["-C", str(project), "install", "--locked"], cache=cache_dir, index_url=url, check=True)
    assert "mochi.lock" not in proc.stderr
    assert (project / "mochi.lock").read_bytes() == locked

    # the project moves on: --locked refuses (naming what changed), --frozen installs the old lock
    run_cli(["-C", str(project), "add", "python", "attrs@>=23"], cache=cache_dir, index_url=url, check=True)
    proc = run_cli(["-C", str(project), "install", "--locked"], cache=cache_dir, index_url=url)
    assert proc.returncode == 1
    assert "WT410" in proc.stderr and "[native] requirement added: attrs>=23" in proc.stderr
    assert (project / "mochi.lock").read_bytes() == locked and not venv_has(project, "attrs")
    proc = run_cli(["-C", str(project), "install", "--frozen", "--no-bind"], cache=cache_dir, index_url=url,
                   check=True)
    assert "mochi.lock" not in proc.stderr
    assert (project / "mochi.lock").read_bytes() == locked and not venv_has(project, "attrs")

    # without a flag, install re-locks the stale lock first
    proc = run_cli(["-C", str(project), "install", "--no-bind"], cache=cache_dir, index_url=url, check=True)
    assert "mochi.lock written for native" in proc.stderr and "attrs" in proc.stderr
    names = {p["name"] for p in tomllib.loads((project / "mochi.lock").read_text())["python-package"]}
    assert names == {"tomli", "attrs"}
    assert venv_has(project, "attrs")

    # both flags at once is a usage error
    proc = run_cli(["-C", str(project), "install", "--locked", "--frozen"], cache=cache_dir, index_url=url)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr


def test_call_before_install_names_the_command(tmp_path: Path, cache_dir: Path, index_server: IndexServer) -> None:
    project = write_project(tmp_path / "proj", {"tomli": "^2"})
    for target, command in (("native", "wasmtool install"), ("pyodide", "wasmtool install --target=pyodide-314"),
                            ("wasi-p2", "wasmtool install --target=wasi-p2")):
        proc = run_cli(["-C", str(project), "call", "--target", target, "tomli.loads", "--args", '["a = 1"]'],
                       cache=cache_dir, index_url=index_server.url)
        assert proc.returncode == 1, proc.stderr
        assert "nothing is installed for this target yet" in proc.stderr
        assert f"hint: run `{command}` first" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    # the same through `run`
    calls = tmp_path / "calls.jsonl"
    calls.write_text('{"call": "tomli.loads", "args": ["a = 1"]}\n')
    proc = run_cli(["-C", str(project), "run", str(calls)], cache=cache_dir, index_url=index_server.url)
    assert proc.returncode != 0 and "hint: run `wasmtool install` first" in proc.stderr


DATEUTIL_MODULES = '["dateutil.parser", "dateutil.tz", "dateutil.relativedelta"]'


def test_import_names_count_when_an_import_line_names_the_package_too(
        tmp_path: Path, cache_dir: Path, index_server: IndexServer) -> None:
    project = write_project(tmp_path / "proj", {"python-dateutil": "*"},
                            sources={"main.mochi": 'import python "python-dateutil" as du\n'})
    manifest = project / "mochi.toml"    # the top-level module alone (no submodules) binds nothing
    manifest.write_text(manifest.read_text().replace(
        'python-dateutil = "*"', 'python-dateutil = { version = "*", submodules = false }'))
    url = index_server.url
    run_cli(["-C", str(project), "install"], cache=cache_dir, index_url=url, check=True)
    before = json.loads(run_cli(["-C", str(project), "surface", "du", "--json"], cache=cache_dir, index_url=url,
                                check=True).stdout)
    assert before["functions"] == []   # dateutil's top-level module exports no function

    text = manifest.read_text()
    start = text.index("python-dateutil = ")
    end = text.index("\n", start)
    manifest.write_text(text[:start] + f'python-dateutil = {{ version = "*", import-names = {DATEUTIL_MODULES} }}'
                        + text[end:])
    # the setting moves the bindings: --check says so (and names the package) before a bind
    proc = run_cli(["-C", str(project), "lock", "--check"], cache=cache_dir, index_url=url)
    assert proc.returncode == 1 and "python-dateutil:du wrapper-sha256" in proc.stderr
    assert "hint: run `wasmtool bind`" in proc.stderr   # the pins agree: a bind, not a lock, updates it
    proc = run_cli(["-C", str(project), "bind"], cache=cache_dir, index_url=url, check=True)
    after = json.loads(run_cli(["-C", str(project), "surface", "du", "--json"], cache=cache_dir, index_url=url,
                               check=True).stdout)
    externs = {f["extern_name"] for f in after["functions"]}
    assert len(externs) >= 10, externs
    assert any(e.startswith("du_parser_") or "parse" in e for e in externs), externs
    run_cli(["-C", str(project), "lock", "--check"], cache=cache_dir, index_url=url, check=True)

    # `surface` piped (not a terminal): whole names, tab-separated, never cut with an ellipsis
    table = run_cli(["-C", str(project), "surface", "du"], cache=cache_dir, index_url=url, check=True).stdout
    assert "\u2026" not in table
    rows = {line.split("\t")[0]: line.split("\t") for line in table.splitlines() if "\t" in line}
    assert externs <= set(rows), externs - set(rows)
    skipped = {s["path"] for s in after["skips"]}
    assert skipped <= set(rows)
    assert max(len(line) for line in table.splitlines()) > 80   # a terminal-width table would have cut these
