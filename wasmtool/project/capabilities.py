"""``[python.capabilities.<package>]``: what a package may reach at run time (least privilege).

A table per package (names compared normalised, as in ``[python-dependencies]``)::

    [python.capabilities.capprobe]
    fs-read = ["data/"]          # folders inside the project, read-only
    fs-write = ["out"]           # folders inside the project, read and write
    env = ["GREETING"]           # environment variables passed through from the host
    net = ["example.org:443"]    # host:port the package may connect to
    clocks = true                # wall and monotonic clocks
    random = true                # the random source

The grants are recorded in ``mochi.lock`` (``[python-capabilities.<package>]``). A relock
whose manifest asks for more than the lock records is a capability growth
(:func:`capability_growth`), refused until accepted (``wasmtool lock --accept-capabilities``).
Under wasmtime the runner grants a component exactly its recorded grants (:mod:`wasmtool.run.wasi`);
on native they are recorded and reported, not enforced.

Everything here is pure except :func:`check_grant_folders` (the IO edge: it resolves the
folders on disk to refuse a link that leaves the project).
"""

from __future__ import annotations

import ast
import ipaddress
import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import InvalidName, canonicalize_name

__all__ = [
    "CAPABILITY_KEYS",
    "CapabilityTable",
    "Denial",
    "GrantFolder",
    "Grants",
    "added_grants",
    "capability_growth",
    "check_grant_folders",
    "denial_of",
    "grant_folders",
    "guest_path",
    "parse_capabilities",
    "table_to_dict",
]

#: The keys of one package's table, in the order they are documented and reported.
CAPABILITY_KEYS = ("fs-read", "fs-write", "env", "net", "clocks", "random")
_LIST_KEYS = ("fs-read", "fs-write", "env", "net")
_BOOL_KEYS = ("clocks", "random")

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HOST_NAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


@dataclass(frozen=True)
class Grants:
    """One package's grants. Folders are project-relative, normalised (``data``, ``data/sub``,
    ``.`` for the whole project), sorted and without duplicates; so are the other lists."""

    fs_read: tuple[str, ...] = ()
    fs_write: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    net: tuple[str, ...] = ()
    clocks: bool = False
    random: bool = False

    def is_empty(self) -> bool:
        return self == Grants()

    def union(self, other: Grants) -> Grants:
        return Grants(
            fs_read=tuple(sorted(set(self.fs_read) | set(other.fs_read))),
            fs_write=tuple(sorted(set(self.fs_write) | set(other.fs_write))),
            env=tuple(sorted(set(self.env) | set(other.env))),
            net=tuple(sorted(set(self.net) | set(other.net))),
            clocks=self.clocks or other.clocks, random=self.random or other.random,
        )

    def to_dict(self) -> dict[str, Any]:
        """The canonical table (``mochi.lock``, ``--json``): keys in :data:`CAPABILITY_KEYS`
        order, empty lists and ``false`` left out."""
        out: dict[str, Any] = {}
        for key in CAPABILITY_KEYS:
            value = getattr(self, key.replace("-", "_"))
            if value:
                out[key] = list(value) if isinstance(value, tuple) else value
        return out

    def describe(self) -> list[str]:
        """One item per grant: ``fs-read "data"``, ``env "HOME"``, ``clocks``."""
        items: list[str] = []
        for key in CAPABILITY_KEYS:
            value = getattr(self, key.replace("-", "_"))
            if isinstance(value, tuple):
                items += [f"{key} {json.dumps(v)}" for v in value]
            elif value:
                items.append(key)
        return items


#: Every package's grants by canonical name, sorted by name (empty tables are kept: a
#: package listed with nothing granted).
CapabilityTable = tuple[tuple[str, Grants], ...]


def table_to_dict(table: CapabilityTable) -> dict[str, dict[str, Any]]:
    """``{name: grants.to_dict()}`` of the packages granted something, sorted by name."""
    return {name: g.to_dict() for name, g in sorted(table) if not g.is_empty()}


# -- parsing ----------------------------------------------------------------------------------


def parse_capabilities(raw: Any, problems: list[str], *, path: str = "python.capabilities") -> CapabilityTable:
    """Validate ``[python.capabilities]`` (or the lock's ``[python-capabilities]``), adding
    one line per problem to ``problems`` with its key path; the packages without problems
    are returned."""
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: expected a table of packages")
        return ()
    out: dict[str, Grants] = {}
    raw_names: dict[str, str] = {}
    for raw_name, table in raw.items():
        where = f"{path}.{_key_text(raw_name)}"
        try:
            name = str(canonicalize_name(str(raw_name), validate=True))
        except InvalidName:
            where = f"{path}.{json.dumps(str(raw_name), ensure_ascii=True)}"
            problems.append(f"{where}: not a valid package name (PEP 508: letters, digits, '.', '-', '_', "
                            "starting and ending with a letter or digit)")
            continue
        if name in raw_names:
            problems.append(f"{where}: duplicate of {raw_names[name]} (names are compared normalised)")
            continue
        raw_names[name] = str(raw_name)
        grants = _parse_grants(table, where, problems)
        if grants is not None:
            out[name] = grants
    return tuple((k, out[k]) for k in sorted(out))


