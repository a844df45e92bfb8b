"""Where the cache lives by default (formats.md §6)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["default_cache_dir"]


def _home(env: Mapping[str, str], *, real_env: bool) -> Path | None:
    names = ("USERPROFILE", "HOME") if sys.platform == "win32" else ("HOME",)
    for name in names:
        value = env.get(name, "")
        if value:
            return Path(value)
    if real_env:
        try:
            return Path.home()  # falls back to the password database on POSIX
        except (RuntimeError, KeyError, OSError):
            return None
    return None


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """The cache root, first match wins:

    1. ``$WASMTOOL_CACHE_DIR`` (``~`` expanded),
    2. ``$XDG_CACHE_HOME/wasmtool`` (only an absolute value counts, as the XDG spec says),
    3. ``~/.cache/wasmtool`` (``$HOME``; the password database only when ``env`` is the real one),
    4. ``$TMPDIR/wasmtool-cache`` (the platform temp folder when ``$TMPDIR`` is unset).

    Empty variables count as unset. ``env`` defaults to ``os.environ``; pass a mapping to
    ask "where would the cache be in this environment" without touching the real one.
    """
    real_env = env is None
    environ: Mapping[str, str] = os.environ if env is None else env
    explicit = environ.get("WASMTOOL_CACHE_DIR", "")
    if explicit:
        return Path(os.path.expanduser(explicit)) if real_env else _expand_user(explicit, environ)
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "wasmtool"
    home = _home(environ, real_env=real_env)
    if home is not None:
        return home / ".cache" / "wasmtool"
    tmpdir = environ.get("TMPDIR", "") or tempfile.gettempdir()
    return Path(tmpdir) / "wasmtool-cache"


def _expand_user(value: str, env: Mapping[str, str]) -> Path:
    """``~`` / ``~/x`` expanded with the given environment's home (``~user`` left as is)."""
    if value == "~" or value.startswith(("~/", "~" + os.sep)):
        home = _home(env, real_env=False)
        if home is not None:
            return home / value[2:] if len(value) > 1 else home
    return Path(value)
