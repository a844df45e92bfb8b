from __future__ import annotations

from pathlib import Path

import pytest

from wasmtool.project.edit import add_python_dependency
from wasmtool.project.errors import (
    ImportLineError,
    ImportSpecError,
    ManifestError,
    ManifestSyntaxError,
    RequirementConflictError,
)
from wasmtool.project.manifest import parse_manifest
from wasmtool.project.model import build_project, load_project
from wasmtool.project.scanner import scan_imports

MANIFEST = """# my project
name = "demo"

[python]
requires-python = ">=3.12"   # keep
python-version = "3.12"

[python-dependencies]
# the web client
httpx = { version = "^0.27", extras = ["http2"] }
Pydantic = "^2.9"
"""


def test_manifest_parses() -> None:
    m = parse_manifest(MANIFEST, file="mochi.toml")
    assert m.python.python_version == "3.12"
    names = {d.name: d for d in m.dependencies}
    assert names["httpx"].extras == ("http2",)
    assert names["pydantic"].version == "<3,>=2.9"


@pytest.mark.parametrize("mode", ["auto", "embedded", "inprocess", "subprocess"])
def test_runtime_mode_default_is_auto(mode: str) -> None:
    assert parse_manifest(MANIFEST, file="mochi.toml").python.runtime_mode == "auto"
    text = MANIFEST.replace('python-version = "3.12"', f'python-version = "3.12"\nruntime-mode = "{mode}"')
    assert parse_manifest(text, file="mochi.toml").python.runtime_mode == mode


@pytest.mark.parametrize(("text", "path"), [
    ("[python]\nruntime-mode = 'threads'\n", "python.runtime-mode"),
    ("[python]\nrequires-python = 3\n", "python.requires-python"),
    ("[python]\nbogus = 1\n", "python.bogus"),
    ("[python-dependencies]\nx = { version = 3 }\n", "python-dependencies.x.version"),
    ("[python-dependencies]\nx = { version = '^abc' }\n", "python-dependencies.x.version"),
    ("[python-dependencies]\nx = { rev = 'a' }\n", "python-dependencies.x.rev"),
    ("[python-dependencies]\nx = { git = 'https://e.invalid/x', path = '../x' }\n", "python-dependencies.x"),
    ("[python-dependencies]\nx = { markers = 'python_version >>' }\n", "python-dependencies.x.markers"),
    ("[python-dependencies]\nx = 1\n", "python-dependencies.x"),
    ("[python]\nasync-mode = 'per-call'\nruntime = { event-loop = 'persistent' }\n", "python.runtime.event-loop"),
    ("[python-dependencies]\n'-x' = '*'\n", 'python-dependencies."-x"'),
    ("[python-dependencies]\n'a b' = '*'\n", 'python-dependencies."a b"'),
    ("[python-dependencies]\nx = { extras = ['ok', 'not ok'] }\n", "python-dependencies.x.extras[1]"),
    ("[python-dependencies]\nx = { extras = [1] }\n", "python-dependencies.x.extras[0]"),
    ("[python-dependencies]\nx = { index = 'https://h/ simple' }\n", "python-dependencies.x.index"),
    ("[python-dependencies]\nx = { markers = \"os_name == 'nt'\\u0085\" }\n", "python-dependencies.x.markers"),
])
def test_manifest_problems_name_key_path(text: str, path: str) -> None:
    with pytest.raises(ManifestError) as ei:
        parse_manifest(text, file="p/mochi.toml")
    assert any(p.startswith(path) for p in ei.value.problems), ei.value.problems
    assert "p/mochi.toml" in str(ei.value)


@pytest.mark.parametrize(("name", "extras", "markers"), [
    ("ruamel.yaml", ["jinja2"], ""),
    ("typing_extensions", [], "python_version < '3.13'"),
    ("A1", ["Socks", "http2"], "sys_platform == 'linux' and extra != 'x'"),
    ("x", ["a.b-c_d"], ""),
])
def test_valid_names_extras_and_markers_are_accepted(name: str, extras: list[str], markers: str) -> None:
    text = f"[python-dependencies]\n{name!r} = {{ version = '>=1', extras = {extras!r}, markers = {markers!r} }}\n"
    dep = parse_manifest(text.replace(", markers = ''", ""), file="m").dependencies[0]
    assert dep.raw_name == name and len(dep.extras) == len(extras) and dep.markers == markers


