"""Calling into a Pyodide bundle from CPython through a persistent Node process.

``PyodideNodeRuntime`` starts ``node runtime/pyodide/server.mjs --bundle DIR`` once (loading
Pyodide costs about 2.5 s) and then speaks line-delimited JSON over stdio: one request per
line, one response per line, in order. The bundle is verified by the loader before anything
runs (every wheel's sha256, in Node, where Pyodide does not check).

Values cross in the wire encoding of the native runtimes (docs/value-encoding.md,
:mod:`wasmtool_runtime.jsonrpc.values`): inside Pyodide, ``wasmtool_runtime.bridge`` (shipped
in the bundle's bindings wheel; the Node scripts provide wasmtool's own copy to a bundle
without one) encodes results and decodes arguments with one handle table per module, so an
object with no JSON form comes back as a :class:`~wasmtool_runtime.jsonrpc.values.Handle`
and goes in again as one; :meth:`PyodideNodeRuntime.release` drops handles
(``wasmtool.release``, as a native worker does).

Errors reported by the Node side carry the codes of ``wasmtool.bundle.errors`` and are
raised as those classes (arguments that do not fit, an unknown handle: the native
:class:`~wasmtool.run.errors.InvalidParamsError`, WT727); a call that outlives its timeout
kills the process (Pyodide cannot be interrupted) and the next call starts a fresh one, with
empty handle tables.
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

from wasmtool_runtime.bridge import INVALID_ARGUMENTS, PYTHON_RAISED
from wasmtool_runtime.jsonrpc import INVALID_PARAMS, RELEASE

from wasmtool.bundle.errors import (
    NodeNotFoundError,
    PyodideNotInstalledError,
    ResultEncodingError,
    RuntimeProtocolError,
    RuntimeTimeoutError,
    error_for_code,
)
from wasmtool.errors import RuntimeBridgeError, ToolNotFoundError
from wasmtool.run.codec import Handle, ValueDecodingError, ValueEncodingError, decode_value, encode_value
from wasmtool.run.errors import InvalidParamsError, error_from_response
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


def _raise_remote(error: Mapping[str, Any], method: str = "") -> NoReturn:
    if error.get("code") == INVALID_ARGUMENTS:     # the arguments do not fit: as natively
        message = str(error.get("message", ""))
        raise InvalidParamsError(method=method, rpc_code=INVALID_PARAMS, rpc_message=message)
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

    def _call(self, module: str, function: str, args: Sequence[Any], kwargs: Mapping[str, Any] | None,
              timeout: float | None) -> tuple[Any, Mapping[str, Any] | None]:
        """(value, None) or (None, the error object) of one call; arguments encoded, result decoded."""
        try:
            wire_args = encode_value(list(args))
            wire_kwargs = {str(k): encode_value(v) for k, v in (kwargs or {}).items()}
        except ValueEncodingError as exc:
            raise ResultEncodingError(f"{module}:{function}: the arguments cannot be encoded: {exc}") from exc
        response = self._request({"op": "call", "module": module, "function": function,
                                  "args": wire_args, "kwargs": wire_kwargs}, timeout)
        if response.get("ok"):
            try:
                return decode_value(response.get("value")), None
            except ValueDecodingError as exc:
                raise RuntimeProtocolError(f"{module}:{function}: the result is not in the value encoding: {exc}",
                                           file=str(self.bundle_dir)) from exc
        error = response.get("error")
        return None, error if isinstance(error, Mapping) else {"message": repr(response)}

    def call(self, target: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None,
             timeout: float | None = 60.0) -> Any:
        """Call ``module:function`` (or ``module.function``) with arguments in the value encoding.

        An object with no JSON form comes back as a :class:`Handle`; pass it as an argument of a
        later call in the same process. Raises :class:`~wasmtool.bundle.errors.PyodideCallError`
        when the function raises (``py_type`` names the Python exception), ``CallTargetError``
        when it does not exist, :class:`~wasmtool.run.errors.InvalidParamsError` when the
        arguments do not fit it (or name an unknown handle).
        """
        module, function = split_target(target)
        value, error = self._call(module, function, args, kwargs, timeout)
        if error is not None:
            _raise_remote(error, function)
        return value

    def call_method(self, module: str, method: str, args: Sequence[Any] = (),
                    kwargs: Mapping[str, Any] | None = None, *, timeout: float | None = 60.0) -> Any:
        """``method`` of wrapper ``module``, raising what the native runtimes raise: a Python
        exception is a :class:`~wasmtool.run.errors.RemotePythonError` (with its traceback;
        :class:`~wasmtool.run.errors.ReturnTypeMismatchError` for a strict return type)."""
        value, error = self._call(module, method, args, kwargs, timeout)
        if error is None:
            return value
        rpc_code = error.get("rpc_code")
        if error.get("code") == PYTHON_RAISED and isinstance(rpc_code, int):
            data = {key: error.get(key, "") for key in ("type", "message", "traceback")}
            raised: RuntimeBridgeError = error_from_response(method, rpc_code, str(error.get("message", "")), data)
            raise raised
        _raise_remote(error, method)

    def release(self, module: str, handles: Sequence[Handle | int], *, timeout: float | None = 60.0) -> int:
        """Forget ``handles`` of ``module`` (``wasmtool.release``, as a native worker does);
        how many of them were known."""
        return int(self.call_method(module, RELEASE, list(handles), timeout=timeout))

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