def _key_text(key: Any) -> str:
    text = str(key)
    return text if re.fullmatch(r"[A-Za-z0-9_.-]+", text) else json.dumps(text, ensure_ascii=True)


def _parse_grants(raw: Any, where: str, problems: list[str]) -> Grants | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a table with {', '.join(CAPABILITY_KEYS)}")
        return None
    start = len(problems)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        at = f"{where}.{_key_text(key)}"
        if key in _BOOL_KEYS:
            if not isinstance(value, bool):
                problems.append(f"{at}: expected true or false, got {type(value).__name__}")
                continue
            values[key.replace("-", "_")] = value
        elif key in _LIST_KEYS:
            if not isinstance(value, list):
                problems.append(f"{at}: expected a list of strings, got {type(value).__name__}")
                continue
            checker = _folder if key.startswith("fs-") else _env_name if key == "env" else _net_address
            items: set[str] = set()
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    problems.append(f"{at}[{i}]: expected a string, got {type(item).__name__}")
                    continue
                normal, why = checker(item)
                if why:
                    problems.append(f"{at}[{i}]: {json.dumps(item, ensure_ascii=True)}: {why}")
                    continue
                items.add(normal)
            values[key.replace("-", "_")] = tuple(sorted(items))
        else:
            problems.append(f"{at}: unknown key (expected one of {', '.join(CAPABILITY_KEYS)})")
    if len(problems) > start:
        return None
    return Grants(**values)


def _folder(text: str) -> tuple[str, str]:
    """``(normalised, "")`` for a folder inside the project, else ``("", why)``."""
    why = "expected a folder inside the project (relative, '/'-separated, without '..')"
    if not text or _CONTROL.search(text) or "\\" in text or text.startswith(("/", "~")) or re.match(r"[A-Za-z]:", text):
        return "", why
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        return "", why
    return ("/".join(parts) or "."), ""


def _env_name(text: str) -> tuple[str, str]:
    if _ENV_NAME.fullmatch(text):
        return text, ""
    return "", "expected an environment variable name (letters, digits, '_'; not starting with a digit)"


def _net_address(text: str) -> tuple[str, str]:
    """``host:port`` (``[v6]:port`` for an IPv6 address); the host is lower-cased."""
    why = "expected host:port (a host name or IP address, and a port from 1 to 65535; [::1]:port for IPv6)"
    m = re.fullmatch(r"\[(?P<v6>[0-9A-Fa-f:.]+)\]:(?P<port>\d{1,5})|(?P<host>[^:\[\]]+):(?P<port2>\d{1,5})", text)
    if m is None:
        return "", why
    port = int(m.group("port") or m.group("port2"))
    if not 1 <= port <= 65535:
        return "", why
    if m.group("v6") is not None:
        try:
            return f"[{ipaddress.IPv6Address(m.group('v6')).compressed}]:{port}", ""
        except ValueError:
            return "", why
    host = m.group("host")
    if not _HOST_NAME.fullmatch(host):
        return "", why
    return f"{host.lower()}:{port}", ""


# -- growth ------------------------------------------------------------------------------------


def _covered(folder: str, by: Iterable[str]) -> bool:
    return any(f == "." or folder == f or folder.startswith(f + "/") for f in by)


def added_grants(recorded: Grants, wanted: Grants) -> list[str]:
    """What ``wanted`` grants beyond ``recorded`` (:meth:`Grants.describe` items). A folder is
    covered by a recorded folder holding it; ``fs-write`` covers ``fs-read``."""
    added = [f"fs-read {json.dumps(f)}" for f in wanted.fs_read
             if not _covered(f, (*recorded.fs_read, *recorded.fs_write))]
    added += [f"fs-write {json.dumps(f)}" for f in wanted.fs_write if not _covered(f, recorded.fs_write)]
    added += [f"env {json.dumps(e)}" for e in wanted.env if e not in recorded.env]
    added += [f"net {json.dumps(n)}" for n in wanted.net if n not in recorded.net]
    added += [k for k in _BOOL_KEYS if getattr(wanted, k) and not getattr(recorded, k)]
    return added


def capability_growth(recorded: CapabilityTable, wanted: CapabilityTable) -> list[str]:
    """One line per package that ``wanted`` grants more than ``recorded`` (a package the lock
    records nothing for has nothing granted): ``capprobe: env "HOME", fs-read "data"``."""
    have = dict(recorded)
    lines: list[str] = []
    for name, grants in sorted(wanted):
        added = added_grants(have.get(name, Grants()), grants)
        if added:
            lines.append(f"{name}: {', '.join(added)}")
    return lines


