"""``wasmtool call`` and ``wasmtool run``: call a bound project's wrapper functions.

Both open a :class:`~wasmtool.run.session.Session` on the project (``-C DIR``) and print
results as JSON in the formats.md §7 value encoding (an opaque object is
``{"$handle": n}``, NaN is ``{"$float": "nan"}``, ...); arguments are read in the same
encoding.

* ``wasmtool call ALIAS.FUNC --args JSON [--kwargs JSON]`` prints the result on stdout. A
  Python exception in the callee exits 1 with ``WT724 <extern>: <PythonType>: <message>``
  on stderr (``--traceback`` adds the Python traceback); usage errors (bad JSON ``WT002``,
  unknown function ``WT706`` -- with the ``SKIPPED.txt`` reason when it was skipped --, bad
  option) exit 2.
* ``wasmtool run CALLS_FILE`` (``-`` = stdin) reads JSON lines
  ``{"call": "alias.func", "args": [...], "kwargs": {...}, "id": ...}`` (``args``,
  ``kwargs``, ``id`` optional; blank lines and ``#`` comments skipped) and runs them in
  order in ONE session (handles returned by a call can be passed to later ones), printing
  one line per call: ``{"line": n, "call": ..., "ok": true, "result": ...}`` or
  ``{"line": n, "call": ..., "ok": false, "error": {"code", "type", "message", ...}}``.
  A line that is not a call (bad JSON ``WT710``, ``"call": null``) or names no bound
  function (``WT706``, plus ``"suggestions"`` and, for an item ``wasmtool bind`` skipped,
  ``"skipped": {"path", "reason", "detail", "hint"}`` from ``SKIPPED.txt``) fails that line
  only; the lines after it still run. Exit 0 when every line succeeded, else 1 (``WT707``
  on stderr); ``--fail-fast`` stops after the first failing line. The output holds no pids
  or timings, so two runs (``--runtime inprocess`` / ``subprocess``) can be diffed for
  parity. Exit 2 with the usage banner is only for bad options (click's message) or an
  unreadable calls file (``WT002``).

``--timeout S`` cancels an async wrapper after ``S`` seconds; with ``--runtime subprocess``
any call still running ``S + 1`` seconds (600 s without ``--timeout``) fails with ``WT711``
and its worker is killed (docs/runtime-modes.md); in-process a synchronous function cannot
be interrupted, which a warning on stderr says at the first such call. JSON values may nest
200 levels deep, a name may be 1000 characters long (docs/value-encoding.md); a calls-file
line that is not UTF-8 fails that line (``WT710``).

``call --target wasi-p2 --component REF ALIAS.FUNC`` calls a component pushed to an OCI
registry instead of the project's own (:mod:`wasmtool.ops.oci_call`; docs/remote-cache.md):
no lock or install is needed in the folder, whose lock only grants capabilities.

``--runtime`` is ``auto`` (the default ``[python].runtime-mode``: in-process when the
project venv's interpreter matches the one running wasmtool, else a worker),
``inprocess`` (= ``embedded``) or ``subprocess``; ``-v`` prints the runtime used and why on
stderr (``runtime: subprocess (project venv is CPython 3.13, wasmtool runs on 3.12)``).

The commands take the ``Options`` object of :mod:`wasmtool.cli.main` through
``click.pass_obj`` (only ``.project`` is used), so this module does not import the CLI group.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

import click

if TYPE_CHECKING:
    from wasmtool.errors import UsageError
    from wasmtool.run.session import Session

__all__ = ["call_command", "run_command"]

_RUNTIMES = ("auto", "inprocess", "embedded", "subprocess")
_LABELS = {"embedded": "inprocess"}    # what -v calls a session mode
_MAX_NAME = 1000                      # longer ALIAS.FUNC names are refused before the lookup


class OptionsLike(Protocol):
    """What the commands need from ``wasmtool.cli.main.Options``."""

    project: Path


def _session_options(fn: Any) -> Any:
    """The options ``call`` and ``run`` share (target, runtime, interpreter, async, timeout, verbose)."""
    options = [
        click.option("--target", default=None,
                     help="Target profile (default: [python].target): native, wasi-p2 (wasmtime), pyodide-* (Node)."),
        click.option("--runtime", "runtime", type=click.Choice(_RUNTIMES), default=None,
                     help="Native targets: auto (in-process if the project venv's Python matches this one, "
                          "else subprocess), inprocess (= embedded) or subprocess (default: [python].runtime-mode, "
                          "itself auto by default)."),
        click.option("--python", "python", default=None,
                     help="Worker interpreter for --runtime subprocess/auto (default: the project venv's)."),
        click.option("--async-mode", "async_mode", type=click.Choice(("per-call", "persistent")), default=None,
                     help="Event loop of async wrappers (default: [python].async-mode)."),
        click.option("--timeout", type=click.FloatRange(min=0.0, min_open=True), default=None,
                     help="Seconds a call may take: an async wrapper's task is then cancelled; with "
                          "--runtime subprocess any call's worker is killed a second later (default "
                          "600 s there). In-process, synchronous functions cannot be interrupted."),
        click.option("-v", "--verbose", "verbose", is_flag=True,
                     help="Print the runtime used, and why, on stderr."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _open(opts: OptionsLike, target: str | None, runtime: str | None, python: str | None,
          async_mode: str | None, timeout: float | None, verbose: bool = False) -> Session:
    from wasmtool.ops.session import open_session
    from wasmtool.project.manifest import load_manifest

    if target is None:
        target = load_manifest(opts.project / "mochi.toml").python.target
    session = open_session(opts.project, target=target, mode=runtime, python=python, async_mode=async_mode,
                           timeout=timeout)
    if verbose:
        click.echo(f"runtime: {_LABELS.get(session.mode, session.mode)} ({session.mode_reason})", err=True)
    if session.shadowed_modules:
        click.echo(f"warning: embedded mode: {', '.join(session.shadowed_modules)} already imported by wasmtool; "
                   "the project venv's copies are shadowed (use --runtime subprocess)", err=True)
    return session


def _warn_sync_timeout(session: Session, name: str, warned: set[str]) -> None:
    """In-process, ``--timeout`` cannot stop a synchronous function: say so on stderr, once,
    at the first synchronous call made with a timeout."""
    if session.mode != "embedded" or session.timeout is None or warned:
        return
    try:
        fn = session.resolve(name)
    except LookupError:
        return
    if not fn.is_async:
        warned.add(name)
        click.echo(f"warning: --timeout bounds only async functions in-process; {fn.name} is synchronous and "
                   "cannot be interrupted there (use --runtime subprocess, where the worker is killed when "
                   "the call passes --timeout)", err=True)


def _usage_error(message: str, *, field: str, file: str | None = None) -> UsageError:
    """A coded usage error (WT002, exit 2) about an argument of the running command, carrying
    the command's usage banner, which :func:`wasmtool.cli.main.main` prints as click would."""
    from wasmtool.errors import UsageError

    ctx = click.get_current_context(silent=True)
    usage = None
    if ctx is not None:   # the banner of click.UsageError.show
        usage = ctx.get_usage() + "\n"
        if ctx.command.get_help_option(ctx) is not None:
            usage += f"Try '{ctx.command_path} {max(ctx.command.get_help_option_names(ctx), key=len)}' for help.\n"
    return UsageError(message, field=field, file=file, usage=usage)


