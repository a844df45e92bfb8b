"""Run-time imports, three ways: calls whose modules a package reaches by name only when it
runs give the same answer natively, in a WASI Preview 2 component and in Pyodide, through
`wasmtool run --target=...`:

* unidecode on non-ASCII input: its per-block tables are loaded with ``__import__`` at call
  time, and an ``ImportError`` reads as "no transliteration" (a component that lacked them
  answered "kouek" for "kožušček", with exit 0);
* a codec picked by name: idna's punycode (``str.encode("punycode")`` imports
  ``encodings.punycode`` by name);
* a lazy submodule reached by attribute (``import pkg; pkg.sub.f()`` through a module-level
  ``__getattr__``), and a plugin loaded by a computed name whose absence is tolerated.

`install --target=wasi-p2` runs each component's self-check before it reports success, and
`lock --smoke` runs it on a probe component built from the locked wheels.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.e2e.parity import make_project, normalised
from tests.pyodide.wheelmaker import make_wheel
from tests.support.index_server import IndexServer

# builds real components and a Pyodide bundle: past the suite's 600 s default on a loaded machine
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

MANIFEST = """
name = "runtime-imports"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["native", "wasi-p2", "pyodide-314"]

[python-dependencies]
unidecode = "*"
idna = "*"
lazypkg = "*"
"""

LAZYPKG = {
    "lazypkg/__init__.py": textwrap.dedent('''\
        """A package whose submodules load on first attribute access."""
        import importlib

        _SUBMODULES = ("shout",)


        def __getattr__(name):
            if name in _SUBMODULES:
                return importlib.import_module("." + name, __name__)
            raise AttributeError(name)


        def loud(s: str) -> str:
            """Through the lazy submodule `shout`."""
            import lazypkg

            return lazypkg.shout.shout(s)


        def run_plugin(name: str, s: str) -> str:
            """A plugin by computed name; a missing one leaves `s` as it is."""
            try:
                mod = __import__("lazypkg.plugins." + name, fromlist=["run"])
            except ImportError:
                return s
            return mod.run(s)
        '''),
    "lazypkg/py.typed": "",
    "lazypkg/shout.py": "def shout(s: str) -> str:\n    return s.upper() + '!'\n",
    "lazypkg/plugins/__init__.py": "",
    "lazypkg/plugins/reverse.py": "def run(s: str) -> str:\n    return s[::-1]\n",
}

CALLS = [
    {"call": "unidecode.unidecode", "args": ["kožušček"]},                    # tables by __import__
    {"call": "unidecode.unidecode", "args": ["北京 Ελληνικά"]},
    {"call": "idna.idna_alabel", "args": ["bücher"]},                          # the punycode codec, by name
    {"call": "idna.idna_decode", "args": ["xn--bcher-kva.example"]},
    {"call": "lazypkg.loud", "args": ["hi"]},                                  # pkg.sub via __getattr__
    {"call": "lazypkg.run_plugin", "args": ["reverse", "abc"]},                # a plugin by computed name
    {"call": "lazypkg.run_plugin", "args": ["missing", "abc"]},
]


def test_run_time_imports_same_answers_native_wasi_pyodide(tmp_path: Path, cache_dir: Path,
                                                           index_server: IndexServer) -> None:
    index_server.add_file(make_wheel(tmp_path / "wheels", "lazypkg", "1.0", LAZYPKG).path)
    project, calls, cli = make_project(tmp_path, "rt", MANIFEST, CALLS, cache_dir, index_server)
    _, _, err = cli("lock", "--smoke")
    assert "Traceback" not in err
    cli("install")
    _, _, err = cli("install", "--target=wasi-p2")
    for alias in ("unidecode", "idna", "lazypkg"):
        assert f"component {alias}: " in err
    assert "cannot import on wasi-p2" not in err, err          # no module of the locked packages fails
    cli("install", "--target=pyodide-314")

    answers = {}
    for target in ("native", "wasi-p2", "pyodide-314"):
        code, out, err = cli("run", f"--target={target}", str(calls), check=False)
        answers[target] = normalised(out)
        assert code == 0 and len(answers[target]) == len(CALLS), err
    native = answers["native"]
    assert [r["result"] for r in native] == [
        "kozuscek", "Bei Jing  Ellenika", list(b"xn--bcher-kva"), "bücher.example", "HI!", "cba", "abc"]
    assert answers["wasi-p2"] == native
    assert answers["pyodide-314"] == native

    report = json.loads((project / ".mochi" / "wasi-p2" / "unidecode" / "modules.json").read_text())
    assert "unidecode.x001" in report["carried"] and "encodings.punycode" in report["carried"]
    assert all(f["phase"] == "build" for f in report["failed"])
