"""The Pyodide runtime a browser bundle needs: copied into the bundle, or hosted elsewhere.

A browser loads four files of the ``pyodide`` npm package and nothing else of it
(:data:`RUNTIME_FILES`): ``pyodide.mjs`` (imported by the loader), ``pyodide.asm.mjs`` (the
Emscripten module), ``pyodide.asm.wasm`` and ``python_stdlib.zip``. The package's
``pyodide-lock.json`` is not among them: the loader hands Pyodide the bundle's own lock.
Type declarations, source maps, the UMD ``pyodide.js`` and the consoles are left out, and so
is everything Node needs (Node loads Pyodide from ``node_modules``, where ``ws`` resolves).

The npm package lists no per-file hashes; ``package-lock.json`` pins the sha512 of its
tarball. ``scripts/pin_pyodide_runtime.py`` checks that tarball against the lock and writes
the sha256 and size of each runtime file to :mod:`wasmtool.bundle.runtime_pins`. Every
bundle is built against those pins:

* :func:`bundled_runtime`: the files are copied from ``node_modules/pyodide`` into the
  bundle's ``pyodide/`` folder, and each copy must hash to its pin (:class:`RuntimeFilesError`
  names the file, both hashes and the version otherwise);
* :func:`hosted_runtime` (``install --pyodide-url URL``): nothing is copied; ``bundle.json``
  records the URL and the pinned hashes, and the loader checks each file it fetches from
  there before Pyodide runs it.

``bundle.json`` carries the result under ``"runtime"`` (:meth:`PyodideRuntime.to_dict`).
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wasmtool.bundle.errors import PyodideUrlError, RuntimeFilesError
from wasmtool.fsutil import sha256_file

__all__ = ["RUNTIME_FILES", "RUNTIME_FOLDER", "PyodideRuntime", "RuntimeFile", "bundled_runtime",
           "check_remote_url", "copy_runtime", "hosted_runtime", "npm_version", "pinned_files"]

#: What a browser loads from the npm package, in the order it asks for them.
RUNTIME_FILES: tuple[str, ...] = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")
#: The bundle's folder for them; ``bundle.json`` says ``"index_url": "pyodide/"``.
RUNTIME_FOLDER = "pyodide"

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True)
class RuntimeFile:
    """One runtime file: its name in the Pyodide folder, sha256 and size."""

    file: str
    sha256: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class PyodideRuntime:
    """Where a browser gets Pyodide ``version`` from: ``index_url`` is ``"pyodide/"``
    (relative to the bundle: the files are in it) or the absolute URL of a hosted copy.
    ``source`` is the npm package folder the bundled files are copied from (``None`` when
    hosted, and when read back from ``bundle.json``)."""

    version: str
    index_url: str
    files: tuple[RuntimeFile, ...]
    source: Path | None = field(default=None, compare=False)

    @property
    def bundled(self) -> bool:
        return not _is_absolute(self.index_url)

    def to_dict(self) -> dict[str, Any]:
        return {"pyodide_version": self.version, "index_url": self.index_url,
                "files": [f.to_dict() for f in self.files]}

    @classmethod
    def from_dict(cls, data: Any, problems: list[str], *, where: str = "runtime") -> PyodideRuntime | None:
        """Parse ``bundle.json``'s ``runtime`` object; problems are appended to ``problems``."""
        if not isinstance(data, Mapping):
            problems.append(f"{where}: expected an object or null")
            return None
        version, index_url, raw_files = data.get("pyodide_version"), data.get("index_url"), data.get("files")
        if not isinstance(version, str) or not version:
            problems.append(f"{where}.pyodide_version: expected a string")
        if not isinstance(index_url, str) or not index_url.endswith("/"):
            problems.append(f"{where}.index_url: expected a folder URL ending with '/'")
        elif not _is_absolute(index_url) and (index_url.startswith("/") or ".." in index_url.split("/")):
            problems.append(f"{where}.index_url: a relative index_url must stay inside the bundle: {index_url!r}")
        files: list[RuntimeFile] = []
        if not isinstance(raw_files, list):
            problems.append(f"{where}.files: expected a list")
            raw_files = []
        for i, raw in enumerate(raw_files):
            at = f"{where}.files[{i}]"
            if not isinstance(raw, Mapping):
                problems.append(f"{at}: expected an object")
                continue
            name, sha, size = raw.get("file"), raw.get("sha256"), raw.get("size")
            if not isinstance(name, str) or "/" in name or name in ("", ".", ".."):
                problems.append(f"{at}.file: expected a file name")
            elif not isinstance(sha, str) or not _SHA256_RE.match(sha):
                problems.append(f"{at}.sha256: not 64 lowercase hex digits")
            elif not isinstance(size, int) or isinstance(size, bool) or size < 0:
                problems.append(f"{at}.size: expected a byte count")
            else:
                files.append(RuntimeFile(name, sha, size))
        names = {f.file for f in files}
        for needed in RUNTIME_FILES:
            if files and needed not in names:
                problems.append(f"{where}.files: {needed} is missing")
        if not isinstance(version, str) or not isinstance(index_url, str) or len(files) != len(raw_files):
            return None
        return cls(version=version, index_url=index_url, files=tuple(files))


