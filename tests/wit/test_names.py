"""WIT labels: kebab-casing, keyword escaping, collision-free allocation (acceptance 62, 63)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasmtool.wit.errors import InvalidWitError
from wasmtool.wit.names import (
    WIT_KEYWORDS,
    LabelAllocator,
    escape,
    is_valid_label,
    kebab,
    py_class_name,
    py_ident,
    semver,
)
from wasmtool.wit.validate import validate_wit


@pytest.mark.parametrize(("name", "label"), [
    ("loads", "loads"),
    ("get_value", "get-value"),
    ("getValue", "get-value"),
    ("HTTPServer", "http-server"),
    ("parse_HTTPResponse2", "parse-http-response2"),
    ("TOMLDecodeError", "toml-decode-error"),
    ("_private", "private"),
    ("__dunder__", "dunder"),
    ("a__b", "a-b"),
    ("v_2", "v2"),
    ("x2y", "x2y"),
    ("2fa", "n2fa"),
    ("tomli._parser", "tomli-parser"),
    ("Demo_Pkg", "demo-pkg"),
    ("café", "cafe"),
    ("日本", "x"),
    ("", "x"),
    ("___", "x"),
    ("ALLCAPS", "allcaps"),
])
def test_kebab(name: str, label: str) -> None:
    assert kebab(name) == label
    assert is_valid_label(label)


@pytest.mark.parametrize(("text", "valid"), [
    ("a", True), ("a-b", True), ("a1-b2", True), ("ABC-def", True), ("aB", False), ("a--b", False),
    ("-a", False), ("a-", False), ("1a", False), ("a-1", False), ("a_b", False), ("", False), ("%a", False),
])
def test_is_valid_label(text: str, valid: bool) -> None:
    assert is_valid_label(text) is valid


@pytest.mark.parametrize(("label", "written"), [
    ("type", "%type"),           # acceptance 63
    ("from", "%from"), ("list", "%list"), ("string", "%string"), ("map", "%map"), ("async", "%async"),
    ("error-context", "%error-context"),
    ("loads", "loads"), ("error", "error"), ("self", "self"), ("none", "none"),
])
def test_escape(label: str, written: str) -> None:
    assert escape(label) == written


def test_allocator_is_collision_free_and_deterministic() -> None:
    def run() -> list[str]:
        alloc = LabelAllocator(reserved=("types",))
        return [alloc.allocate(kebab(n)) for n in ("get_value", "getValue", "get__value", "types", "x", "x")]

    first = run()
    assert first == ["get-value", "get-value-v2", "get-value-v3", "types-v2", "x", "x-v2"]
    assert run() == first
    assert all(is_valid_label(label) for label in first)


@pytest.mark.parametrize(("label", "ident", "cls"), [
    ("loads-json", "loads_json", "LoadsJson"),
    ("import", "import_", "Import"),
    ("class", "class_", "Class"),
    ("type", "type", "Type"),
    ("tomli-parser", "tomli_parser", "TomliParser"),
    ("x2d", "x2d", "X2d"),
])
def test_python_names(label: str, ident: str, cls: str) -> None:
    assert py_ident(label) == ident
    assert py_class_name(label) == cls


@pytest.mark.parametrize(("version", "expected"), [
    ("2.5.0", "2.5.0"), ("1.0", "1.0.0"), ("3", "3.0.0"), ("2024.01.5", "2024.1.5"), ("1.2.3.4", "1.2.3+r4"),
    ("1.0rc1", "1.0.0-rc1"), ("1.0.dev2", "1.0.0-dev2"), ("1.0a1.dev3", "1.0.0-a1.dev3"),
    ("1.0.post1", "1.0.0+post1"), ("1!2.0+local.7", "2.0.0+e1.local.7"), ("not a version", "0.0.0+not.a.version"),
])
def test_semver(version: str, expected: str) -> None:
    assert semver(version) == expected


def test_keyword_set_matches_wasm_tools(wit_tools: None, tmp_path: Path) -> None:
    """Every keyword is rejected bare and accepted escaped; a non-keyword is accepted bare."""
    funcs = "".join(f"  {escape(k)}: func();\n" for k in sorted(WIT_KEYWORDS))
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "w.wit").write_text(f"package a:b;\ninterface i {{\n{funcs}  error: func();\n}}\n")
    validate_wit(tmp_path / "ok")
    for k in sorted(WIT_KEYWORDS):
        d = tmp_path / f"bare-{k}"
        d.mkdir()
        (d / "w.wit").write_text(f"package a:b;\ninterface i {{ {k}: func(); }}\n")
        with pytest.raises(InvalidWitError):
            validate_wit(d)
