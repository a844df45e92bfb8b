"""A package's public submodules are bound by default: real packages from the hermetic
index, through the real lock / install / bind and real calls (native).

- python-dateutil (its stub-only distribution types-python-dateutil is on the index) binds
  ``dateutil.relativedelta.relativedelta`` and ``dateutil.easter.easter`` with no setting;
  submodules are imported on first use, not with the wrapper; ``submodules`` narrows or
  turns it off;
- cryptography (compiled, abi3, with cffi) binds ``cryptography.fernet.Fernet``: a key is
  generated, a text encrypted and decrypted through handles;
- anyio on ``wasi-p2``: ``anyio.streams.tls`` imports ``ssl``, whose ``_ssl`` the guest
  CPython lacks, so it is skipped there (``SkipWasiUnavailable``) and bound natively.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli, write_project
from tests.corpus.pipeline import ARTEFACTS
from tests.support.session_cache import SharedIndex
from wasmtool.ops.session import open_session
from wasmtool.run import Handle
from wasmtool.stubs.discover import module_name, public_submodules, wheel_listing

pytestmark = pytest.mark.slow

# Every test here uses the session's cache and index (tests/conftest.py): what they assert is the
# project's surface, calls and lock, which the cache's content keys make the same warm or cold.


def _surface(project: Path, alias: str, cache: Path, url: str, *extra: str) -> dict[str, Any]:
    proc = run_cli(["-C", str(project), "surface", alias, "--json", *extra], cache=cache, index_url=url, check=True)
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def _dateutil(tmp_path: Path, cache: Path, url: str, setting: str = "") -> Path:
    project = write_project(tmp_path / "proj", {"python-dateutil": "*"},
                            sources={"main.mochi": 'import python "python-dateutil" as du\n'})
    if setting:
        manifest = project / "mochi.toml"
        manifest.write_text(manifest.read_text().replace(
            'python-dateutil = "*"', f'python-dateutil = {{ version = "*", submodules = {setting} }}'))
    run_cli(["-C", str(project), "install"], cache=cache, index_url=url, check=True)
    return project


def test_dateutil_binds_its_public_submodules_by_default(tmp_path: Path, shared_cache: Path,
                                                         shared_index: SharedIndex) -> None:
    url = shared_index.url
    project = _dateutil(tmp_path, shared_cache, url)
    data = _surface(project, "du", shared_cache, url)
    targets = {f["extern_name"]: f["target"] for f in data["functions"]}
    assert targets["du_relativedelta_new"] == "dateutil.relativedelta:relativedelta"
    assert targets["du_easter_easter"] == "dateutil.easter:easter"
    # grouped by module; private and test modules are not part of the default surface
    modules = data["modules"]
    assert "du_relativedelta_new" in modules["dateutil.relativedelta"]["externs"]
    assert {"dateutil.parser", "dateutil.tz", "dateutil.rrule"} <= set(modules)
    assert not any(part.startswith("_") for f in data["functions"]
                   for part in f["target"].partition(":")[0].split(".")[1:] if f["owner"] == "")
    assert isinstance(data["widened"], list)
    assert data["import_names"] == ["dateutil"]

    # the human table (piped): one line per module, then that module's rows
    table = run_cli(["-C", str(project), "surface", "du"], cache=shared_cache, index_url=url, check=True).stdout
    assert "## module dateutil.relativedelta (" in table
    assert "du_easter_easter\t(year: int): string\tdateutil.easter:easter" in table

    # the dotted form and the extern name alike
    for name in ("du.easter.easter", "du_easter_easter"):
        proc = run_cli(["-C", str(project), "call", name, "--args", "[2024]"], cache=shared_cache, index_url=url)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == "2024-03-31"

    with open_session(project, mode="subprocess") as session:
        # the `_full` constructor takes every parameter (None for a default)
        params = [p for f in data["functions"] if f["extern_name"] == "du_relativedelta_new_full"
                  for p in f["params"]]
        delta = session.call("du.relativedelta_new_full", [],
                             {p["name"]: {"days": 3, "hours": 4}.get(p["name"]) for p in params})
        assert session.call("du.relativedelta_days", [delta]) == 3
        assert session.call("du.relativedelta_hours", [delta]) == 4

    # submodules are imported on first use, not when the wrapper is imported
    workspace = project / ".mochi" / "python_workspace"
    wrapper = (workspace / "python_wrap" / "du" / "dateutil_externs.py").read_text()
    assert "lazy_module('dateutil.relativedelta')" in wrapper
    assert "load_module('dateutil." not in wrapper
    python = project / ".mochi" / "venv" / "bin" / "python"
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import python_wrap.du.dateutil_externs as w; "
             "print(sorted(m for m in sys.modules if m.startswith('dateutil.') and m.split('.')[1] in "
             "('relativedelta', 'rrule', 'easter', 'parser')))")
    out = subprocess.run([str(python), "-c", probe, str(workspace)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_dateutil_parser_parse_is_bound(tmp_path: Path, shared_cache: Path, shared_index: SharedIndex) -> None:
    url = shared_index.url
    project = _dateutil(tmp_path, shared_cache, url)
    data = _surface(project, "du", shared_cache, url)
    # parse's timestr is `bytes | str | IO[str] | IO[Any]`: the IO members are left out of the
    # parameter; its two @overload arms (with and without fuzzy_with_tokens) are bound apart
    parse = {f["extern_name"] for f in data["functions"] if f["target"] == "dateutil.parser:parse"}
    assert {"du_parser_parse_union_bytes_string", "du_parser_parse_union_bytes_string_bool"} <= parse
    proc = run_cli(["-C", str(project), "call", "du.parser.parse", "--args", '["2024-01-02 03:04"]'],
                   cache=shared_cache, index_url=url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == "2024-01-02T03:04:00"


def test_dateutil_submodules_setting_narrows_or_turns_it_off(tmp_path: Path, shared_cache: Path,
                                                               shared_index: SharedIndex) -> None:
    url = shared_index.url
    project = _dateutil(tmp_path, shared_cache, url, '["easter"]')
    data = _surface(project, "du", shared_cache, url)
    modules = {f["target"].partition(":")[0] for f in data["functions"]}
    assert "dateutil.easter" in modules
    assert not modules & {"dateutil.relativedelta", "dateutil.parser", "dateutil.tz", "dateutil.rrule"}

    manifest = project / "mochi.toml"
    manifest.write_text(manifest.read_text().replace('submodules = ["easter"]', "submodules = false"))
    # the module list is part of the surface's cache key: the bindings moved
    proc = run_cli(["-C", str(project), "lock", "--check"], cache=shared_cache, index_url=url)
    assert proc.returncode == 1 and "python-dateutil:du" in proc.stderr
    run_cli(["-C", str(project), "bind"], cache=shared_cache, index_url=url, check=True)
    data = _surface(project, "du", shared_cache, url)
    assert {f["target"].partition(":")[0] for f in data["functions"]} <= {"dateutil"}

    manifest.write_text(manifest.read_text().replace("submodules = false", 'submodules = ["nosuch"]'))
    proc = run_cli(["-C", str(project), "bind"], cache=shared_cache, index_url=url)
    assert proc.returncode != 0
    assert "submodule 'nosuch' is not a module of dateutil" in proc.stderr
    assert "python-dependencies.python-dateutil.submodules" in proc.stderr


def test_cryptography_fernet_round_trip_through_handles(tmp_path: Path, shared_cache: Path,
                                                        shared_index: SharedIndex) -> None:
    url = shared_index.url
    project = write_project(tmp_path / "proj", {"cryptography": "*"})
    run_cli(["-C", str(project), "install"], cache=shared_cache, index_url=url, check=True)
    lock = (project / "mochi.lock").read_text()
    assert "cffi" in lock and "abi3" in lock
    data = _surface(project, "cryptography", shared_cache, url)
    targets = {f["extern_name"]: f["target"] for f in data["functions"]}
    assert targets["cryptography_Fernet_new"] == "cryptography.fernet:Fernet"
    assert targets["cryptography_Fernet_generate_key"] == "cryptography.fernet:Fernet.generate_key"
    assert {"cryptography_Fernet_encrypt", "cryptography_Fernet_decrypt"} <= set(targets)
    assert "cryptography.fernet" in data["modules"]

    # `wasmtool call`: bytes come back as a list of ints, here a url-safe base64 key of 32 bytes
    proc = run_cli(["-C", str(project), "call", "cryptography.Fernet.generate_key"], cache=shared_cache, index_url=url)
    assert proc.returncode == 0, proc.stderr
    assert len(base64.urlsafe_b64decode(bytes(json.loads(proc.stdout)))) == 32

    with open_session(project, mode="subprocess") as session:
        key = session.call("cryptography.Fernet.generate_key")
        fernet = session.call("cryptography.Fernet.new", [key])
        assert isinstance(fernet, Handle)
        token = session.call("cryptography.Fernet.encrypt", [fernet, list(b"attack at dawn")])
        assert bytes(token) != b"attack at dawn"
        assert bytes(session.call("cryptography.Fernet.decrypt", [fernet, token])) == b"attack at dawn"
        # the dotted Python path names the same functions
        other = session.call("cryptography.fernet.Fernet", [session.call("cryptography.fernet.Fernet.generate_key")])
        with pytest.raises(Exception, match="InvalidToken"):
            session.call("cryptography.Fernet.decrypt", [other, token])


def test_a_submodule_needing_ssl_is_skipped_on_wasi_and_bound_natively(tmp_path: Path, shared_cache: Path,
                                                                        shared_index: SharedIndex) -> None:
    url = shared_index.url
    project = write_project(tmp_path / "proj", {"anyio": "*"}, extra_python='targets = ["native", "wasi-p2"]')
    run_cli(["-C", str(project), "lock"], cache=shared_cache, index_url=url, check=True)
    native = _surface(project, "anyio", shared_cache, url, "--target=native")
    assert "anyio.streams.tls" in native["modules"]
    assert native["modules"]["anyio.streams.tls"]["externs"]

    wasi = _surface(project, "anyio", shared_cache, url, "--target=wasi-p2")
    skips = {s["path"]: s for s in wasi["skips"]}
    tls = skips["anyio.streams.tls"]
    assert tls["reason"] == "SkipWasiUnavailable"
    assert "cannot be imported on wasi-p2: imports ssl -> _ssl: not in wasi-p2's standard library" in tls["detail"]
    assert not any(f["target"].startswith("anyio.streams.tls:") for f in wasi["functions"])
    # the rest of the package is bound there
    assert any(f["target"].startswith("anyio.streams.memory:") for f in wasi["functions"])


def test_packages_bound_together_render_whatever_their_submodules(tmp_path: Path, shared_cache: Path,
                                                                  shared_index: SharedIndex) -> None:
    """fastapi re-exports starlette's classes from its submodules, so their type names meet
    in one workspace. ``bind`` writes the workspace all the same: fastapi's submodules are
    bound, or (when their names clash beside starlette's) each is skipped with the reason."""
    url = shared_index.url
    project = write_project(tmp_path / "proj", {"fastapi": "*", "starlette": "*"})
    run_cli(["-C", str(project), "lock"], cache=shared_cache, index_url=url, check=True)
    run_cli(["-C", str(project), "bind"], cache=shared_cache, index_url=url, check=True)
    run_cli(["-C", str(project), "lock", "--check"], cache=shared_cache, index_url=url, check=True)
    wrap = project / ".mochi" / "python_workspace" / "python_wrap"
    data = json.loads((wrap / "fastapi" / "surface.json").read_text())
    bound = {f["target"].partition(":")[0] for f in data["functions"]}
    skipped = {s["path"]: s for s in data["skips"]}
    wheel = next(ARTEFACTS.glob("fastapi-*.whl"))
    subs = public_submodules({module_name(p) for p in wheel_listing(wheel) if p.endswith(".py")}, ["fastapi"])
    assert len(subs) > 10
    if not bound - {"fastapi"}:
        for module in subs:
            assert skipped[module]["reason"] == "SkipUnknown"
            assert "does not render" in skipped[module]["detail"]
    assert (wrap / "starlette" / "surface.json").is_file()
