"""Issue 6 over the pure-Python packages of the corpus: `install --target=wasi-p2` builds a
component for every package with a WIT-representable function, reports the ones without
(pytest), and calls through wasmtime answer as the native wrapper does. A package that
imports what WASI's CPython lacks (uvicorn: `ssl`, which needs `_ssl`) is refused at `lock`
already (WT881), naming the module and its importers; the others lock and build. Every
component's self-check passes: no module of the locked packages that imported at build time
is missing when the component runs.
(typer is left out: it requires pydantic, whose pydantic-core has no WASI build: WT231.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.parity import make_project, normalised
from tests.support.session_cache import SharedIndex

# builds a real component per package: past the suite's 600 s default on a loaded machine
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

MANIFEST = """
name = "pure-corpus"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["native", "wasi-p2"]

[python-dependencies]
requests = "*"
urllib3 = "*"
httpx = "*"
rich = "*"
tqdm = "*"
starlette = "*"
uvicorn = "*"
pytest = "*"
"""

CALLS = [
    {"call": "httpx.httpx_version", "args": []},
    {"call": "starlette.starlette_version", "args": []},
    {"call": "requests.check_compatibility", "args": ["2.8.0", None, "3.5.2"]},
    {"call": "requests.check_compatibility", "args": ["1.0.0", None, "3.5.2"]},           # AssertionError
    {"call": "urllib3.urllib_three_make_headers_full",
     "args": [True, None, "mochi/1", "user:pass", None, True, None, None]},
    {"call": "rich.Color_parse", "args": ["#ff8000"]},                                       # a NamedTuple record
    {"call": "rich.Color_from_rgb", "args": [255.0, 128.0, 0.0]},
    {"call": "rich.Color_get_truecolor", "args": [{"name": "red", "type": 1, "number": 1, "triplet": None}]},
    {"call": "rich.Color_parse", "args": ["not-a-colour"]},                                  # ColorParseError
    {"call": "rich.Style_normalize", "args": ["  BOLD   red "]},
    {"call": "rich.ColorTriplet_hex", "args": [{"red": 255, "green": 128, "blue": 0}]},
]


def test_pure_corpus_components_answer_like_native(tmp_path: Path, shared_cache: Path,
                                                   shared_index: SharedIndex) -> None:
    # only needs *a* cache: its assertions hold whether the components are built or cached
    project, calls, cli = make_project(tmp_path, "pure", MANIFEST, CALLS, shared_cache, shared_index)
    code, _, err = cli("lock", check=False)
    assert code == 1 and "WT881" in err and "Traceback" not in err
    assert "uvicorn needs module _ssl (imported by uvicorn -> uvicorn.config -> ssl)" in err
    assert not (project / "mochi.lock").exists()
    (project / "mochi.toml").write_text((project / "mochi.toml").read_text().replace('uvicorn = "*"\n', ""))
    cli("lock")
    cli("install")
    code, _, err = cli("install", "--target=wasi-p2", check=False)
    assert code == 0 and "Traceback" not in err, err
    built = sorted(p.name for p in (project / ".mochi" / "wasi-p2").iterdir() if p.name != "project-component")
    assert built == ["httpx", "pytest", "requests", "rich", "starlette", "tqdm", "urllib3"]   # pytest via _pytest
    pointers = {a: project / ".mochi" / "wasi-p2" / a / "component.json" for a in built}
    served = {a: json.loads(p.read_text())["component"] if p.is_file() else a for a, p in pointers.items()}
    # one component serves the project, but packages exporting resources of one name (httpx and
    # requests both have `Request`: one Python class name in the guest) cannot share it: each
    # later one in alias order gets its own component, and install says why
    alone = sorted(a for a, c in served.items() if c == a)
    assert "requests" in alone and "httpx" not in alone
    assert "component requests is built on its own: httpx and requests both need the resource class Request" in err
    for a in alone:
        assert re.search(rf"component {a} is built on its own: \w+ and {a} both need the resource class \w+ in one "
                         "component", err), a
    assert [c for a, c in served.items() if a not in alone] == ["project-component"] * (len(built) - len(alone))
    assert len(built) - len(alone) >= 2
    for alias in built:
        world = (project / ".mochi" / "wasi-p2" / alias / "wit" / "world.wit").read_text()
        assert "export " in world

    code, native_out, _ = cli("run", "--target=native", str(calls), check=False)
    assert code == 1                                      # some calls raise: every line answered, exit 1
    _, wasi_out, _ = cli("run", "--target=wasi-p2", str(calls), check=False)
    native = normalised(native_out)
    assert native[0]["result"] == "0.28.1" and native[8]["error"]["type"] == "rich.color.ColorParseError"  # type: ignore[index]
    assert normalised(wasi_out) == native

    for alias in built:       # the self-check ran at install; its report sits beside the component
        report = json.loads((project / ".mochi" / "wasi-p2" / alias / "modules.json").read_text())
        assert all(f["phase"] == "build" for f in report["failed"]), report["failed"]
