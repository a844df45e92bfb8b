"""The wrapper runtime: boundary conversions and the async bridge for generated externs.

STDLIB ONLY. ``wasmtool bind`` copies this file into every Python workspace as the
top-level module ``_mochi_wrap`` (formats.md §6); every generated ``<pkg>_externs.py``
imports it. It runs wherever the wrapper runs: native CPython (in-process or in the
JSON-RPC worker), Pyodide, and componentize-py guests.

The calling convention (the Mochi side of a value, ``wasmtool.typemap.surface``)::

    int / float / bool / str   as is              bytes      list[int] (bytes accepted)
    list<T> / set<T>           list               map<K, V>  dict
                               (into Python: a tuple for a declared tuple[T, ...], a
                               frozenset for a declared frozenset[T], else list / set)
    option<T>                  None or T          tuple      {"t0": .., "t1": ..} (tuple/list accepted)
    record                     dict by Python field name (objects with attributes accepted;
                               a not-required field that is None is left out)
    enum                       the member's value (members accepted)
    handle                     the Python object itself (checked against its class)
    callable                   a callable; arguments and result converted both ways
    any                        passed through unchanged
    union                      the first member (in order) whose converter accepts the value;
                               none: "expected one of int | string, got list"

Wire forms: a scalar type whose ``py`` names a standard-library type (or a numpy scalar) crosses
as that scalar and is converted here (:data:`WIRE_FORMS`)::

    datetime:datetime / date / time   str    v.isoformat()      <-> X.fromisoformat(s)
    datetime:timedelta                float  v.total_seconds()  <-> timedelta(seconds=x)
    decimal:Decimal                   str    str(v)             <-> Decimal(s)
    uuid:UUID                         str    str(v)             <-> UUID(s)
    pathlib:Path                      str    os.fspath(v)       <-> pathlib.Path(s)
    re:Pattern                        str    v.pattern          <-> re.compile(s)
    builtins:type (a class object)    str    "module.QualName"  <-> the class at that path, checked
                                                                    to subclass the type's ``name``
    numpy:float64 / int64 / bool      float / int / bool  float(v) / int(v) / bool(v)
                                                        <-> numpy.float64(x) / int64(x) / bool(x)

A value of the Python type itself is accepted where the wire form is expected (an argument
given by Python code); a string that does not parse raises :class:`BoundaryTypeError` naming
the form ("expected an ISO 8601 datetime string, got 'tomorrow'").

Types are ``TypeRef.to_dict()`` dicts. :func:`arg` and :func:`ret` compile a type once
(at wrapper import) into a converter; a wrong value raises :class:`BoundaryTypeError`
naming the function, the parameter and the path inside the value.

Under the released Mochi's FFI (one ``python3`` per call, the ``MOCHI_ARGS`` environment
variable set, stdout and stderr read together as one JSON value) the wrapper must print
nothing but the result: :func:`load_module` and every exported function (:func:`export`)
then capture what the package writes or warns, at the Python and the file-descriptor level,
and a failing call reports one line (``wasmtool: <extern> failed: <Type>: <message>``)
before its traceback, with the captured output and warnings as notes.

Async functions get sync shims through :func:`run_async`: a fresh loop per call
(``asyncio.run``, the default) or one persistent loop in a background thread
(:func:`configure`), with an optional timeout (``asyncio.wait_for``: the task is
cancelled). Calling a shim from a thread whose event loop is running raises
:class:`AsyncReentryError` instead of deadlocking.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import decimal
import enum
import functools
import importlib
import io
import os
import pathlib
import re
import sys
import tempfile
import threading
import traceback
import uuid
import warnings
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping
from types import FrameType, TracebackType
from typing import Any

__all__ = [
    "CLASS_PATH",
    "WIRE_FORMS",
    "AsyncReentryError",
    "BoundaryTypeError",
    "WireForm",
    "WrapperTimeoutError",
    "arg",
    "class_path",
    "configure",
    "export",
    "ffi_mode",
    "find_class",
    "lazy_module",
    "load",
    "load_module",
    "ret",
    "run_async",
    "settings",
]

Conv = Callable[[Any, str], Any]
TypeDict = Mapping[str, Any]

_INT64 = (-(2**63), 2**63 - 1)


class BoundaryTypeError(TypeError):
    """A value does not fit the declared boundary type (argument in, or return out)."""

    def __init__(self, message: str, *, where: str, path: str) -> None:
        super().__init__(f"{where}: {path}: {message}" if path else f"{where}: {message}")
        self.where = where
        self.path = path


class AsyncReentryError(RuntimeError):
    """A sync shim of an async function was called while an event loop runs in this thread."""


class WrapperTimeoutError(TimeoutError):
    """An async call exceeded its timeout; the Python task was cancelled."""


# -- settings ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Settings:
    """Process-wide wrapper settings (``[python]`` ``int-mode``, ``async-mode``, timeout)."""

    int_mode: str = "bigint"            # "bigint" | "int64-only"
    async_mode: str = "per-call"        # "per-call" | "persistent"
    timeout: float | None = None        # seconds, for async calls
    strict_returns: bool = True


settings = Settings()


def configure(*, int_mode: str | None = None, async_mode: str | None = None,
              timeout: float | str | None = "keep", strict_returns: bool | None = None) -> None:
    """Change the settings (``timeout=None`` removes the timeout)."""
    if int_mode is not None:
        if int_mode not in ("bigint", "int64-only"):
            raise ValueError(f"int_mode must be 'bigint' or 'int64-only', not {int_mode!r}")
        settings.int_mode = int_mode
    if async_mode is not None:
        mode = "per-call" if async_mode == "percall" else async_mode
        if mode not in ("per-call", "persistent"):
            raise ValueError(f"async_mode must be 'per-call' or 'persistent', not {async_mode!r}")
        settings.async_mode = mode
    if timeout != "keep":
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
            raise ValueError(f"timeout must be a positive number of seconds or None, not {timeout!r}")
        settings.timeout = None if timeout is None else float(timeout)
    if strict_returns is not None:
        settings.strict_returns = strict_returns


# -- loading the wrapped package -----------------------------------------------------------------


# -- the released Mochi's FFI: nothing but the result on stdout/stderr ---------------------------

#: Set by Mochi 0.10 for every Python call (the JSON argument array); ``WASMTOOL_QUIET_CALLS=1``
#: asks for the same behaviour elsewhere.
FFI_ENV = "MOCHI_ARGS"


def ffi_mode() -> bool:
    """Whether this process runs one call for Mochi's stateless Python FFI."""
    return FFI_ENV in os.environ or os.environ.get("WASMTOOL_QUIET_CALLS") == "1"