# -- what a component is given -----------------------------------------------------------------


def guest_path(folder: str) -> str:
    """Where a granted folder appears inside a WASI guest: at the same path below ``/``, the
    guest's working directory, so ``data/a.txt`` names the same file natively (run from the
    project) and in the component. The whole project (``.``) is ``/``."""
    return "/" if folder == "." else "/" + folder


@dataclass(frozen=True)
class GrantFolder:
    folder: str          # project-relative (``data``)
    guest: str           # ``/data``
    writable: bool


def grant_folders(grants: Grants) -> tuple[GrantFolder, ...]:
    """The folders to preopen, each once (``fs-write`` wins over ``fs-read``), sorted."""
    writable = set(grants.fs_write)
    return tuple(GrantFolder(f, guest_path(f), f in writable)
                 for f in sorted(set(grants.fs_read) | writable))


def check_grant_folders(root: Path, grants: Grants) -> list[str]:
    """One line per granted folder that cannot be granted (IO): missing, not a folder, or
    resolving (through a symbolic link) outside the project."""
    lines: list[str] = []
    top = root.resolve()
    for g in grant_folders(grants):
        where = root / g.folder
        try:
            real = where.resolve(strict=True)
        except (OSError, RuntimeError):
            lines.append(f"{g.folder}: no such folder in the project")
            continue
        if real != top and top not in real.parents:
            lines.append(f"{g.folder}: leads outside the project (to {real}) through a symbolic link")
        elif not real.is_dir():
            lines.append(f"{g.folder}: not a folder")
    return lines


# -- what a denied call looks like -------------------------------------------------------------


@dataclass(frozen=True)
class Denial:
    """A guest failure that an ungranted capability explains: ``capability`` (``fs-read``,
    ``fs-write``, ``env``) and ``subject`` (the path as the guest named it, or the variable)."""

    capability: str
    subject: str
    detail: str


_OS_ERRORS = frozenset({"OSError", "FileNotFoundError", "PermissionError", "NotADirectoryError",
                        "IsADirectoryError", "FileExistsError"})
#: ``[Errno 44] No such file or directory: 'x'`` (one path; two are ``'a' -> 'b'``).
_QUOTED = r"'(?:[^'\\]|\\.)*'" + "|" + r'"(?:[^"\\]|\\.)*"'
_OS_MESSAGE = re.compile(rf"\[Errno \d+\] [^:]*: (?P<path>{_QUOTED})(?: -> (?P<path2>{_QUOTED}))?\Z")
#: Python's ``os.environ[name]`` raising: the last frame is ``os``'s ``__getitem__``.
_ENVIRON_FRAME = re.compile(r'File "(?:<frozen os>|[^"]*[/\\]os\.py)", line \d+, in __getitem__')


def _literal(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def denial_of(python_type: str, python_message: str, traceback: str, grants: Grants) -> Denial | None:
    """Whether a guest's Python exception is an access its grants do not allow.

    * an ``OSError`` on a path no granted folder holds (paths are resolved as the guest
      does: relative to ``/``, ``..`` applied), whatever the errno: the guest cannot see
      anything else, so the file's existence on the host is no part of the answer
      (``fs-read``; ``fs-write`` when a read-only folder holds the path and the error is a
      permission error, a write or create refused there);
    * a ``KeyError`` raised by ``os.environ[name]`` (the traceback's last frame is ``os``'s
      ``__getitem__``) for a variable that is not granted (``env``).

    Anything else (a missing file inside a granted folder, a granted variable unset on the
    host, a ``None`` from ``os.environ.get``) is the package's own business: ``None``."""
    if python_type in _OS_ERRORS:
        m = _OS_MESSAGE.search(python_message)
        if m is None:
            return None
        for raw in (m.group("path"), m.group("path2")):
            path = _literal(raw)
            if path is None:
                continue
            where = posixpath.normpath(posixpath.join("/", path))
            folders = grant_folders(grants)
            holding = [g for g in folders if g.guest == "/" or where == g.guest or where.startswith(g.guest + "/")]
            if not holding:
                return Denial("fs-read", path, f"{path!r} is outside every granted folder")
            if python_type == "PermissionError" and not any(g.writable for g in holding):
                return Denial("fs-write", path, f"{path!r} is in a folder granted read-only")
        return None
    frames = [ln.strip() for ln in traceback.splitlines() if ln.strip().startswith('File "')]
    if python_type == "KeyError" and frames and _ENVIRON_FRAME.fullmatch(frames[-1]):
        name = _literal(python_message)
        if name is not None and name not in grants.env:
            return Denial("env", name, f"the environment variable {name!r} is not granted")
    return None