def _json_arg(text: str, *, param: str, want: type, what: str) -> Any:
    from wasmtool.errors import clip
    from wasmtool.run.codec import parse_json_value
    from wasmtool.run.session import from_wire

    try:
        value = parse_json_value(text)
    except json.JSONDecodeError as exc:
        raise _usage_error(f"not valid JSON: {exc}", field=param) from None
    except ValueError as exc:   # nested too deeply
        raise _usage_error(str(exc), field=param) from None
    if not isinstance(value, want):
        raise _usage_error(f"expected a JSON {what}, got {type(value).__name__}", field=param)
    try:
        return from_wire(value)
    except (ValueError, RecursionError) as exc:
        raise _usage_error(clip(str(exc)), field=param) from None


def _check_name(name: str) -> str | None:
    """Why ``name`` cannot name a bound function before it is looked up, or ``None``."""
    from wasmtool.errors import clip

    if len(name) > _MAX_NAME:
        return f"{clip(name, 80)!r} is {len(name)} characters long; no bound name is longer than {_MAX_NAME}"
    return None


def _open_calls_file(path: str) -> IO[bytes]:
    """The calls file (``-``: stdin), as bytes (each line is decoded on its own, so a line
    that is not UTF-8 fails only itself); an unreadable one is a usage error naming the file."""
    if Path(path).is_dir():
        raise _usage_error("cannot read the calls file: it is a directory", field="CALLS_FILE", file=path)
    try:
        return click.open_file(path, "rb")
    except OSError as exc:
        raise _usage_error(f"cannot read the calls file: {exc.strerror or exc}", field="CALLS_FILE",
                           file=path) from exc


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