#: What the package printed or warned while the wrapper was imported (kept for a failing call).
_import_noise: list[str] = []


@contextlib.contextmanager
def _captured(into: list[str]) -> Iterator[None]:
    """Run the body with stdout/stderr (Python objects and file descriptors 1 and 2) and
    warnings captured; append what was seen to ``into``."""
    text = io.StringIO()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved: list[tuple[int, int]] = []
    with tempfile.TemporaryFile() as raw:
        try:
            for fd in (1, 2):
                with contextlib.suppress(OSError):
                    saved.append((fd, os.dup(fd)))
                    os.dup2(raw.fileno(), fd)
            with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(text), \
                    contextlib.redirect_stderr(text):
                yield
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            for fd, copy in saved:
                os.dup2(copy, fd)
                os.close(copy)
            raw.seek(0)
            written = text.getvalue() + raw.read().decode("utf-8", "replace")
            into.extend(f"warning: {w.category.__name__}: {w.message} ({w.filename}:{w.lineno})"
                        for w in caught)
            if written.strip():
                into.append("output: " + written.strip())


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _ffi_excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """A failure under Mochi's FFI: one line naming the error first, then the traceback."""
    where = getattr(exc, "_wasmtool_extern", "")
    head = f"wasmtool: {where} failed: " if where else "wasmtool: "
    sys.stderr.write(head + _one_line(exc) + "\n")
    traceback.print_exception(kind, exc, tb, file=sys.stderr)
    sys.stderr.flush()


def _note(exc: BaseException, noise: Iterable[str]) -> None:
    for line in noise:
        exc.add_note(line)


if ffi_mode():
    sys.excepthook = _ffi_excepthook


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        noise: list[str] = []
        try:
            with _captured(noise):
                return fn(*args)
        except BaseException as exc:
            exc._wasmtool_extern = fn.__name__  # type: ignore[attr-defined]
            _note(exc, [*_import_noise, *noise])
            raise
    return call


def export(namespace: dict[str, Any]) -> None:
    """Called last by every generated wrapper: under Mochi's FFI, each function in
    ``__all__`` is replaced by one that captures the package's output and warnings (still a
    plain function, as the FFI requires); elsewhere nothing changes."""
    if not ffi_mode():
        return
    for name in namespace.get("__all__", ()):
        fn = namespace.get(name)
        if callable(fn):
            namespace[name] = _guarded(fn)


#: Top-level packages of the modules the wrappers load (:func:`load_module`,
#: :func:`lazy_module`): the wrapped distributions' import names, where a class path given by a
#: caller may import a module not imported yet (:func:`find_class`).
_IMPORT_ROOTS: set[str] = set()


