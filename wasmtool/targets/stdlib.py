"""A target interpreter's standard library, read from the archive its distribution ships
(pure: member names and bytes in, facts out).

Both WebAssembly CPythons ship their standard library as an archive of sources:
componentize-py embeds the guest's as a tar (:mod:`wasmtool.wit.guest_python`), Pyodide
has ``python_stdlib.zip``. Each holds a ``_sysconfigdata_*.py`` whose ``VERSION`` is the
interpreter's ``major.minor`` and whose ``MODBUILT_NAMES`` lists the C modules linked into
it. :class:`Stdlib` answers what the host's ``sys.stdlib_module_names``,
``importlib.util.find_spec`` and ``sysconfig.get_paths()["stdlib"]`` would answer on the
target, never on the host:

* ``version``: ``VERSION``, or ``build-details.json``'s ``language.version`` (``3.14``);
* ``module_names``: the top-level ``.py`` modules and packages of the archive, the C modules
  of ``MODBUILT_NAMES`` and :data:`INTERPRETER_CORE` (the interpreter's own built-ins, which
  no build variable lists);
* ``source(name)``: the text of a module's ``.py`` (``None`` for C modules);
* ``dotted_names``: every ``.py`` module and package of the archive by dotted name.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

__all__ = ["INTERPRETER_CORE", "Stdlib", "parse_stdlib"]

#: Modules compiled into every CPython from ``Python/`` (not ``Modules/``), so no
#: ``MODBUILT_NAMES`` lists them; all are in ``sys.stdlib_module_names``.
INTERPRETER_CORE = frozenset({
    "_ast", "_contextvars", "_frozen_importlib", "_frozen_importlib_external", "_imp", "_io", "_string",
    "_tokenize", "_warnings", "builtins", "gc", "marshal", "sys",
})
#: Set by ``os`` at import time (``posixpath``), not a file of the archive.
_ALIASED_SUBMODULES = frozenset({"os.path"})
_SYSCONFIGDATA = re.compile(r"^_sysconfigdata_[A-Za-z0-9_.-]*\.py$")


@dataclass(frozen=True)
class Stdlib:
    """A target's standard library (see the module docstring)."""

    version: str                                   # major.minor
    full_version: str                              # major.minor.micro when the archive says, else major.minor
    module_names: frozenset[str]
    files: Mapping[str, bytes] = field(repr=False, compare=False, hash=False)
    origin: str = ""                               # where the archive was read from
    digest: str = ""                               # SHA-256 over the member names and bytes

    def is_module(self, name: str) -> bool:
        """``name`` (``email.message``) is a module of this standard library: its top level is
        one of :attr:`module_names` and, when dotted, the archive has it as a file or package."""
        if name.split(".")[0] not in self.module_names:
            return False
        if "." not in name or name in _ALIASED_SUBMODULES:
            return True
        return self._path_of(name) is not None

    def source(self, name: str) -> tuple[bool, str] | None:
        """``(is_package, text)`` of module ``name``'s ``.py`` source, or ``None``."""
        path = self._path_of(name)
        if path is None:
            return None
        return path.endswith("/__init__.py"), self.files[path].decode("utf-8", errors="replace")

    def _path_of(self, name: str) -> str | None:
        base = name.replace(".", "/")
        for path in (f"{base}.py", f"{base}/__init__.py"):
            if path in self.files:
                return path
        return None

    @cached_property
    def dotted_names(self) -> tuple[str, ...]:
        """Every module of the archive by dotted name (``encodings.punycode``, ``email``), sorted."""
        out: set[str] = set()
        for path in self.files:
            if not path.endswith(".py"):
                continue
            parts = path[:-3].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts and all(p.isidentifier() for p in parts) and parts[0] in self.module_names:
                out.add(".".join(parts))
        return tuple(sorted(out))

    @cached_property
    def key(self) -> str:
        """What a build derived from this standard library depends on (for cache keys)."""
        return json.dumps([self.full_version, sorted(self.module_names), self.digest])


def _literal_dict(text: str, name: str) -> dict[str, object]:
    """The literal ``name = {...}`` assignment of a ``_sysconfigdata`` module, without running it."""
    for node in ast.parse(text).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == name):
            if not isinstance(node.value, ast.Dict):
                return {}
            # entry by entry: a build may write a value as an f-string (Pyodide 314 does), which
            # is not a literal; such an entry is left out, the others are still read
            out: dict[str, object] = {}
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                try:
                    k, v = ast.literal_eval(key) if key is not None else None, ast.literal_eval(value)
                except ValueError:
                    continue
                if isinstance(k, str):
                    out[k] = v
            return out
    return {}


def parse_stdlib(files: Mapping[str, bytes], *, origin: str = "") -> Stdlib:
    """The facts of a standard-library archive given as ``{member path: bytes}`` (``/``
    separators, paths relative to the library folder).

    Raises ``ValueError`` when the archive has no ``_sysconfigdata_*.py`` naming a ``VERSION``;
    the reader that found the archive turns it into its own coded error.
    """
    configs = sorted(p for p in files if _SYSCONFIGDATA.match(p))
    if not configs:
        raise ValueError(f"{origin or 'the archive'}: no _sysconfigdata_*.py")
    build = _literal_dict(files[configs[0]].decode("utf-8", errors="replace"), "build_time_vars")
    version = str(build.get("VERSION") or "")
    if not re.fullmatch(r"\d+\.\d+", version):
        raise ValueError(f"{origin or 'the archive'}: {configs[0]} has no VERSION")
    full = version
    if "build-details.json" in files:
        try:
            info = json.loads(files["build-details.json"])["language"]["version_info"]
            full = f"{info['major']}.{info['minor']}.{info['micro']}"
        except (ValueError, KeyError, TypeError):
            pass
    names = set(INTERPRETER_CORE) | set(str(build.get("MODBUILT_NAMES") or "").split())
    for path in files:
        head, sep, rest = path.partition("/")
        if not sep and head.endswith(".py"):
            names.add(head[:-3])
        elif sep and rest == "__init__.py":
            names.add(head)
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    return Stdlib(version=version, full_version=full,
                  module_names=frozenset(n for n in names if n.isidentifier()), files=dict(files),
                  origin=origin, digest=digest.hexdigest())
