"""Issue 5 acceptance through the real CLI: lock (with --smoke) and install for pyodide-314,
then calls through the GENERATED wrappers in real Pyodide under Node.

The example-style project takes target builds from the index with no setting (`[python]
pyodide-packages = "index-first"` is the default): Pyodide's own lock also lists pydantic, but
its wheels live on the Pyodide CDN, which is not reachable here. With `pyodide-packages =
"distribution"` those CDN wheels are pinned; a package the bundle only needs (not bound) is then
referenced by URL with its sha256, a bound one cannot be bound without its wheel (WT820, saying
so plainly). The CDN is made unreachable for certain with a proxy on a closed port.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import textwrap
import tomllib
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.pyodide.wheelmaker import make_wheel
from tests.support.index_server import IndexServer, ServedFile
from tests.support.session_cache import Index
from wasmtool.bundle.errors import PyodideCallError
from wasmtool.run.pyodide import PyodideNodeRuntime, dist_lock_path

pytestmark = pytest.mark.slow

MANIFEST = """
name = "web"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["native", "pyodide-314"]
allow-any = ["tomli.loads"]

[python-dependencies]
pydantic = "^2.9"
attrs = ">=23"
tomli = "^2"
"""

LUHN = "python_wrap.pydantic.pydantic_externs:pydantic_PaymentCardNumber_validate_luhn_check_digit"


def build_app(root: Path, cache: Path, server: Index, manifest: str = MANIFEST) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mochi.toml").write_text(textwrap.dedent(manifest))
    run_cli(["-C", str(root), "lock", "--smoke"], cache=cache, index_url=server.url, check=True)
    proc = run_cli(["-C", str(root), "install", "--target=pyodide-314", "--smoke"], cache=cache,
                   index_url=server.url, check=True)
    assert "bundled" in proc.stderr
    return root / ".mochi" / "pyodide-314"


def test_pyodide_lock_install_and_calls_through_generated_wrappers(
        tmp_path: Path, cache_dir: Path, index_server: IndexServer) -> None:
    # a private cache: the rebuild below compares a cold install's bundle with a warm one's
    bundle = build_app(tmp_path / "web", cache_dir, index_server)
    lock = (tmp_path / "web" / "mochi.lock").read_text()
    assert 'target = "pyodide-314"' in lock
    assert "pydantic_core-2.50.5-cp314-cp314-pyemscripten_2026_0_wasm32.whl" in lock
    manifest = json.loads((bundle / "bundle.json").read_text())
    names = {p["name"] for p in manifest["packages"]}
    assert {"pydantic", "pydantic-core", "attrs", "tomli", "mochi-bindings"} <= names
    with PyodideNodeRuntime(bundle) as rt:
        assert rt.call("python_wrap.tomli.tomli_externs:tomli_loads", ['a = 1\n[t]\nb = "x"\n']) == \
            {"a": 1, "t": {"b": "x"}}
        assert rt.call(LUHN, ["4242424242424242"]) == "4242424242424242"   # pydantic validated it
        with pytest.raises(PyodideCallError) as info:
            rt.call(LUHN, ["4242424242424241"])
        assert "PydanticCustomError" in info.value.py_type and "luhn" in info.value.py_message.lower()
        assert rt.smoke() == []

    # same inputs -> byte-identical bundle
    first = {p.relative_to(bundle): p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    shutil.rmtree(bundle)
    run_cli(["-C", str(tmp_path / "web"), "install", "--target=pyodide-314"], cache=cache_dir,
            index_url=index_server.url, check=True)
    second = {p.relative_to(bundle): p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    assert first == second


def _no_cdn() -> dict[str, str]:
    """Environment in which every https URL goes through a proxy on a closed port of 127.0.0.1
    (the CDN cannot be reached, whatever the machine's network); the hermetic index is direct."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {"HTTPS_PROXY": f"http://127.0.0.1:{port}", "https_proxy": f"http://127.0.0.1:{port}",
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def test_a_bound_distribution_package_that_cannot_be_fetched_is_named_plainly(
        tmp_path: Path, cache_dir: Path, index_server: IndexServer) -> None:
    """`pyodide-packages = "distribution"` (the old behaviour) pins pydantic and attrs from Pyodide's
    lock; binding them needs their wheels, which are on the CDN only: WT820 names them, says why
    (the setting) and what works, and nothing is written."""
    root = tmp_path / "dist"
    root.mkdir()
    targets = 'targets = ["native", "pyodide-314"]\n'
    (root / "mochi.toml").write_text(textwrap.dedent(MANIFEST).replace(
        targets, targets + 'pyodide-packages = "distribution"\n'))
    run_cli(["-C", str(root), "lock"], cache=cache_dir, index_url=index_server.url, check=True, env=_no_cdn())
    lock = tomllib.loads((root / "mochi.lock").read_text())
    origins = {p["name"]: p["origin"] for p in lock["python-package"] if p["target"] == "pyodide-314"}
    # every package, although the index has builds for the target of all of them
    assert set(origins.values()) == {"pyodide-lock"} and {"pydantic", "pydantic-core", "attrs", "tomli"} <= set(origins)
    proc = run_cli(["-C", str(root), "install", "--target=pyodide-314"], cache=cache_dir,
                   index_url=index_server.url, env=_no_cdn())
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "error: WT820" in proc.stderr
    assert ("attrs 26.1.0, pydantic 2.12.5, tomli 2.4.1 need Pyodide's own build, served by Pyodide's CDN ([python] "
            'pyodide-packages = "distribution" pins them from the Pyodide distribution lock)') in proc.stderr
    assert "binding them reads their wheel (the stubs): cannot be fetched here" in proc.stderr
    assert "https://cdn.jsdelivr.net/pyodide/v314.0.7/full/attrs-26.1.0-py3-none-any.whl" in proc.stderr
    assert "hint: run install where that URL is reachable once" in proc.stderr
    assert "index-first" not in proc.stderr   # no loop: the hint does not send the user back to the setting
    assert not (root / ".mochi" / "pyodide-314").exists()


REGEX_USER = """\
def squeeze(text: str) -> str:
    import regex  # imported when called: not at bind time (stubgen imports the module)

    return regex.sub(r"\\s+", " ", text)
"""


def test_a_cdn_only_dependency_is_referenced_by_url_with_its_sha256(
        tmp_path: Path, cache_dir: Path, served_files: dict[str, list[ServedFile]]) -> None:
    """No setting: a bound index package depends on regex, which the index has no build of for the
    target: the lock pins it from Pyodide's lock (CDN URL, sha256); install cannot fetch it here, so
    the bundle references it by that URL and sha256, and install says so and why."""
    made = make_wheel(tmp_path / "made", "wt-squeeze", "1.0", {"wt_squeeze/__init__.py": REGEX_USER},
                      requires=("regex",))
    sha = hashlib.sha256(made.path.read_bytes()).hexdigest()
    extra = ServedFile("wt-squeeze", made.path.name, sha, made.path, None, None)
    root = tmp_path / "app"
    root.mkdir()
    (root / "mochi.toml").write_text('name = "app"\n\n[python]\ntargets = ["pyodide-314"]\nallow-partial = true\n\n'
                                     '[python-dependencies]\nwt-squeeze = "*"\n')
    entry = json.loads(dist_lock_path().read_text())["packages"]["regex"]
    with IndexServer({**served_files, "wt-squeeze": [extra]}) as server:
        run_cli(["-C", str(root), "lock"], cache=cache_dir, index_url=server.url, check=True, env=_no_cdn())
        pins = {p["name"]: p for p in tomllib.loads((root / "mochi.lock").read_text())["python-package"]}
        regex = pins["regex"]
        url = f"https://cdn.jsdelivr.net/pyodide/v314.0.7/full/{entry['file_name']}"
        assert (regex["origin"], regex["version"], regex["wheel-sha256"], regex["wheel-url"]) == (
            "pyodide-lock", entry["version"], entry["sha256"], url)
        assert pins["wt-squeeze"]["origin"] == "index"
        proc = run_cli(["-C", str(root), "install", "--target=pyodide-314"], cache=cache_dir, index_url=server.url,
                       env=_no_cdn())
    assert proc.returncode == 0, proc.stderr
    bundle = root / ".mochi" / "pyodide-314"
    lines = proc.stderr.splitlines()
    assert f"bundled 1 package(s) for pyodide-314 into {bundle}" in lines
    assert ("referenced 1 package(s) by URL instead of bundling them: Pyodide's own builds (the index has no "
            "build of them for pyodide-314) whose wheels cannot be fetched here; the loader fetches each and "
            "checks its sha256 before Pyodide loads it, so the URL must be reachable where the bundle runs:") in lines
    head = f"  regex {entry['version']}: {url} (sha256 {entry['sha256']}): cannot be fetched here: "
    assert any(line.startswith(head) for line in lines), proc.stderr
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert [(r["name"], r["version"], r["url"], r["sha256"]) for r in manifest["referenced"]] == [
        ("regex", entry["version"], url, entry["sha256"])]
    assert {p["name"] for p in manifest["packages"]} == {"wt-squeeze", "mochi-bindings"}
    assert not list((bundle / "wheels").glob("regex-*"))
    externs = root / ".mochi" / "python_workspace-pyodide-314" / "python_wrap" / "wt_squeeze" / "wt_squeeze_externs.py"
    assert "1 functions, 0 skipped" in externs.read_text()   # bound without regex's wheel
