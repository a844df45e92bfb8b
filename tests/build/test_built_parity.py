"""A three-way parity row for packages published only as source: `srcgreet` (an annotated pure
module made in the test, served as an sdist only) and docopt (the pinned sdist) are built once
into pure wheels; native, Pyodide (under Node) and WASI Preview 2 (under wasmtime) lock the same
files, install them, and `srcgreet`'s functions answer the same on all three.

docopt itself has no annotations (its only function would need stubs), so it gets no binding:
its row checks that it locks and installs everywhere from the one built wheel.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.build.sdists import make_sdist
from tests.e2e.parity import make_project, normalised
from tests.support.index_server import IndexServer, ServedFile

# builds real components and a Pyodide bundle: past the suite's 600 s default on a loaded machine
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

MANIFEST = """
name = "built-parity"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["native", "wasi-p2", "pyodide-314"]

[python-dependencies]
srcgreet = "*"
docopt = "*"
"""

SRCGREET = '''
"""Greetings, published only as source."""


def shout(text: str) -> str:
    return text.upper() + "!"


def count_words(text: str, sep: str = " ") -> int:
    return len([w for w in text.split(sep) if w])


def initials(names: list[str]) -> list[str]:
    return [n[:1].upper() for n in names]


def parse_age(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"negative age: {value}")
    return value
'''

CALLS = [
    {"call": "srcgreet.shout", "args": ["hello"]},
    {"call": "srcgreet.count_words", "args": ["a  b c"]},
    {"call": "srcgreet.count_words_full", "args": ["a,b,,c", ","]},
    {"call": "srcgreet.initials", "args": [["ada", "grace", "linus"]]},
    {"call": "srcgreet.parse_age", "args": ["42"]},
    {"call": "srcgreet.parse_age", "args": ["-1"]},                 # raises ValueError
    {"call": "srcgreet.parse_age", "args": ["old"]},                # raises ValueError (int())
    # docopt: built from its sdist, bound through its stub distribution (types-docopt); `argv` is
    # an optional parameter, so it is in docopt.docopt_full, which takes every parameter (doc,
    # argv, help, version, options_first); docopt.docopt takes `doc` alone. argv is declared
    # `Iterable[str] | str`: WIT has no union, so on wasi-p2 it is narrowed to its `str` member
    # (a list is refused there with WT876), and the row passes the string form docopt splits
    {"call": "docopt.docopt_full", "args": ["Usage: prog [--verbose] <name>...", "--verbose ada grace",
                                            True, None, False]},
    {"call": "docopt.docopt_full", "args": ["no usage section here", "", True, None, False]},  # DocoptLanguageError
    {"call": "docopt.printable_usage", "args": ["Usage: prog [-v] <name>...\n\nOptions:\n  -v  verbose\n"]},
]


def test_built_packages_answer_the_same_on_three_targets(tmp_path: Path, cache_dir: Path,
                                                         served_files: dict[str, list[ServedFile]]) -> None:
    sdist = make_sdist(tmp_path / "dist", "srcgreet", "1.0", {
        "setup.py": 'from setuptools import setup\nsetup(name="srcgreet", version="1.0", py_modules=["srcgreet"])\n',
        "srcgreet.py": SRCGREET,
    })
    with IndexServer(served_files) as server:
        server.add_file(sdist)
        project, calls, cli = make_project(tmp_path, "proj", MANIFEST, CALLS, cache_dir, server)
        cli("lock")
        entries = tomllib.loads((project / "mochi.lock").read_text())["python-package"]
        for name in ("docopt", "srcgreet"):
            mine = [e for e in entries if e["name"] == name]
            assert sorted(e["target"] for e in mine) == ["native", "pyodide-314", "wasi-p2"]
            assert len({e["wheel-sha256"] for e in mine}) == 1 and all(e.get("sdist-sha256") for e in mine)
        cli("install")
        _, _, err = cli("install", "--target=wasi-p2")
        assert "component srcgreet: " in err, err
        cli("install", "--target=pyodide-314")

        answers = {}
        for target in ("native", "wasi-p2", "pyodide-314"):
            code, out, err = cli("run", f"--target={target}", str(calls), check=False)
            answers[target] = normalised(out)
            assert len(answers[target]) == len(CALLS), err
            assert code == 1, err                       # three calls raise: every line answered, exit 1
    native = answers["native"]
    assert [r.get("result") for r in native[:5]] == ["HELLO!", 3, 3, ["A", "G", "L"], 42]
    assert native[5]["error"]["type"] == "ValueError"                          # type: ignore[index]
    assert native[5]["error"]["message"] == "negative age: -1"                 # type: ignore[index]
    assert native[7].get("result") == {"--verbose": True, "<name>": ["ada", "grace"]}, native[7]
    assert native[8]["error"]["type"] == "docopt.DocoptLanguageError", native[8]  # type: ignore[index]
    assert native[9].get("result") == "Usage: prog [-v] <name>...", native[9]
    assert answers["wasi-p2"] == native
    assert answers["pyodide-314"] == native
