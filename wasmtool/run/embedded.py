"""Embedded mode's process-wide state: leasing ``sys.path`` entries to sessions, and the one
workspace that may be embedded in a process at a time (``python_wrap`` is imported once).

A session adds the project venv's ``site-packages`` (with its ``.pth`` entries) and its
workspace in front of ``sys.path`` for its lifetime; entries are counted, so two sessions on
one workspace share them and the last one to close removes them.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import site
import sys
import sysconfig
import threading
from collections.abc import Sequence
from pathlib import Path

from wasmtool.run.environment import venv_version
from wasmtool.run.errors import EmbeddedWorkspaceConflictError, InterpreterMismatchError, ProjectVenvError
from wasmtool.run.workspace import WRAP_MODULE, WRAP_PACKAGE

__all__ = ["Embedding", "embedded_site_packages", "shadowed_modules"]

_EMBED_LOCK = threading.Lock()
_PATH_LEASES: dict[str, int] = {}           # sys.path entries sessions added -> how many sessions use them
_EMBEDDED: dict[str, int] = {}              # embedded workspace -> open sessions


def _gil_suffix() -> str:
    return "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""


def embedded_site_packages(venv: Path) -> Path:
    """The venv's ``site-packages`` for THIS interpreter, or a typed error saying why not."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}{_gil_suffix()}"
    if not venv.is_dir():
        raise ProjectVenvError("the project venv does not exist", file=str(venv),
                               hint="run `wasmtool install` to create it")
    version = venv_version(venv)
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
        if name in (WRAP_MODULE, WRAP_PACKAGE) or name.startswith(WRAP_PACKAGE + "."):
            module = sys.modules.get(name)
            files = [getattr(module, "__file__", None), *list(getattr(module, "__path__", []) or [])]
            if not any(_is_within(f, workspace) for f in files):
                del sys.modules[name]


def shadowed_modules(sitedir: Path) -> tuple[str, ...]:
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


class Embedding:
    """One session's lease on this process: ``sys.path`` entries and the embedded workspace."""

    def __init__(self, workspace: Path, sitedir: Path) -> None:
        key = str(workspace)
        with _EMBED_LOCK:
            others = [w for w, n in _EMBEDDED.items() if n > 0 and w != key]
            if others:
                raise EmbeddedWorkspaceConflictError(
                    f"the workspace {others[0]} is already embedded in this process", file=key,
                    hint="close that session first, or use subprocess mode")
            if key not in _EMBEDDED:
                _purge_foreign_wrappers(workspace)
            self.shadowed_modules = shadowed_modules(sitedir)
            self._leased: tuple[str, ...] = _lease_paths(str(sitedir), key)
            _EMBEDDED[key] = _EMBEDDED.get(key, 0) + 1
            self._key: str | None = key

    def release(self) -> None:
        """Give the ``sys.path`` entries back (idempotent)."""
        with _EMBED_LOCK:
            _release_paths(self._leased)
            self._leased = ()
            key = self._key
            if key is not None:
                count = _EMBEDDED.get(key, 0) - 1
                if count > 0:
                    _EMBEDDED[key] = count
                else:
                    _EMBEDDED.pop(key, None)
                self._key = None
