"""The process environment a project's programs run in (``wasmtool exec``).

The released Mochi (0.10) calls Python by running the first ``python3`` on ``PATH`` with
the parent's environment, and imports ``python_wrap.<alias>.<pkg>_externs`` there. So a
Mochi program reaches a project's bindings when the project venv's ``bin`` comes first on
``PATH`` and the bindings workspace is on ``PYTHONPATH``. :func:`project_environment`
computes that environment; it is pure (no file system, no ``os.environ``).

:func:`venv_python` and :func:`venv_version` say where a venv's interpreter is and which
``major.minor`` its ``pyvenv.cfg`` names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

__all__ = ["project_environment", "pyvenv_cfg", "venv_bin", "venv_python", "venv_version"]


def venv_bin(venv: Path, *, windows: bool | None = None) -> Path:
    """The scripts folder of virtual environment ``venv``: ``bin`` (``Scripts`` on Windows)."""
    if windows is None:
        windows = os.name == "nt"
    return venv / ("Scripts" if windows else "bin")


def venv_python(venv: Path) -> Path:
    """The interpreter of virtual environment ``venv`` (``bin/python`` or ``Scripts/python.exe``)."""
    return venv / "Scripts" / "python.exe" if os.name == "nt" else venv / "bin" / "python"


def pyvenv_cfg(venv: Path) -> dict[str, str]:
    """The ``key = value`` lines of the venv's ``pyvenv.cfg`` (empty when it cannot be read)."""
    try:
        lines = (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    return {k.strip(): v.strip() for k, sep, v in (line.partition("=") for line in lines) if sep}


def venv_version(venv: Path) -> tuple[int, int] | None:
    """``(major, minor)`` from the venv's ``pyvenv.cfg`` (``version_info``, else ``version``)."""
    values = pyvenv_cfg(venv)
    for key in ("version_info", "version"):
        match = re.match(r"(\d+)\.(\d+)", values.get(key, ""))
        if match:
            return int(match.group(1)), int(match.group(2))
    return None


def _prepend(entry: str, existing: str | None, *, keep_empty: bool) -> str:
    """``entry`` first, then ``existing``'s entries without ``entry`` (no duplicate when
    environments nest). ``keep_empty`` keeps empty entries (on ``PATH`` they mean ".")."""
    rest = existing.split(os.pathsep) if existing else []
    kept = [p for p in rest if p != entry and (keep_empty or p)]
    return os.pathsep.join([entry, *kept])


def project_environment(base_env: Mapping[str, str], venv: Path, workspace: Path) -> dict[str, str]:
    """``base_env`` with the project's venv and bindings workspace made visible.

    * ``PATH``: ``<venv>/bin`` first, then the base ``PATH`` (``os.defpath`` when unset,
      as ``execvp`` would use); an existing ``<venv>/bin`` entry is moved, not repeated.
    * ``VIRTUAL_ENV``: ``venv``.
    * ``PYTHONPATH``: ``workspace`` first, then the base entries (no empty ones, no repeat).
    * ``PYTHONHOME``: removed (it would point the venv's interpreter at another stdlib).

    Every other variable is kept as is. ``base_env`` is not modified.
    """
    env = dict(base_env)
    env.pop("PYTHONHOME", None)
    env["PATH"] = _prepend(str(venv_bin(venv)), base_env.get("PATH", os.defpath), keep_empty=True)
    env["VIRTUAL_ENV"] = str(venv)
    env["PYTHONPATH"] = _prepend(str(workspace), base_env.get("PYTHONPATH"), keep_empty=False)
    return env
