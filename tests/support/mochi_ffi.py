"""An emulator of one call through the released Mochi's (0.10.x) Python FFI, for the tests.

No Mochi binary is used: this reproduces the protocol of the project's spec of Mochi 0.10.82
(§2), not Mochi's source. ``alias.name(a, b)`` after ``import python "pkg.mod" as alias``
becomes, at run time:

1. the arguments as plain values (int, float, string, bool, list, map with string keys,
   null) encoded as one JSON array, as Go's ``encoding/json`` writes it (a float with an
   integral value is written without a fraction: ``2.0`` arrives in Python as ``2``);
2. a small script in a fresh ``mochi_py_*.py`` in the system temp dir (deleted afterwards):
   import the module, follow the dotted attribute, call it with the arguments spread
   positionally when ``inspect.isroutine`` says it is a routine, else take its value (with
   no arguments; with some: ``TypeError ... is not callable``), ``json.dump`` the result;
3. the first ``python3`` on ``env["PATH"]`` runs it with ``env`` plus ``MOCHI_ARGS``: a new
   interpreter per call, nothing survives between calls;
4. stdout and stderr are read as one stream: a non-zero exit is a runtime error carrying that
   output (:class:`MochiRuntimeError`), output that is not one JSON value a decode error
   (:class:`MochiDecodeError`);
5. the JSON comes back as Go decodes it into ``any``: every number a float.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = ["MochiDecodeError", "MochiFfiError", "MochiRuntimeError", "call", "encode_args", "script_text"]

_INT64 = (-(2**63), 2**63 - 1)

_SCRIPT = """\
import importlib
import inspect
import json
import os
import sys

args = json.loads(os.environ.get("MOCHI_ARGS", "[]"))
obj = importlib.import_module({module})
for part in {attr}.split("."):
    obj = getattr(obj, part)
if inspect.isroutine(obj):
    result = obj(*args)
elif args:
    raise TypeError({attr} + " is not callable")
else:
    result = obj
json.dump(result, sys.stdout)
"""


class MochiFfiError(Exception):
    """A failed call; ``output`` is the call's combined stdout and stderr."""

    def __init__(self, message: str, *, output: str) -> None:
        super().__init__(message)
        self.output = output


class MochiRuntimeError(MochiFfiError):
    """The Python process exited with a non-zero status (Mochi's runtime error)."""

    def __init__(self, message: str, *, output: str, returncode: int) -> None:
        super().__init__(message, output=output)
        self.returncode = returncode


class MochiDecodeError(MochiFfiError):
    """The process's combined output is not exactly one JSON value."""


def _go_float(value: float) -> str:
    """``value`` as Go's ``encoding/json`` writes a float64 (shortest digits; an exponent only
    below 1e-6 or from 1e21; no ``.0``)."""
    if not math.isfinite(value):
        raise TypeError(f"json: unsupported value: {value!r} (Go cannot encode it)")
    if value == 0 or 1e-6 <= abs(value) < 1e21:
        text = format(Decimal(repr(value)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return repr(value).replace("e-0", "e-").replace("e+0", "e+")


def _encode(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise TypeError(f"{value} is not a Mochi int (int64)")
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise TypeError(f"map key {bad[0]!r} is not a string (Mochi sends objects with string keys)")
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_encode(value[k])}"
                              for k in sorted(value)) + "}"
    raise TypeError(f"{type(value).__name__} is not a Mochi value (int, float, string, bool, list, map, null)")


def encode_args(args: list[Any]) -> str:
    """The ``MOCHI_ARGS`` text for ``args`` (map keys sorted, as Go writes them)."""
    return _encode(list(args))


def script_text(module: str, attr: str) -> str:
    """The script Mochi writes for one call of ``module``'s ``attr`` (dotted)."""
    return _SCRIPT.format(module=json.dumps(module), attr=json.dumps(attr))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def call(module: str, attr: str, args: list[Any], *, env: Mapping[str, str], cwd: Path | None = None,
         timeout: float = 300) -> Any:
    """One FFI call: ``module.attr(*args)`` in a fresh ``python3`` found on ``env["PATH"]``."""
    payload = encode_args(args)
    python = shutil.which("python3", path=env.get("PATH", os.defpath))
    if python is None:
        raise MochiRuntimeError("python3 not found on PATH", output="", returncode=127)
    fd, name = tempfile.mkstemp(prefix="mochi_py_", suffix=".py")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(script_text(module, attr))
        proc = subprocess.run([python, name], env={**env, "MOCHI_ARGS": payload}, cwd=cwd, timeout=timeout,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    finally:
        os.unlink(name)
    output = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise MochiRuntimeError(f"python call {module}.{attr} failed (exit {proc.returncode}):\n{output}",
                                output=output, returncode=proc.returncode)
    try:
        return json.loads(output, parse_int=float, parse_constant=_reject_constant)
    except ValueError as exc:
        raise MochiDecodeError(f"python call {module}.{attr}: cannot decode the output as JSON ({exc}):\n{output}",
                               output=output) from exc
