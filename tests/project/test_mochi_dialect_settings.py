"""The shim dialect setting, binding aliases in mochi.toml, and binding imports in sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasmtool.project.errors import ManifestError
from wasmtool.project.manifest import parse_manifest
from wasmtool.project.model import build_project
from wasmtool.project.scanner import is_binding_import, scan_imports


def test_dialect_defaults_to_the_released_mochi() -> None:
    assert parse_manifest("[python]\n", file="mochi.toml").python.mochi_dialect == "0.10"
    m = parse_manifest('[python]\nmochi-dialect = "mep-71"\n', file="mochi.toml")
    assert m.python.mochi_dialect == "mep-71"


@pytest.mark.parametrize(("text", "problem"), [
    ('[python]\nmochi-dialect = "0.11"\n', "python.mochi-dialect: expected one of 0.10, mep-71, got '0.11'"),
    ("[python]\nmochi-dialect = 10\n", "python.mochi-dialect: expected str, got int"),
    ('[python-dependencies]\npydantic = { version = "^2", alias = "2pyd" }\n',
     "python-dependencies.pydantic.alias: '2pyd' is not a Mochi identifier"),
    ('[python-dependencies]\npydantic = { version = "^2", alias = "type" }\n',
     "python-dependencies.pydantic.alias: 'type' is not a Mochi identifier"),
])
def test_bad_dialect_or_alias_names_the_key(text: str, problem: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, file="mochi.toml")
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems


def test_manifest_alias_names_the_binding(tmp_path: Path) -> None:
    m = parse_manifest('[python-dependencies]\npydantic = { version = "^2.9", alias = "pyd" }\n', file="mochi.toml")
    assert m.dependencies[0].alias == "pyd"
    (req,) = build_project(m, [], tmp_path).requirements()
    assert (req.name, req.alias, req.specifier) == ("pydantic", "pyd", "<3,>=2.9")


def test_binding_imports_add_no_requirement() -> None:
    src = ('import python "python_wrap.tomli.tomli_externs" as tomli\n'
           'import python "python_wrap.pyd.pydantic_externs" as pyd\n'
           'import python "attrs@>=23" as attrs\n'
           "extern fun tomli.tomli_loads(s: string): map<string, any>\n")
    found = scan_imports(src, file="main.mochi")
    assert [(i.spec.name, i.alias, i.line) for i in found] == [("attrs", "attrs", 3)]
    assert is_binding_import("python_wrap.x.y_externs") and is_binding_import("python_wrap")
    assert not is_binding_import("python_wrapper") and not is_binding_import("pydantic")
