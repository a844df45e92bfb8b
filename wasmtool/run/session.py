"""Calling a bound project's wrapper functions: a :class:`Session`, opened by
:func:`wasmtool.ops.session.open_session`.

A :class:`Session` is a thin front over ONE :class:`~wasmtool.run.modes.ModeRuntime`, which
the target's backend (:mod:`wasmtool.targets.backend`) chose and opened: it reads the
generated workspace (``.mochi/python_workspace/``: ``_mochi_wrap.py``,
``python_wrap/<alias>/<pkg>_externs.py`` and ``surface.json``), resolves names, and calls
through that runtime. What the runtime is follows the project's settings
(formats.md §1.2 ``runtime-mode``, docs/runtime-modes.md):

* ``auto`` (the default): ``embedded`` when the project venv's interpreter matches this one
  (implementation, ``major.minor``, free-threading, ABI flags, cache tag: asked from the
  venv's interpreter, see :mod:`wasmtool.run.runtime_choice`), else ``subprocess``. It also
  falls back to ``subprocess`` when embedding would shadow venv packages with wasmtool's
  own already imported copies, or another workspace is already embedded in this process.
  :attr:`Session.mode_reason` says why (``wasmtool call -v`` prints it).
* ``embedded`` (alias ``inprocess``): :class:`~wasmtool.run.inprocess.InProcessRuntime` in
  this process. The project venv's ``site-packages`` (with its ``.pth`` files) and the
  workspace are put in front of ``sys.path`` for the session's lifetime, so this
  interpreter must have the venv's ``major.minor`` (and the same free-threading ABI);
  otherwise :class:`InterpreterMismatchError` says to use subprocess (or auto) mode. Values pass
  through the wire encoding (``roundtrip=True``), so both modes return the same values.
* ``subprocess``: one :class:`~wasmtool.run.subprocess_runtime.SubprocessRuntime` worker
  per alias, started on that alias's first call with the project venv's interpreter (or
  ``python``) and ``PYTHONPATH`` = the workspace + a private directory holding only
  ``wasmtool_runtime`` (never wasmtool's own ``site-packages``).

``async-mode`` (``per-call`` | ``persistent``), the async ``timeout``, ``int-mode`` and
``strict-return-types`` are applied with ``_mochi_wrap.configure`` in the process that runs
the wrappers (this one, or each worker before it serves). A timed-out async wrapper raises
``_mochi_wrap.WrapperTimeoutError`` there, so both modes report the same
:class:`~wasmtool.run.errors.RemotePythonError`. In embedded mode the timeout bounds
coroutines only (a synchronous function runs to completion); in subprocess mode every call
also has a deadline (``timeout`` + 1 s, else 600 s) after which its worker is killed
(:class:`~wasmtool.run.errors.CallDeadlineError`, docs/runtime-modes.md).

Names (:meth:`Session.resolve`, docs/value-encoding.md): first a full extern name
(``tomli_loads``, in module ``python_wrap.tomli.tomli_externs``), then ``alias.item`` as the
extern ``alias_item`` (``tomli.loads`` -> ``tomli_loads``; ``fk.Counter.add`` ->
``fk_Counter_add``), both also with digits spelled as the extern spells them (``j2.render``
-> ``j_two_render``), then ``alias.<dotted Python path>`` matched against the functions'
Python targets below the alias's import names (``du.parser.parse`` -> the wrapper of
``dateutil.parser:parse``; ``fk.slow`` -> the wrapper of ``fakepkg:slow``, ``fk_slow_sync``;
the ``_full`` variant only when it is the one match). A name matching several functions
(the split ``@overload`` arms of one item) is an :class:`UnknownFunctionError` listing them;
:func:`call_name` is the ``alias.item`` form of an extern that users type.

WebAssembly targets run where their users run them (:mod:`wasmtool.run.wasm_session`):

* ``wasi`` profiles (mode ``component``): each alias's component from ``wasmtool install
  --target=wasi-p2`` under wasmtime, names from ``.mochi/python_workspace-<target>/``;
* ``pyodide`` profiles (mode ``pyodide``): the installed bundle in Pyodide under Node, one
  process for every alias.

There the session's ``timeout`` bounds every call (wasmtime epoch interruption; Pyodide:
the Node process is killed and restarted), ``runtime-mode`` does not apply (an explicit
mode or ``python`` is a :class:`SessionConfigError`) and ``async-mode`` is the wrapper's
default. A Python exception is the same :class:`~wasmtool.run.errors.RemotePythonError` on
every target. Profiles of any other kind raise :class:`UnsupportedTargetError`.

In embedded mode, ``_mochi_wrap`` settings are process-wide: they are restored when the
session closes, and only one workspace can be embedded in a process at a time (:class:`EmbeddedWorkspaceConflictError`).

Errors (WT701-WT710, all :class:`~wasmtool.errors.RuntimeBridgeError`; defined in
:mod:`wasmtool.run.errors` and importable from here)::

    UnsupportedTargetError          WT701  no runtime for the target's kind (names the target and its kind)
    SessionConfigError              WT702  bad runtime mode / async mode / timeout / python option (exit 2)
    WorkspaceMissingError           WT703  no generated workspace, or no bound alias in it
    ProjectVenvError                WT704  the project venv (interpreter, site-packages) is missing
    InterpreterMismatchError        WT705  embedded mode with a venv of another Python version / ABI
    UnknownFunctionError            WT706  a name resolves to no bound function, or to several (also
                                           LookupError, exit 2); for an item that was skipped, says why
                                           (SKIPPED.txt) and which setting would bind it
    CallsFailedError                WT707  ``wasmtool run``: some lines failed
    EmbeddedWorkspaceConflictError  WT708  another workspace is already embedded in this process
    ComponentMissingError           WT709  a WebAssembly target's component / bundle is not installed
    CallLineError                   WT710  a line of a ``wasmtool run`` calls file is not a call
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from wasmtool.mochi_syntax import spell_inner_digits
from wasmtool.run.environment import venv_python
from wasmtool.run.errors import (
    CallLineError,
    CallsFailedError,
    EmbeddedWorkspaceConflictError,
    InterpreterMismatchError,
    ProjectVenvError,
    SessionConfigError,
    UnknownFunctionError,
    UnsupportedTargetError,
    WorkspaceMissingError,
)
from wasmtool.run.modes import ModeRuntime, RuntimeMode
from wasmtool.run.skipped import Remedy, SkippedItem, read_skipped, remedy, submodule_remedy
from wasmtool.run.workspace import BoundAlias, BoundFunction, find_skipped, load_aliases

__all__ = [
    "RUNTIME_MODES",
    "AsyncMode",
    "BoundAlias",
    "BoundFunction",
    "CallLineError",
    "CallsFailedError",
    "EmbeddedWorkspaceConflictError",
    "InterpreterMismatchError",
    "ProjectVenvError",
    "RuntimeMode",
    "Session",
    "SessionConfigError",
    "SkippedItem",
    "UnknownFunctionError",
    "UnsupportedTargetError",
    "WorkspaceMissingError",
    "call_name",
    "find_skipped",
    "from_wire",
    "load_aliases",
    "normalise_async_mode",
    "normalise_mode",
    "read_skipped",
    "to_wire",
    "venv_python",
]

AsyncMode = Literal["per-call", "persistent"]

#: Accepted spellings of the runtime mode, and what they mean (``auto`` picks one of the others).
RUNTIME_MODES: Mapping[str, RuntimeMode | Literal["auto"]] = {
    "auto": "auto",
    "embedded": "embedded",
    "inprocess": "embedded",
    "in-process": "embedded",
    "subprocess": "subprocess",
}
_ASYNC_MODES: Mapping[str, AsyncMode] = {"per-call": "per-call", "percall": "per-call", "persistent": "persistent"}


# -- wire values -----------------------------------------------------------------------------------


def to_wire(value: Any) -> Any:
    """``value`` as JSON data in the formats.md §7 encoding (handles as ``{"$handle": n}``)."""
    from wasmtool_runtime.jsonrpc import encode_value

    return encode_value(value)


def from_wire(data: Any) -> Any:
    """JSON data in the formats.md §7 encoding as call arguments (``{"$handle": n}`` -> Handle)."""
    from wasmtool_runtime.jsonrpc import decode_value

    return decode_value(data)


# -- options -----------------------------------------------------------------------------------------


def normalise_mode(mode: str) -> RuntimeMode | Literal["auto"]:
    """``embedded`` / ``inprocess`` / ``in-process`` -> ``embedded``; ``subprocess``; ``auto``."""
    try:
        return RUNTIME_MODES[mode]
    except KeyError:
        raise SessionConfigError(
            f"unknown runtime mode {mode!r}; expected one of {', '.join(RUNTIME_MODES)}", field="runtime-mode"
        ) from None


def normalise_async_mode(mode: str) -> AsyncMode:
    """``per-call`` (also ``percall``) or ``persistent``."""
    try:
        return _ASYNC_MODES[mode]
    except KeyError:
        raise SessionConfigError(
            f"unknown async mode {mode!r}; expected per-call or persistent", field="async-mode"
        ) from None


def check_timeout(timeout: float | None) -> float | None:
    """A positive number of seconds (or ``None``), as a float."""
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not timeout > 0):
        raise SessionConfigError(f"timeout must be a positive number of seconds, not {timeout!r}",
                                 field="timeout")
    return float(timeout) if timeout is not None else None


# -- names ---------------------------------------------------------------------------------------------


def call_name(alias: str, extern: str) -> str:
    """The name users type for ``extern`` of ``alias``: ``alias.rest`` (``j2.render`` for
    ``j_two_render``: the alias as written, whatever the extern spells); the extern itself
    when it does not start with the alias."""
    for prefix in dict.fromkeys((f"{alias}_", spell_inner_digits(f"{alias}_"))):
        if extern.startswith(prefix) and len(extern) > len(prefix):
            return f"{alias}.{extern[len(prefix):]}"
    return extern


def _spellings(name: str) -> Iterable[str]:
    """``name`` as typed, then with its digits spelled as externs spell them."""
    return dict.fromkeys((name, spell_inner_digits(name)))


def _packages(alias: BoundAlias) -> list[str]:
    """Every package an alias's import names are in, outermost first (``dateutil``, ``dateutil.parser``)."""
    out: dict[str, None] = {}
    for imp in alias.import_names:
        parts = imp.split(".")
        out.update((".".join(parts[:i]), None) for i in range(1, len(parts) + 1))
    return sorted(out, key=lambda p: (p.count("."), p))