def load_module(name: str) -> Any:
    """Import ``name`` (typed ``Any``: the wrapper never depends on the package's stubs).
    Under Mochi's FFI, what the import prints or warns is captured, not written."""
    _IMPORT_ROOTS.add(name.partition(".")[0])
    if not ffi_mode():
        return importlib.import_module(name)
    noise: list[str] = []
    try:
        with _captured(noise):
            return importlib.import_module(name)
    except BaseException as exc:
        _note(exc, noise)
        raise
    finally:
        _import_noise.extend(noise)


class _LazyModule:
    """A module imported on first attribute access (see :func:`lazy_module`)."""

    def __init__(self, name: str) -> None:
        self.__name = name
        self.__module: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self.__module is None:
            self.__module = importlib.import_module(self.__name)
        return getattr(self.__module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self.__name!r}>"


def lazy_module(name: str) -> Any:
    """A module the wrapper only needs for some externs (a class's defining module): it is
    imported when first used, so an optional dependency it needs (pandas' Styler needs
    jinja2) only fails the calls that reach it, not the import of the whole wrapper."""
    _IMPORT_ROOTS.add(name.partition(".")[0])
    return _LazyModule(name)


def load(spec: str) -> Any:
    """``module:Qual.name`` -> the object (attribute path followed from the module)."""
    module, _, qual = spec.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qual.split(".") if qual else ():
        obj = getattr(obj, part)
    return obj


# -- converters ------------------------------------------------------------------------------------


def _type_name(value: object) -> str:
    return type(value).__name__


def _join(path: str, part: str) -> str:
    return f"{path}{part}" if part.startswith("[") else (f"{path}.{part}" if path else part)


#: A global every generated wrapper module defines (its record table): marks its frames.
_WRAPPER_MARK = "_WT_RECORDS"


