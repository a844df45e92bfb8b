"""Calling into a Pyodide bundle from CPython through a persistent Node process.

``PyodideNodeRuntime`` starts ``node runtime/pyodide/server.mjs --bundle DIR`` once (loading
Pyodide costs about 2.5 s) and then speaks line-delimited JSON over stdio: one request per
line, one response per line, in order. Values cross as JSON. The bundle is verified by the
loader before anything runs (every wheel's sha256, in Node, where Pyodide does not check).

Errors reported by the Node side carry the codes of ``wasmtool.bundle.errors`` and are
raised as those classes; a call that outlives its timeout kills the process (Pyodide cannot
be interrupted) and the next call starts a fresh one.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import shutil
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NoReturn

from wasmtool.bundle.errors import (
    NodeNotFoundError,
    PyodideNotInstalledError,
    ResultEncodingError,
    RuntimeProtocolError,
    RuntimeTimeoutError,
    error_for_code,
)
from wasmtool.errors import ToolNotFoundError
from wasmtool.tools import Process, start_tool, wait_process

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
SERVER_SCRIPT = REPO_ROOT / "runtime" / "pyodide" / "server.mjs"
CALL_SCRIPT = REPO_ROOT / "runtime" / "pyodide" / "call.mjs"
DEFAULT_START_TIMEOUT = 120.0


def node_modules_dir(root: Path | None = None) -> Path:
    """``<repo>/node_modules``; raises :class:`PyodideNotInstalledError` without ``pyodide`` in it."""
    folder = (root or REPO_ROOT) / "node_modules"
    if not (folder / "pyodide" / "pyodide.mjs").is_file():
        raise PyodideNotInstalledError(
            "the pyodide npm package is not installed", file=str(folder / "pyodide"),
            hint="run scripts/setup-node.sh (npm ci from the committed package-lock.json)")
    return folder


def pyodide_dir(root: Path | None = None) -> Path:
    """The installed Pyodide distribution (``node_modules/pyodide``)."""
    return node_modules_dir(root) / "pyodide"


def dist_lock_path(root: Path | None = None) -> Path:
    """The distribution's ``pyodide-lock.json`` (what ``build_bundle`` starts from)."""
    return pyodide_dir(root) / "pyodide-lock.json"


def find_node(node: str = "node") -> str:
    found = shutil.which(node)
    if found is None:
        raise NodeNotFoundError(f"{node!r} not found on PATH", hint="install Node.js 20 or newer")
    return found


@dataclass(frozen=True)
class SmokeFailure:
    """One top-level import of a bundled package that failed inside Pyodide."""

    package: str
    import_name: str
    error_type: str
    message: str

    def __str__(self) -> str:
        return f"{self.package}: import {self.import_name}: {self.error_type}: {self.message}"


def split_target(target: str) -> tuple[str, str]:
    """``"pkg.mod:func"`` or ``"pkg.mod:Class.method"`` -> module and attribute path;
    ``"pkg.mod.func"`` (no colon) splits at the last dot."""
    if ":" in target:
        module, _, attr = target.partition(":")
    else:
        module, _, attr = target.rpartition(".")
    if not module or not attr:
        raise ValueError(f"call target must be 'module:function' or 'module.function', got {target!r}")
    return module, attr


def _raise_remote(error: Mapping[str, Any]) -> NoReturn:
    raise error_for_code(
        str(error.get("code", "")), str(error.get("message", "")),
        py_type=error.get("py_type"), file=error.get("file"), package=error.get("package"),
        expected=error.get("expected"), actual=error.get("actual"))


