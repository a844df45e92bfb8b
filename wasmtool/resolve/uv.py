"""The bridge to the real ``uv`` binary (the PyPI ``uv`` package, pinned in pyproject).

Modelled on pypa/build's uv backend: find the binary with ``uv.find_uv_bin()``, then
``$UV``, then PATH; always pass ``--python-version``/``--python-platform`` from the target
profile (the host is never the target), and, when nothing is built, name the interpreter uv
runs with (:func:`compile_interpreter`) so it does not search for one; build argv in a pure
function; run every call through one runner (:func:`run_uv`, over
:func:`wasmtool.tools.run_tool`) with a scrubbed environment (no ``PYTHONPATH``, no
interpreter downloads, no user/project uv config) and a timeout, translating the runner's
errors into ``UvNotFoundError`` / ``UvFailedError`` / ``UvTimeoutError``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from wasmtool.errors import ToolFailedError, ToolNotFoundError, ToolTimeoutError
from wasmtool.resolve.errors import UnsafeRequirementError, UvFailedError, UvNotFoundError, UvTimeoutError
from wasmtool.tools import CompletedProcess, ToolJob, start_job

DEFAULT_TIMEOUT = 300.0

#: Characters that end a line for uv or for Python's ``splitlines`` (C0 line breaks, NEL,
#: the Unicode line and paragraph separators) and NUL.
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00")


def requirement_lines(items: Sequence[object], *, what: str) -> str:
    """The text of a uv requirements-style file, one item a line. An item holding a line
    break, or starting with ``-`` (an option such as ``-r FILE`` or ``-e PATH``), is refused
    with :class:`UnsafeRequirementError` before any file is written or uv started."""
    lines: list[str] = []
    for item in items:
        line = str(item)
        if any(c in _LINE_BREAKS for c in line) or line.lstrip().startswith("-") or not line.strip():
            raise UnsafeRequirementError(
                f"refusing {what} line {line!r}: a line break or a leading '-' would pass an option to uv",
                hint="check the names, extras and markers in mochi.toml")
        lines.append(f"{line}\n")
    return "".join(lines)


def find_uv() -> str:
    try:
        import uv

        path = uv.find_uv_bin()
        if path and os.path.exists(path):
            return str(path)
    except (ImportError, FileNotFoundError):
        pass
    env = os.environ.get("UV")
    if env and os.path.exists(env):
        return env
    found = shutil.which("uv")
    if found:
        return found
    raise UvNotFoundError("the uv binary was not found", hint="install wasmtool with its dependencies (uv)")


@dataclass(frozen=True)
class CompileRequest:
    requirements: tuple[str, ...]
    python_version: str
    python_platform: str
    index_url: str
    extra_index_urls: tuple[str, ...] = ()
    only_binary: bool = True
    offline: bool = False
    cache_dir: str | None = None
    constraints: tuple[str, ...] = ()
    extra_args: tuple[str, ...] = field(default=())
    #: The interpreter uv is told to use (``--python``); ``None``: uv looks for one itself.
    #: It never sets the target (``python_version`` and ``python_platform`` do).
    interpreter: str | None = None
    #: Folders of wheels built here from sdists (wasmtool.build): candidates beside the index's.
    find_links: tuple[str, ...] = ()


def compile_argv(
    uv: str, req: CompileRequest, *, req_file: str, out_file: str, constraints_file: str | None
) -> list[str]:
    """The argv of ``uv pip compile`` for a request (pure)."""
    argv = [uv, "pip", "compile", req_file, "--quiet", "--no-header", "--no-config",
            "--python-version", req.python_version, "--python-platform", req.python_platform,
            "--default-index", req.index_url, "--format", "pylock.toml", "-o", out_file]
    if req.extra_index_urls:
        # uv ranks every --index above --default-index; list the primary first so that
        # extra indexes stay supplemental (used only for projects the primary lacks).
        for url in (req.index_url, *req.extra_index_urls):
            argv += ["--index", url]
    if req.only_binary:
        argv += ["--only-binary", ":all:"]
    for folder in req.find_links:
        argv += ["--find-links", folder]
    if req.interpreter:
        argv += ["--python", req.interpreter]
    if req.offline:
        argv.append("--offline")
    if req.cache_dir:
        argv += ["--cache-dir", req.cache_dir]
    if constraints_file:
        argv += ["--constraints", constraints_file]
    argv += list(req.extra_args)
    return argv


def compile_interpreter(req: CompileRequest) -> str | None:
    """The interpreter to name for a wheels-only resolution: the running one.

    ``uv pip compile`` always settles on an interpreter (it would build sdists with it), and
    without ``--python`` it searches virtual environments, managed installations and PATH
    for ``python_version``, running every candidate it meets; an inactive pyenv shim is a
    shell script that fails afresh on every run, and that search took longer than the
    resolution itself (1.1 s against 0.15 s for the 25-package bench corpus). With
    ``only_binary`` nothing is built, so any interpreter will do: naming ours skips the
    search and makes the result independent of the caller's PATH and virtual environment
    (the pins are the same whichever interpreter it is).
    """
    if req.interpreter is not None or not req.only_binary:
        return req.interpreter
    return sys.executable if sys.executable and os.path.exists(sys.executable) else None


def uv_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    for key in list(env):
        # the index comes from our configuration, never from stray uv settings
        if key.startswith("UV_") and key not in ("UV_CACHE_DIR", "UV_HTTP_TIMEOUT"):
            env.pop(key)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.setdefault("UV_HTTP_RETRIES", "2")
    env["NO_COLOR"] = "1"
    return env


def _start_uv(argv: list[str], *, cwd: str | Path | None = None) -> ToolJob:
    try:
        return start_job("uv", argv, env=uv_environment(), cwd=cwd)
    except ToolNotFoundError as exc:
        raise UvNotFoundError(f"cannot run uv: {exc.reason}") from exc


def _wait_uv(job: ToolJob, *, timeout: float, what: str) -> CompletedProcess[str]:
    try:
        return job.wait(timeout=timeout)
    except ToolTimeoutError as exc:
        raise UvTimeoutError(f"uv did not finish {what} within {timeout:.0f} s") from exc
    except ToolFailedError as exc:
        raise UvFailedError(f"uv failed while {what} (exit {exc.returncode})", stderr=exc.stderr,
                            argv=list(job.argv)) from exc


def run_uv(argv: list[str], *, timeout: float = DEFAULT_TIMEOUT, what: str,
           cwd: str | None = None) -> CompletedProcess[str]:
    """Run uv to completion (``what`` says what for, in errors); uv's own failures are typed."""
    return _wait_uv(_start_uv(argv, cwd=cwd), timeout=timeout, what=what)


