"""regex for pyodide-314, live: a compiled package only Pyodide's CDN has a build of.

1. Bundled: a fresh project with ``regex = "*"`` and the target, no other setting, locked
   against the real default index: the index has no ``pyemscripten_*`` build of regex, so it is
   pinned from ``node_modules/pyodide/pyodide-lock.json`` (version, file name, sha256, the CDN
   URL). ``install`` fetches that wheel from the CDN, checks its sha256 and bundles it;
   ``wasmtool call regex.sub`` answers in Pyodide under Node.
2. Referenced: a bound package (served by the hermetic index) imports regex when called. The
   install runs with the CDN unreachable (a proxy on a closed port), so the bundle references
   regex by URL with its sha256; the call then runs where the CDN is reachable: the loader
   fetches regex, checks the sha256 and loads it, and the call answers.

Deselected by default; `bash scripts/test.sh -m live`. Without network access to the index or
the CDN, or without node and node_modules/pyodide, it fails with the reason, it does not skip.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import VENV_BIN, run_cli
from tests.pyodide.test_install_bundle import REGEX_USER, _no_cdn
from tests.pyodide.wheelmaker import make_wheel
from tests.support.index_server import IndexServer, ServedFile, load_files
from wasmtool.run.pyodide import dist_lock_path

pytestmark = pytest.mark.live

TARGET = "pyodide-314"
TIMEOUT = 600.0


def _regex_entry() -> tuple[dict[str, str], str]:
    lock = dist_lock_path()
    entry = json.loads(lock.read_text(encoding="utf-8"))["packages"]["regex"]
    version = json.loads((lock.parent / "package.json").read_text(encoding="utf-8"))["version"]
    return entry, f"https://cdn.jsdelivr.net/pyodide/v{version}/full/{entry['file_name']}"


def _live(project: Path, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI against the real default index (no WASMTOOL_INDEX_URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WASMTOOL_INDEX", "WASMTOOL_EXTRA"))}
    env["WASMTOOL_CACHE_DIR"] = str(cache)
    try:
        return subprocess.run([str(VENV_BIN / "wasmtool"), "-C", str(project), "--no-progress", *args],
                              capture_output=True, text=True, env=env, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"wasmtool {' '.join(args)} did not finish within {TIMEOUT:.0f} s (is the network reachable?)")


def test_regex_from_the_cdn_is_bundled_and_answers(tmp_path: Path) -> None:
    entry, url = _regex_entry()
    project = tmp_path / "rx"
    project.mkdir()
    (project / "mochi.toml").write_text(f'name = "rx"\n\n[python]\ntargets = ["{TARGET}"]\n\n'
                                        '[python-dependencies]\nregex = "*"\n', encoding="utf-8")
    cache = tmp_path / "cache"
    proc = _live(project, cache, "lock")
    assert proc.returncode == 0, proc.stderr
    regex = next(p for p in tomllib.loads((project / "mochi.lock").read_text())["python-package"]
                 if p["name"] == "regex" and p["target"] == TARGET)
    assert (regex["origin"], regex["version"], regex["wheel-sha256"], regex["wheel-url"]) == (
        "pyodide-lock", entry["version"], entry["sha256"], url)

    proc = _live(project, cache, "install", f"--target={TARGET}")
    assert proc.returncode == 0, proc.stderr
    bundle = project / ".mochi" / TARGET
    assert f"bundled 1 package(s) for {TARGET} into {bundle}" in proc.stderr and "referenced" not in proc.stderr
    wheel = bundle / "wheels" / entry["file_name"]
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == entry["sha256"]

    proc = _live(project, cache, "call", "regex.sub", "--args", json.dumps([r"a+", "b", "caaat"]),
                 f"--target={TARGET}")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == "cbt"


def test_regex_referenced_by_url_loads_where_the_cdn_is_reachable(tmp_path: Path) -> None:
    entry, url = _regex_entry()
    made = make_wheel(tmp_path / "made", "wt-squeeze", "1.0", {"wt_squeeze/__init__.py": REGEX_USER},
                      requires=("regex",))
    served = ServedFile("wt-squeeze", made.path.name, hashlib.sha256(made.path.read_bytes()).hexdigest(),
                        made.path, None, None)
    project = tmp_path / "app"
    project.mkdir()
    (project / "mochi.toml").write_text(f'name = "app"\n\n[python]\ntargets = ["{TARGET}"]\n\n'
                                        '[python-dependencies]\nwt-squeeze = "*"\n', encoding="utf-8")
    cache = tmp_path / "cache"
    with IndexServer({**load_files(), "wt-squeeze": [served]}) as server:
        for args in (["lock"], ["install", f"--target={TARGET}"]):
            proc = run_cli(["-C", str(project), *args], cache=cache, index_url=server.url, env=_no_cdn())
            assert proc.returncode == 0, proc.stderr
        assert any(line.startswith(f"  regex {entry['version']}: {url} (sha256 {entry['sha256']})")
                   for line in proc.stderr.splitlines()), proc.stderr
        manifest = json.loads((project / ".mochi" / TARGET / "bundle.json").read_text(encoding="utf-8"))
        assert [(r["name"], r["url"], r["sha256"]) for r in manifest["referenced"]] == [
            ("regex", url, entry["sha256"])]
        # the CDN reachable again: the loader fetches regex by its URL, checks it, loads it
        proc = run_cli(["-C", str(project), "call", "wt_squeeze.squeeze", "--args", json.dumps(["a  b\n\tc"]),
                        f"--target={TARGET}"], cache=cache, index_url=server.url, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == "a b c"
