"""``[python.capabilities]``: the manifest table, its record in mochi.lock, growth and drift,
and how a guest's failure is read as a denied capability (all pure but the folder check)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wasmtool.errors import WasmtoolError
from wasmtool.lock.errors import LockSchemaError
from wasmtool.lock.io import parse_lock_text, render_lock
from wasmtool.lock.model import MochiLock
from wasmtool.lock.rules import capability_drift
from wasmtool.project.capabilities import (
    Grants,
    added_grants,
    capability_growth,
    check_grant_folders,
    denial_of,
    grant_folders,
    parse_capabilities,
    table_to_dict,
)
from wasmtool.project.errors import ManifestError
from wasmtool.project.manifest import parse_manifest
from wasmtool.tomlfile import loads_toml

MANIFEST = """name = "demo"

[python]
requires-python = ">=3.12"

[python-dependencies]
capprobe = "*"

[python.capabilities.CapProbe]
fs-read = ["data/", "./data/sub", "data"]
fs-write = ["out"]
env = ["GREETING", "HOME"]
net = ["Example.ORG:443", "[0:0::1]:8080"]
clocks = true
random = false
"""


def test_manifest_table_is_read_and_normalised() -> None:
    m = parse_manifest(MANIFEST, file="mochi.toml")
    assert m.capabilities == (("capprobe", Grants(
        fs_read=("data", "data/sub"), fs_write=("out",), env=("GREETING", "HOME"),
        net=("[::1]:8080", "example.org:443"), clocks=True, random=False)),)


def test_no_table_grants_nothing() -> None:
    m = parse_manifest('[python-dependencies]\ncapprobe = "*"\n', file="mochi.toml")
    assert m.capabilities == ()


def test_whole_project_folder() -> None:
    m = parse_manifest('[python.capabilities.x]\nfs-read = [".", "./"]\n', file="mochi.toml")
    assert m.capabilities == (("x", Grants(fs_read=(".",))),)
    assert grant_folders(m.capabilities[0][1])[0].guest == "/"


@pytest.mark.parametrize(("body", "path"), [
    ('[python.capabilities.x]\nfs-read = ["/etc"]\n', "python.capabilities.x.fs-read[0]"),
    ('[python.capabilities.x]\nfs-read = ["../up"]\n', "python.capabilities.x.fs-read[0]"),
    ('[python.capabilities.x]\nfs-write = ["data/../../up"]\n', "python.capabilities.x.fs-write[0]"),
    ('[python.capabilities.x]\nfs-read = ["~/x"]\n', "python.capabilities.x.fs-read[0]"),
    ('[python.capabilities.x]\nfs-read = ["C:/x"]\n', "python.capabilities.x.fs-read[0]"),
    ('[python.capabilities.x]\nfs-read = ["a\\\\b"]\n', "python.capabilities.x.fs-read[0]"),
    ('[python.capabilities.x]\nfs-read = [""]\n', "python.capabilities.x.fs-read[0]"),
    ('[python.capabilities.x]\nfs-read = "data"\n', "python.capabilities.x.fs-read"),
    ('[python.capabilities.x]\nfs-read = [1]\n', "python.capabilities.x.fs-read[0]"),
    ('[python.capabilities.x]\nenv = ["A-B"]\n', "python.capabilities.x.env[0]"),
    ('[python.capabilities.x]\nenv = ["1A"]\n', "python.capabilities.x.env[0]"),
    ('[python.capabilities.x]\nnet = ["example.org"]\n', "python.capabilities.x.net[0]"),
    ('[python.capabilities.x]\nnet = ["example.org:0"]\n', "python.capabilities.x.net[0]"),
    ('[python.capabilities.x]\nnet = ["example.org:70000"]\n', "python.capabilities.x.net[0]"),
    ('[python.capabilities.x]\nnet = ["[zz::1]:80"]\n', "python.capabilities.x.net[0]"),
    ('[python.capabilities.x]\nclocks = "yes"\n', "python.capabilities.x.clocks"),
    ('[python.capabilities.x]\nsockets = true\n', "python.capabilities.x.sockets"),
    ('[python]\ncapabilities = { x = 1 }\n', "python.capabilities.x"),
    ('[python.capabilities."-x"]\nclocks = true\n', 'python.capabilities."-x"'),
    ('[python.capabilities.A_b]\nclocks = true\n[python.capabilities.a-B]\nclocks = true\n', "python.capabilities.a-B"),
])
def test_bad_tables_name_the_key(body: str, path: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(body, file="mochi.toml")
    assert info.value.code == "WT054"
    assert any(p.startswith(f"{path}:") for p in info.value.problems), info.value.problems


def test_python_capabilities_must_be_a_table() -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest('[python]\ncapabilities = 3\n', file="mochi.toml")
    assert info.value.problems == ["python.capabilities: expected dict, got int"]


# -- fuzz -------------------------------------------------------------------------------------

_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
_VALUE: st.SearchStrategy[Any] = st.one_of(
    st.booleans(), st.integers(), _TEXT,
    st.lists(st.one_of(_TEXT, st.integers(), st.sampled_from(["data", "a/b", ".", "HOME", "h:80", "[::1]:1"])),
             max_size=4))
_TABLE = st.dictionaries(st.one_of(st.sampled_from(["fs-read", "fs-write", "env", "net", "clocks", "random"]), _TEXT),
                         _VALUE, max_size=5)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.one_of(_TEXT, st.sampled_from(["capprobe", "Cap_Probe", "tomli"])),
                       st.one_of(_TABLE, _VALUE), max_size=4))
def test_parser_fuzz(raw: dict[str, Any]) -> None:
    """Any table: every problem is a line with its key path, and what is accepted is canonical
    (re-reading its lock form gives it back, folders stay inside the project)."""
    problems: list[str] = []
    table = parse_capabilities(raw, problems)
    assert all(p.startswith("python.capabilities.") and ": " in p for p in problems)
    for name, grants in table:
        for folder in (*grants.fs_read, *grants.fs_write):
            assert folder == "." or (not folder.startswith("/") and ".." not in folder.split("/")
                                     and "" not in folder.split("/"))
        again: list[str] = []
        assert parse_capabilities({name: grants.to_dict()}, again) == ((name, grants),) and not again
    assert [n for n, _ in table] == sorted({n for n, _ in table})


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_manifest_fuzz_never_crashes(value: str) -> None:
    text = f'[python.capabilities.x]\nfs-read = [{_toml_string(value)}]\nnet = [{_toml_string(value)}]\n'
    try:
        m = parse_manifest(text, file="mochi.toml")
    except WasmtoolError as exc:   # WT053: TOML itself refuses the string (a raw DEL)
        outcome = exc.code
    else:
        outcome = "ok"
        assert m.capabilities[0][0] == "x"
    assert outcome in ("ok", "WT053", "WT054")


def _toml_string(value: str) -> str:
    import json

    return json.dumps(value)


# -- growth -----------------------------------------------------------------------------------


def test_growth_covers_subfolders_and_write_covers_read() -> None:
    old = Grants(fs_read=("data",), fs_write=("out",), env=("HOME",))
    assert added_grants(old, Grants(fs_read=("data/sub", "out/x"), env=("HOME",))) == []
    assert added_grants(old, Grants(fs_write=("data",))) == ['fs-write "data"']
    assert added_grants(old, Grants(fs_read=("other",), env=("PATH",), net=("h:1",), clocks=True, random=True)) == [
        'fs-read "other"', 'env "PATH"', 'net "h:1"', "clocks", "random"]
    assert added_grants(Grants(fs_read=(".",)), Grants(fs_read=("any/where",))) == []
    # shrinking is not growth
    assert added_grants(old, Grants()) == []


def test_capability_growth_per_package() -> None:
    recorded = (("a", Grants(env=("X",))),)
    wanted = (("a", Grants(env=("X", "Y"))), ("b", Grants(fs_read=("data",))), ("c", Grants()))
    assert capability_growth(recorded, wanted) == ['a: env "Y"', 'b: fs-read "data"']
    assert capability_growth(wanted, recorded) == []


def test_drift_both_ways() -> None:
    lock = MochiLock(capabilities=(("a", Grants(env=("X",))),))
    assert capability_drift(lock, (("a", Grants(env=("X",))),)) == []
    assert capability_drift(lock, (("a", Grants(env=("Y",))), ("b", Grants()))) == [
        'capability granted in mochi.toml, not recorded in the lock: a env "Y"',
        'capability recorded in the lock, no longer granted in mochi.toml: a env "X"']
    assert capability_drift(None, (("a", Grants(env=("Y",))),)) == []


# -- mochi.lock -------------------------------------------------------------------------------


def test_lock_records_grants_deterministically() -> None:
    grants = Grants(fs_read=("data",), fs_write=("out",), env=("HOME",), clocks=True)
    lock = MochiLock(capabilities=(("capprobe", grants), ("empty", Grants())))
    text = render_lock(lock)
    data = tomllib.loads(text)
    assert data["python-capabilities"] == {"capprobe": {"fs-read": ["data"], "fs-write": ["out"], "env": ["HOME"],
                                                        "clocks": True}}
    again = parse_lock_text(text, file="mochi.lock")
    assert again.capabilities == (("capprobe", grants),)
    assert render_lock(again) == text
    assert table_to_dict(again.capabilities) == data["python-capabilities"]


def test_lock_without_capabilities_reads_and_renders_without_them() -> None:
    text = 'schema-version = 1\ncreated-by = "wasmtool"\ntarget = []\npython-package = []\n'
    lock = parse_lock_text(text, file="mochi.lock")
    assert lock.capabilities == ()
    assert "python-capabilities" not in render_lock(lock)


def test_lock_with_bad_grants_is_a_schema_error() -> None:
    text = ('schema-version = 1\ntarget = []\npython-package = []\n'
            '[python-capabilities.x]\nfs-read = ["../up"]\n')
    with pytest.raises(LockSchemaError) as info:
        parse_lock_text(text, file="mochi.lock")
    assert any(p.startswith("python-capabilities.x.fs-read[0]:") for p in info.value.problems)
    assert loads_toml(text, file="x", error=ValueError)["python-capabilities"]


# -- folders on disk ------------------------------------------------------------------------


def test_grant_folders_checked_on_disk(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "data").mkdir(parents=True)
    (root / "file").write_text("x")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "escape")
    os.symlink(root / "data", root / "inner")
    grants = Grants(fs_read=("data", "escape", "missing", "file", "inner"))
    lines = check_grant_folders(root, grants)
    assert lines == [
        f"escape: leads outside the project (to {outside.resolve()}) through a symbolic link",
        "file: not a folder",
        "missing: no such folder in the project",
    ]
    assert check_grant_folders(root, Grants(fs_read=("data", "inner"), fs_write=("data",))) == []
    assert [(g.folder, g.guest, g.writable) for g in grant_folders(Grants(fs_read=("data", "x"), fs_write=("data",)))
            ] == [("data", "/data", True), ("x", "/x", False)]


# -- reading a guest's failure ----------------------------------------------------------------

_TB_ENV = ('Traceback (most recent call last):\n  File "/0/app.py", line 94, in _call\n'
           '  File "/2/capprobe/__init__.py", line 14, in get_env\n'
           '  File "<frozen os>", line 709, in __getitem__\nKeyError: \'SECRET\'\n')
_TB_DICT = ('Traceback (most recent call last):\n  File "/2/capprobe/__init__.py", line 14, in lookup\n'
            "KeyError: 'SECRET'\n")


def test_denials_of_paths() -> None:
    g = Grants(fs_read=("data",), fs_write=("out",))
    nf = "[Errno 44] No such file or directory: {!r}"
    perm = "[Errno 63] Operation not permitted: {!r}"
    d = denial_of("FileNotFoundError", nf.format("secret.txt"), "", g)
    assert d is not None and (d.capability, d.subject) == ("fs-read", "secret.txt")
    d = denial_of("PermissionError", perm.format("data/../secret.txt"), "", g)
    assert d is not None and d.capability == "fs-read"
    d = denial_of("FileNotFoundError", nf.format("/etc/passwd"), "", g)
    assert d is not None and d.subject == "/etc/passwd"
    d = denial_of("PermissionError", perm.format("data/new.txt"), "", g)
    assert d is not None and (d.capability, d.subject) == ("fs-write", "data/new.txt")
    # inside a granted folder: the package's own failure
    assert denial_of("FileNotFoundError", nf.format("data/missing.txt"), "", g) is None
    assert denial_of("FileNotFoundError", nf.format("/out/missing.txt"), "", g) is None
    assert denial_of("PermissionError", perm.format("out/x"), "", g) is None
    # not an OS error on a path
    assert denial_of("ValueError", nf.format("secret.txt"), "", g) is None
    assert denial_of("OSError", "[Errno 5] I/O error", "", g) is None
    # the whole project granted
    assert denial_of("FileNotFoundError", nf.format("anything"), "", Grants(fs_read=(".",))) is None
    # a rename names two paths: the one outside is the denial
    d = denial_of("PermissionError", "[Errno 63] Operation not permitted: 'out/a' -> 'elsewhere/b'", "", g)
    assert d is not None and d.subject == "elsewhere/b"


def test_denials_of_environment_variables() -> None:
    d = denial_of("KeyError", "'SECRET'", _TB_ENV, Grants())
    assert d is not None and (d.capability, d.subject) == ("env", "SECRET")
    assert denial_of("KeyError", "'SECRET'", _TB_ENV, Grants(env=("SECRET",))) is None   # granted, unset
    assert denial_of("KeyError", "'SECRET'", _TB_DICT, Grants()) is None                 # a dict's KeyError
    tb_file = _TB_ENV.replace('"<frozen os>"', '"/usr/lib/python3.14/os.py"')
    assert denial_of("KeyError", "'SECRET'", tb_file, Grants()) is not None