@click.command("call")
@click.argument("name", metavar="ALIAS.FUNC")
@click.option("--args", "args_json", default="[]", show_default=True, metavar="JSON",
              help="Positional arguments: a JSON array (encoding: docs/value-encoding.md).")
@click.option("--kwargs", "kwargs_json", default="{}", show_default=True, metavar="JSON",
              help="Keyword arguments by Python parameter name: a JSON object.")
@_session_options
@click.option("--traceback", "show_traceback", is_flag=True, help="On a Python exception, print its traceback.")
@click.option("--component", "component", default=None, metavar="REF",
              help="WASI targets: call the component pushed to REF (oci://host/repo:tag), pulled into the cache "
                   "and checked against its digests; needs no lock or install here (docs/remote-cache.md).")
@click.pass_obj
def call_command(opts: OptionsLike, name: str, args_json: str, kwargs_json: str, target: str | None,
                 runtime: str | None, python: str | None, async_mode: str | None, timeout: float | None,
                 verbose: bool, show_traceback: bool, component: str | None = None) -> None:
    """Call one bound wrapper function (ALIAS.FUNC or its extern name) and print the JSON result."""
    from wasmtool.run.errors import RemotePythonError
    from wasmtool.run.session import to_wire

    problem = _check_name(name)
    if problem is not None:
        raise _usage_error(problem, field="ALIAS.FUNC")
    args = _json_arg(args_json, param="--args", want=list, what="array")
    kwargs = _json_arg(kwargs_json, param="--kwargs", want=dict, what="object")
    if component is not None:
        result = _call_pulled(opts, component, name, args, kwargs, target=target, runtime=runtime, python=python,
                              async_mode=async_mode, timeout=timeout, show_traceback=show_traceback)
        click.echo(_dump(to_wire(result)))
        return
    with _open(opts, target, runtime, python, async_mode, timeout, verbose) as session:
        session.resolve_call(name, args, kwargs)  # an unknown name is a usage error before anything starts
        _warn_sync_timeout(session, name, set())
        try:
            result = session.call(name, args, kwargs)
        except RemotePythonError as exc:
            if show_traceback and exc.traceback:
                click.echo(exc.traceback.rstrip(), err=True)
            raise
    click.echo(_dump(to_wire(result)))


def _call_pulled(opts: OptionsLike, ref: str, name: str, args: list[Any], kwargs: dict[str, Any], *,
                 target: str | None, runtime: str | None, python: str | None, async_mode: str | None,
                 timeout: float | None, show_traceback: bool) -> Any:
    """``call --component REF``: the pulled component's ALIAS.FUNC (wasmtool.ops.oci_call), from a
    folder that needs no manifest, lock or install (its lock, when there is one, grants)."""
    from wasmtool.cache.location import default_cache_dir
    from wasmtool.ops.oci_call import call_component
    from wasmtool.run.errors import RemotePythonError
    from wasmtool.targets.backend import backend_named
    from wasmtool.targets.wasi import WasiBackend

    if target is None:
        raise _usage_error("--component needs --target (a WASI target, e.g. --target wasi-p2)", field="--target")
    if not isinstance(backend_named(target), WasiBackend):
        raise _usage_error(f"--component runs WASI components; {target} is not a WASI target", field="--component")
    for flag, value in (("--runtime", runtime), ("--python", python), ("--async-mode", async_mode)):
        if value is not None:
            raise _usage_error(f"{flag} does not apply to --component (a component runs under wasmtime)", field=flag)
    cache_dir = getattr(opts, "cache_dir", None) or default_cache_dir()
    try:
        return call_component(opts.project, target, ref, name, args, kwargs, cache_root=Path(cache_dir),
                              timeout=timeout)
    except RemotePythonError as exc:
        if show_traceback and exc.traceback:
            click.echo(exc.traceback.rstrip(), err=True)
        raise


def _parse_line(text: str) -> dict[str, Any]:
    """One line of a calls file as ``{"call", "args", "kwargs"[, "id"]}`` (decoded), or CallLineError."""
    from wasmtool.errors import clip
    from wasmtool.run.codec import parse_json_value
    from wasmtool.run.session import CallLineError, from_wire

    try:
        entry = parse_json_value(text)
    except json.JSONDecodeError as exc:
        raise CallLineError(f"not valid JSON: {exc}") from None
    except ValueError as exc:   # nested too deeply
        raise CallLineError(str(exc)) from None
    if not isinstance(entry, dict) or not isinstance(entry.get("call"), str):
        raise CallLineError('expected an object {"call": "alias.func", "args": [...]}')
    unknown = sorted(set(entry) - {"call", "args", "kwargs", "id"})
    if unknown:
        raise CallLineError(clip(f"unknown key(s) {', '.join(unknown)}"))
    problem = _check_name(entry["call"])
    if problem is not None:
        raise CallLineError(problem)
    args, kwargs = entry.get("args", []), entry.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise CallLineError("args must be a JSON array and kwargs a JSON object")
    try:
        return {**entry, "args": from_wire(args), "kwargs": from_wire(kwargs)}
    except (ValueError, RecursionError) as exc:
        raise CallLineError(clip(str(exc))) from None


