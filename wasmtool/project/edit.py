"""``wasmtool add python SPEC``: edit mochi.toml with tomlkit, keeping comments and layout."""

from __future__ import annotations

from pathlib import Path

import tomlkit
from tomlkit.items import Table

from wasmtool.fsutil import atomic_write_text
from wasmtool.project.errors import ManifestMissingError, ManifestSyntaxError
from wasmtool.project.manifest import parse_manifest
from wasmtool.project.spec import ImportSpec, parse_import_spec


def add_python_dependency(manifest_text: str, spec: ImportSpec | str, *, file: str = "mochi.toml") -> str:
    parsed = parse_import_spec(spec if isinstance(spec, str) else spec.render())  # a built ImportSpec is checked too
    try:
        doc = tomlkit.parse(manifest_text)
    except tomlkit.exceptions.ParseError as exc:
        raise ManifestSyntaxError(f"not valid TOML: {exc}", file=file) from exc
    deps = doc.get("python-dependencies")
    if deps is None:
        deps = tomlkit.table()
        doc["python-dependencies"] = deps
    assert isinstance(deps, Table)
    existing = next((k for k in deps if _norm(k) == parsed.name), None)
    key = existing or parsed.name
    if parsed.source == "registry" and not parsed.extras:
        value: object = parsed.specifier or "*"
    else:
        inline = tomlkit.inline_table()
        if parsed.specifier:
            inline["version"] = parsed.specifier
        if parsed.extras:
            inline["extras"] = list(parsed.extras)
        if parsed.source == "git":
            inline["git"] = parsed.url
            if parsed.rev:
                inline["rev"] = parsed.rev
        elif parsed.source == "path":
            inline["path"] = parsed.path
        elif parsed.source == "index":
            inline["index"] = parsed.url
        value = inline
    deps[key] = value
    text = tomlkit.dumps(doc)
    parse_manifest(text, file=file)  # never write a manifest we cannot read back
    return text


def _norm(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def add_to_manifest_file(path: Path, spec_text: str) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ManifestMissingError("no mochi.toml", file=str(path)) from exc
    atomic_write_text(path, add_python_dependency(text, spec_text, file=str(path)))