def _by_python_path(alias: BoundAlias, rest: str) -> list[BoundFunction]:
    """The functions of ``alias`` whose Python target is ``rest`` below one of its packages
    (``parser.parse`` -> ``dateutil.parser:parse``), or whose qualified name is ``rest``."""
    paths = {f"{p}.{rest}" for p in _packages(alias)}
    by_path = [f for f in alias.functions if f.target.replace(":", ".") in paths]
    # a module path wins over a qualified name (`parser.parse`: the function of module
    # `dateutil.parser`, not the method `parse` of its class `parser`)
    return by_path or [f for f in alias.functions if f.target.partition(":")[2] == rest]


# -- the session ---------------------------------------------------------------------------------------


class Session:
    """Calls the wrapper functions of one bound project (see the module docstring).

    Opened by :func:`wasmtool.ops.session.open_session`. Thread-safe: runtimes are created on
    an alias's first call under a lock; in subprocess mode any number of calls may be in flight.
    """

    def __init__(
        self,
        root: Path,
        *,
        target: str,
        workspace: Path,
        aliases: Mapping[str, BoundAlias],
        runtime: ModeRuntime,
        async_mode: AsyncMode,
        timeout: float | None,
        mode_reason: str = "",
        auto: bool = False,
    ) -> None:
        self.root = root
        self.target = target
        self.workspace = workspace
        self.runtime = runtime
        #: Why this runtime: the ``auto`` decision, or where an explicit mode came from.
        self.mode_reason = mode_reason
        #: Whether the mode was picked by ``runtime-mode = "auto"``.
        self.auto = auto
        self.async_mode: AsyncMode = async_mode
        self.timeout = timeout
        kept, not_exported = runtime.restrict(aliases)
        self.aliases: dict[str, BoundAlias] = kept
        self._not_exported: dict[str, str] = not_exported    # name -> why this target cannot call it
        self._by_extern = {f.name: f for a in self.aliases.values() for f in a.functions}
        # names resolve over everything bound, so that a function this target cannot call says so
        self._bound: dict[str, BoundAlias] = dict(aliases)
        self._all_by_extern = {f.name: f for a in aliases.values() for f in a.functions}

    # what the runtime says about itself
    @property
    def mode(self) -> RuntimeMode:
        return self.runtime.mode

    @property
    def python(self) -> str | None:
        """The worker interpreter (subprocess mode)."""
        return self.runtime.python

    @property
    def site_packages(self) -> Path | None:
        """The project venv's ``site-packages`` on ``sys.path`` (embedded mode)."""
        return self.runtime.site_packages

    @property
    def shadowed_modules(self) -> tuple[str, ...]:
        """Project venv modules wasmtool had already imported from elsewhere (embedded mode)."""
        return self.runtime.shadowed_modules

    @property
    def _staging(self) -> Path | None:
        return self.runtime.staging

    # -- names ---------------------------------------------------------------------------------------

    def functions(self, alias: str | None = None) -> list[BoundFunction]:
        """Every bound function (of ``alias``), sorted by extern name."""
        if alias is not None:
            if alias not in self.aliases:
                raise self._unknown(f"{alias}.")
            return list(self.aliases[alias].functions)
        return sorted(self._by_extern.values(), key=lambda f: f.name)

    def resolve(self, name: str) -> BoundFunction:
        """``alias.item``, ``alias.<dotted Python path>`` or a full extern name -> the bound
        function (see the module docstring)."""
        found = self._lookup(name)
        if found is not None and found.name in self._by_extern:
            return self._by_extern[found.name]
        raise self._unknown(name, found)

    def _lookup(self, name: str) -> BoundFunction | None:
        """The function ``name`` means among everything bound (also what this target cannot
        call); ``None`` when it means none; several -> :class:`UnknownFunctionError`."""
        for spelled in _spellings(name):
            if spelled in self._all_by_extern:
                return self._all_by_extern[spelled]
        alias_name, dot, rest = name.partition(".")
        bound = self._bound.get(alias_name) if dot else None
        if bound is None or not rest:
            return None
        for candidate in (f"{alias_name}_{rest.replace('.', '_')}", rest):
            for spelled in _spellings(candidate):
                fn = bound.function(spelled)
                if fn is not None:
                    return fn
        by_path = _by_python_path(bound, rest)
        short = [f for f in by_path if not f.full]
        for group in (short, by_path):
            if len(group) == 1:
                return group[0]
        if len(short) > 1:
            names = [call_name(f.alias, f.name) for f in short]
            targets = sorted({f.target for f in short})
            what = (f"the @overload arms of {targets[0]} are bound separately" if len(targets) == 1
                    else f"it names {len(short)} bound functions")
            raise UnknownFunctionError(name, f"{name}: ambiguous: {what}: {', '.join(names)}", candidates=names,
                                       matches=tuple(short))
        return None

    def resolve_call(self, name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> BoundFunction:
        """:meth:`resolve`, and where ``name`` names the split ``@overload`` arms of one item, the
        one arm these arguments fit: as many parameters as values given, every keyword among
        them (still ambiguous when none or several fit)."""
        try:
            return self.resolve(name)
        except UnknownFunctionError as exc:
            given = len(args) + len(kwargs)
            fits = [f for f in exc.matches if f.name in self._by_extern and len(f.params) == given
                    and set(kwargs) <= set(f.params)]
            if len(fits) != 1:
                raise
            return self._by_extern[fits[0].name]

    def _unknown(self, name: str, found: BoundFunction | None = None) -> UnknownFunctionError:
        alias_name, dot, rest = name.partition(".")
        if found is not None:   # bound, but this target cannot call it
            reason = self._not_exported.get(found.name, f"not callable on {self.target}")
            return UnknownFunctionError(
                name, f"{name}: {reason}; not available on target {self.target}; try --target native "
                f"(`wasmtool surface {found.alias} --target={self.target}` shows why)")
        why = self._not_exported.get(name) or (self._not_exported.get(alias_name) if dot else None)
        if why is not None:
            return UnknownFunctionError(name, f"{name}: {why}; `wasmtool surface {alias_name if dot else name} "
                                        f"--target={self.target}` shows why")
        if dot and alias_name not in self._bound:
            return UnknownFunctionError(
                name, f"{name}: no alias {alias_name!r} is bound (bound: {', '.join(sorted(self._bound))})",
                suggestions=difflib.get_close_matches(alias_name, list(self._bound), n=3))
        pool = ([call_name(f.alias, f.name) for f in self._by_extern.values()] if dot else list(self._by_extern))
        suggestions = difflib.get_close_matches(name, pool, n=3)
        owner = self._bound.get(alias_name) if dot else self._owner_of(name)
        skipped = self._skipped(owner, name) if owner is not None else None
        if owner is not None and skipped is not None:
            detail = f" ({skipped.detail})" if skipped.detail else ""
            fix = remedy(skipped, target=self.target, dist=owner.dist)
            return UnknownFunctionError(
                name, f"{name}: not bound: `wasmtool bind` skipped {skipped.path} "
                f"(python_wrap/{owner.alias}/SKIPPED.txt): {skipped.reason}{detail}; {fix.text}",
                suggestions=suggestions, skipped=skipped, remedy=fix)
        if owner is not None and dot and "." in rest:
            sub = self._unbound_submodule(owner, rest)
            if sub is not None:
                return UnknownFunctionError(name, f"{name}: no such bound function; {sub.text}",
                                            suggestions=suggestions, remedy=sub)
        return UnknownFunctionError(name, f"{name}: no such bound function", suggestions=suggestions)

    def _owner_of(self, extern: str) -> BoundAlias | None:
        """The alias an extern-like name (``tomli_load``, ``j_two_x``) belongs to, longest alias first."""
        for a in sorted(self._bound.values(), key=lambda a: -len(a.alias)):
            if any(extern.startswith(p) for p in _spellings(f"{a.alias}_")):
                return a
        return None

    @staticmethod
    def _skipped(owner: BoundAlias, name: str) -> SkippedItem | None:
        """The ``SKIPPED.txt`` line ``name`` refers to: by the names of :func:`find_skipped`
        (also for an extern spelled with words for digits), else by its dotted Python path
        below the alias's packages, else the line of a skipped item that path is inside."""
        for typed in dict.fromkeys((name, call_name(owner.alias, name))):
            found = find_skipped(owner, typed)
            if found is not None:
                return found
        if owner.directory is None:
            return None
        rest = name.partition(".")[2]
        paths = {f"{p}.{rest}" for p in _packages(owner)} if rest else set()
        items = read_skipped(owner.directory)
        exact = next((item for item in items if item.item in paths), None)
        if exact is not None:
            return exact
        # a member of a skipped class: the class's line (the longest skipped path above it;
        # not a line about something bound, such as a shim-only SkipStatelessFfi)
        bound = {f.target.replace(":", ".") for f in owner.functions}
        above = [item for item in items if any(p.startswith(item.item + ".") for p in paths)
                 and not any(b == item.item or b.startswith(item.item + ".") for b in bound)]
        return max(above, key=lambda item: len(item.item), default=None)

    @staticmethod
    def _unbound_submodule(owner: BoundAlias, rest: str) -> Remedy | None:
        """``du.relativedelta.relativedelta`` when ``dateutil.relativedelta`` is not bound:
        the setting that would bind it (``None`` when ``relativedelta`` is bound, or a class)."""
        first = rest.split(".", 1)[0]
        if any(f.target.partition(":")[2].split(".")[0] == first for f in owner.functions):
            return None   # a class (or item) of a bound module
        for package in _packages(owner):
            module = f"{package}.{first}"
            if package.count(".") == 0 and module not in owner.import_names and not any(
                    f.target.partition(":")[0] == module for f in owner.functions):
                return submodule_remedy(module, package, owner.dist, owner.import_names)
        return None

    # -- calling -------------------------------------------------------------------------------------

    def call(self, name: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> Any:
        """Call ``name`` (``alias.item`` or extern name); returns the value as decoded from the wire."""
        fn = self.resolve_call(name, args, kwargs or {})
        return self.runtime.call(self.aliases[fn.alias], fn.name, args, kwargs or {}, self.timeout)

    def submit(self, name: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> Future[Any]:
        """Start the call; the future holds its result or typed error (embedded: already done)."""
        fn = self.resolve_call(name, args, kwargs or {})
        return self.runtime.submit(self.aliases[fn.alias], fn.name, args, kwargs or {})

    @property
    def worker_pids(self) -> list[int]:
        """Pids of the running worker processes (subprocess mode; empty otherwise)."""
        return self.runtime.worker_pids

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.runtime.closed

    def close(self) -> None:
        """Stop every worker (reaped, none left behind), restore ``sys.path`` and the wrapper settings."""
        self.runtime.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<Session {self.root} target={self.target} mode={self.mode} async={self.async_mode} "
                f"aliases={','.join(sorted(self.aliases))}{' closed' if self.closed else ''}>")