def _calling_extern() -> str:
    """The generated function a shared converter is failing for: the innermost frame on the
    stack whose module is a generated wrapper (a converter is called from the extern's body;
    a callback's converter runs under the package, under the extern). Only failures pay."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        if _WRAPPER_MARK in frame.f_globals:
            return frame.f_code.co_name
        frame = frame.f_back
    return "<no extern on the stack>"


class _Compiler:
    """Compiles a type dict into a converter, for one direction (``into`` Python or ``out``).
    ``where`` names the extern in failures; ``None`` (a converter the wrapper shares between
    externs) takes it from the call stack when a value fails."""

    def __init__(self, into: bool, where: str | None, records: Mapping[str, TypeDict]) -> None:
        self.into = into
        self.where = where
        self.records = records

    def fail(self, message: str, path: str) -> BoundaryTypeError:
        return BoundaryTypeError(message, where=self.where or _calling_extern(), path=path)

    def compile(self, t: TypeDict) -> Conv:
        kind = t["kind"]
        if kind == "any":
            return _identity
        if kind == "str" and t.get("py") == CLASS_PATH:
            return self._class_path(t)
        if t.get("py") and kind in ("int", "float", "bool", "str"):
            return self._wire(kind, t["py"])
        if kind == "union":
            return self._union(t)
        if kind == "int":
            return self._int()
        if kind == "float":
            return self._float()
        if kind == "bool":
            return self._exact(bool, "bool")
        if kind == "str":
            return self._exact(str, "str")
        if kind == "bytes":
            return self._bytes(t)
        if kind == "option":
            inner = self.compile(t["args"][0])
            return lambda v, p: None if v is None else inner(v, p)
        if kind in ("list", "set"):
            return self._list(t, kind)
        if kind == "map":
            return self._map(t)
        if kind == "tuple":
            return self._tuple(t)
        if kind == "record":
            return self._record(t)
        if kind == "enum":
            return self._enum(t)
        if kind == "handle":
            return self._handle(t)
        if kind == "callable":
            return self._callable(t)
        raise ValueError(f"unknown boundary type kind {kind!r}")

    def _int(self) -> Conv:
        fail = self.fail

        def conv(v: Any, p: str) -> Any:
            if v.__class__ is not int:
                if isinstance(v, bool) or not isinstance(v, int):
                    raise fail(f"expected int, got {_type_name(v)}", p)
                v = int(v)
            if settings.int_mode == "int64-only" and not _INT64[0] <= v <= _INT64[1]:
                raise fail(f"{v} does not fit in int64 (int-mode = \"int64-only\")", p)
            return v
        return conv

    def _float(self) -> Conv:
        fail = self.fail

        def conv(v: Any, p: str) -> Any:
            if v.__class__ is float:
                return v
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise fail(f"expected float, got {_type_name(v)}", p)
            return float(v)
        return conv

    def _exact(self, cls: type, name: str) -> Conv:
        fail = self.fail

        def conv(v: Any, p: str) -> Any:
            if v.__class__ is cls:
                return v
            if cls is bool or not isinstance(v, cls):
                raise fail(f"expected {name}, got {_type_name(v)}", p)
            return cls(v)
        return conv

    def _wire(self, kind: str, py: str) -> Conv:
        form = WIRE_FORMS.get(py)
        if form is None or form.kind != kind:
            raise ValueError(f"{kind} type with py {py!r} is not a known wire form")
        fail = self.fail
        if self.into:
            def into(v: Any, p: str) -> Any:
                if form.is_value(v):
                    return v
                if (isinstance(v, bool) and form.kind != "bool") or not isinstance(v, form.wire):
                    raise fail(f"expected {form.expected}, got {_type_name(v)}", p)
                try:
                    return form.parse(v)
                except (ValueError, ArithmeticError, re.error) as exc:
                    why = f" ({exc})" if form.reason else ""
                    raise fail(f"expected {form.expected}, got {_clip(v)}{why}", p) from None
            return into

        returns = form.returns or form.is_value

        def out(v: Any, p: str) -> Any:
            if not returns(v):
                raise fail(f"expected {form.python}, got {_type_name(v)}", p)
            try:
                return form.dump(v)
            except (TypeError, ValueError) as exc:
                raise fail(f"{form.python} has no {kind} form: {exc}", p) from None
        return out

    def _union(self, t: TypeDict) -> Conv:
        members = [self.compile(a) for a in t["args"]]
        expected = " | ".join(_mochi_spelling(a) for a in t["args"])
        fail = self.fail

        def conv(v: Any, p: str) -> Any:
            for member in members:
                try:
                    return member(v, p)
                except BoundaryTypeError:
                    continue
            raise fail(f"expected one of {expected}, got {_type_name(v)}", p)
        return conv

    def _bytes(self, t: TypeDict) -> Conv:
        fail, into = self.fail, self.into
        # into Python: a declared memoryview gets memoryview(data); bytes, a buffer, else
        make: Callable[[bytes], Any] = memoryview if into and t.get("py") == "builtins:memoryview" else bytes

        def conv(v: Any, p: str) -> Any:
            if isinstance(v, (bytes, bytearray, memoryview)):
                return make(bytes(v)) if into else list(bytes(v))
            if isinstance(v, (list, tuple)):
                try:
                    data = bytes(v)
                except (TypeError, ValueError) as exc:
                    raise fail(f"expected a list of byte values 0..255 ({exc})", p) from None
                return make(data) if into else list(data)
            raise fail(f"expected bytes (a list of ints), got {_type_name(v)}", p)
        return conv

    def _class_path(self, t: TypeDict) -> Conv:
        """A class object as its dotted path: in, the class found at the path (:func:`find_class`)
        and checked to subclass one of the type's bounds; out, ``module.QualName``."""
        bounds = [b for b in str(t.get("name") or "").split("|") if b]
        box: list[tuple[type, ...]] = []
        wanted = " or ".join(_dotted(b) for b in bounds)
        expected = f"the dotted path of a subclass of {wanted}" if bounds else "the dotted path of a class"
        fail, into = self.fail, self.into

        def classes() -> tuple[type, ...]:
            if not box:
                # a bound the runtime cannot find (a stub-only class) checks nothing, as a handle's
                found = [find_class(b, roots={_dotted(b).partition(".")[0]}) for b in bounds]
                box.append(() if None in found else tuple(c for c in found if c is not None))
            return box[0]

        def check(cls: type, shown: object, p: str) -> type:
            want = classes()
            try:
                ok = not want or issubclass(cls, want)
            except TypeError:   # a Protocol that is not runtime-checkable: nothing to check
                ok = True
            if not ok:
                raise fail(f"expected {expected}, got {_clip(shown)} (not a subclass)", p)
            return cls

        def conv(v: Any, p: str) -> Any:
            if into:
                if isinstance(v, type):
                    return check(v, class_path(v), p)
                if not isinstance(v, str):
                    raise fail(f"expected {expected}, got {_type_name(v)}", p)
                cls = find_class(v, roots=_IMPORT_ROOTS)
                if cls is None:
                    raise fail(f"expected {expected}, got {_clip(v)} (no class at that path)", p)
                return check(cls, v, p)
            if not isinstance(v, type):
                raise fail(f"expected a class, got {_type_name(v)}", p)
            return class_path(check(v, class_path(v), p))
        return conv

    def _list(self, t: TypeDict, kind: str) -> Conv:
        item = self.compile(t["args"][0])
        fail, into = self.fail, self.into
        # into Python: the container the callee declared (tuple[T, ...], frozenset[T])
        make: Callable[[list[Any]], Any] | None = None
        if into:
            make = {"builtins:tuple": tuple, "builtins:frozenset": frozenset}.get(
                t.get("py", ""), set if kind == "set" else None)

        def conv(v: Any, p: str) -> Any:
            if isinstance(v, (str, bytes, Mapping)) or not isinstance(v, Iterable):
                raise fail(f"expected a {kind}, got {_type_name(v)}", p)
            out = [item(x, f"{p}[{i}]") for i, x in enumerate(v)]
            if make is not None:
                return make(out)
            if kind == "set" and not into:
                with contextlib.suppress(TypeError):
                    out.sort()
            return out
        return conv

    def _map(self, t: TypeDict) -> Conv:
        key = self.compile(t["args"][0])
        val = self.compile(t["args"][1])
        fail = self.fail

        def conv(v: Any, p: str) -> Any:
            if not isinstance(v, Mapping):
                raise fail(f"expected a map, got {_type_name(v)}", p)
            return {key(k, f"{p}{{key}}"): val(x, f"{p}[{k!r}]") for k, x in v.items()}
        return conv

    def _tuple(self, t: TypeDict) -> Conv:
        items = [self.compile(a) for a in t.get("args", [])]
        n = len(items)
        fail, into = self.fail, self.into
        keys = [f"t{i}" for i in range(n)]

        def conv(v: Any, p: str) -> Any:
            if isinstance(v, Mapping):
                if sorted(v) != sorted(keys):
                    raise fail(f"expected fields {', '.join(keys)}, got {', '.join(map(str, v)) or 'none'}", p)
                seq = [v[k] for k in keys]
            elif isinstance(v, (tuple, list)):
                seq = list(v)
                if len(seq) != n:
                    raise fail(f"expected {n} items, got {len(seq)}", p)
            else:
                raise fail(f"expected a {n}-tuple, got {_type_name(v)}", p)
            conv_items = [c(x, f"{p}.{k}") for c, x, k in zip(items, seq, keys, strict=True)]
            if into:
                return tuple(conv_items)
            return dict(zip(keys, conv_items, strict=True))
        return conv

    def _record(self, t: TypeDict) -> Conv:
        name = t.get("name", "")
        decl = self.records.get(name)
        if decl is None:
            raise ValueError(f"record {name!r} has no declaration in the wrapper's record table")
        origin = decl["origin"]
        py = decl.get("py", "")
        fields = [(f["name"], bool(f.get("required", True)), f["type"]) for f in decl["fields"]]
        optional = {f for f, req, _ in fields if not req}
        # a field whose Python name is a Mochi keyword is spelled `type_` in the shim: a map from
        # Mochi may use either spelling (results keep the Python name)
        renames = {f["mochi_name"]: f["name"] for f in decl["fields"] if f.get("mochi_name", f["name"]) != f["name"]}
        # fields are compiled on first use: records may refer to themselves
        compiled: list[tuple[str, bool, Conv]] = []
        cls_box: list[Any] = []
        fail, into, compiler = self.fail, self.into, self

        def table() -> list[tuple[str, bool, Conv]]:
            if not compiled:
                for fname, req, ftype in fields:
                    c = compiler.compile(ftype)
                    compiled.append((fname, req, c if req else _optional(c)))
            return compiled

        def cls() -> Any:
            if not cls_box:
                cls_box.append(load(py) if py and origin != "typeddict" else dict)
            return cls_box[0]

        def conv(v: Any, p: str) -> Any:
            tab = table()
            if into:
                if not isinstance(v, Mapping):
                    if py and origin != "typeddict" and isinstance(v, cls()):
                        return v
                    raise fail(f"expected a {name} record (a map of its fields), got {_type_name(v)}", p)
                if renames:
                    v = {renames.get(k, k) if renames.get(k, k) not in v else k: x for k, x in v.items()}
                unknown = sorted(str(k) for k in v if k not in {f for f, _, _ in tab})
                if unknown:
                    raise fail(f"unknown field(s) of {name}: {', '.join(unknown)}", p)
                if origin == "pydantic":
                    # pydantic validates (and coerces) the fields itself: its ValidationError
                    # names every problem; a not-required field left as None takes its default
                    data = {k: x for k, x in v.items() if not (x is None and k in optional)}
                    return cls().model_validate(data)
                kwargs: dict[str, Any] = {}
                for fname, req, c in tab:
                    if fname not in v or (v[fname] is None and not req):
                        if req:
                            raise fail(f"missing field {fname!r} of {name}", p)
                        continue
                    kwargs[fname] = c(v[fname], _join(p, fname))
                return kwargs if origin == "typeddict" else cls()(**kwargs)
            out: dict[str, Any] = {}
            getter = _field_getter(v)
            for fname, req, c in tab:
                try:
                    raw = getter(fname)
                except (KeyError, AttributeError):
                    if req:
                        raise fail(f"{name} value has no field {fname!r}", p) from None
                    continue
                if raw is None and not req:
                    continue
                out[fname] = c(raw, _join(p, fname))
            return out
        return conv

    def _enum(self, t: TypeDict) -> Conv:
        py = t.get("py", "")
        value_kind = t.get("value_kind", "")
        scalar: type = str if value_kind == "string" else int
        box: list[Any] = []
        fail, into = self.fail, self.into

        def enum_cls() -> Any:
            if not box:
                box.append(load(py) if py else None)
            return box[0]

        def conv(v: Any, p: str) -> Any:
            cls = enum_cls()
            if isinstance(v, enum.Enum):
                if cls is not None and not isinstance(v, cls):
                    raise fail(f"expected a {cls.__name__} member, got {v!r}", p)
                return v if into else v.value
            if isinstance(v, bool) or not isinstance(v, scalar):
                raise fail(f"expected a {value_kind} enum value, got {_type_name(v)}", p)
            if cls is None:
                return v
            try:
                member = cls(v)
            except ValueError:
                allowed = ", ".join(repr(m.value) for m in cls)
                raise fail(f"{v!r} is not a value of {cls.__name__} ({allowed})", p) from None
            return member if into else member.value
        return conv

    def _handle(self, t: TypeDict) -> Conv:
        py = t.get("py", "")
        name = t.get("name", "") or py
        box: list[Any] = []
        fail = self.fail

        def conv(v: Any, p: str) -> Any:
            if not box:
                try:
                    box.append(load(py) if py else object)
                except (ImportError, AttributeError):
                    box.append(object)  # the class is not importable at runtime: no check possible
            cls = box[0]
            if isinstance(cls, type):
                try:
                    ok = isinstance(v, cls)
                except TypeError:  # a Protocol that is not runtime-checkable: nothing to check
                    box[0] = object
                    ok = True
                if not ok:
                    raise fail(f"expected a {name} handle, got {_type_name(v)}", p)
            return v
        return conv

    def _callable(self, t: TypeDict) -> Conv:
        result_t, *param_ts = t["args"]
        unit = result_t.get("kind") == "tuple" and not result_t.get("args")
        into, fail, records = self.into, self.fail, self.records
        # a callable crossing in is called BY Python: its arguments go out, its result comes in
        arg_conv = [_Compiler(not into, self.where, records).compile(a) for a in param_ts]
        res_conv = None if unit else _Compiler(into, self.where, records).compile(result_t)

        def conv(v: Any, p: str) -> Any:
            if not callable(v):
                raise fail(f"expected a function, got {_type_name(v)}", p)
            fn = v

            def bridged(*args: Any) -> Any:
                if len(args) != len(arg_conv):
                    raise TypeError(f"callback {p} takes {len(arg_conv)} arguments, got {len(args)}")
                out = fn(*[c(a, f"{p}(arg {i})") for i, (c, a) in enumerate(zip(arg_conv, args, strict=True))])
                return None if res_conv is None else res_conv(out, f"{p}(result)")
            return bridged
        return conv