def test_all_problems_at_once() -> None:
    with pytest.raises(ManifestError) as ei:
        parse_manifest("[python]\nbogus = 1\nint-mode = 'x'\n[python-dependencies]\na = 1\n", file="m")
    assert len(ei.value.problems) == 3


def test_bad_toml_names_line() -> None:
    with pytest.raises(ManifestSyntaxError, match="line 2"):
        parse_manifest("[python]\nx = = 1\n", file="mochi.toml")


def test_scanner_positions_comments_and_strings() -> None:
    src = (
        '// import python "commented@1" as c\n'
        'let s = "import python \\"instring\\" as s"\n'
        '/* import python "block" as b */\n'
        'import python "httpx[http2]@^0.27" as httpx\n'
        '  import python "tomli" as tomli auto\n'
        'import python "python-dateutil"\n'
    )
    found = scan_imports(src, file="main.mochi")
    assert [(i.spec.name, i.alias, i.line, i.column) for i in found] == [
        ("httpx", "httpx", 4, 1), ("tomli", "tomli", 5, 3), ("python-dateutil", "python_dateutil", 6, 1)]


def test_scanner_rejects_keyword_alias() -> None:
    with pytest.raises(ImportLineError, match=r"main\.mochi:2:1") as ei:
        scan_imports('\nimport python "x" as type\n', file="main.mochi")
    assert "keyword" in str(ei.value)


def test_spec_error_in_source_names_file_line_column() -> None:
    with pytest.raises(Exception, match=r"main.mochi:1:\d+") as ei:
        scan_imports('import python "a@" as a\n', file="main.mochi")
    assert getattr(ei.value, "code", "") == "WT051"


def test_merge_manifest_and_imports(tmp_path: Path) -> None:
    (tmp_path / "mochi.toml").write_text(MANIFEST)
    (tmp_path / "main.mochi").write_text('import python "httpx[http2]@>=0.27.2" as h\nimport python "tomli@^2" as t\n')
    p = load_project(tmp_path)
    assert p.to_pep508() == ["httpx[http2]<0.28,>=0.27,>=0.27.2", "pydantic<3,>=2.9", "tomli<3,>=2"]
    by = {r.name: r for r in p.requirements()}
    assert by["httpx"].alias == "h" and by["tomli"].sources == ("main.mochi:2",)


def test_extra_not_in_manifest_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "mochi.toml").write_text("[python-dependencies]\nhttpx = '>=0.27'\n")
    (tmp_path / "main.mochi").write_text('import python "httpx[http2]@>=0.27,<0.30" as httpx\n')
    with pytest.raises(RequirementConflictError, match="http2") as ei:
        load_project(tmp_path)
    assert "main.mochi:1" in str(ei.value)


def test_alias_reused_for_two_packages_is_an_error() -> None:
    m = parse_manifest("", file="mochi.toml")
    imports = scan_imports('import python "a" as x\nimport python "b" as x\n', file="m.mochi")
    with pytest.raises(RequirementConflictError, match="alias 'x'"):
        build_project(m, imports, Path("."))


def test_add_keeps_comments_and_is_idempotent() -> None:
    out = add_python_dependency(MANIFEST, "tomli@^2")
    assert out.startswith(MANIFEST.rstrip("\n"))
    assert "# the web client" in out and "# keep" in out
    assert 'tomli = "<3,>=2"' in out
    assert add_python_dependency(out, "tomli@^2") == out
    ext = add_python_dependency(MANIFEST, "rich[jupyter]@>=13")
    m = parse_manifest(ext, file="m")
    assert {d.name: d.extras for d in m.dependencies}["rich"] == ("jupyter",)
    # an existing spelling is updated in place, not duplicated
    upd = add_python_dependency(MANIFEST, "pydantic@^2.10")
    assert upd.count("ydantic") == 1 and "Pydantic = " in upd


def test_a_long_spec_is_echoed_in_part_with_the_pointer_on_the_fault() -> None:
    from wasmtool.project.spec import parse_import_spec

    spec = "x" * 100_000 + "!"
    with pytest.raises(ImportSpecError) as ei:
        parse_import_spec(spec)
    text = str(ei.value)
    assert len(text) < 400
    shown, pointer = text.splitlines()[-2:]
    assert shown.strip().startswith("...") and shown.endswith("!")
    assert pointer.index("^") == shown.index("!")
