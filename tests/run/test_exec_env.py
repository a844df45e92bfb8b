"""``project_environment``: the environment ``wasmtool exec`` runs a command in (pure)."""

from __future__ import annotations

import os
from pathlib import Path

from wasmtool.run.environment import project_environment, venv_bin

VENV = Path("/proj/.mochi/venv")
WS = Path("/proj/.mochi/python_workspace")
SEP = os.pathsep


def test_venv_bin_first_on_path_and_rest_kept_in_order() -> None:
    env = project_environment({"PATH": SEP.join(["/usr/local/bin", "/usr/bin", "/bin"])}, VENV, WS)
    assert env["PATH"].split(SEP) == [str(venv_bin(VENV)), "/usr/local/bin", "/usr/bin", "/bin"]
    assert venv_bin(VENV, windows=False) == VENV / "bin"
    assert venv_bin(VENV, windows=True) == VENV / "Scripts"


def test_path_entry_is_moved_not_repeated_and_empty_entries_survive() -> None:
    bin_dir = str(venv_bin(VENV))
    env = project_environment({"PATH": SEP.join(["/usr/bin", bin_dir, "", "/bin"])}, VENV, WS)
    assert env["PATH"].split(SEP) == [bin_dir, "/usr/bin", "", "/bin"]
    # nesting (exec inside exec) gives the same environment
    assert project_environment(env, VENV, WS) == env


def test_unset_path_falls_back_to_the_default_search_path() -> None:
    env = project_environment({}, VENV, WS)
    assert env["PATH"].split(SEP) == [str(venv_bin(VENV)), *os.defpath.split(SEP)]


def test_virtual_env_is_the_project_venv() -> None:
    env = project_environment({"VIRTUAL_ENV": "/elsewhere/venv", "PATH": "/bin"}, VENV, WS)
    assert env["VIRTUAL_ENV"] == str(VENV)


def test_pythonpath_gets_workspace_first_without_empty_entries() -> None:
    assert project_environment({"PATH": "/bin"}, VENV, WS)["PYTHONPATH"] == str(WS)
    assert project_environment({"PATH": "/bin", "PYTHONPATH": ""}, VENV, WS)["PYTHONPATH"] == str(WS)
    merged = project_environment({"PATH": "/bin", "PYTHONPATH": SEP.join(["/a", "", "/b", str(WS), ""])},
                                 VENV, WS)["PYTHONPATH"]
    assert merged.split(SEP) == [str(WS), "/a", "/b"]


def test_pythonhome_is_dropped_and_other_variables_are_kept() -> None:
    base = {"PATH": "/bin", "PYTHONHOME": "/opt/python", "HOME": "/home/u", "MOCHI_ARGS": "[1]"}
    env = project_environment(base, VENV, WS)
    assert "PYTHONHOME" not in env
    assert env["HOME"] == "/home/u" and env["MOCHI_ARGS"] == "[1]"
    assert set(env) == {"PATH", "HOME", "MOCHI_ARGS", "VIRTUAL_ENV", "PYTHONPATH"}
    # the input mapping is not modified
    assert base == {"PATH": "/bin", "PYTHONHOME": "/opt/python", "HOME": "/home/u", "MOCHI_ARGS": "[1]"}
