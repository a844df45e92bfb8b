"""``runtime-mode = "auto"``: the decision (a pure function of two interpreter descriptions),
how the interpreters are described, and what a session does with it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import OTHER_VERSION, other_python
from tests.skip_policy import POSIX_ONLY
from wasmtool.ops.session import open_session
from wasmtool.run.runtime_choice import (
    InterpreterInfo,
    RuntimeChoice,
    choose_runtime,
    probe_interpreter,
    running_interpreter,
    venv_interpreter,
)
from wasmtool.run.session import InterpreterMismatchError

from .conftest import wrappers_forgotten
from .test_session_dispatch import PKG, install_package, make_project, make_venv

CP312 = InterpreterInfo("cpython", (3, 12), False, "", "cpython-312")
CP311 = InterpreterInfo("cpython", (3, 11), False, "", "cpython-311")
CP313T = InterpreterInfo("cpython", (3, 13), True, "t", "cpython-313")
CP313 = InterpreterInfo("cpython", (3, 13), False, "", "cpython-313")
PYPY310 = InterpreterInfo("pypy", (3, 10), False, "", "pypy310")


# -- the decision ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("here", "venv", "expected"), [
    (CP312, CP312, RuntimeChoice("embedded", "project venv is CPython 3.12, the same interpreter and ABI "
                                             "wasmtool runs on")),
    (CP311, CP312, RuntimeChoice("subprocess", "project venv is CPython 3.12, wasmtool runs on 3.11")),
    (CP313, CP313T, RuntimeChoice("subprocess", "project venv is CPython 3.13t, wasmtool runs on 3.13")),
    (CP313T, CP313, RuntimeChoice("subprocess", "project venv is CPython 3.13, wasmtool runs on 3.13t")),
    (CP312, PYPY310, RuntimeChoice("subprocess", "project venv is PyPy 3.10, wasmtool runs on CPython 3.12")),
    (CP312, InterpreterInfo("pypy", (3, 12), False, "", "pypy312"),
     RuntimeChoice("subprocess", "project venv is PyPy 3.12, wasmtool runs on CPython 3.12")),
    (CP312, InterpreterInfo("cpython", (3, 12), False, "d", "cpython-312"),
     RuntimeChoice("subprocess", "project venv is CPython 3.12 with ABI flags 'd', wasmtool runs on 3.12 with ''")),
    (CP312, InterpreterInfo("cpython", (3, 12), False, "", "cpython-312-custom"),
     RuntimeChoice("subprocess", "project venv is CPython 3.12 (cache tag cpython-312-custom), wasmtool runs on "
                                 "3.12 (cpython-312)")),
    (CP312, None, RuntimeChoice("subprocess", "cannot tell which Python the project venv has")),
])
def test_choose_runtime(here: InterpreterInfo, venv: InterpreterInfo | None, expected: RuntimeChoice) -> None:
    assert choose_runtime(here, venv) == expected


def test_unknown_parts_never_choose_embedded() -> None:
    """A venv described from its files only: what is unknown cannot be shown to match."""
    for partial in (InterpreterInfo(None, (3, 12), False), InterpreterInfo("cpython", None, None),
                    InterpreterInfo("cpython", (3, 12), None)):
        choice = choose_runtime(CP312, partial)
        assert choice.mode == "subprocess" and "cannot tell" in choice.reason, choice
    # unknown ABI flags / cache tag on one side only: implementation, version and free-threading decide
    assert choose_runtime(CP312, InterpreterInfo("cpython", (3, 12), False)).mode == "embedded"
    assert choose_runtime(InterpreterInfo("cpython", (3, 12), False), CP312).mode == "embedded"


# -- describing interpreters -------------------------------------------------------------------------


def test_this_interpreter_describes_itself_the_same_way_when_asked() -> None:
    here = running_interpreter()
    assert here.version == sys.version_info[:2] and here.implementation == sys.implementation.name
    assert probe_interpreter(sys.executable) == here
    assert choose_runtime(here, here).mode == "embedded"


def test_an_interpreter_that_cannot_answer(tmp_path: Path) -> None:
    assert probe_interpreter(tmp_path / "missing") is None
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    assert probe_interpreter(broken) is None


@POSIX_ONLY  # POSIX venv layout
def test_venv_described_from_its_files_when_its_python_does_not_run(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    assert venv_interpreter(venv) is None                       # no interpreter at all
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("#!/bin/sh\nexit 1\n")
    (venv / "bin" / "python").chmod(0o755)
    (venv / "lib" / "python3.13t" / "site-packages").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /x\nimplementation = CPython\nversion_info = 3.13.0\n")
    assert venv_interpreter(venv) == InterpreterInfo("cpython", (3, 13), True)
    (venv / "pyvenv.cfg").write_text("home = /x\nversion = 3.13.0\n")     # stdlib venv: no implementation
    info = venv_interpreter(venv)
    assert info == InterpreterInfo(None, (3, 13), True)
    assert choose_runtime(running_interpreter(), info).mode == "subprocess"


# -- sessions ------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_leftover_wrappers() -> Iterator[None]:
    with wrappers_forgotten(PKG):
        yield


@pytest.fixture(scope="module")
def other_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv of Debian's python3.11 (tests/conftest.py OTHER_PYTHON; the test fails without it)."""
    venv = make_venv(tmp_path_factory.mktemp("other") / "venv", other_python())
    install_package(venv)
    return venv


