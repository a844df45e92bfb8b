"""Opening a session on a bound project: :func:`open_session` (see :mod:`wasmtool.run.session`)."""

from __future__ import annotations

from pathlib import Path

from wasmtool.run.session import Session
from wasmtool.targets.backend import backend_named
from wasmtool.targets.profile import DEFAULT_TARGET

__all__ = ["open_session"]


def open_session(
    root: Path,
    *,
    target: str = DEFAULT_TARGET,
    mode: str | None = None,
    python: str | None = None,
    async_mode: str | None = None,
    timeout: float | None = None,
) -> Session:
    """Open a session on the bound project at ``root`` for ``target`` (its backend chooses and
    opens the runtime; see :mod:`wasmtool.run.session`).

    ``mode`` defaults to ``[python].runtime-mode`` and ``async_mode`` to ``[python].async-mode``;
    ``python`` replaces the project venv's interpreter (subprocess or auto mode: auto then
    means subprocess); ``timeout`` (seconds) bounds every async wrapper call (every call on
    the WebAssembly targets).
    """
    return backend_named(target).open_session(root, mode=mode, python=python, async_mode=async_mode,
                                              timeout=timeout)
