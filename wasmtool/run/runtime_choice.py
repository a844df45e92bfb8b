"""``runtime-mode = "auto"``: run in this process when the project venv's interpreter is
this one's twin, otherwise in a JSON-RPC worker on the venv's interpreter.

In-process (embedded) calls import the project venv's ``site-packages`` into the process
running wasmtool, which only works when both interpreters agree on the implementation,
the ``major.minor`` version and the ABI (free-threaded or not, ABI flags, bytecode cache
tag). :func:`choose_runtime` is the decision, a pure function of two
:class:`InterpreterInfo`; :func:`running_interpreter` describes this process and
:func:`venv_interpreter` the project venv's interpreter (asked directly; when it cannot
be run, read from ``pyvenv.cfg`` and the ``lib/pythonX.Y[t]`` layout, the way embedded
mode checks the venv).
"""

from __future__ import annotations

import json
import re
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wasmtool.errors import ExternalToolError
from wasmtool.tools import run_tool

__all__ = [
    "InterpreterInfo",
    "RuntimeChoice",
    "choose_runtime",
    "probe_interpreter",
    "running_interpreter",
    "venv_interpreter",
]

_PROBE = (
    "import json, sys, sysconfig\n"
    "print(json.dumps({'implementation': sys.implementation.name, 'version': list(sys.version_info[:2]),\n"
    "                  'cache_tag': sys.implementation.cache_tag, 'abiflags': getattr(sys, 'abiflags', ''),\n"
    "                  'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED'))}))\n"
)
_PRETTY = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}


@dataclass(frozen=True)
class InterpreterInfo:
    """What decides whether two interpreters can share one process's imports.

    ``None`` means unknown (an interpreter described from its venv's files, not asked).
    """

    implementation: str | None          # sys.implementation.name: "cpython", "pypy", ...
    version: tuple[int, int] | None     # (major, minor)
    free_threaded: bool | None          # sysconfig Py_GIL_DISABLED
    abiflags: str | None = None         # sys.abiflags ("" / "t" / "d" ...)
    cache_tag: str | None = None        # sys.implementation.cache_tag: "cpython-312"

    def label(self, *, with_implementation: bool = True) -> str:
        """``CPython 3.12`` / ``3.13t`` (free-threaded) / ``an unknown Python``."""
        if self.version is None:
            return "an unknown Python version"
        version = f"{self.version[0]}.{self.version[1]}{'t' if self.free_threaded else ''}"
        if not with_implementation or self.implementation is None:
            return version
        return f"{_PRETTY.get(self.implementation, self.implementation)} {version}"


@dataclass(frozen=True)
class RuntimeChoice:
    """The runtime ``auto`` picked and why (one clause, for ``-v`` output)."""

    mode: Literal["embedded", "subprocess"]
    reason: str


def choose_runtime(here: InterpreterInfo, venv: InterpreterInfo | None) -> RuntimeChoice:
    """``embedded`` when ``venv`` is known to match ``here``, else ``subprocess``.

    Pure. Implementation, version and free-threading must be known and equal; ABI flags and
    cache tags must be equal where both are known. Anything unknown picks ``subprocess``
    (it runs on any interpreter; a wrong in-process import would not).
    """
    if venv is None:
        return RuntimeChoice("subprocess", "cannot tell which Python the project venv has")
    same_impl = venv.implementation is not None and venv.implementation == here.implementation
    theirs = venv.label()
    ours = here.label(with_implementation=not same_impl)
    if venv.implementation is None or venv.version is None or venv.free_threaded is None:
        return RuntimeChoice("subprocess", f"cannot tell the implementation and ABI of the project venv ({theirs})")
    if not same_impl or venv.version != here.version or venv.free_threaded != here.free_threaded:
        return RuntimeChoice("subprocess", f"project venv is {theirs}, wasmtool runs on {ours}")
    if venv.abiflags is not None and here.abiflags is not None and venv.abiflags != here.abiflags:
        return RuntimeChoice("subprocess", f"project venv is {theirs} with ABI flags {venv.abiflags!r}, "
                                           f"wasmtool runs on {ours} with {here.abiflags!r}")
    if venv.cache_tag is not None and here.cache_tag is not None and venv.cache_tag != here.cache_tag:
        return RuntimeChoice("subprocess", f"project venv is {theirs} (cache tag {venv.cache_tag}), wasmtool runs "
                                           f"on {ours} ({here.cache_tag})")
    return RuntimeChoice("embedded", f"project venv is {theirs}, the same interpreter and ABI wasmtool runs on")


def running_interpreter() -> InterpreterInfo:
    """This process's interpreter."""
    return InterpreterInfo(
        implementation=sys.implementation.name,
        version=(sys.version_info[0], sys.version_info[1]),
        free_threaded=bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        abiflags=getattr(sys, "abiflags", ""),
        cache_tag=sys.implementation.cache_tag,
    )


def probe_interpreter(python: str | Path, *, timeout: float = 30.0) -> InterpreterInfo | None:
    """Ask interpreter ``python`` (isolated, no site) what it is; ``None`` if it cannot answer."""
    try:
        proc = run_tool("python", [str(python), "-I", "-S", "-c", _PROBE], timeout=timeout)
        data = json.loads(proc.stdout)
    except (ExternalToolError, ValueError):   # cannot be run, fails, hangs, or answers nonsense
        return None
    if not isinstance(data, dict):
        return None
    try:
        major, minor = (int(v) for v in data["version"])
        return InterpreterInfo(implementation=str(data["implementation"]), version=(major, minor),
                               free_threaded=bool(data["free_threaded"]), abiflags=str(data["abiflags"]),
                               cache_tag=None if data["cache_tag"] is None else str(data["cache_tag"]))
    except (KeyError, TypeError, ValueError):
        return None


def _from_files(venv: Path) -> InterpreterInfo | None:
    """What ``pyvenv.cfg`` and the ``lib/python*/site-packages`` folders say."""
    from wasmtool.run.environment import pyvenv_cfg, venv_version

    version = venv_version(venv)
    implementation = pyvenv_cfg(venv).get("implementation", "").lower() or None
    layouts = {p.parent.name.removeprefix("python") for p in venv.glob("lib/python*/site-packages")}
    if version is None and len(layouts) == 1:
        match = re.fullmatch(r"(\d+)\.(\d+)t?", next(iter(layouts)))
        if match:
            version = int(match.group(1)), int(match.group(2))
    free_threaded: bool | None = None
    if version is not None:
        plain = f"{version[0]}.{version[1]}"
        if f"{plain}t" in layouts and plain not in layouts:
            free_threaded = True
        elif plain in layouts and f"{plain}t" not in layouts:
            free_threaded = False
    if version is None and implementation is None:
        return None
    return InterpreterInfo(implementation=implementation, version=version, free_threaded=free_threaded)


def venv_interpreter(venv: Path) -> InterpreterInfo | None:
    """The project venv's interpreter: asked directly, else read from its files; ``None``
    when the venv has no interpreter at all."""
    from wasmtool.run.environment import venv_python

    python = venv_python(venv)
    if not python.exists():
        return None
    return probe_interpreter(python) or _from_files(venv)
