"""wasmtool.tools: the one process runner, and the check that nothing else starts processes."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest

from wasmtool.errors import ExternalToolError, ToolFailedError, ToolNotFoundError, ToolTimeoutError
from wasmtool.tools import (
    STDERR_TAIL_LINES,
    describe_status,
    run_tool,
    start_job,
    start_tool,
    stop_process,
    tail,
    wait_process,
)

PY = sys.executable
WASMTOOL = Path(__file__).resolve().parent.parent / "wasmtool"


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie waiting for init counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # pid reused by someone else's process
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _gone_soon(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


# -- run_tool ---------------------------------------------------------------------------------


def test_success_returns_the_output() -> None:
    proc = run_tool("python", [PY, "-c", "import sys; print('out'); print('err', file=sys.stderr)"])
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "out\n", "err\n")
    assert proc.args == [PY, "-c", "import sys; print('out'); print('err', file=sys.stderr)"]


def test_path_arguments_are_accepted(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("import sys; print(sys.argv[1])\n")
    assert run_tool("python", [Path(PY), script, tmp_path]).stdout == f"{tmp_path}\n"


def test_non_zero_exit_is_a_coded_error_with_the_stderr_tail() -> None:
    code = "import sys\nfor i in range(30): print(f'line {i}', file=sys.stderr)\nsys.exit(3)\n"
    with pytest.raises(ToolFailedError) as info:
        run_tool("demo-tool", [PY, "-c", code])
    err = info.value
    assert isinstance(err, ExternalToolError)
    assert (err.code, err.tool, err.program, err.returncode) == ("WT012", "demo-tool", PY, 3)
    assert err.argv == (PY, "-c", code)
    lines = err.stderr_tail.splitlines()
    assert len(lines) == STDERR_TAIL_LINES and lines[0] == "line 10" and lines[-1] == "line 29"
    assert err.stderr.count("\n") == 30        # the whole stderr is kept on the error
    text = str(err)
    assert text.startswith("WT012 demo-tool exited with status 3\n  demo-tool stderr:\n    line 10\n")
    assert "line 9\n" not in text and text.rstrip().endswith("line 29")


def test_killed_by_a_signal_is_named() -> None:
    with pytest.raises(ToolFailedError, match=r"demo was killed by signal SIGKILL \(9\)") as info:
        run_tool("demo", [PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    assert info.value.returncode == -signal.SIGKILL and info.value.stderr_tail == ""


def test_check_false_returns_the_failed_process() -> None:
    proc = run_tool("python", [PY, "-c", "import sys; print('x'); sys.exit(4)"], check=False)
    assert (proc.returncode, proc.stdout) == (4, "x\n")


@pytest.mark.parametrize("make", ["missing", "not-executable", "a-directory"])
def test_a_program_that_cannot_start_is_tool_not_found(tmp_path: Path, make: str) -> None:
    program = tmp_path / "prog"
    if make == "not-executable":
        program.write_text("#!/bin/sh\necho hi\n")
        program.chmod(0o644)
    elif make == "a-directory":
        program.mkdir()
    with pytest.raises(ToolNotFoundError) as info:
        run_tool("frobnicate", [program, "--version"])
    err = info.value
    assert (err.code, err.tool, err.program, err.argv) == ("WT011", "frobnicate", str(program),
                                                           (str(program), "--version"))
    assert err.reason and err.reason in str(err) and str(program) in str(err)


def test_timeout_kills_the_tool_and_its_children() -> None:
    code = ("import subprocess, sys, time\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
            "print(child.pid, flush=True)\n"
            "print('working', file=sys.stderr, flush=True)\n"
            "time.sleep(60)\n")
    started = time.monotonic()
    with pytest.raises(ToolTimeoutError) as info:
        run_tool("sleeper", [PY, "-c", code], timeout=1.5)
    assert time.monotonic() - started < 20
    err = info.value
    assert isinstance(err, TimeoutError) and isinstance(err, ExternalToolError)
    assert (err.code, err.tool, err.timeout) == ("WT013", "sleeper", 1.5)
    assert "sleeper did not finish within 1.5 s (killed)" in str(err) and "working" in err.stderr_tail
    assert not _alive(err.pid)                 # the tool itself was killed and reaped
    grandchild = int(err.stdout.split()[0])    # what it printed before the deadline is kept
    assert _gone_soon(grandchild)              # its process group went with it


def test_env_and_cwd_are_passed_through(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "WT_RUNNER_PROBE": "seen"}
    code = "import os; print(os.environ.get('WT_RUNNER_PROBE'), os.getcwd(), 'HOME' in os.environ)"
    proc = run_tool("python", [PY, "-c", code], env=env, cwd=tmp_path)
    assert proc.stdout.split() == ["seen", str(tmp_path.resolve()), "False"]
    inherited = run_tool("python", [PY, "-c", "import os; print(os.environ.get('WT_RUNNER_PROBE'))"])
    assert inherited.stdout == "None\n"


def test_stdin_is_empty_unless_input_is_given() -> None:
    echo = [PY, "-c", "import sys; print(repr(sys.stdin.read()))"]
    assert run_tool("python", echo).stdout == "''\n"
    assert run_tool("python", echo, input="a\nb\n").stdout == "'a\\nb\\n'\n"


def test_undecodable_output_is_replaced() -> None:
    proc = run_tool("python", [PY, "-c", "import sys; sys.stdout.buffer.write(b'ok \\xff\\n')"])
    assert proc.stdout == "ok \ufffd\n"


def test_capture_false_lets_the_output_through(capfd: pytest.CaptureFixture[str]) -> None:
    proc = run_tool("python", [PY, "-c", "print('through')"], capture=False)
    assert (proc.stdout, proc.stderr) == ("", "")
    assert capfd.readouterr().out == "through\n"


def test_a_job_runs_while_the_caller_works() -> None:
    job = start_job("python", [PY, "-c", "import sys, time; time.sleep(0.3); print(sys.stdin.read())"],
                    input="late")
    assert job.process.poll() is None and _alive(job.pid)
    proc = job.wait(timeout=30)
    assert proc.stdout == "late\n" and not _alive(job.pid)


# -- long-running processes -----------------------------------------------------------------


def test_start_tool_pipes_and_stop_process() -> None:
    proc = start_tool("echo-server", [PY, "-c", "import sys\nfor line in sys.stdin: print(line.upper(), end='', "
                                                 "flush=True)"], text=True, line_buffered=True)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("hello\n")
    assert proc.stdout.readline() == "HELLO\n"
    proc.stdin.close()
    assert stop_process(proc, grace=10) == 0
    proc.stdout.close()
    assert proc.stderr is not None
    proc.stderr.close()


def test_stop_process_escalates_to_kill() -> None:
    code = "import signal, sys, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\n" \
           "time.sleep(60)\n"
    proc = start_tool("stubborn", [PY, "-c", code], stdin=None, stderr=None)
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    assert wait_process(proc, 0.1) is None
    assert stop_process(proc, grace=0.2) == -signal.SIGKILL
    assert not _alive(proc.pid)
    proc.stdout.close()


def test_start_tool_missing_program(tmp_path: Path) -> None:
    with pytest.raises(ToolNotFoundError) as info:
        start_tool("node", [tmp_path / "node", "server.mjs"])
    assert (info.value.tool, info.value.program) == ("node", str(tmp_path / "node"))


def test_helpers() -> None:
    assert describe_status(None) == "is still running"
    assert describe_status(3) == "exited with status 3"
    assert describe_status(-15) == "was killed by signal SIGTERM (15)"
    assert tail("a\n\nb\nc\n", 2) == "b\nc"


# -- nothing else starts processes ------------------------------------------------------------

#: What may start processes without the runner, and why.
ALLOWED = {
    # Other engineers are rewriting stubs/ right now; its sandboxed stubgen run (a process
    # group killed on timeout, output to files) moves onto start_tool/stop_process after that.
    "stubs/stubgen.py": {"import subprocess", "subprocess.Popen", "subprocess.DEVNULL", "subprocess.TimeoutExpired"},
    # ``wasmtool exec`` replaces this process with the command (exit status and signals are
    # the command's own): there is no child to run, so there is nothing for a runner to do.
    "cli/exec_cmd.py": {"os.execvpe"},
}

_STARTS = re.compile(
    r"^\s*import subprocess\b|^\s*from subprocess import"
    r"|\bsubprocess\.\w+|\bos\.(?:system|popen|exec\w*|spawn\w*|posix_spawn\w*|fork\w*)\b"
    r"|\bPopen\(|\bcreate_subprocess_\w+|\bpty\.spawn\b|\bmultiprocessing\b"
)


def _uses(path: Path) -> set[str]:
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        for match in _STARTS.finditer(line):
            found.add(match.group(0).strip())
    return found


def test_only_the_runner_starts_processes() -> None:
    unexpected = {}
    for path in sorted(WASMTOOL.rglob("*.py")):
        rel = path.relative_to(WASMTOOL).as_posix()
        if rel == "tools.py":
            continue
        extra = _uses(path) - ALLOWED.get(rel, set())
        if extra:
            unexpected[rel] = sorted(extra)
    assert unexpected == {}, "start processes through wasmtool.tools (run_tool / start_job / start_tool)"


def test_the_allowed_list_is_not_stale() -> None:
    for rel, allowed in ALLOWED.items():
        assert _uses(WASMTOOL / rel) & allowed, rel


def test_the_guard_sees_what_it_should(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import subprocess\nx = subprocess.run(['a'])\nos.system('b')\np = Popen(['c'])\n"
                      "os.execv('d', [])\n# a worker subprocess. Not a call.\nsubprocess_runtime = 1\n")
    assert _uses(sample) == {"import subprocess", "subprocess.run", "os.system", "Popen(", "os.execv"}
