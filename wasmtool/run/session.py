"""One entry point for calling a bound project's wrapper functions: :func:`open_session`.

A :class:`Session` reads the project's ``mochi.toml`` and its generated workspace
(``.mochi/python_workspace/``: ``_mochi_wrap.py``, ``python_wrap/<alias>/<pkg>_externs.py``
and ``surface.json``), resolves names, and calls through the runtime the project asks for
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
:class:`~wasmtool.run.errors.RemotePythonError`. The timeout bounds coroutines only; a
synchronous Python function runs to completion in either mode.

Names: ``alias.item`` (``tomli.loads`` -> ``tomli_loads``; ``fk.Counter.add`` ->
``fk_Counter_add``; ``fk.slow`` -> the wrapper of ``fakepkg:slow``, ``fk_slow_sync``) or a
full extern name (``tomli_loads``), which lives in module ``python_wrap.tomli.tomli_externs``.

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
    UnknownFunctionError            WT706  a name resolves to no bound function (also LookupError, exit 2);
                                           says why when the item was skipped (SKIPPED.txt)
    CallsFailedError                WT707  ``wasmtool run``: some lines failed
    EmbeddedWorkspaceConflictError  WT708  another workspace is already embedded in this process
    ComponentMissingError           WT709  a WebAssembly target's component / bundle is not installed
    CallLineError                   WT710  a line of a ``wasmtool run`` calls file is not a call
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import importlib
import json
import os
import re
import shutil
import site
import sys
import sysconfig
import tempfile
import threading
import traceback
import weakref
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from wasmtool.run.errors import (
    CallLineError,
    CallsFailedError,
    EmbeddedWorkspaceConflictError,
    InterpreterMismatchError,
    ProjectVenvError,
    SessionConfigError,
    UnknownFunctionError,
    UnsupportedTargetError,
    WorkerStartError,
    WorkspaceMissingError,
)
from wasmtool.run.inprocess import InProcessRuntime
from wasmtool.run.protocol import Runtime
from wasmtool.run.subprocess_runtime import SubprocessRuntime

if TYPE_CHECKING:
    from wasmtool.run.pyodide import PyodideNodeRuntime

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
    "find_skipped",
    "from_wire",
    "normalise_mode",
    "open_session",
    "read_skipped",
    "to_wire",
    "venv_python",
    "workspace_path",
]

RuntimeMode = Literal["embedded", "subprocess", "component", "pyodide"]
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
_WRAP_MODULE = "_mochi_wrap"
_WRAP_PACKAGE = "python_wrap"

# Runs in the worker's interpreter (any Python >= 3.8, stdlib only): configure the wrapper
# runtime, then serve. PYTHONPATH already holds the workspace and wasmtool_runtime. Exit
# status 3 (the worker's "import failed") makes the client report a WorkerStartError.
_WORKER_BOOT = (
    "import json,os,sys,traceback\n"
    "c=json.loads(sys.argv.pop(1))\n"
    "try:\n"
    " import _mochi_wrap\n"
    " _mochi_wrap.configure(**c)\n"
    " import wasmtool_runtime.worker as w\n"
    "except BaseException:\n"
    " traceback.print_exc()\n"
    " sys.stderr.write('wasmtool-worker: cannot set up _mochi_wrap / wasmtool_runtime\\n')\n"
    " sys.stderr.flush()\n"
    " os._exit(3)\n"
    "w.run(sys.argv[1:])\n"
)


# -- wire values -----------------------------------------------------------------------------------


def to_wire(value: Any) -> Any:
    """``value`` as JSON data in the formats.md §7 encoding (handles as ``{"$handle": n}``)."""
    from wasmtool_runtime.jsonrpc import encode_value

    return encode_value(value)


def from_wire(data: Any) -> Any:
    """JSON data in the formats.md §7 encoding as call arguments (``{"$handle": n}`` -> Handle)."""
    from wasmtool_runtime.jsonrpc import decode_value

    return decode_value(data)


# -- the workspace -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoundFunction:
    """One wrapper function: ``name`` (the extern) in ``module``, wrapping ``target``."""

    alias: str
    name: str
    module: str
    target: str
    is_async: bool
    full: bool
    params: tuple[str, ...]


@dataclass(frozen=True)
class BoundAlias:
    """One bound package: its wrapper module and functions (sorted by name)."""

    alias: str
    dist: str
    version: str
    module: str
    functions: tuple[BoundFunction, ...]
    import_names: tuple[str, ...] = ()
    directory: Path | None = None          # python_wrap/<alias>/ (SKIPPED.txt, surface.json)

    def function(self, name: str) -> BoundFunction | None:
        """The function whose extern name is ``name``, if any."""
        return next((f for f in self.functions if f.name == name), None)


def workspace_path(root: Path, target: str = "native") -> Path:
    """``<root>/.mochi/python_workspace`` (``-<target>`` for other targets), as ``wasmtool bind`` writes it."""
    suffix = "" if target == "native" else f"-{target}"
    return root / ".mochi" / f"python_workspace{suffix}"


def venv_python(venv: Path) -> Path:
    """The interpreter of virtual environment ``venv`` (``bin/python`` or ``Scripts/python.exe``)."""
    return venv / "Scripts" / "python.exe" if os.name == "nt" else venv / "bin" / "python"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkspaceMissingError(f"cannot read {path.name}: {exc}", file=str(path),
                                    hint="run `wasmtool bind` to generate the workspace again") from exc


def _externs_module(alias_dir: Path, surface: dict[str, Any]) -> str:
    candidates = sorted(alias_dir.glob("*_externs.py"))
    if len(candidates) == 1:
        return f"{_WRAP_PACKAGE}.{alias_dir.name}.{candidates[0].stem}"
    from wasmtool.synth.workspace import externs_module
    from wasmtool.typemap.surface import MappedSurface

    return externs_module(MappedSurface.from_dict(surface))


def load_aliases(workspace: Path) -> dict[str, BoundAlias]:
    """Every alias bound in ``workspace``, from its ``python_wrap/<alias>/surface.json``."""
    wrap_dir = workspace / _WRAP_PACKAGE
    if not (workspace / f"{_WRAP_MODULE}.py").is_file() or not wrap_dir.is_dir():
        raise WorkspaceMissingError(
            "no generated Python workspace", file=str(workspace),
            hint="run `wasmtool install` (or `wasmtool bind`) for this target first")
    aliases: dict[str, BoundAlias] = {}
    for surface_file in sorted(wrap_dir.glob("*/surface.json")):
        data = _read_json(surface_file)
        alias_dir = surface_file.parent
        alias = str(data.get("alias") or alias_dir.name)
        module = _externs_module(alias_dir, data)
        functions = tuple(sorted(
            (BoundFunction(alias=alias, name=str(f["extern_name"]), module=module, target=str(f.get("target", "")),
                           is_async=bool(f.get("is_async", False)), full=bool(f.get("full", False)),
                           params=tuple(str(p["name"]) for p in f.get("params", ())))
             for f in data.get("functions", ())),
            key=lambda f: f.name))
        aliases[alias] = BoundAlias(alias, str(data.get("dist", "")), str(data.get("version", "")), module,
                                    functions, tuple(str(n) for n in data.get("import_names", ())), alias_dir)
    if not aliases:
        raise WorkspaceMissingError("no package is bound in the workspace", file=str(wrap_dir),
                                    hint="add `import python \"<pkg>\" as <alias>` lines, then `wasmtool install`")
    return aliases


@dataclass(frozen=True)
class SkippedItem:
    """One line of an alias's ``SKIPPED.txt``: ``path<TAB>reason<TAB>detail[<TAB>hint]``."""

    path: str
    reason: str
    detail: str = ""
    hint: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason, "detail": self.detail, "hint": self.hint}