class PyodideNodeRuntime:
    """A Pyodide bundle loaded in a persistent Node process.

    >>> with PyodideNodeRuntime(bundle) as rt:           # doctest: +SKIP
    ...     rt.call("wt_probe:int_via_pydantic", ["42"])
    42
    """

    def __init__(self, bundle_dir: Path, *, node: str = "node", repo_root: Path | None = None,
                 start_timeout: float = DEFAULT_START_TIMEOUT) -> None:
        self.bundle_dir = Path(bundle_dir).absolute()
        self._node = node
        self._root = repo_root
        self._start_timeout = start_timeout
        self._proc: Process[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=200)
        self._lock = threading.Lock()
        self._next_id = 0
        self.loaded: list[str] = []

    # -- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> PyodideNodeRuntime:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> list[str]:
        """Start Node and load the bundle (idempotent); returns the loaded package names."""
        with self._lock:
            self._ensure_started()
            return list(self.loaded)

    def _ensure_started(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        node = find_node(self._node)
        pyodide = pyodide_dir(self._root)
        argv = [node, str(SERVER_SCRIPT), "--bundle", str(self.bundle_dir),
                "--pyodide", str(pyodide) + os.sep]
        self._lines = queue.Queue()
        self._stderr.clear()
        try:
            proc = start_tool("node", argv, text=True, line_buffered=True,
                              cwd=self.bundle_dir if self.bundle_dir.is_dir() else None)
        except ToolNotFoundError as exc:
            raise NodeNotFoundError(f"cannot start {node}: {exc.reason}") from exc
        self._proc = proc
        if proc.stdout is None or proc.stderr is None:  # pragma: no cover - PIPE given above
            raise RuntimeProtocolError("no pipes to the Node process")
        threading.Thread(target=self._pump, args=(proc.stdout, self._lines), daemon=True).start()
        threading.Thread(target=self._drain, args=(proc.stderr,), daemon=True).start()
        ready = self._read(self._start_timeout, what="loading the bundle")
        if not ready.get("ready"):
            self._kill()
            error = ready.get("error")
            if isinstance(error, Mapping):
                _raise_remote(error)
            raise RuntimeProtocolError(f"unexpected first line from the runtime: {ready!r}")
        self.loaded = [str(n) for n in ready.get("loaded", [])]

    @staticmethod
    def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    def _drain(self, stream: IO[str]) -> None:
        for line in stream:
            self._stderr.append(line.rstrip("\n"))

    def _stderr_tail(self) -> str:
        tail = "\n".join(list(self._stderr)[-20:])
        return f"\nnode stderr:\n{tail}" if tail else ""

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        wait_process(proc, 10)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    def close(self) -> None:
        """Ask the process to stop, then make sure it has."""
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None and proc.stdin is not None:
                try:
                    proc.stdin.write(json.dumps({"id": None, "op": "shutdown"}) + "\n")
                    proc.stdin.flush()
                except OSError:
                    pass
                else:
                    wait_process(proc, 5)
            self._kill()

    # -- protocol --------------------------------------------------------------------

    def _read(self, timeout: float | None, *, what: str) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self._kill()
            raise RuntimeTimeoutError(f"no answer from the Pyodide runtime after {timeout} s ({what})",
                                      file=str(self.bundle_dir),
                                      hint="the Node process was stopped; the next call starts a new one"
                                      ) from None
        if line is None:
            proc = self._proc
            code = proc.wait() if proc is not None else None
            self._kill()
            raise RuntimeProtocolError(f"the Node process exited (status {code}) while {what}"
                                       + self._stderr_tail(), file=str(self.bundle_dir))
        try:
            data = json.loads(line)
        except ValueError as exc:
            self._kill()
            raise RuntimeProtocolError(f"not a JSON line from the runtime: {line[:200]!r}",
                                       file=str(self.bundle_dir)) from exc
        if not isinstance(data, dict):
            self._kill()
            raise RuntimeProtocolError(f"not a JSON object from the runtime: {line[:200]!r}")
        return data

    def _request(self, request: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        try:
            json.dumps(request)
        except (TypeError, ValueError) as exc:
            raise ResultEncodingError(f"arguments are not JSON-serialisable: {exc}") from exc
        with self._lock:
            self._ensure_started()
            proc = self._proc
            if proc is None or proc.stdin is None:  # pragma: no cover - started above
                raise RuntimeProtocolError("the Node process is not running")
            self._next_id += 1
            request = {"id": self._next_id, **request}
            try:
                proc.stdin.write(json.dumps(request) + "\n")
                proc.stdin.flush()
            except OSError as exc:
                self._kill()
                raise RuntimeProtocolError(f"cannot write to the Node process: {exc}"
                                           + self._stderr_tail()) from exc
            response = self._read(timeout, what=f"answering {request['op']}")
            if response.get("id") != request["id"]:
                self._kill()
                raise RuntimeProtocolError(f"answer for request {response.get('id')!r}, "
                                           f"expected {request['id']}")
            return response

    # -- API -------------------------------------------------------------------------

    def call(self, target: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None,
             timeout: float | None = 60.0) -> Any:
        """Call ``module:function`` (or ``module.function``) with JSON-able arguments.

        Raises :class:`~wasmtool.bundle.errors.PyodideCallError` when the function raises
        (``py_type`` names the Python exception), ``CallTargetError`` when it does not exist.
        """
        module, function = split_target(target)
        response = self._request({"op": "call", "module": module, "function": function,
                                  "args": list(args), "kwargs": dict(kwargs or {})}, timeout)
        if response.get("ok"):
            return response.get("value")
        error = response.get("error")
        _raise_remote(error if isinstance(error, Mapping) else {"message": repr(response)})

    def smoke(self, timeout: float | None = 300.0) -> list[SmokeFailure]:
        """Import every top-level import name of every bundled package; the failures."""
        response = self._request({"op": "smoke"}, timeout)
        failures = response.get("failures")
        if not isinstance(failures, list):
            error = response.get("error")
            _raise_remote(error if isinstance(error, Mapping) else {"message": repr(response)})
        return [SmokeFailure(package=str(f.get("package")), import_name=str(f.get("import")),
                             error_type=str(f.get("type")), message=str(f.get("message")))
                for f in failures if isinstance(f, Mapping)]


def smoke(bundle_dir: Path, *, node: str = "node", timeout: float | None = 300.0) -> list[SmokeFailure]:
    """Load ``bundle_dir`` in a fresh Pyodide and import everything it provides."""
    with PyodideNodeRuntime(bundle_dir, node=node) as runtime:
        return runtime.smoke(timeout=timeout)