def _decode_line(raw: bytes) -> str:
    """One line of the calls file as text; bytes that are not UTF-8 are a CallLineError."""
    from wasmtool.run.session import CallLineError

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CallLineError(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at column {exc.start + 1}") from None
    if text.startswith("\ufeff"):
        raise CallLineError("starts with a UTF-8 byte-order mark (BOM); save the calls file as UTF-8 without a BOM")
    return text


def _error_record(exc: Exception) -> dict[str, Any]:
    from wasmtool.errors import WasmtoolError
    from wasmtool.run.errors import RemotePythonError
    from wasmtool.run.session import UnknownFunctionError

    if isinstance(exc, RemotePythonError):
        return {"code": exc.code, "type": exc.python_type, "message": exc.python_message}
    if isinstance(exc, UnknownFunctionError):
        record: dict[str, Any] = {"code": exc.code, "type": type(exc).__name__, "message": exc.message,
                                  "suggestions": list(exc.suggestions)}
        if exc.skipped is not None:
            record["skipped"] = exc.skipped.to_dict()
        return record
    if isinstance(exc, WasmtoolError):
        return {"code": exc.code, "type": type(exc).__name__, "message": exc.message}
    return {"code": None, "type": type(exc).__name__, "message": str(exc)}


def _run_line(session: Session, number: int, text: str, warned: set[str] | None = None) -> dict[str, Any]:
    """The result record of one line: its call's result, or why the line failed."""
    from wasmtool.errors import WasmtoolError
    from wasmtool.run.codec import parse_json_value
    from wasmtool.run.session import to_wire

    record: dict[str, Any] = {"line": number, "call": None}
    try:
        raw = parse_json_value(text)
    except ValueError:
        raw = None
    if isinstance(raw, dict):
        if isinstance(raw.get("call"), str):
            record["call"] = raw["call"]
        if "id" in raw:
            record["id"] = raw["id"]
    try:
        entry = _parse_line(text)
        if warned is not None:
            _warn_sync_timeout(session, entry["call"], warned)
        result = session.call(entry["call"], entry["args"], entry["kwargs"])
        record.update(ok=True, result=to_wire(result))
    except (WasmtoolError, ValueError, TypeError) as exc:
        record.update(ok=False, error=_error_record(exc))
    return record


@click.command("run")
@click.argument("calls_path", metavar="CALLS_FILE")
@_session_options
@click.option("--fail-fast", is_flag=True, help="Stop after the first failing line.")
@click.option("--fail-on-error", is_flag=True, hidden=True,
              help="Accepted for old scripts: any failing line makes the exit status 1 anyway.")
@click.pass_obj
def run_command(opts: OptionsLike, calls_path: str, target: str | None, runtime: str | None,
                python: str | None, async_mode: str | None, timeout: float | None, verbose: bool,
                fail_fast: bool, fail_on_error: bool) -> None:
    """Run the calls of a JSON-lines file in one session; print one JSON result line per call.

    A line that fails (the call raised, names no bound function, is not valid JSON) gets an
    error result and the next lines still run; the exit status is then 1."""
    from wasmtool.run.session import CallLineError, CallsFailedError

    failed: list[int] = []
    warned: set[str] = set()
    ran = 0
    calls_file = _open_calls_file(calls_path)
    with calls_file, _open(opts, target, runtime, python, async_mode, timeout, verbose) as session:
        for number, data in enumerate(calls_file, 1):
            try:
                text = _decode_line(data).strip()
            except CallLineError as exc:
                record = {"line": number, "call": None, "ok": False, "error": _error_record(exc)}
            else:
                if not text or text.startswith("#"):
                    continue
                record = _run_line(session, number, text, warned)
            ran += 1
            click.echo(_dump(record))
            if not record["ok"]:
                failed.append(number)
                if fail_fast:
                    break
    if failed:
        lines = ", ".join(map(str, failed))
        stopped = f"; stopped at line {failed[0]} (--fail-fast)" if fail_fast else ""
        raise CallsFailedError(f"{len(failed)} of {ran} line(s) failed (line(s) {lines}){stopped}",
                               file=getattr(calls_file, "name", None))