def read_skipped(alias_dir: Path) -> tuple[SkippedItem, ...]:
    """The items ``wasmtool bind`` skipped for one alias (empty when ``SKIPPED.txt`` is missing)."""
    try:
        text = (alias_dir / "SKIPPED.txt").read_text(encoding="utf-8")
    except OSError:
        return ()
    items = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) >= 2:
            items.append(SkippedItem(cells[0], cells[1], *(cells[2:4])))
    return tuple(items)


def _skip_keys(item: SkippedItem, alias: BoundAlias) -> set[str]:
    """The names a caller could have used for a skipped item (``alias.rest``, extern spelling)."""
    rest = next((item.path[len(imp) + 1:] for imp in sorted(alias.import_names, key=len, reverse=True)
                 if item.path.startswith(imp + ".")), item.path.partition(".")[2])
    rests = {rest}
    if rest.endswith(".__init__"):
        owner = rest.removesuffix(".__init__")
        rests |= {f"{owner}_new", f"{owner}_new_full", f"{owner}.new"}
    keys = {item.path}
    for r in rests:
        keys |= {f"{alias.alias}.{r}", f"{alias.alias}_{r.replace('.', '_')}"}
    return keys


def find_skipped(alias: BoundAlias, name: str) -> SkippedItem | None:
    """The ``SKIPPED.txt`` entry of ``alias`` that ``name`` refers to, if any."""
    if alias.directory is None:
        return None
    for item in read_skipped(alias.directory):
        if name in _skip_keys(item, alias):
            return item
    return None


