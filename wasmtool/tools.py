"""Run a helper program: the one place wasmtool starts processes.

uv, componentize-py, wasm-tools, pip, a target interpreter, Node and the worker are all
started here, so a failure reads the same whatever the tool (``tests/test_tools_runner.py``
checks that nothing else in ``wasmtool/`` calls :mod:`subprocess`)::

    run_tool(tool, argv, env=, cwd=, timeout=, input=, check=, capture=)  -> CompletedProcess[str]
    start_job(...) ... job.wait(timeout=, check=)                         the same, waited for later
    start_tool(tool, argv, stdin=, stdout=, stderr=, text=, ...)          -> Process (long-running, piped)
    stop_process(process, grace=)                                        wait, terminate, kill, reap

Failures are :class:`~wasmtool.errors.ExternalToolError` subclasses naming the tool, its
``argv[0]`` and, once it ran, its exit status and the last :data:`STDERR_TAIL_LINES` lines of
its stderr:

* :class:`~wasmtool.errors.ToolNotFoundError` (WT011): the program could not be started;
* :class:`~wasmtool.errors.ToolFailedError` (WT012): it exited non-zero (``check=True``);
* :class:`~wasmtool.errors.ToolTimeoutError` (WT013): it outlived ``timeout``; it was killed
  with its whole process group (it runs in a session of its own) and reaped.

Callers translate these into their domain's error where that says more (uv's exit is a
``UvFailedError``, componentize-py's a ``ComponentBuildError``), with ``raise ... from exc``.
A tool's stdin is ``/dev/null`` unless ``input`` is given; its output is text (UTF-8,
undecodable bytes replaced).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Literal, TypeAlias, overload

from wasmtool.errors import ToolFailedError, ToolNotFoundError, ToolTimeoutError

__all__ = [
    "DEVNULL",
    "PIPE",
    "STDERR_TAIL_LINES",
    "CompletedProcess",
    "Process",
    "ToolJob",
    "describe_status",
    "run_tool",
    "start_job",
    "start_tool",
    "stop_process",
    "tail",
    "wait_process",
]

#: How many lines of a failed tool's stderr its error shows.
STDERR_TAIL_LINES = 20

#: Seconds to wait for a killed tool's pipes to close (a grandchild that left the
#: process group may still hold them).
_DRAIN_AFTER_KILL = 10.0

Process = subprocess.Popen
CompletedProcess = subprocess.CompletedProcess
PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL

Argv: TypeAlias = Sequence[str | os.PathLike[str]]
Stream: TypeAlias = int | IO[Any] | None


def describe_status(returncode: int | None) -> str:
    """``exited with status 3`` / ``was killed by signal SIGKILL (9)`` / ``is still running``."""
    if returncode is None:
        return "is still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "signal"
        return f"was killed by signal {name} ({-returncode})"
    return f"exited with status {returncode}"


def tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    """The last ``lines`` non-blank lines of ``text``."""
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())


def _argv(argv: Argv) -> list[str]:
    return [os.fspath(a) for a in argv]


def _not_found(tool: str, argv: Sequence[str], exc: OSError) -> ToolNotFoundError:
    program = argv[0] if argv else ""
    return ToolNotFoundError(f"cannot run {tool} ({program}): {exc}", tool=tool, argv=argv, reason=str(exc))


# -- long-running processes ------------------------------------------------------------------


@overload
def start_tool(tool: str, argv: Argv, *, env: Mapping[str, str] | None = ..., cwd: str | Path | None = ...,
               stdin: Stream = ..., stdout: Stream = ..., stderr: Stream = ..., text: Literal[False] = ...,
               line_buffered: bool = ..., new_session: bool = ...) -> subprocess.Popen[bytes]: ...
@overload
def start_tool(tool: str, argv: Argv, *, env: Mapping[str, str] | None = ..., cwd: str | Path | None = ...,
               stdin: Stream = ..., stdout: Stream = ..., stderr: Stream = ..., text: Literal[True],
               line_buffered: bool = ..., new_session: bool = ...) -> subprocess.Popen[str]: ...


def start_tool(tool: str, argv: Argv, *, env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
               stdin: Stream = PIPE, stdout: Stream = PIPE, stderr: Stream = PIPE, text: bool = False,
               line_buffered: bool = False, new_session: bool = False) -> subprocess.Popen[Any]:
    """Start ``argv`` and return the process (the caller owns its pipes and must reap it,
    e.g. with :func:`stop_process`); a program that cannot be started is a
    :class:`~wasmtool.errors.ToolNotFoundError`. For servers kept alive across calls (the
    JSON-RPC worker, Node); one-shot tools use :func:`run_tool`.

    ``text``: the pipes are UTF-8 text (``line_buffered``: stdin flushed per line), else
    bytes; ``new_session``: the process leads a process group of its own.
    """
    args = _argv(argv)
    try:
        if text:
            return subprocess.Popen(args, env=None if env is None else dict(env), cwd=cwd, stdin=stdin,
                                    stdout=stdout, stderr=stderr, text=True, encoding="utf-8", errors="replace",
                                    bufsize=1 if line_buffered else -1, start_new_session=new_session)
        return subprocess.Popen(args, env=None if env is None else dict(env), cwd=cwd, stdin=stdin,
                                stdout=stdout, stderr=stderr, start_new_session=new_session)
    except OSError as exc:
        raise _not_found(tool, args, exc) from exc


def wait_process(process: subprocess.Popen[Any], timeout: float | None) -> int | None:
    """The exit status of ``process`` once it ends, or ``None`` if it still runs after ``timeout`` s."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def stop_process(process: subprocess.Popen[Any], *, grace: float) -> int:
    """Wait ``grace`` s for ``process`` to end, then terminate it, then kill it; always reaps it."""
    code = wait_process(process, grace)
    if code is None:
        process.terminate()
        code = wait_process(process, grace)
    if code is None:
        process.kill()
        code = process.wait()
    return code