class CompileJob:
    """A running ``uv pip compile``: started at once, waited for later, so the caller can
    do other work (imports, cache checks) while uv resolves."""

    def __init__(self, req: CompileRequest, *, preferences: str | None, timeout: float) -> None:
        requirements = requirement_lines(req.requirements, what="requirement")
        constraints = requirement_lines(req.constraints, what="constraint")
        self._tmp = tempfile.TemporaryDirectory(prefix="wasmtool-uv-")
        tmp = Path(self._tmp.name)
        req_file = tmp / "requirements.in"
        req_file.write_text(requirements, encoding="utf-8")
        self._out = tmp / "pylock.toml"
        if preferences:
            self._out.write_text(preferences, encoding="utf-8")
        constraints_file = None
        if req.constraints:
            cpath = tmp / "constraints.txt"
            cpath.write_text(constraints, encoding="utf-8")
            constraints_file = str(cpath)
        req = replace(req, interpreter=compile_interpreter(req))
        self.argv = compile_argv(find_uv(), req, req_file=str(req_file), out_file=str(self._out),
                                 constraints_file=constraints_file)
        self._what = f"resolving for {req.python_platform} / Python {req.python_version}"
        self._timeout = timeout
        try:
            self._job = _start_uv(self.argv, cwd=tmp)
        except UvNotFoundError:
            self._tmp.cleanup()
            raise

    def wait(self) -> dict[str, Any]:
        try:
            _wait_uv(self._job, timeout=self._timeout, what=self._what)
            return tomllib.loads(self._out.read_text(encoding="utf-8"))
        finally:
            self._tmp.cleanup()


def start_compile(req: CompileRequest, *, preferences: str | None = None,
                  timeout: float = DEFAULT_TIMEOUT) -> CompileJob:
    """Start ``uv pip compile`` for a request; ``preferences`` is an existing pylock text
    (ours): uv reads the output file it is asked to write as version preferences, so
    re-locking keeps pins that still fit."""
    return CompileJob(req, preferences=preferences, timeout=timeout)


def pip_compile(req: CompileRequest, *, preferences: str | None = None,
                timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Run ``uv pip compile`` and return the pylock document it wrote."""
    return start_compile(req, preferences=preferences, timeout=timeout).wait()


def create_venv(path: Path, *, python: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    run_uv([find_uv(), "venv", "--quiet", "--no-config", "--python", python, str(path)],
           timeout=timeout, what=f"creating the environment {path}")


def install_wheels(venv: Path, wheels: Sequence[Path], *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Install exactly these (already verified) wheel files, nothing resolved, nothing fetched."""
    python = venv / "bin" / "python"
    argv = [find_uv(), "pip", "install", "--quiet", "--no-config", "--python", str(python),
            "--no-deps", "--no-index", "--offline", "--reinstall", *map(str, wheels)]
    run_uv(argv, timeout=timeout, what=f"installing {len(wheels)} wheel(s) into {venv}")


def sync_wheels(venv: Path, wheels: Sequence[Path], *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Make the environment hold exactly these wheels (removes what the lock dropped)."""
    text = requirement_lines(wheels, what="wheel")
    with tempfile.TemporaryDirectory(prefix="wasmtool-uv-") as tmp:
        reqs = Path(tmp) / "requirements.txt"
        reqs.write_text(text, encoding="utf-8")
        python = venv / "bin" / "python"
        argv = [find_uv(), "pip", "sync", "--quiet", "--no-config", "--python", str(python),
                "--no-index", "--offline", str(reqs)]
        run_uv(argv, timeout=timeout, what=f"syncing {venv}")