# -- embedded mode: sys.path, modules, settings ------------------------------------------------------

_EMBED_LOCK = threading.Lock()
_PATH_LEASES: dict[str, int] = {}           # sys.path entries sessions added -> how many sessions use them
_EMBEDDED: dict[str, int] = {}              # embedded workspace -> open sessions


def _gil_suffix() -> str:
    return "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""


def _venv_version(venv: Path) -> tuple[int, int] | None:
    try:
        lines = (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    values = {k.strip(): v.strip() for k, sep, v in (line.partition("=") for line in lines) if sep}
    for key in ("version_info", "version"):
        match = re.match(r"(\d+)\.(\d+)", values.get(key, ""))
        if match:
            return int(match.group(1)), int(match.group(2))
    return None


def embedded_site_packages(venv: Path) -> Path:
    """The venv's ``site-packages`` for THIS interpreter, or a typed error saying why not."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}{_gil_suffix()}"
    if not venv.is_dir():
        raise ProjectVenvError("the project venv does not exist", file=str(venv),
                               hint="run `wasmtool install` to create it")
    version = _venv_version(venv)
    if version is not None and version != sys.version_info[:2]:
        raise InterpreterMismatchError(
            f"the project venv is Python {version[0]}.{version[1]}, this interpreter is Python {here}: "
            "embedded mode needs the same major.minor", venv=venv)
    if os.name == "nt":
        candidate = venv / "Lib" / "site-packages"
        if candidate.is_dir():
            return candidate
        raise ProjectVenvError("the project venv has no Lib/site-packages", file=str(venv))
    candidate = venv / "lib" / f"python{here}" / "site-packages"
    if candidate.is_dir():
        return candidate
    others = sorted(p.parent.name.removeprefix("python") for p in venv.glob("lib/python*/site-packages"))
    if others:
        raise InterpreterMismatchError(
            f"the project venv is for Python {', '.join(others)}, this interpreter is Python {here}: "
            "embedded mode needs the same major.minor and ABI (free-threaded or not)", venv=venv)
    raise ProjectVenvError("the project venv has no lib/python*/site-packages", file=str(venv),
                           hint="run `wasmtool install` to create it")


def _lease_paths(sitedir: str, workspace: str) -> tuple[str, ...]:
    """Put ``workspace`` then ``sitedir`` (and its ``.pth`` entries) in front of ``sys.path``."""
    leased: list[str] = []
    if sitedir in _PATH_LEASES:
        leased.append(sitedir)
    elif sitedir not in sys.path:
        before = set(sys.path)
        site.addsitedir(sitedir)
        added = [p for p in sys.path if p not in before]
        for path in added:
            sys.path.remove(path)
        sys.path[0:0] = added
        leased += added
    if workspace in _PATH_LEASES:
        leased.append(workspace)
    elif workspace not in sys.path:
        sys.path.insert(0, workspace)
        leased.append(workspace)
    for path in leased:
        _PATH_LEASES[path] = _PATH_LEASES.get(path, 0) + 1
    importlib.invalidate_caches()
    return tuple(leased)


def _release_paths(leased: Sequence[str]) -> None:
    for path in leased:
        count = _PATH_LEASES.get(path, 0) - 1
        if count > 0:
            _PATH_LEASES[path] = count
            continue
        _PATH_LEASES.pop(path, None)
        with contextlib.suppress(ValueError):
            sys.path.remove(path)


def _is_within(file: str | None, directory: Path) -> bool:
    if not file:
        return False
    try:
        return Path(file).resolve().is_relative_to(directory)
    except OSError:
        return False


def _purge_foreign_wrappers(workspace: Path) -> None:
    """Forget ``python_wrap*`` / ``_mochi_wrap`` modules imported from another workspace."""
    for name in list(sys.modules):
        if name in (_WRAP_MODULE, _WRAP_PACKAGE) or name.startswith(_WRAP_PACKAGE + "."):
            module = sys.modules.get(name)
            files = [getattr(module, "__file__", None), *list(getattr(module, "__path__", []) or [])]
            if not any(_is_within(f, workspace) for f in files):
                del sys.modules[name]


def _shadowed_modules(sitedir: Path) -> tuple[str, ...]:
    """Top-level modules of the project venv already imported here from somewhere else."""
    names: set[str] = set()
    with contextlib.suppress(OSError):
        for entry in sitedir.iterdir():
            if entry.suffix in (".dist-info", ".egg-info", ".pth") or entry.name.startswith(("_", ".")):
                continue
            stem = entry.name.split(".")[0] if entry.is_file() and entry.suffix in (".py", ".so", ".pyd") else (
                entry.name if entry.is_dir() else "")
            if stem.isidentifier():
                names.add(stem)
    out = []
    for name in sorted(names):
        module = sys.modules.get(name)
        if module is None:
            continue
        files = [getattr(module, "__file__", None), *list(getattr(module, "__path__", []) or [])]
        if not any(_is_within(f, sitedir.resolve()) for f in files):
            out.append(name)
    return tuple(out)


# -- the session ---------------------------------------------------------------------------------------


def normalise_mode(mode: str) -> RuntimeMode | Literal["auto"]:
    """``embedded`` / ``inprocess`` / ``in-process`` -> ``embedded``; ``subprocess``; ``auto``."""
    try:
        return RUNTIME_MODES[mode]
    except KeyError:
        raise SessionConfigError(
            f"unknown runtime mode {mode!r}; expected one of {', '.join(RUNTIME_MODES)}", field="runtime-mode"
        ) from None


def _normalise_async(mode: str) -> AsyncMode:
    try:
        return _ASYNC_MODES[mode]
    except KeyError:
        raise SessionConfigError(
            f"unknown async mode {mode!r}; expected per-call or persistent", field="async-mode"
        ) from None


class Session:
    """Calls the wrapper functions of one bound project (see the module docstring).

    Build it with :func:`open_session`. Thread-safe: runtimes are created on an alias's
    first call under a lock; in subprocess mode any number of calls may be in flight.
    """

    def __init__(
        self,
        root: Path,
        *,
        target: str,
        mode: RuntimeMode,
        workspace: Path,
        venv: Path,
        python: str | None,
        async_mode: AsyncMode,
        timeout: float | None,
        int_mode: str = "bigint",
        strict_returns: bool = True,
        mode_reason: str = "",
        auto: bool = False,
    ) -> None:
        self.root = root
        self.target = target
        self.mode: RuntimeMode = mode
        #: Why this runtime: the ``auto`` decision, or where an explicit mode came from.
        self.mode_reason = mode_reason
        #: Whether ``mode`` was picked by ``runtime-mode = "auto"``.
        self.auto = auto
        self.workspace = workspace
        self.venv = venv
        self.python = python
        self.async_mode: AsyncMode = async_mode
        self.timeout = timeout
        self.aliases: dict[str, BoundAlias] = load_aliases(workspace)
        self._not_exported: dict[str, str] = {}     # name -> why this target cannot call it
        if mode == "component":
            self._restrict_to_components()
        self._by_extern = {f.name: f for a in self.aliases.values() for f in a.functions}
        self._configure: dict[str, Any] = {"async_mode": async_mode, "timeout": timeout, "int_mode": int_mode,
                                           "strict_returns": strict_returns}
        self._lock = threading.Lock()
        self._runtimes: dict[str, Runtime] = {}
        self._closed = False
        self._leased: tuple[str, ...] = ()
        self._embedded_key: str | None = None
        self._saved_settings: dict[str, Any] | None = None
        self._staging: Path | None = None
        self._staging_cleanup: weakref.finalize[Any, Any] | None = None
        self._pyodide: PyodideNodeRuntime | None = None
        self._bundle: Path | None = None
        self.site_packages: Path | None = None
        self.shadowed_modules: tuple[str, ...] = ()
        if mode == "embedded" and auto:
            fallback = self._try_embedded()
            if fallback is not None:
                self.mode, self.mode_reason = "subprocess", fallback
                self._open_subprocess()
        elif mode == "embedded":
            self._open_embedded()
        elif mode == "subprocess":
            self._open_subprocess()
        elif mode == "pyodide":
            from wasmtool.run.wasm_session import pyodide_bundle

            self._bundle = pyodide_bundle(root, target)

    # -- setup ---------------------------------------------------------------------------------------

    def _restrict_to_components(self) -> None:
        """Keep the functions the installed components export (the rest have no WIT form)."""
        from wasmtool.run.wasm_session import exported_functions

        kept: dict[str, BoundAlias] = {}
        for name, alias in self.aliases.items():
            exported = exported_functions(self.root, self.target, name)
            why = (f"{alias.dist} has no component on {self.target}" if exported is None
                   else f"not exported by the {self.target} component (no WIT form)")
            for fn in alias.functions:
                if exported is None or fn.name not in exported:
                    self._not_exported[fn.name] = why
            if exported is None:
                self._not_exported[name] = why
                continue
            kept[name] = dataclasses.replace(alias, functions=tuple(f for f in alias.functions if f.name in exported))
        self.aliases = kept

    def _try_embedded(self) -> str | None:
        """``auto`` chose embedded: open it, or return why subprocess mode is used instead."""
        try:
            sitedir = embedded_site_packages(self.venv)
        except InterpreterMismatchError as exc:
            return exc.message
        shadowed = _shadowed_modules(sitedir)
        if shadowed:
            return (f"wasmtool has already imported its own {', '.join(shadowed)}, which would shadow "
                    "the project venv's")
        try:
            self._open_embedded()
        except EmbeddedWorkspaceConflictError as exc:
            return f"{exc.message} (one embedded workspace per process)"
        return None

    def _open_embedded(self) -> None:
        sitedir = embedded_site_packages(self.venv)
        key = str(self.workspace)
        with _EMBED_LOCK:
            others = [w for w, n in _EMBEDDED.items() if n > 0 and w != key]
            if others:
                raise EmbeddedWorkspaceConflictError(
                    f"the workspace {others[0]} is already embedded in this process", file=key,
                    hint="close that session first, or use subprocess mode")
            if key not in _EMBEDDED:
                _purge_foreign_wrappers(self.workspace)
            self.shadowed_modules = _shadowed_modules(sitedir)
            self._leased = _lease_paths(str(sitedir), key)
            _EMBEDDED[key] = _EMBEDDED.get(key, 0) + 1
            self._embedded_key = key
        self.site_packages = sitedir
        try:
            wrap = importlib.import_module(_WRAP_MODULE)
            settings = wrap.settings
            self._saved_settings = {"async_mode": settings.async_mode, "timeout": settings.timeout,
                                    "int_mode": settings.int_mode, "strict_returns": settings.strict_returns}
            wrap.configure(**self._configure)
        except Exception as exc:
            self._close_embedded()
            raise WorkerStartError(
                f"cannot set up {_WRAP_MODULE} from {self.workspace}: {type(exc).__name__}: {exc}",
                hint="run `wasmtool bind` to generate the workspace again") from exc

    def _open_subprocess(self) -> None:
        if self.python is None:
            python = venv_python(self.venv)
            if not python.exists():
                raise ProjectVenvError("the project venv has no Python interpreter", file=str(python),
                                       hint="run `wasmtool install` to create it, or pass python=")
            self.python = str(python)
        from wasmtool.run.subprocess_runtime import runtime_dir

        staging = Path(tempfile.mkdtemp(prefix="wasmtool-session-"))
        source = Path(runtime_dir()) / "wasmtool_runtime"
        try:
            (staging / "wasmtool_runtime").symlink_to(source, target_is_directory=True)
        except OSError:
            shutil.copytree(source, staging / "wasmtool_runtime",
                            ignore=shutil.ignore_patterns("__pycache__"))
        self._staging = staging
        self._staging_cleanup = weakref.finalize(self, shutil.rmtree, staging, True)

    def _worker_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env["PYTHONPATH"] = os.pathsep.join([str(self.workspace), str(self._staging)])
        return env

    def _runtime(self, alias: BoundAlias) -> Runtime:
        with self._lock:
            if self._closed:
                from wasmtool.run.errors import RuntimeClosedError

                raise RuntimeClosedError("the session is closed")
            runtime = self._runtimes.get(alias.alias)
            if runtime is not None:
                return runtime
            if self.mode == "component":
                from wasmtool.run.wasm_session import component_runtime

                runtime = component_runtime(self.root, self.target, alias.alias)
            elif self.mode == "pyodide":
                from wasmtool.run.wasm_session import PyodideAliasRuntime, pyodide_runtime

                if self._pyodide is None:
                    assert self._bundle is not None
                    self._pyodide = pyodide_runtime(self._bundle)
                runtime = PyodideAliasRuntime(self._pyodide, alias.module, default_timeout=self.timeout)
            elif self.mode == "embedded":
                try:
                    runtime = InProcessRuntime(alias.module, roundtrip=True)
                except Exception as exc:
                    raise WorkerStartError(
                        f"cannot import module {alias.module!r} in this process",
                        stderr_tail="".join(traceback.format_exception(exc)).rstrip(),
                    ) from exc
            else:
                assert self.python is not None
                config = {k: v for k, v in self._configure.items() if v is not None}
                command = [self.python, "-c", _WORKER_BOOT, json.dumps(config), "--module", alias.module]
                runtime = SubprocessRuntime(alias.module, python=self.python, command=command,
                                            env=self._worker_env(), cwd=self.root,
                                            stderr_prefix=f"[{alias.alias}] ")
            self._runtimes[alias.alias] = runtime
            return runtime

    # -- names ---------------------------------------------------------------------------------------

    def functions(self, alias: str | None = None) -> list[BoundFunction]:
        """Every bound function (of ``alias``), sorted by extern name."""
        if alias is not None:
            if alias not in self.aliases:
                raise self._unknown(f"{alias}.")
            return list(self.aliases[alias].functions)
        return sorted(self._by_extern.values(), key=lambda f: f.name)

    def resolve(self, name: str) -> BoundFunction:
        """``alias.item`` or a full extern name -> the bound function (see the module docstring)."""
        found = self._by_extern.get(name)
        if found is not None:
            return found
        alias_name, dot, item = name.partition(".")
        bound = self.aliases.get(alias_name) if dot else None
        if bound is not None and item:
            for candidate in (f"{alias_name}_{item.replace('.', '_')}", item):
                fn = bound.function(candidate)
                if fn is not None:
                    return fn
            by_target = [f for f in bound.functions if f.target.partition(":")[2] == item]
            short = [f for f in by_target if not f.full]
            for group in (short, by_target):
                if len(group) == 1:
                    return group[0]
        raise self._unknown(name)

    def _unknown(self, name: str) -> UnknownFunctionError:
        alias_name, dot, item = name.partition(".")
        why = (self._not_exported.get(name) or self._not_exported.get(f"{alias_name}_{item.replace('.', '_')}")
               or (self._not_exported.get(alias_name) if dot else None))
        if why is not None:
            return UnknownFunctionError(name, f"{name}: {why}; `wasmtool surface {alias_name if dot else name} "
                                        f"--target={self.target}` shows why")
        if dot and alias_name not in self.aliases:
            return UnknownFunctionError(
                name, f"{name}: no alias {alias_name!r} is bound (bound: {', '.join(sorted(self.aliases))})",
                suggestions=difflib.get_close_matches(alias_name, list(self.aliases), n=3))
        pool = ([f"{f.alias}.{f.name.removeprefix(f.alias + '_')}" for f in self._by_extern.values()] if dot
                else list(self._by_extern))
        suggestions = difflib.get_close_matches(name, pool, n=3)
        owner = self.aliases.get(alias_name) if dot else next(
            (a for a in sorted(self.aliases.values(), key=lambda a: -len(a.alias)) if name.startswith(a.alias + "_")),
            None)
        skipped = find_skipped(owner, name) if owner is not None else None
        if owner is not None and skipped is not None:
            detail = f" ({skipped.detail})" if skipped.detail else ""
            return UnknownFunctionError(
                name, f"{name}: not bound: `wasmtool bind` skipped {skipped.path} "
                f"(python_wrap/{owner.alias}/SKIPPED.txt): {skipped.reason}{detail}",
                suggestions=suggestions, skipped=skipped)
        return UnknownFunctionError(name, f"{name}: no such bound function", suggestions=suggestions)

    # -- calling -------------------------------------------------------------------------------------

    def call(self, name: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> Any:
        """Call ``name`` (``alias.item`` or extern name); returns the value as decoded from the wire."""
        fn = self.resolve(name)
        runtime = self._runtime(self.aliases[fn.alias])
        if self.mode in ("component", "pyodide"):
            return runtime.call(fn.name, list(args), dict(kwargs or {}), timeout=self.timeout)
        return runtime.call(fn.name, list(args), dict(kwargs or {}))

    def submit(self, name: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> Future[Any]:
        """Start the call; the future holds its result or typed error (embedded: already done)."""
        fn = self.resolve(name)
        runtime = self._runtime(self.aliases[fn.alias])
        submit = getattr(runtime, "submit", None)
        if submit is not None:
            future: Future[Any] = submit(fn.name, list(args), dict(kwargs or {}))
            return future
        done: Future[Any] = Future()
        try:
            done.set_result(runtime.call(fn.name, list(args), dict(kwargs or {})))
        except Exception as exc:
            done.set_exception(exc)
        return done

    @property
    def worker_pids(self) -> list[int]:
        """Pids of the running worker processes (subprocess mode; empty otherwise)."""
        with self._lock:
            runtimes = list(self._runtimes.values())
        return [r.pid for r in runtimes if isinstance(r, SubprocessRuntime) and r.pid is not None]

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def _close_embedded(self) -> None:
        if self._saved_settings is not None:
            with contextlib.suppress(Exception):
                importlib.import_module(_WRAP_MODULE).configure(**self._saved_settings)
            self._saved_settings = None
        with _EMBED_LOCK:
            _release_paths(self._leased)
            self._leased = ()
            key = self._embedded_key
            if key is not None:
                count = _EMBEDDED.get(key, 0) - 1
                if count > 0:
                    _EMBEDDED[key] = count
                else:
                    _EMBEDDED.pop(key, None)
                self._embedded_key = None

    def close(self) -> None:
        """Stop every worker (reaped, none left behind), restore ``sys.path`` and the wrapper settings."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            runtimes, self._runtimes = list(self._runtimes.values()), {}
            node, self._pyodide = self._pyodide, None
        errors: list[BaseException] = []
        for closable in [*runtimes, *([node] if node is not None else [])]:
            try:
                closable.close()
            except Exception as exc:
                errors.append(exc)
        if self.mode == "embedded":
            self._close_embedded()
        if self._staging_cleanup is not None:
            self._staging_cleanup()
            self._staging_cleanup = None
        if errors:
            raise errors[0]

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
                f"aliases={','.join(sorted(self.aliases))}{' closed' if self._closed else ''}>")


