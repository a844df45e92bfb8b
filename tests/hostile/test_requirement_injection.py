"""Hostile input: names, extras, markers and versions that would smuggle options into uv.

A requirements file line ``x]`` + newline + ``-r /etc/passwd`` makes uv read that file;
``-e /path`` makes it build a local project. The manifest and the import-spec parsers refuse
such text with a coded error naming the field, and the uv bridge refuses any line holding a
line break or starting with ``-`` before uv is started.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement

import wasmtool.resolve.uv as uv
from tests.conftest import run_cli
from tests.support.index_server import IndexServer
from wasmtool.project.edit import add_python_dependency
from wasmtool.project.errors import ImportSpecError, ManifestError
from wasmtool.project.manifest import parse_manifest
from wasmtool.project.model import build_project
from wasmtool.project.spec import parse_import_spec
from wasmtool.resolve.errors import UnsafeRequirementError

PASSWD_MARK = "root:x:0:0"  # the first line of /etc/passwd on Linux

HOSTILE = [
    # (mochi.toml body, the field the error must name)
    ('[python-dependencies]\nidna = { version = "*", extras = ["x]\\n-r /etc/passwd\\n#"] }\n',
     "python-dependencies.idna.extras"),
    ('[python-dependencies]\n"idna\\n-e /tmp" = "*"\n', 'python-dependencies."idna\\n-e /tmp"'),
    ('[python-dependencies]\n"-r /etc/passwd" = "*"\n', 'python-dependencies."-r /etc/passwd"'),
    ('[python-dependencies]\nidna = { version = "*", markers = "python_version > \'3\'\\n-r /etc/passwd" }\n',
     "python-dependencies.idna.markers"),
    ('[python-dependencies]\nidna = { version = ">=1\\n-r /etc/passwd" }\n', "python-dependencies.idna.version"),
    ('[python-dependencies]\nidna = { git = "https://example.invalid/x\\n-r /etc/passwd" }\n',
     "python-dependencies.idna.git"),
    ('[python-dependencies]\nidna = { git = "https://example.invalid/x", rev = "main\\n-e /tmp" }\n',
     "python-dependencies.idna.rev"),
    ('[python-dependencies]\nidna = { path = "lib\\n-r /etc/passwd" }\n', "python-dependencies.idna.path"),
]


@pytest.mark.parametrize(("body", "field"), HOSTILE)
def test_hostile_manifests_are_refused_naming_the_field(body: str, field: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest('name = "x"\n' + body, file="mochi.toml")
    assert info.value.code == "WT054"
    assert info.value.field is not None and info.value.field.startswith(field)
    assert field in str(info.value)


@pytest.mark.parametrize("spec", [
    "idna[x]\n-r /etc/passwd", "idna\n-e /tmp", "idna@>=1\n-r /etc/passwd", "idna@git+https://h/x\n-r /etc/passwd",
    "idna@git+https://h/x#main\n-e /tmp", "idna@git+https://h/x y", "idna@index+https://h/simple\n-r /etc/passwd",
    "idna@path+lib\n-r /etc/passwd", "idna[x\u2028]", "-r /etc/passwd", "idna[x]\r-e /tmp",
])
def test_hostile_specs_are_refused(spec: str) -> None:
    with pytest.raises(ImportSpecError) as info:
        parse_import_spec(spec)
    assert info.value.code == "WT051"
    assert len(str(info.value).splitlines()) == 3  # message, the spec on one line, the pointer
    with pytest.raises(ImportSpecError):
        add_python_dependency('name = "x"\n', spec)


@pytest.mark.parametrize("line", ["idna\n-r /etc/passwd", "-r /etc/passwd", "  -e /tmp", "idna\r-e /tmp",
                                  "idna\x0b-r x", "idna\u2028-r x", "", "idna\x00"])
def test_the_uv_bridge_refuses_option_lines(line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(uv, "_start_uv", lambda argv, **_: started.append(argv))
    monkeypatch.setattr(uv, "find_uv", lambda: "uv")
    req = uv.CompileRequest(requirements=("idna", line), python_version="3.12",
                            python_platform="x86_64-manylinux_2_28", index_url="http://127.0.0.1:1/simple")
    with pytest.raises(UnsafeRequirementError) as info:
        uv.start_compile(req)
    assert info.value.code == "WT205"
    with pytest.raises(UnsafeRequirementError):
        uv.start_compile(replace(req, requirements=("idna",), constraints=(line,)))
    assert started == []


def test_the_uv_bridge_writes_plain_requirements() -> None:
    assert uv.requirement_lines(["idna[a,b]>=1 ; python_version > '3'", "x @ git+https://h/x@v1"],
                                what="requirement") == "idna[a,b]>=1 ; python_version > '3'\nx @ git+https://h/x@v1\n"


@pytest.mark.slow
@pytest.mark.parametrize(("body", "field"), HOSTILE[:2])
def test_cli_refuses_before_uv_runs(tmp_path: Path, cache_dir: Path, index_server: IndexServer,
                                    body: str, field: str) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "mochi.toml").write_text('name = "x"\n\n[python]\nrequires-python = ">=3.12"\n\n' + body)
    for command in (["lock"], ["install"]):
        proc = run_cli(["-C", str(project), *command], cache=cache_dir, index_url=index_server.url)
        assert proc.returncode != 0
        assert "WT054" in proc.stderr and field in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
        assert PASSWD_MARK not in proc.stderr + proc.stdout
        assert not (project / "mochi.lock").exists() and not (project / ".mochi").exists()


@pytest.mark.slow
def test_cli_add_refuses_a_hostile_spec(tmp_path: Path, cache_dir: Path, index_server: IndexServer) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    manifest = project / "mochi.toml"
    manifest.write_text('name = "x"\n')
    proc = run_cli(["-C", str(project), "add", "python", "idna[x]\n-r /etc/passwd"], cache=cache_dir,
                   index_url=index_server.url)
    assert proc.returncode != 0 and "WT051" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert manifest.read_text() == 'name = "x"\n'


def assert_refused(exc: ImportSpecError | ManifestError, code: str, field: str) -> None:
    """A refusal carries its code and, for the manifest, the field at fault."""
    assert exc.code == code
    assert (exc.field or "").startswith(field)


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=24)
_FRIENDLY = st.sampled_from(["idna", "x]", "-r /etc/passwd", "a\nb", "a_b.c-d", "#", "a b", "é"])


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(name=st.one_of(_TEXT, _FRIENDLY), extras=st.lists(st.one_of(_TEXT, _FRIENDLY), max_size=3),
       markers=st.one_of(st.just(""), _TEXT, st.just("python_version > '3'\n-r /etc/passwd")))
def test_any_text_parses_to_a_requirement_or_is_refused(name: str, extras: list[str], markers: str) -> None:
    table: dict[str, object] = {"version": "*", "extras": extras}
    if markers:
        table["markers"] = markers
    doc = tomlkit.document()
    doc["name"] = "x"
    deps = tomlkit.table()
    deps[name] = table
    doc["python-dependencies"] = deps
    try:
        manifest = parse_manifest(tomlkit.dumps(doc), file="mochi.toml")
    except ManifestError as exc:
        assert_refused(exc, "WT054", "python-dependencies.")
        return
    project = build_project(manifest, [], Path("/nonexistent"))
    lines = project.to_pep508()
    text = uv.requirement_lines(lines, what="requirement")  # the bridge accepts what the parser let through
    assert text.count("\n") == len(lines) == 1
    parsed = Requirement(lines[0])
    assert parsed.name == manifest.dependencies[0].name
    assert set(parsed.extras) == set(manifest.dependencies[0].extras)


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(spec=st.one_of(_TEXT, st.builds(lambda a, b: f"{a}[{b}]", _FRIENDLY, _TEXT),
                      st.builds(lambda a, b: f"{a}@{b}", _FRIENDLY, _TEXT)))
def test_any_spec_parses_to_a_requirement_or_is_refused(spec: str) -> None:
    try:
        parsed = parse_import_spec(spec)
    except ImportSpecError as exc:
        assert_refused(exc, "WT051", "")
        return
    if parsed.source in ("registry", "index"):
        line = parsed.requirement()
        uv.requirement_lines([line], what="requirement")
        assert Requirement(line).name == parsed.name