def _identity(v: Any, p: str) -> Any:
    return v


def _clip(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 4] + "...'"


_MOCHI_SCALARS = {"int": "int", "float": "float", "bool": "bool", "str": "string", "any": "any",
                  "union": "any", "bytes": "list<int>"}


def _mochi_spelling(t: TypeDict) -> str:
    """How Mochi spells a type (for messages); the same as wasmtool.typemap.surface.mochi_spelling."""
    kind = t["kind"]
    args = t.get("args", [])
    if kind in _MOCHI_SCALARS:
        return _MOCHI_SCALARS[kind]
    if kind in ("list", "set") and args:
        return f"{kind}<{_mochi_spelling(args[0])}>"
    if kind == "map" and len(args) == 2:
        return f"map<{_mochi_spelling(args[0])}, {_mochi_spelling(args[1])}>"
    if kind == "option" and args:
        return _mochi_spelling(args[0]).rstrip("?") + "?"
    if kind == "callable" and args:
        result, *params = args
        text = "fun(" + ", ".join(_mochi_spelling(a) for a in params) + ")"
        unit = result.get("kind") == "tuple" and not result.get("args") and not result.get("name")
        return text if unit else f"{text}: {_mochi_spelling(result)}"
    return str(t.get("name") or kind)


# -- class paths -----------------------------------------------------------------------------------