def test_auto_uses_a_worker_for_another_python_and_embedded_stays_an_error(tmp_path: Path,
                                                                           other_venv: Path) -> None:
    root = make_project(tmp_path / "proj", venv=other_venv)                    # no runtime-mode: auto
    with open_session(root) as session:
        assert session.mode == "subprocess" and session.auto
        reason = session.mode_reason
        here = f"{sys.version_info[0]}.{sys.version_info[1]}"
        assert reason == f"project venv is CPython {OTHER_VERSION}, wasmtool runs on {here}", reason
        assert session.call("wts.add", [1]) == 3
        assert session.python == str(other_venv / "bin" / "python")
    with open_session(root, mode="auto") as session:
        assert session.mode == "subprocess"
    for mode in ("embedded", "inprocess"):
        with pytest.raises(InterpreterMismatchError, match=r"same major\.minor") as info:
            open_session(root, mode=mode)
        assert info.value.code == "WT705"


def test_auto_embeds_a_matching_venv_and_says_why(tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "venv")
    install_package(venv)
    root = make_project(tmp_path / "proj", venv=venv)
    with open_session(root, mode="auto") as session:
        assert session.mode == "embedded" and session.auto and session.worker_pids == []
        assert "the same interpreter and ABI" in session.mode_reason
        assert session.call("wts.add", [2]) == 4
    with open_session(root, mode="subprocess") as session:
        assert not session.auto and session.mode_reason == "runtime mode 'subprocess' requested"
    with open_session(root, mode="auto", python=sys.executable) as session:   # an interpreter given: a worker
        assert session.mode == "subprocess" and "worker interpreter" in session.mode_reason


def test_auto_does_not_embed_when_the_venv_would_be_shadowed(tmp_path: Path) -> None:
    """The venv holds a top-level module wasmtool already imported (pytest here): a worker
    imports the venv's own copy, so auto picks it instead of warning."""
    venv = make_venv(tmp_path / "venv")
    install_package(venv)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "pytest").mkdir()
    (site / "pytest" / "__init__.py").write_text("")
    root = make_project(tmp_path / "proj", venv=venv)
    with open_session(root, mode="auto") as session:
        assert session.mode == "subprocess" and "pytest" in session.mode_reason
        assert session.call("wts.add", [3]) == 5
    with open_session(root, mode="embedded") as session:      # explicit: embedded, with the warning data
        assert session.mode == "embedded" and "pytest" in session.shadowed_modules
