"""The runtime a session calls through, one class per runtime mode.

A :class:`ModeRuntime` gives each bound alias its :class:`~wasmtool.run.protocol.Runtime`,
created on the alias's first call, and closes them all with itself. The target backend
(:mod:`wasmtool.targets.backend`) decides the mode and opens one of these; the
:class:`~wasmtool.run.session.Session` in front of it only resolves names.

* :class:`EmbeddedRuntime` (``embedded``): the wrappers run in this process; the project
  venv's ``site-packages`` and the workspace are leased on ``sys.path``
  (:mod:`wasmtool.run.embedded`) and ``_mochi_wrap`` is configured here, its settings
  restored on close.
* :class:`SubprocessWorkers` (``subprocess``): one worker process per alias, started with
  the project venv's interpreter (or ``python``) and ``PYTHONPATH`` = the workspace + a
  private folder holding only ``wasmtool_runtime``.
* :class:`ComponentRuntimes` (``component``): one WASI component per alias under wasmtime;
  only the functions the installed component exports are callable.
* :class:`PyodideBundleRuntime` (``pyodide``): the installed bundle in ONE Pyodide process
  under Node, shared by every alias.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
import shutil
import tempfile
import threading
import traceback
import weakref
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from wasmtool.run.errors import ProjectVenvError, RuntimeClosedError, WorkerStartError
from wasmtool.run.inprocess import InProcessRuntime
from wasmtool.run.protocol import Runtime
from wasmtool.run.subprocess_runtime import SubprocessRuntime, call_deadline
from wasmtool.run.workspace import WRAP_MODULE, BoundAlias

if TYPE_CHECKING:
    from wasmtool.run.embedded import Embedding
    from wasmtool.run.pyodide import PyodideNodeRuntime

__all__ = ["ComponentRuntimes", "EmbeddedRuntime", "ModeRuntime", "PyodideBundleRuntime", "RuntimeMode",
           "SubprocessWorkers", "WrapSettings"]

RuntimeMode = Literal["embedded", "subprocess", "component", "pyodide"]

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


@dataclasses.dataclass(frozen=True)
class WrapSettings:
    """What ``_mochi_wrap.configure`` receives where the wrappers run (native modes)."""

    async_mode: str
    timeout: float | None
    int_mode: str = "bigint"
    strict_returns: bool = True

    def as_kwargs(self) -> dict[str, Any]:
        return {"async_mode": self.async_mode, "timeout": self.timeout, "int_mode": self.int_mode,
                "strict_returns": self.strict_returns}


class ModeRuntime(ABC):
    """The runtimes of one session (see the module docstring). Thread-safe: an alias's runtime
    is created on its first call under a lock."""

    mode: RuntimeMode
    #: Whether the session's timeout is passed with every call (WebAssembly runtimes), rather
    #: than applied by ``_mochi_wrap`` to async wrappers only.
    timeout_per_call = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runtimes: dict[str, Runtime] = {}
        self._closed = False
        #: The worker interpreter (subprocess mode).
        self.python: str | None = None
        #: The leased ``site-packages`` (embedded mode).
        self.site_packages: Path | None = None
        #: Project venv modules wasmtool had already imported from elsewhere (embedded mode).
        self.shadowed_modules: tuple[str, ...] = ()
        #: The folder that holds only ``wasmtool_runtime`` (subprocess mode).
        self.staging: Path | None = None

    def restrict(self, aliases: Mapping[str, BoundAlias]) -> tuple[dict[str, BoundAlias], dict[str, str]]:
        """The aliases and functions this runtime can call, and why each other name cannot be."""
        return dict(aliases), {}

    @abstractmethod
    def _open(self, alias: BoundAlias) -> Runtime:
        """A new runtime for ``alias`` (called once per alias, under the lock)."""

    def runtime(self, alias: BoundAlias) -> Runtime:
        with self._lock:
            if self._closed:
                raise RuntimeClosedError("the session is closed")
            runtime = self._runtimes.get(alias.alias)
            if runtime is None:
                runtime = self._runtimes[alias.alias] = self._open(alias)
            return runtime

    def call(self, alias: BoundAlias, name: str, args: Sequence[Any], kwargs: Mapping[str, Any],
             timeout: float | None) -> Any:
        runtime = self.runtime(alias)
        if self.timeout_per_call:
            return runtime.call(name, list(args), dict(kwargs), timeout=timeout)
        return runtime.call(name, list(args), dict(kwargs))

    def submit(self, alias: BoundAlias, name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Future[Any]:
        runtime = self.runtime(alias)
        submit = getattr(runtime, "submit", None)
        if submit is not None:
            future: Future[Any] = submit(name, list(args), dict(kwargs))
            return future
        done: Future[Any] = Future()
        try:
            done.set_result(runtime.call(name, list(args), dict(kwargs)))
        except Exception as exc:
            done.set_exception(exc)
        return done

    @property
    def worker_pids(self) -> list[int]:
        with self._lock:
            runtimes = list(self._runtimes.values())
        return [r.pid for r in runtimes if isinstance(r, SubprocessRuntime) and r.pid is not None]

    @property
    def closed(self) -> bool:
        return self._closed

    def _shared(self) -> list[Any]:
        """Closable things every alias's runtime shares (closed after them)."""
        return []

    def _after_close(self) -> None:  # noqa: B027 - optional hook: most modes have nothing to undo
        """Mode-specific clean-up once every runtime is closed."""

    def close(self) -> None:
        """Close every runtime (workers reaped), then the mode's own state; the first error is raised."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            runtimes, self._runtimes = list(self._runtimes.values()), {}
            shared = self._shared()
        errors: list[BaseException] = []
        for closable in [*runtimes, *shared]:
            try:
                closable.close()
            except Exception as exc:
                errors.append(exc)
        self._after_close()
        if errors:
            raise errors[0]


class EmbeddedRuntime(ModeRuntime):
    """``embedded``: the wrappers run in this process (see the module docstring)."""

    mode: RuntimeMode = "embedded"

    def __init__(self, workspace: Path, venv: Path, settings: WrapSettings) -> None:
        from wasmtool.run.embedded import Embedding, embedded_site_packages

        super().__init__()
        self.workspace = workspace
        sitedir = embedded_site_packages(venv)
        self._embedding: Embedding | None = Embedding(workspace, sitedir)
        self.shadowed_modules = self._embedding.shadowed_modules
        self.site_packages = sitedir
        self._saved_settings: dict[str, Any] | None = None
        try:
            wrap = importlib.import_module(WRAP_MODULE)
            current = wrap.settings
            self._saved_settings = {"async_mode": current.async_mode, "timeout": current.timeout,
                                    "int_mode": current.int_mode, "strict_returns": current.strict_returns}
            wrap.configure(**settings.as_kwargs())
        except Exception as exc:
            self._after_close()
            raise WorkerStartError(
                f"cannot set up {WRAP_MODULE} from {workspace}: {type(exc).__name__}: {exc}",
                hint="run `wasmtool bind` to generate the workspace again") from exc

    def _open(self, alias: BoundAlias) -> Runtime:
        try:
            return InProcessRuntime(alias.module, roundtrip=True)
        except Exception as exc:
            raise WorkerStartError(
                f"cannot import module {alias.module!r} in this process",
                stderr_tail="".join(traceback.format_exception(exc)).rstrip(),
            ) from exc

    def _after_close(self) -> None:
        if self._saved_settings is not None:
            with contextlib.suppress(Exception):
                importlib.import_module(WRAP_MODULE).configure(**self._saved_settings)
            self._saved_settings = None
        if self._embedding is not None:
            self._embedding.release()
            self._embedding = None


class SubprocessWorkers(ModeRuntime):
    """``subprocess``: one worker process per alias (see the module docstring)."""

    mode: RuntimeMode = "subprocess"

    def __init__(self, root: Path, workspace: Path, python: str, settings: WrapSettings) -> None:
        from wasmtool.run.subprocess_runtime import runtime_dir

        super().__init__()
        self.root = root
        self.workspace = workspace
        self.python = python
        self._config = {k: v for k, v in settings.as_kwargs().items() if v is not None}
        staging = Path(tempfile.mkdtemp(prefix="wasmtool-session-"))
        source = Path(runtime_dir()) / "wasmtool_runtime"
        try:
            (staging / "wasmtool_runtime").symlink_to(source, target_is_directory=True)
        except OSError:
            shutil.copytree(source, staging / "wasmtool_runtime", ignore=shutil.ignore_patterns("__pycache__"))
        self.staging = staging
        self._staging_cleanup: weakref.finalize[Any, Any] | None = weakref.finalize(
            self, shutil.rmtree, staging, True)

    @classmethod
    def for_venv(cls, root: Path, workspace: Path, venv: Path, python: str | None,
                 settings: WrapSettings) -> SubprocessWorkers:
        """Workers on ``python``, else on the project venv's interpreter (which must exist)."""
        if python is None:
            from wasmtool.run.environment import venv_python

            interpreter = venv_python(venv)
            if not interpreter.exists():
                raise ProjectVenvError("the project venv has no Python interpreter", file=str(interpreter),
                                       hint="run `wasmtool install` to create it, or pass python=")
            python = str(interpreter)
        return cls(root, workspace, python, settings)

    def _worker_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env["PYTHONPATH"] = os.pathsep.join([str(self.workspace), str(self.staging)])
        return env

    def _open(self, alias: BoundAlias) -> Runtime:
        assert self.python is not None
        command = [self.python, "-c", _WORKER_BOOT, json.dumps(self._config), "--module", alias.module]
        return SubprocessRuntime(alias.module, python=self.python, command=command, env=self._worker_env(),
                                 cwd=self.root, stderr_prefix=f"[{alias.alias}] ",
                                 deadline=call_deadline(self._config.get("timeout")))

    def _after_close(self) -> None:
        if self._staging_cleanup is not None:
            self._staging_cleanup()
            self._staging_cleanup = None


