from __future__ import annotations

import tomllib

import pytest

from wasmtool.lock.check import diff_locks
from wasmtool.lock.errors import LockSchemaError, LockSyntaxError, LockVersionError
from wasmtool.lock.io import parse_lock_text, render_lock
from wasmtool.lock.model import LockedPackage, MochiLock, TargetInputs
from wasmtool.lock.pylock import read_pylock, render_pylock, to_pylock_dict

H1 = "a" * 64
H2 = "b" * 64
H3 = "c" * 64


def pkg(name: str, version: str = "1.0", target: str = "native", **kw: object) -> LockedPackage:
    base: dict[str, object] = dict(
        name=name, version=version, target=target, wheel_filename=f"{name}-{version}-py3-none-any.whl",
        wheel_sha256=H1, index_sha256=H1, wheel_blake3=H2, wheel_url=f"http://127.0.0.1/files/{name}.whl",
    )
    base.update(kw)
    return LockedPackage(**base)  # type: ignore[arg-type]


def sample() -> MochiLock:
    return MochiLock(
        packages=(
            pkg("tomli", "2.5.0", alias="tomli", import_names=("tomli",), specifier=">=2,<3"),
            pkg("attrs", "26.1.0", import_names=("attrs", "attr")),
            pkg("tomli", "2.5.0", target="pyodide-314", origin="index"),
        ),
        inputs=(TargetInputs("native", "3.12", ("tomli>=2,<3", "attrs")),
                TargetInputs("pyodide-314", "3.14", ("tomli>=2,<3",))),
        requires_python=">=3.12",
    )


def test_render_is_deterministic_and_round_trips() -> None:
    lock = sample()
    text = render_lock(lock)
    shuffled = MochiLock(packages=tuple(reversed(lock.packages)), inputs=tuple(reversed(lock.inputs)),
                         requires_python=lock.requires_python)
    assert render_lock(shuffled) == text
    back = parse_lock_text(text, file="mochi.lock")
    assert render_lock(back) == text
    assert {p.key for p in back.packages} == {p.key for p in lock.packages}
    # lists are sorted in the file
    data = tomllib.loads(text)
    attrs = next(p for p in data["python-package"] if p["name"] == "attrs")
    assert attrs["import-names"] == ["attr", "attrs"]


def test_schema_version_rejected() -> None:
    text = render_lock(sample()).replace("schema-version = 1", "schema-version = 2")
    with pytest.raises(LockVersionError, match="schema-version 2") as ei:
        parse_lock_text(text, file="x/mochi.lock")
    assert ei.value.code == "WT403" and ei.value.file == "x/mochi.lock"


def test_bad_toml_names_file() -> None:
    with pytest.raises(LockSyntaxError) as ei:
        parse_lock_text("schema-version = [", file="p/mochi.lock")
    assert "p/mochi.lock" in str(ei.value)


def test_every_problem_reported_with_key_path() -> None:
    text = """
schema-version = 1
bogus = 1
[[python-package]]
name = "a"
version = "1"
target = "native"
source = "registry"
wheel-sha256 = "XYZ"
[[python-package]]
version = "1"
target = "native"
source = "somewhere"
skipped-count = -1
"""
    with pytest.raises(LockSchemaError) as ei:
        parse_lock_text(text, file="mochi.lock")
    problems = ei.value.problems
    assert "bogus: unknown key" in problems
    assert any(p.startswith("python-package[0].wheel-sha256") for p in problems)
    assert any(p.startswith("python-package[1].name: missing") for p in problems)
    assert any(p.startswith("python-package[1].source") for p in problems)
    assert any(p.startswith("python-package[1].skipped-count") for p in problems)


def test_index_hash_alias_and_mismatch() -> None:
    base = render_lock(MochiLock(packages=(pkg("a"),), inputs=(TargetInputs("native", "3.12", ("a",)),)))
    aliased = base.replace("index-sha256", "pypi-simple-sha256")
    assert parse_lock_text(aliased, file="m").packages[0].index_sha256 == H1
    bad = base.replace(f'index-sha256 = "{H1}"', f'index-sha256 = "{H3}"')
    with pytest.raises(LockSchemaError, match="differs from wheel-sha256"):
        parse_lock_text(bad, file="m")


def test_pylock_round_trip_same_pins() -> None:
    lock = sample()
    doc = to_pylock_dict(lock.for_target("native"), requires_python=">=3.12")
    text = render_pylock(doc)
    pins = read_pylock(tomllib.loads(text), file="pylock.toml")
    assert [(p.name, p.version, p.sha256, p.wheel_filename) for p in pins] == [
        (p.name, p.version, p.wheel_sha256, p.wheel_filename)
        for p in sorted(lock.for_target("native"), key=lambda p: p.name)
    ]
    assert render_pylock(to_pylock_dict(lock.for_target("native"), requires_python=">=3.12")) == text


def test_pylock_dependencies_are_inline_tables() -> None:
    lock = MochiLock(packages=(pkg("a", dependencies=("b==2.0",)), pkg("b", "2.0")))
    data = tomllib.loads(render_pylock(to_pylock_dict(lock.packages, requires_python="")))
    a = next(p for p in data["packages"] if p["name"] == "a")
    assert a["dependencies"] == [{"name": "b", "version": "2.0"}]


def test_reads_uv_written_pylock() -> None:
    uv_text = f"""lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.12"

[[packages]]
name = "attrs"
version = "26.1.0"
sdist = {{ url = "http://127.0.0.1/attrs-26.1.0.tar.gz", upload-time = 2026-03-19T14:22:25Z, size = 1, \
hashes = {{ sha256 = "{H2}" }} }}
wheels = [{{ url = "http://127.0.0.1/files/attrs-26.1.0-py3-none-any.whl", upload-time = 2026-03-19T14:22:23Z, \
size = 2, hashes = {{ sha256 = "{H1}" }} }}]
"""
    pins = read_pylock(tomllib.loads(uv_text), file="pylock.toml")
    assert [(p.name, p.version, p.sha256, p.wheel_filename) for p in pins] == [
        ("attrs", "26.1.0", H1, "attrs-26.1.0-py3-none-any.whl")]


def test_diff_lists_every_difference() -> None:
    old = sample()
    changed = [
        pkg("tomli", "2.6.0", alias="tomli", import_names=("tomli",), specifier=">=2,<3", wheel_sha256=H3,
            index_sha256=H3),
        pkg("packaging", "26.0"),
    ]
    new = old.replace_target("native", TargetInputs("native", "3.12", ("tomli>=2,<3", "packaging")), changed)
    lines = diff_locks(old, new, ["native"])
    assert "[native] requirement added: packaging" in lines
    assert "[native] requirement removed: attrs" in lines
    assert "[native] removed attrs 26.1.0" in lines
    assert "[native] added packaging 26.0" in lines
    assert any(line.startswith("[native] changed tomli:tomli version: 2.5.0 -> 2.6.0") for line in lines)
    assert any(line.startswith("[native] changed tomli:tomli wheel-sha256") for line in lines)
    assert any(line.startswith("[native] changed tomli:tomli index-sha256") for line in lines)
    assert diff_locks(old, old) == []