def _is_absolute(url: str) -> bool:
    return bool(urllib.parse.urlsplit(url).scheme)


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_remote_url(url: str) -> str | None:
    """Why ``url`` is no place to fetch code from (``None``: it is): it must be absolute
    ``https://`` (``http://`` only on a loopback host), with a host, no credentials, no fragment."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError as exc:
        return f"not a URL: {exc}"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an absolute https:// URL"
    if parts.scheme == "http" and not _is_loopback(host):
        return "must use https:// (plain http:// only on 127.0.0.1, ::1 or localhost)"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials"
    if parts.fragment or url.endswith("#"):
        return "must not have a #fragment"
    if any(c.isspace() for c in url):
        return "must not contain white space"
    return None


# --------------------------------------------------------------------------- pins


def npm_version(npm_dir: Path) -> str:
    """The ``version`` of the ``pyodide`` npm package in ``npm_dir``."""
    path = npm_dir / "package.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RuntimeFilesError("the pyodide npm package is not installed here", file=str(path),
                                hint="run scripts/setup-node.sh (npm ci from the committed package-lock.json)") from exc
    except (OSError, ValueError) as exc:
        raise RuntimeFilesError(f"cannot read: {exc}", file=str(path)) from exc
    if not isinstance(data, dict) or data.get("name") != "pyodide" or not isinstance(data.get("version"), str):
        raise RuntimeFilesError("not the package.json of the pyodide npm package", file=str(path))
    return str(data["version"])


def pinned_files(version: str, pins: Mapping[str, Mapping[str, tuple[str, int]]] | None = None
                 ) -> tuple[RuntimeFile, ...]:
    """The pinned runtime files of Pyodide ``version`` (:mod:`wasmtool.bundle.runtime_pins`)."""
    if pins is None:
        from wasmtool.bundle.runtime_pins import PINS

        pins = PINS
    known = pins.get(version)
    if known is None:
        have = ", ".join(sorted(pins)) or "none"
        raise RuntimeFilesError(
            f"no pinned runtime hashes for pyodide {version} (pinned: {have})", package="pyodide",
            hint="install the Pyodide version the target profile names ([runtime].npm-version), or pin this "
                 "one with scripts/pin_pyodide_runtime.py after updating package-lock.json")
    missing = [f for f in RUNTIME_FILES if f not in known]
    if missing:
        raise RuntimeFilesError(f"the pins for pyodide {version} lack {', '.join(missing)}", package="pyodide",
                                hint="re-pin with scripts/pin_pyodide_runtime.py")
    return tuple(RuntimeFile(name, known[name][0], known[name][1]) for name in sorted(RUNTIME_FILES))


def _check_version(npm_dir: Path, expected_version: str | None) -> str:
    version = npm_version(npm_dir)
    if expected_version is not None and version != expected_version:
        raise RuntimeFilesError(
            f"node_modules has pyodide {version}, but the target profile names {expected_version}",
            file=str(npm_dir / "package.json"), package="pyodide",
            hint="run scripts/setup-node.sh (npm ci) to install the pinned Pyodide")
    return version


def _check_file(path: Path, pin: RuntimeFile, version: str, *, shown: Path | None = None) -> None:
    """``path`` must have the pinned size and sha256 (``shown``: the path an error names)."""
    named = str(shown or path)
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise RuntimeFilesError(f"{pin.file} of pyodide {version} is missing", file=named, package="pyodide",
                                hint="run scripts/setup-node.sh (npm ci) to reinstall the Pyodide package") from exc
    actual = sha256_file(path)
    if actual != pin.sha256 or size != pin.size:
        raise RuntimeFilesError(
            f"{pin.file} is not the file pinned for pyodide {version}: sha256 {actual} ({size} bytes), "
            f"expected {pin.sha256} ({pin.size} bytes)", file=named, package="pyodide",
            hint="the installed npm package was changed; run scripts/setup-node.sh (npm ci) to reinstall it")


def bundled_runtime(npm_dir: Path, *, expected_version: str | None = None) -> PyodideRuntime:
    """The runtime files of the npm package in ``npm_dir``, to be copied into the bundle.

    ``expected_version`` (the profile's ``[runtime].npm-version``) must be the installed one."""
    version = _check_version(npm_dir, expected_version)
    return PyodideRuntime(version=version, index_url=f"{RUNTIME_FOLDER}/", files=pinned_files(version),
                          source=npm_dir)


def hosted_runtime(npm_dir: Path, url: str, *, expected_version: str | None = None) -> PyodideRuntime:
    """A hosted Pyodide at ``url`` (the folder holding ``pyodide.mjs``), of the version in
    ``npm_dir`` (whose lock the bundle's lock is made from); its files are checked here against
    the pins too, so the bundle's lock and the hashes belong to one version."""
    problem = check_remote_url(url)
    if problem is None and urllib.parse.urlsplit(url).query:
        problem = "must not have a ?query (the file names are appended to it)"
    if problem is not None:
        raise PyodideUrlError(f"{url!r}: {problem}", field="--pyodide-url",
                              hint="give the folder of a hosted Pyodide of the same version, e.g. "
                                   "https://example.org/pyodide/v<version>/full/")
    version = _check_version(npm_dir, expected_version)
    files = pinned_files(version)
    for pin in files:
        _check_file(npm_dir / pin.file, pin, version)
    return PyodideRuntime(version=version, index_url=url if url.endswith("/") else url + "/", files=files)


def copy_runtime(runtime: PyodideRuntime, bundle_dir: Path) -> None:
    """Copy a bundled runtime's files into ``bundle_dir/pyodide/``; each copy is checked
    against its pin (what ships is what is checked). Nothing to do for a hosted runtime."""
    if not runtime.bundled:
        return
    if runtime.source is None:
        raise RuntimeFilesError("a bundled runtime needs the npm package folder to copy from", package="pyodide")
    dest = bundle_dir / runtime.index_url.rstrip("/")
    dest.mkdir(parents=True)
    for pin in runtime.files:
        src = runtime.source / pin.file
        try:
            shutil.copyfile(src, dest / pin.file)
        except FileNotFoundError as exc:
            raise RuntimeFilesError(f"{pin.file} of pyodide {runtime.version} is missing", file=str(src),
                                    package="pyodide",
                                    hint="run scripts/setup-node.sh (npm ci) to reinstall the Pyodide package") from exc
        _check_file(dest / pin.file, pin, runtime.version, shown=src)
