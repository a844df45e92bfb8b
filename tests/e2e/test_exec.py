"""``wasmtool exec -- CMD ARGS...`` end to end: the real CLI on a locked and installed project.

The command replaces the wasmtool process, so its output, exit status and signals are what
the caller of ``wasmtool`` sees.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_project
from tests.skip_policy import LINUX_ONLY
from tests.support.index_server import IndexServer, ServedFile

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Installed:
    project: Path
    cache: Path
    index_url: str

    def exec(self, *args: str, project: Path | None = None) -> tuple[int, str, str]:
        proc = run_cli(["-C", str(project or self.project), "exec", *args], cache=self.cache,
                       index_url=self.index_url, timeout=120)
        return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def installed(served_files: dict[str, list[ServedFile]], tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[Installed]:
    """One small project (tomli), locked and installed once for the whole module."""
    base = tmp_path_factory.mktemp("exec")
    project = write_project(base / "p", {"tomli": "^2"})
    cache = base / "cache"
    with IndexServer(served_files) as server:
        run_cli(["-C", str(project), "lock"], cache=cache, index_url=server.url, check=True)
        run_cli(["-C", str(project), "install"], cache=cache, index_url=server.url, check=True)
        yield Installed(project, cache, server.url)


def test_command_runs_in_the_project_venv_with_the_bindings_importable(installed: Installed) -> None:
    code, out, err = installed.exec("--", "python3", "-c", "import sys, python_wrap; print(sys.prefix)")
    assert code == 0, err
    venv = installed.project / ".mochi" / "venv"
    assert Path(out.strip()).resolve() == venv.resolve()

    script = ("import json, os, sys, python_wrap.tomli; from python_wrap.tomli import tomli_externs; "
              "print(json.dumps({'exe': sys.executable, 'venv': os.environ['VIRTUAL_ENV'], "
              "'pythonpath': os.environ['PYTHONPATH'], 'path0': os.environ['PATH'].split(os.pathsep)[0], "
              "'home': os.environ.get('PYTHONHOME'), 'wrap': python_wrap.tomli.__name__}))")
    code, out, err = installed.exec("--", "python3", "-c", script)
    assert code == 0, err
    got = json.loads(out)
    workspace = installed.project / ".mochi" / "python_workspace"
    assert Path(got["exe"]).parent.resolve() == (venv / "bin").resolve()
    assert Path(got["venv"]).resolve() == venv.resolve()
    assert Path(got["path0"]).resolve() == (venv / "bin").resolve()
    assert Path(got["pythonpath"].split(os.pathsep)[0]).resolve() == workspace.resolve()
    assert got["home"] is None
    assert got["wrap"] == "python_wrap.tomli"


def test_arguments_after_the_command_pass_through_untouched(installed: Installed) -> None:
    code, out, err = installed.exec("python3", "-c", "import sys, json; print(json.dumps(sys.argv[1:]))",
                                    "--target", "wasi-p2", "--", "-C", "x")
    assert code == 0, err
    assert json.loads(out) == ["--target", "wasi-p2", "--", "-C", "x"]


def test_exit_status_passes_through(installed: Installed) -> None:
    code, _, err = installed.exec("--target", "native", "--", "python3", "-c", "import sys; sys.exit(7)")
    assert code == 7, err


def test_signal_passes_through(installed: Installed) -> None:
    code, _, err = installed.exec("--", "python3", "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
    assert code == -15, err


@LINUX_ONLY  # reads /proc/<pid>/status
def test_sigpipe_is_not_left_ignored(installed: Installed) -> None:
    # Python ignores SIGPIPE (and SIGXFSZ), and ignored signals survive exec: a non-Python
    # command (`cat` here, `mochi` in real use) must get the default dispositions
    code, out, err = installed.exec("--", "cat", "/proc/self/status")
    assert code == 0, err
    ignored = int(next(line.split()[1] for line in out.splitlines() if line.startswith("SigIgn:")), 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1))
    assert not ignored & (1 << (signal.SIGXFSZ - 1))


def test_unknown_command_is_a_clean_coded_error(installed: Installed) -> None:
    code, out, err = installed.exec("--", "no-such-command-xyz", "arg")
    assert code == 127
    assert "WT004" in err and "no-such-command-xyz" in err
    assert "Traceback" not in err
    assert out == ""


def test_other_targets_are_refused(installed: Installed) -> None:
    code, _, err = installed.exec("--target", "wasi-p2", "--", "python3", "-c", "print('ran')")
    assert code == 2
    assert "WT002" in err and "wasi-p2" in err
    assert "ran" not in err and "Traceback" not in err


def test_missing_command_is_a_usage_error(installed: Installed) -> None:
    code, _, err = installed.exec("--")
    assert code == 2
    assert "Traceback" not in err


def test_project_without_install_names_the_venv_and_hints_install(tmp_path: Path, installed: Installed) -> None:
    project = write_project(tmp_path / "bare", {"tomli": "^2"})
    code, out, err = installed.exec("--", "python3", "-c", "print('ran')", project=project)
    assert code != 0
    assert "WT704" in err
    assert str(project.resolve() / ".mochi" / "venv" / "bin" / "python") in err
    assert "run `wasmtool install`" in err
    assert "Traceback" not in err and out == ""


def test_project_without_bindings_names_the_workspace_and_hints_install(tmp_path: Path, installed: Installed) -> None:
    project = write_project(tmp_path / "unbound", {"tomli": "^2"})
    bin_dir = project / ".mochi" / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    code, out, err = installed.exec("--", "python3", "-c", "print('ran')", project=project)
    assert code != 0
    assert "WT703" in err
    assert str(project.resolve() / ".mochi" / "python_workspace") in err
    assert "run `wasmtool install`" in err
    assert "Traceback" not in err and out == ""


def test_command_given_as_a_path_is_not_searched(tmp_path: Path, installed: Installed) -> None:
    missing = tmp_path / "missing" / "prog"
    code, _, err = installed.exec("--", str(missing))
    assert code == 127
    assert "WT004" in err and str(missing) in err and "Traceback" not in err
    plain = tmp_path / "plain.txt"
    plain.write_text("not a program\n")
    code, _, err = installed.exec("--", str(plain))
    assert code == 126
    assert "WT004" in err and "not an executable file" in err and "Traceback" not in err