#: ``py`` of a class object (``type[X]``), crossing as its dotted path.
CLASS_PATH = "builtins:type"
_MISSING = object()


def class_path(cls: type) -> str:
    """The dotted path a class crosses as: ``module.QualName``."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _dotted(spec: str) -> str:
    return spec.replace(":", ".")


def find_class(path: str, *, roots: Iterable[str] = ()) -> type | None:
    """The class at ``path`` (``module.QualName`` or ``module:QualName``), or None.

    The module is the longest prefix of the path that names one. A module that is not imported
    yet is imported only when its top-level package is in ``roots`` (for a caller's path: the
    wrapped distributions' import names): importing runs a module's code, and a path comes
    from the caller (a calls file, a web page), so it may name only modules the bound package
    is made of (``sqlalchemy.dialects.postgresql`` is imported on demand) or ones something
    already imported. Dunder names after the module (``__class__``) are refused.
    """
    module, sep, qual = path.partition(":")
    names = (module + "." + qual if sep else path).split(".")
    if len(names) < 2 or not all(n.isidentifier() for n in names):
        return None
    cut = len(module.split(".")) if sep else None
    allowed = set(roots)
    for i in ([cut] if cut is not None else range(len(names) - 1, 0, -1)):
        mod_name, attrs = ".".join(names[:i]), names[i:]
        if any(a.startswith("__") for a in attrs):
            continue
        mod = sys.modules.get(mod_name)
        if mod is None and names[0] in allowed:
            try:
                mod = importlib.import_module(mod_name)
            except ImportError:
                mod = None
        if mod is None:
            continue
        obj: Any = mod
        for a in attrs:
            obj = getattr(obj, a, _MISSING)
            if obj is _MISSING:
                break
        if isinstance(obj, type):
            return obj
    return None


def _parse_class(path: str) -> type:
    cls = find_class(path, roots=_IMPORT_ROOTS)
    if cls is None:
        raise ValueError(f"no class at {path!r}")
    return cls


# -- wire forms ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WireForm:
    """How one standard-library type crosses as a scalar (``kind``): ``dump`` (Python ->
    wire) and ``parse`` (wire -> Python); ``expected`` names the wire form in messages,
    ``python`` the Python value; ``reason``: add the parser's own message; ``returns``: what
    a result may be (default ``is_value``)."""

    kind: str
    wire: type | tuple[type, ...]
    is_value: Callable[[Any], bool]
    dump: Callable[[Any], Any]
    parse: Callable[[Any], Any]
    expected: str
    python: str
    reason: bool = False
    returns: Callable[[Any], bool] | None = None


def _fspath_str(v: Any) -> str:
    path = os.fspath(v)
    if not isinstance(path, str):
        raise TypeError(f"a bytes path ({path!r})")
    return path


def _str_pattern(v: Any) -> bool:
    return isinstance(v, re.Pattern) and isinstance(v.pattern, str)


def _numpy_scalar(abstract: str) -> Callable[[Any], bool]:
    """Whether a value is an instance of numpy's ``abstract`` scalar class; numpy is only
    looked at when already imported (the wrapped package named it, so it imported it)."""
    def check(v: Any) -> bool:
        np = sys.modules.get("numpy")
        return np is not None and isinstance(v, getattr(np, abstract))
    return check


def _to_numpy(name: str) -> Callable[[Any], Any]:
    def make(x: Any) -> Any:
        return getattr(importlib.import_module("numpy"), name)(x)
    return make


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


#: ``py`` (``module:QualName``) -> its wire form; wasmtool.typemap.surface.WIRE_FORMS names the same.
WIRE_FORMS: dict[str, WireForm] = {
    "datetime:datetime": WireForm("str", str, lambda v: isinstance(v, datetime.datetime), lambda v: v.isoformat(),
                                  datetime.datetime.fromisoformat, "an ISO 8601 datetime string", "a datetime"),
    "datetime:date": WireForm("str", str, lambda v: isinstance(v, datetime.date), lambda v: v.isoformat(),
                              datetime.date.fromisoformat, "an ISO 8601 date string", "a date"),
    "datetime:time": WireForm("str", str, lambda v: isinstance(v, datetime.time), lambda v: v.isoformat(),
                              datetime.time.fromisoformat, "an ISO 8601 time string", "a time"),
    "datetime:timedelta": WireForm("float", (int, float), lambda v: isinstance(v, datetime.timedelta),
                                   lambda v: v.total_seconds(), lambda x: datetime.timedelta(seconds=x),
                                   "a duration in seconds", "a timedelta", reason=True),
    "decimal:Decimal": WireForm("str", str, lambda v: isinstance(v, decimal.Decimal), str, decimal.Decimal,
                                "a decimal number string", "a Decimal"),
    "uuid:UUID": WireForm("str", str, lambda v: isinstance(v, uuid.UUID), str, uuid.UUID,
                          "a UUID string", "a UUID"),
    # ``str | os.PathLike[str]`` maps here too: a result may be a plain string
    "pathlib:Path": WireForm("str", str, lambda v: isinstance(v, os.PathLike), _fspath_str, pathlib.Path,
                             "a path string", "a path", returns=lambda v: isinstance(v, (str, os.PathLike))),
    "re:Pattern": WireForm("str", str, _str_pattern, lambda v: v.pattern, re.compile,
                           "a regular expression string", "a str pattern", reason=True),
    # a class object (``type[X]``): its subclass check needs the type's bounds, so the
    # converter is ``_Compiler._class_path``; this entry is the bare form (any class)
    CLASS_PATH: WireForm("str", str, lambda v: isinstance(v, type), class_path, _parse_class,
                         "the dotted path of a class", "a class"),
    # numpy scalars another distribution's stubs name (scipy's numpy.float64): an argument
    # becomes that numpy type; a result may be the numpy scalar or the plain Python one
    "numpy:float64": WireForm("float", (int, float), _numpy_scalar("floating"), float, _to_numpy("float64"),
                              "a number", "a numpy floating-point scalar",
                              returns=lambda v: _numpy_scalar("floating")(v) or _is_real(v)),
    "numpy:int64": WireForm("int", int, _numpy_scalar("integer"), int, _to_numpy("int64"),
                            "an integer", "a numpy integer scalar",
                            returns=lambda v: _numpy_scalar("integer")(v) or _is_int(v)),
    "numpy:bool": WireForm("bool", bool, _numpy_scalar("bool"), bool, _to_numpy("bool"),
                           "a boolean", "a numpy bool",
                           returns=lambda v: _numpy_scalar("bool")(v) or isinstance(v, bool)),
}


def _optional(c: Conv) -> Conv:
    return lambda v, p: None if v is None else c(v, p)


def _field_getter(v: Any) -> Callable[[str], Any]:
    if isinstance(v, Mapping):
        return v.__getitem__
    return lambda name: getattr(v, name)


def arg(t: TypeDict, *, where: str | None = None, records: Mapping[str, TypeDict] | None = None) -> Conv:
    """Converter for an argument of type ``t`` (convention -> Python) of function ``where``
    (``None``: shared by the wrapper's externs, a failure names the one calling it)."""
    return _Compiler(True, where, records or {}).compile(t)


def ret(t: TypeDict, *, where: str | None = None, records: Mapping[str, TypeDict] | None = None) -> Conv:
    """Converter for a result of type ``t`` (Python -> convention) of function ``where``
    (``None``: shared, as for :func:`arg`).

    With ``strict_returns`` off, a value that does not fit is passed through unchanged.
    """
    conv = _Compiler(False, where, records or {}).compile(t)

    def checked(v: Any, p: str) -> Any:
        try:
            return conv(v, p)
        except BoundaryTypeError:
            if settings.strict_returns:
                raise
            return v
    return checked


# -- async bridge ----------------------------------------------------------------------------------


class _PersistentLoop:
    """One event loop in a daemon thread, created once (guarded: free-threaded builds too)."""

    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        loop = cls._loop
        if loop is not None and not loop.is_closed():
            return loop
        with cls._lock:
            if cls._loop is None or cls._loop.is_closed():
                new = asyncio.new_event_loop()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(new)
                    new.call_soon(ready.set)
                    new.run_forever()

                threading.Thread(target=serve, name="mochi-wrap-loop", daemon=True).start()
                ready.wait()
                cls._loop = new
            return cls._loop


async def _with_timeout(coro: Coroutine[Any, Any, Any], timeout: float | None, where: str) -> Any:
    if timeout is None:
        return await coro
    try:
        return await asyncio.wait_for(coro, timeout)
    except TimeoutError:
        raise WrapperTimeoutError(f"{where}: no result within {timeout:g} s; the task was cancelled") from None


def run_async(coro: Coroutine[Any, Any, Any], *, where: str, timeout: float | None = None) -> Any:
    """Run ``coro`` to completion from synchronous code, per the async settings."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        coro.close()
        raise AsyncReentryError(
            f"{where} is an async function's sync shim and was called from a running event loop; "
            "call it from synchronous code or a worker thread")
    limit = timeout if timeout is not None else settings.timeout
    if settings.async_mode == "persistent":
        future = asyncio.run_coroutine_threadsafe(_with_timeout(coro, limit, where), _PersistentLoop.get())
        return future.result()
    return asyncio.run(_with_timeout(coro, limit, where))
