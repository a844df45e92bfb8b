"""``wasmtool call`` and ``wasmtool run``: call a bound project's wrapper functions.

Both open a :class:`~wasmtool.run.session.Session` on the project (``-C DIR``) and print
results as JSON in the formats.md §7 value encoding (an opaque object is
``{"$handle": n}``, NaN is ``{"$float": "nan"}``, ...); arguments are read in the same
encoding.

* ``wasmtool call ALIAS.FUNC --args JSON [--kwargs JSON]`` prints the result on stdout. A
  Python exception in the callee exits 1 with ``WT724 <extern>: <PythonType>: <message>``
  on stderr (``--traceback`` adds the Python traceback); usage errors (bad JSON, unknown
  function, bad option) exit 2.
* ``wasmtool run CALLS_FILE`` (``-`` = stdin) reads JSON lines
  ``{"call": "alias.func", "args": [...], "kwargs": {...}, "id": ...}`` (``args``,
  ``kwargs``, ``id`` optional; blank lines and ``#`` comments skipped), checks every line
  and name first (exit 2 naming the line), then runs the calls in order in ONE session
  (handles returned by a call can be passed to later ones) and prints one line per call:
  ``{"line": n, "call": ..., "ok": true, "result": ...}`` or ``{"line": n, "call": ...,
  "ok": false, "error": {"code", "type", "message"}}``. The output holds no pids or
  timings, so two runs (``--runtime inprocess`` / ``subprocess``) can be diffed for parity.
  Exit 0 once every call ran; ``--fail-on-error`` exits 1 if any call raised.

The commands take the ``Options`` object of :mod:`wasmtool.cli.main` through
``click.pass_obj`` (only ``.project`` is used), so this module does not import the CLI group.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

import click

if TYPE_CHECKING:
    from wasmtool.run.session import Session

__all__ = ["call_command", "run_command"]

_RUNTIMES = ("inprocess", "embedded", "subprocess")


class OptionsLike(Protocol):
    """What the commands need from ``wasmtool.cli.main.Options``."""

    project: Path


def _session_options(fn: Any) -> Any:
    """The options ``call`` and ``run`` share (target, runtime, interpreter, async, timeout)."""
    options = [
        click.option("--target", default=None,
                     help="Target profile (default: [python].target): native, wasi-p2 (wasmtime), pyodide-* (Node)."),
        click.option("--runtime", "runtime", type=click.Choice(_RUNTIMES), default=None,
                     help="Native targets: inprocess (= embedded) or subprocess (default: [python].runtime-mode)."),
        click.option("--python", "python", default=None,
                     help="Worker interpreter for --runtime subprocess (default: the project venv's)."),
        click.option("--async-mode", "async_mode", type=click.Choice(("per-call", "persistent")), default=None,
                     help="Event loop of async wrappers (default: [python].async-mode)."),
        click.option("--timeout", type=click.FloatRange(min=0.0, min_open=True), default=None,
                     help="Seconds an async wrapper call may take (its task is then cancelled)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _open(opts: OptionsLike, target: str | None, runtime: str | None, python: str | None,
          async_mode: str | None, timeout: float | None) -> Session:
    from wasmtool.project.manifest import load_manifest
    from wasmtool.run.session import open_session

    if target is None:
        target = load_manifest(opts.project / "mochi.toml").python.target
    session = open_session(opts.project, target=target, mode=runtime, python=python, async_mode=async_mode,
                           timeout=timeout)
    if session.shadowed_modules:
        click.echo(f"warning: embedded mode: {', '.join(session.shadowed_modules)} already imported by wasmtool; "
                   "the project venv's copies are shadowed (use --runtime subprocess)", err=True)
    return session


def _json_arg(text: str, *, param: str, want: type, what: str) -> Any:
    from wasmtool.run.session import from_wire

    try:
        value = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint=param) from None
    if not isinstance(value, want):
        raise click.BadParameter(f"expected a JSON {what}, got {type(value).__name__}", param_hint=param)
    try:
        return from_wire(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=param) from None


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


@click.command("call")
@click.argument("name", metavar="ALIAS.FUNC")
@click.option("--args", "args_json", default="[]", show_default=True, metavar="JSON",
              help="Positional arguments: a JSON array (formats.md §7 encoding).")
@click.option("--kwargs", "kwargs_json", default="{}", show_default=True, metavar="JSON",
              help="Keyword arguments by Python parameter name: a JSON object.")
@_session_options
@click.option("--traceback", "show_traceback", is_flag=True, help="On a Python exception, print its traceback.")
@click.pass_obj
def call_command(opts: OptionsLike, name: str, args_json: str, kwargs_json: str, target: str | None,
                 runtime: str | None, python: str | None, async_mode: str | None, timeout: float | None,
                 show_traceback: bool) -> None:
    """Call one bound wrapper function (ALIAS.FUNC or its extern name) and print the JSON result."""
    from wasmtool.run.errors import RemotePythonError
    from wasmtool.run.session import to_wire

    args = _json_arg(args_json, param="--args", want=list, what="array")
    kwargs = _json_arg(kwargs_json, param="--kwargs", want=dict, what="object")
    with _open(opts, target, runtime, python, async_mode, timeout) as session:
        session.resolve(name)  # an unknown name is a usage error before anything starts
        try:
            result = session.call(name, args, kwargs)
        except RemotePythonError as exc:
            if show_traceback and exc.traceback:
                click.echo(exc.traceback.rstrip(), err=True)
            raise
    click.echo(_dump(to_wire(result)))


def _read_calls(stream: IO[str], session: Session) -> list[tuple[int, dict[str, Any]]]:
    from wasmtool.run.session import from_wire

    calls: list[tuple[int, dict[str, Any]]] = []
    source = getattr(stream, "name", "CALLS_FILE")
    for number, line in enumerate(stream, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        where = f"{source}:{number}"
        try:
            entry = json.loads(text)
        except ValueError as exc:
            raise click.UsageError(f"{where}: not valid JSON: {exc}") from None
        if not isinstance(entry, dict) or not isinstance(entry.get("call"), str):
            raise click.UsageError(f'{where}: expected an object {{"call": "alias.func", "args": [...]}}')
        unknown = sorted(set(entry) - {"call", "args", "kwargs", "id"})
        if unknown:
            raise click.UsageError(f"{where}: unknown key(s) {', '.join(unknown)}")
        args, kwargs = entry.get("args", []), entry.get("kwargs", {})
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise click.UsageError(f"{where}: args must be a JSON array and kwargs a JSON object")
        try:
            session.resolve(entry["call"])
            decoded_args, decoded_kwargs = from_wire(args), from_wire(kwargs)
        except LookupError as exc:
            raise click.UsageError(f"{where}: {exc}") from None
        except ValueError as exc:
            raise click.UsageError(f"{where}: {exc}") from None
        calls.append((number, {**entry, "args": decoded_args, "kwargs": decoded_kwargs}))
    return calls


def _error_record(exc: Exception) -> dict[str, Any]:
    from wasmtool.errors import WasmtoolError
    from wasmtool.run.errors import RemotePythonError

    if isinstance(exc, RemotePythonError):
        return {"code": exc.code, "type": exc.python_type, "message": exc.python_message}
    if isinstance(exc, WasmtoolError):
        return {"code": exc.code, "type": type(exc).__name__, "message": exc.message}
    return {"code": None, "type": type(exc).__name__, "message": str(exc)}


@click.command("run")
@click.argument("calls_file", type=click.File("r", encoding="utf-8"), metavar="CALLS_FILE")
@_session_options
@click.option("--fail-on-error", is_flag=True, help="Exit 1 if any call raised.")
@click.pass_obj
def run_command(opts: OptionsLike, calls_file: IO[str], target: str | None, runtime: str | None,
                python: str | None, async_mode: str | None, timeout: float | None, fail_on_error: bool) -> None:
    """Run the calls of a JSON-lines file in one session; print one JSON result line per call."""
    from wasmtool.errors import WasmtoolError
    from wasmtool.run.session import CallsFailedError, to_wire

    failed = 0
    with _open(opts, target, runtime, python, async_mode, timeout) as session:
        calls = _read_calls(calls_file, session)
        for number, entry in calls:
            record: dict[str, Any] = {"line": number, "call": entry["call"]}
            if "id" in entry:
                record["id"] = entry["id"]
            try:
                result = session.call(entry["call"], entry["args"], entry["kwargs"])
                record.update(ok=True, result=to_wire(result))
            except (WasmtoolError, ValueError, TypeError) as exc:
                failed += 1
                record.update(ok=False, error=_error_record(exc))
            click.echo(_dump(record))
    if failed and fail_on_error:
        raise CallsFailedError(f"{failed} of {len(calls)} call(s) raised")
