"""PEP 751 ``pylock.toml`` from/to mochi.lock entries, via ``packaging.pylock``.

One pylock per target (``pylock.toml`` for the first/native target,
``pylock.<target>.toml`` for the others, PEP 751 naming). Writer output is
byte-deterministic; the reader accepts files written by uv (``uv pip compile -o
pylock.toml``/``uv export``) and tolerates unknown keys and ``tool.*`` tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.pylock import Pylock, PylockValidationError

from wasmtool.lock.errors import PylockError
from wasmtool.lock.model import LockedPackage


@dataclass(frozen=True)
class PylockPin:
    name: str
    version: str
    wheel_filename: str
    wheel_url: str
    sha256: str
    index: str
    dependencies: tuple[tuple[str, str], ...]


def pylock_filename(target: str, primary: str) -> str:
    if target == primary:
        return "pylock.toml"
    # PEP 751: pylock.<name>.toml, <name> without dots
    return f"pylock.{target.replace('.', '-')}.toml"


def to_pylock_dict(packages: Sequence[LockedPackage], *, requires_python: str) -> dict[str, Any]:
    """The canonical pylock document for one target's entries."""
    versions = {p.name: p.version for p in packages}
    out_pkgs: list[dict[str, Any]] = []
    for p in sorted(packages, key=lambda p: (p.name, p.version)):
        entry: dict[str, Any] = {"name": p.name, "version": p.version}
        if p.markers:
            entry["marker"] = p.markers
        if p.requires_python:
            entry["requires-python"] = p.requires_python
        if p.index_url:
            entry["index"] = p.index_url
        deps = []
        for d in sorted(p.dependencies):
            dname, _, dver = d.partition("==")
            deps.append({"name": dname, "version": dver or versions.get(dname, "")})
        if deps:
            entry["dependencies"] = deps
        if p.build_inputs_sha256 and not p.wheel_url:
            # built here from its sdist (docs/builds.md): the sdist is the PEP 751 artefact; the
            # wheel it was built into, and the inputs of that build, are wasmtool's
            if p.path:   # the project's own folder
                entry["directory"] = {"path": p.path}
            else:
                entry["sdist"] = {"name": p.sdist_filename, "url": p.sdist_url,
                                  "hashes": {"sha256": p.sdist_sha256}}
            entry["tool"] = {"wasmtool": {
                "built-wheel": {"name": p.wheel_filename, "hashes": {"sha256": p.wheel_sha256}},
                "build-backend": p.build_backend, "build-requires": sorted(p.build_requires),
                "build-python": p.build_python, "build-inputs-sha256": p.build_inputs_sha256}}
        elif p.wheel_filename:
            wheel: dict[str, Any] = {"name": p.wheel_filename}
            if p.wheel_url:
                wheel["url"] = p.wheel_url
            wheel["hashes"] = {"sha256": p.wheel_sha256}
            entry["wheels"] = [wheel]
        out_pkgs.append(entry)
    doc: dict[str, Any] = {"lock-version": "1.0", "created-by": "wasmtool"}
    if requires_python:
        doc["requires-python"] = requires_python
    doc["packages"] = out_pkgs
    try:
        Pylock.from_dict(doc).validate()
    except PylockValidationError as exc:  # our own output must always validate
        raise PylockError(f"generated pylock does not validate: {exc}", file="pylock.toml") from exc
    return doc


def render_pylock(doc: Mapping[str, Any]) -> str:
    from wasmtool.lock.toml_render import render

    return render(doc, inline_arrays=frozenset({"wheels", "dependencies", "sdist", "directory", "built-wheel"}))


def read_pylock(data: Mapping[str, Any], *, file: str) -> list[PylockPin]:
    """Pins of a PEP 751 document (ours or uv's); one wheel per package is expected."""
    try:
        lock = Pylock.from_dict(data)
    except PylockValidationError as exc:
        raise PylockError(str(exc), file=file) from exc
    pins: list[PylockPin] = []
    for pkg in lock.packages:
        wheels = list(pkg.wheels or [])
        wheel = wheels[0] if wheels else None
        deps = tuple(
            sorted((str(d.get("name", "")), str(d.get("version", ""))) for d in (pkg.dependencies or []))
        )
        pins.append(PylockPin(
            name=str(pkg.name),
            version=str(pkg.version) if pkg.version else "",
            wheel_filename=wheel.filename if wheel else "",
            wheel_url=(wheel.url or "") if wheel else "",
            sha256=str(wheel.hashes.get("sha256", "")) if wheel else "",
            index=pkg.index or "",
            dependencies=deps,
        ))
    return sorted(pins, key=lambda p: p.name)
