"""Find a CPython interpreter of a given ``X.Y`` version on this machine.

uv cannot see pyenv's versions through its shims (a shim for an inactive version exits
127), and downloads are off, so the search is: ``$WASMTOOL_PYTHON_X_Y``, the running
interpreter, ``uv python find``, pyenv's version folders, then ``pythonX.Y`` on PATH.
Every candidate is asked for its version before it is used.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from wasmtool.errors import ExternalToolError, InterpreterNotFoundError
from wasmtool.tools import run_tool

_VERSION_PROBE = "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"


def _version_of(python: str) -> str | None:
    """``X.Y`` of interpreter ``python``; ``None`` when it cannot be run, fails or hangs."""
    try:
        out = run_tool("python", [python, "-c", _VERSION_PROBE], timeout=30)
    except ExternalToolError:
        return None
    return out.stdout.strip()


def _uv_python_find(version: str) -> str | None:
    """What ``uv python find`` answers (through the uv runner); ``None`` when uv is missing,
    finds nothing (it exits non-zero) or hangs."""
    from wasmtool.resolve.errors import UvFailedError, UvNotFoundError, UvTimeoutError
    from wasmtool.resolve.uv import find_uv, run_uv

    try:
        out = run_uv([find_uv(), "python", "find", "--no-config", version], timeout=30,
                     what=f"looking for CPython {version}")
    except (UvNotFoundError, UvFailedError, UvTimeoutError):
        return None
    return out.stdout.strip() or None


def candidates(version: str) -> list[str]:
    env_key = "WASMTOOL_PYTHON_" + version.replace(".", "_")
    found: list[str] = []
    if os.environ.get(env_key):
        found.append(os.environ[env_key])
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version and sys.implementation.name == "cpython":
        found.append(sys.executable)
    from_uv = _uv_python_find(version)
    if from_uv:
        found.append(from_uv)
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    versions = pyenv_root / "versions"
    if versions.is_dir():
        for d in sorted(versions.iterdir(), reverse=True):
            if d.name == version or d.name.startswith(version + "."):
                exe = d / "bin" / f"python{version}"
                if exe.exists():
                    found.append(str(exe))
    on_path = shutil.which(f"python{version}")
    if on_path:
        found.append(on_path)
    return found


def find_interpreter(version: str) -> str:
    for cand in candidates(version):
        if _version_of(cand) == version:
            return cand
    raise InterpreterNotFoundError(
        f"no CPython {version} interpreter found on this machine",
        field="python.python-version",
        hint=f"install CPython {version} or set WASMTOOL_PYTHON_{version.replace('.', '_')} to its path",
    )