def open_session(
    root: Path,
    *,
    target: str = "native",
    mode: str | None = None,
    python: str | None = None,
    async_mode: str | None = None,
    timeout: float | None = None,
) -> Session:
    """Open a session on the bound project at ``root`` (see the module docstring).

    ``mode`` defaults to ``[python].runtime-mode`` and ``async_mode`` to ``[python].async-mode``;
    ``python`` replaces the project venv's interpreter (subprocess or auto mode: auto then
    means subprocess); ``timeout`` (seconds) bounds every async wrapper call.
    """
    from wasmtool.project.manifest import load_manifest
    from wasmtool.targets.profile import load_profile

    root = Path(root).resolve()
    manifest = load_manifest(root / "mochi.toml")
    settings = manifest.python
    profile = load_profile(target)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not timeout > 0):
        raise SessionConfigError(f"timeout must be a positive number of seconds, not {timeout!r}",
                                 field="timeout")
    resolved_mode: RuntimeMode
    auto = False
    if profile.kind in ("wasi", "pyodide"):
        if (mode is not None and mode != "auto") or python is not None:
            raise SessionConfigError(
                f"--runtime / python apply to native targets; {profile.name} runs "
                f"{'under wasmtime' if profile.kind == 'wasi' else 'in Pyodide under Node'}",
                field="runtime-mode" if mode is not None else "python")
        resolved_mode = "component" if profile.kind == "wasi" else "pyodide"
        reason = (f"{profile.name} runs its component under wasmtime" if profile.kind == "wasi"
                  else f"{profile.name} runs its bundle in Pyodide under Node")
    elif profile.kind == "native":
        requested = normalise_mode(mode if mode is not None else settings.runtime_mode)
        source = (f"runtime mode {mode!r} requested" if mode is not None
                  else f'runtime-mode = "{settings.runtime_mode}" in mochi.toml')
        if requested == "auto":
            auto = True
            if python is not None:
                resolved_mode, reason = "subprocess", f"worker interpreter {python} given"
            else:
                from wasmtool.run.runtime_choice import choose_runtime, running_interpreter, venv_interpreter

                choice = choose_runtime(running_interpreter(), venv_interpreter(root / settings.venv))
                resolved_mode, reason = choice.mode, choice.reason
        else:
            resolved_mode, reason = requested, source
        if python is not None and resolved_mode != "subprocess":
            raise SessionConfigError("an interpreter can only be chosen in subprocess mode", field="python",
                                     hint="add --runtime subprocess (or runtime-mode = \"subprocess\")")
    else:
        raise UnsupportedTargetError(profile.name, profile.kind)
    return Session(
        root,
        target=profile.name,
        mode=resolved_mode,
        workspace=workspace_path(root, profile.name),
        venv=root / settings.venv,
        python=python,
        async_mode=_normalise_async(async_mode if async_mode is not None else settings.async_mode),
        timeout=float(timeout) if timeout is not None else None,
        int_mode=settings.int_mode,
        strict_returns=settings.strict_return_types,
        mode_reason=reason,
        auto=auto,
    )