class ComponentRuntimes(ModeRuntime):
    """``component``: each alias's WASI component under wasmtime (see the module docstring)."""

    mode: RuntimeMode = "component"
    timeout_per_call = True

    def __init__(self, root: Path, target: str) -> None:
        super().__init__()
        self.root = root
        self.target = target

    def restrict(self, aliases: Mapping[str, BoundAlias]) -> tuple[dict[str, BoundAlias], dict[str, str]]:
        """Keep the functions the installed components export (the rest have no WIT form)."""
        from wasmtool.run.wasm_session import exported_functions

        kept: dict[str, BoundAlias] = {}
        why_not: dict[str, str] = {}
        for name, alias in aliases.items():
            exported = exported_functions(self.root, self.target, name)
            why = (f"{alias.dist} has no component on {self.target}" if exported is None
                   else f"not exported by the {self.target} component (no WIT form)")
            for fn in alias.functions:
                if exported is None or fn.name not in exported:
                    why_not[fn.name] = why
            if exported is None:
                why_not[name] = why
                continue
            kept[name] = dataclasses.replace(alias, functions=tuple(f for f in alias.functions if f.name in exported))
        return kept, why_not

    def _open(self, alias: BoundAlias) -> Runtime:
        from wasmtool.run.wasm_session import component_runtime

        return component_runtime(self.root, self.target, alias.alias)


class PyodideBundleRuntime(ModeRuntime):
    """``pyodide``: the installed bundle in one Pyodide process under Node (see the module docstring)."""

    mode: RuntimeMode = "pyodide"
    timeout_per_call = True

    def __init__(self, root: Path, target: str, *, default_timeout: float | None) -> None:
        from wasmtool.run.wasm_session import pyodide_bundle

        super().__init__()
        self.bundle = pyodide_bundle(root, target)
        self.default_timeout = default_timeout
        self._node: PyodideNodeRuntime | None = None

    def _open(self, alias: BoundAlias) -> Runtime:
        from wasmtool.run.wasm_session import PyodideAliasRuntime, pyodide_runtime

        if self._node is None:
            self._node = pyodide_runtime(self.bundle)
        return PyodideAliasRuntime(self._node, alias.module, default_timeout=self.default_timeout)

    def _shared(self) -> list[Any]:
        node, self._node = self._node, None
        return [node] if node is not None else []