def _kill_group(process: subprocess.Popen[Any]) -> None:
    """SIGKILL ``process`` and, when it leads a process group of its own, the group."""
    with contextlib.suppress(OSError):
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        process.kill()


# -- one-shot tools --------------------------------------------------------------------------


class ToolJob:
    """A one-shot tool started by :func:`start_job` and collected by :meth:`wait`, so the
    caller can do other work while it runs (``uv pip compile`` during the import scan)."""

    def __init__(self, tool: str, argv: Argv, *, env: Mapping[str, str] | None = None,
                 cwd: str | Path | None = None, input: str | None = None, capture: bool = True) -> None:
        self.tool = tool
        self.argv = tuple(_argv(argv))
        self._input = input
        self.process = start_tool(tool, self.argv, env=env, cwd=cwd, stdin=DEVNULL if input is None else PIPE,
                                  stdout=PIPE if capture else None, stderr=PIPE if capture else None, text=True,
                                  new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self, *, timeout: float | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """The finished process; :class:`~wasmtool.errors.ToolTimeoutError` (after killing its
        process group) or, with ``check``, :class:`~wasmtool.errors.ToolFailedError`."""
        try:
            stdout, stderr = self.process.communicate(self._input, timeout=timeout)
        except subprocess.TimeoutExpired:
            stdout, stderr = self._kill()
            err_tail = tail(stderr)
            raise ToolTimeoutError(
                f"{self.tool} did not finish within {timeout:g} s (killed)"
                + (f"\n  {self.tool} stderr:\n{_indent(err_tail)}" if err_tail else ""),
                tool=self.tool, argv=self.argv, timeout=timeout if timeout is not None else 0.0, pid=self.pid,
                stdout=stdout, stderr=stderr, stderr_tail=err_tail) from None
        except BaseException:   # KeyboardInterrupt included: never leave the tool running
            self._kill()
            raise
        result = subprocess.CompletedProcess(list(self.argv), self.process.returncode, stdout or "", stderr or "")
        if check and result.returncode != 0:
            err_tail = tail(result.stderr)
            raise ToolFailedError(
                f"{self.tool} {describe_status(result.returncode)}"
                + (f"\n  {self.tool} stderr:\n{_indent(err_tail)}" if err_tail else ""),
                tool=self.tool, argv=self.argv, returncode=result.returncode, stdout=result.stdout,
                stderr=result.stderr, stderr_tail=err_tail)
        return result

    def _kill(self) -> tuple[str, str]:
        """Kill the tool's process group, reap it, and return what it printed."""
        _kill_group(self.process)
        try:
            stdout, stderr = self.process.communicate(timeout=_DRAIN_AFTER_KILL)
        except subprocess.TimeoutExpired:   # a grandchild outside the group holds the pipes
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
            self.process.wait()
            return "", ""
        return stdout or "", stderr or ""


def start_job(tool: str, argv: Argv, *, env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
              input: str | None = None, capture: bool = True) -> ToolJob:
    """Start a one-shot tool now; :meth:`ToolJob.wait` collects it (see :func:`run_tool`)."""
    return ToolJob(tool, argv, env=env, cwd=cwd, input=input, capture=capture)


def run_tool(tool: str, argv: Argv, *, env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
             timeout: float | None = None, input: str | None = None, check: bool = True,
             capture: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` to completion (``tool`` names it in errors) and return its result.

    ``env`` replaces the environment (``None``: inherit), ``cwd`` the working folder;
    ``input`` is written to its stdin (else stdin is ``/dev/null``); ``capture=False`` lets
    its output through to ours (``stdout``/``stderr`` are then empty). Raises
    :class:`~wasmtool.errors.ToolNotFoundError`, :class:`~wasmtool.errors.ToolTimeoutError`
    and, when ``check``, :class:`~wasmtool.errors.ToolFailedError`.
    """
    return start_job(tool, argv, env=env, cwd=cwd, input=input, capture=capture).wait(timeout=timeout, check=check)
