"""wasmtool.cache.wheel_check (pure rules), its zip reader, and the cache checking wheels once."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wasmtool.cache import ArtifactCache, _wheel_zip
from wasmtool.cache._wheel_zip import check_wheel_file
from wasmtool.cache.errors import WheelRejectedError
from wasmtool.cache.wheel_check import (
    MAX_RATIO,
    MAX_TOTAL_SIZE,
    RATIO_MIN_SIZE,
    VALIDATOR_VERSION,
    ArchiveCheck,
    Member,
    Problem,
    RecordEntry,
    check_archive,
    check_member_digest,
    path_problem,
)

ARTEFACTS = Path(__file__).resolve().parents[1] / "data" / "artefacts"
INFO = "demo-1.0.dist-info"


def rhash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def m(name: str, size: int = 10, csize: int | None = None, mode: int = 0o100644, ctype: int = 8) -> Member:
    return Member(name, size, size if csize is None else csize, mode << 16, ctype)


def honest(members: list[Member]) -> str:
    lines = [f"{x.name},{rhash(x.name.encode())},{x.file_size}" for x in members
             if not x.is_dir and x.name != f"{INFO}/RECORD"]
    return "\n".join([*lines, f"{INFO}/RECORD,,"]) + "\n"


BASE = [m("demo/__init__.py"), m(f"{INFO}/METADATA"), m(f"{INFO}/WHEEL"), m(f"{INFO}/RECORD", 100)]


def problems_of(extra: list[Member], record: str | None = "honest") -> list[Problem]:
    members = [*BASE, *extra]
    text = honest(members) if record == "honest" else record
    return check_archive(members, text).problems


# --------------------------------------------------------------------------- path rules

@pytest.mark.parametrize(("name", "fragment"), [
    ("", "empty"),
    ("../../x.py", "escapes"),
    ("demo/../../x.py", "escapes"),
    ("demo/../x.py", "escapes"),
    ("/etc/x", "absolute"),
    ("C:/x.py", "absolute"),
    ("c:x.py", "absolute"),
    ("demo\\..\\..\\x.py", "backslash"),
    ("demo/x\0.py", "NUL"),
    ("demo//x.py", "empty or '.'"),
    ("./demo/x.py", "empty or '.'"),
    ("demo/\x1bx.py", "control"),
])
def test_unsafe_paths(name: str, fragment: str) -> None:
    why = path_problem(name)
    assert why is not None and fragment in why


@pytest.mark.parametrize("name", ["demo/x.py", "demo/", "demo-1.0.data/scripts/run", "a/b/c.so", "demo/..x.py",
                                  "demo/x..py", "é/ü.py"])
def test_safe_paths(name: str) -> None:
    assert path_problem(name) is None


# --------------------------------------------------------------------------- archive rules

def test_an_honest_wheel_has_no_problems() -> None:
    check = check_archive(BASE, honest(BASE))
    assert check.ok and check.problems == []
    assert set(check.to_hash) == {"demo/__init__.py", f"{INFO}/METADATA", f"{INFO}/WHEEL"}
    assert check.to_hash["demo/__init__.py"] == RecordEntry("demo/__init__.py", "sha256",
                                                            rhash(b"demo/__init__.py").split("=", 1)[1], 10)


@pytest.mark.parametrize(("extra", "member", "fragment"), [
    ([m("../../evil.py")], "../../evil.py", "escapes"),
    ([m("/abs.py")], "/abs.py", "absolute"),
    ([m("demo-1.0.data/purelib/../../x.py")], "demo-1.0.data/purelib/../../x.py", "escapes"),
    ([m("demo-1.0.data/evil/x.py")], "demo-1.0.data/evil/x.py", "unknown .data scheme"),
    ([m("demo-1.0.data/x.py")], "demo-1.0.data/x.py", "outside every scheme"),
    ([m("other-2.0.data/purelib/x.py")], "other-2.0.data/purelib/x.py", "not named after"),
    ([m("demo/link", mode=stat.S_IFLNK | 0o777)], "demo/link", "symlink"),
    ([m("demo/fifo", mode=stat.S_IFIFO | 0o644)], "demo/fifo", "special file"),
    ([m("demo/__init__.py")], "demo/__init__.py", "duplicate member"),
    ([m("DEMO/__init__.py")], "DEMO/__init__.py", "only in case"),
    ([m("demo/\u00e9.py"), m("demo/e\u0301.py")], "demo/e\u0301.py", "Unicode form"),
    ([m("demo/bomb.bin", RATIO_MIN_SIZE * 600, RATIO_MIN_SIZE)], "demo/bomb.bin", "compression ratio"),
    ([m("demo/a.bin", MAX_TOTAL_SIZE // 2 + 1), m("demo/b.bin", MAX_TOTAL_SIZE // 2 + 1)], "demo/b.bin",
     "in total"),
    ([m("demo/x.bz2", ctype=12)], "demo/x.bz2", "compression method 12"),
    ([m("other-1.0.dist-info/METADATA")], "other-1.0.dist-info/", "more than one .dist-info"),
])
def test_refused_layouts(extra: list[Member], member: str, fragment: str) -> None:
    found = problems_of(extra)
    assert any(p.member == member and fragment in p.message for p in found), found


def test_ratio_is_only_checked_for_large_members() -> None:
    assert problems_of([m("demo/zeros.bin", RATIO_MIN_SIZE, 100)]) == []
    assert problems_of([m("demo/ok.bin", RATIO_MIN_SIZE * MAX_RATIO, RATIO_MIN_SIZE)]) == []


def test_no_dist_info_and_no_record() -> None:
    assert [p.message for p in check_archive([m("demo/x.py")], None).problems] == [
        "the wheel has no .dist-info directory"]
    no_record = [x for x in BASE if not x.name.endswith("RECORD")]
    assert check_archive(no_record, None).problems == [Problem(f"{INFO}/RECORD", "the wheel has no RECORD")]


@pytest.mark.parametrize(("line", "fragment"), [
    ("demo/__init__.py,sha256=AAAA,11", "RECORD says 11 bytes, the member has 10"),
    ("demo/__init__.py,sha256=AAAA,ten", "not a number"),
    ("demo/__init__.py,md5=AAAA,10", "algorithm 'md5'"),
    ("demo/__init__.py,AAAA,10", "not <algorithm>=<digest>"),
    ("demo/__init__.py,sha256=AAAA", "2 fields"),
    (None, "not listed in RECORD"),
])
def test_record_lines(line: str | None, fragment: str) -> None:
    lines = honest(BASE).splitlines()
    lines = [ln for ln in lines if not ln.startswith("demo/__init__.py,")]
    if line is not None:
        lines.append(line)
    found = check_archive(BASE, "\n".join(lines) + "\n").problems
    assert any(p.member == "demo/__init__.py" and fragment in p.message for p in found), found


def test_record_lists_absent_or_unsafe_paths_or_twice() -> None:
    text = honest(BASE) + "demo/gone.py,,\n../../etc/passwd,,\ndemo/__init__.py,,\n"
    found = {(p.member, p.message) for p in check_archive(BASE, text).problems}
    assert ("demo/gone.py", "RECORD lists a file the wheel does not contain") in found
    assert ("../../etc/passwd", "RECORD lists an unsafe path: path escapes the install directory ('..')") in found
    assert ("demo/__init__.py", "listed twice in RECORD") in found


def test_blank_record_lines_list_without_vouching() -> None:
    text = "".join(f"{x.name},,\n" for x in BASE)
    check = check_archive(BASE, text)
    assert check.ok and check.to_hash == {}


def test_signatures_need_no_record_line() -> None:
    members = [*BASE, m(f"{INFO}/RECORD.jws")]
    assert check_archive(members, honest(BASE)).ok


def test_nothing_to_hash_when_refused() -> None:
    check = check_archive([*BASE, m("../x.py")], honest(BASE))
    assert not check.ok and check.to_hash == {}


def test_member_digest() -> None:
    entry = RecordEntry("demo/x.py", "sha256", rhash(b"abc").split("=", 1)[1], 3)
    assert check_member_digest(entry, hashlib.sha256(b"abc").digest()) is None
    wrong = check_member_digest(entry, hashlib.sha256(b"abd").digest())
    assert wrong is not None and wrong.member == "demo/x.py" and "RECORD says sha256=" in wrong.message
    bad = check_member_digest(RecordEntry("demo/x.py", "sha256", "A", 3), b"")
    assert bad is not None and "base64" in bad.message


# --------------------------------------------------------------------------- property tests

_names = st.text(alphabet=st.sampled_from(list("ab./\\:\0 -_Cé\u0301\x1b")) | st.characters(), max_size=40)


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(names=st.lists(_names, max_size=8), sizes=st.lists(st.integers(-1, 2**40), max_size=8),
       modes=st.lists(st.integers(0, 2**32 - 1), max_size=8),
       record=st.none() | st.text(max_size=200))
def test_checker_only_ever_answers(names: list[str], sizes: list[int], modes: list[int], record: str | None) -> None:
    members = [Member(n, sizes[i % len(sizes)] if sizes else 0, 1, modes[i % len(modes)] if modes else 0)
               for i, n in enumerate(names)]
    result = check_archive([*BASE, *members], record)
    assert isinstance(result, ArchiveCheck)
    assert all(isinstance(p, Problem) and isinstance(p.message, str) for p in result.problems)
    for n in names:
        assert isinstance(path_problem(n), (str, type(None)))


@pytest.mark.property
@settings(max_examples=200, deadline=None)
@given(name=_names)
def test_every_escaping_name_is_refused(name: str) -> None:
    """What the checker accepts stays inside the folder it is extracted to, on POSIX and Windows."""
    if path_problem(name) is not None:
        return
    import ntpath
    import posixpath

    for mod in (posixpath, ntpath):
        joined = mod.normpath(mod.join("/root/dir", name))
        assert joined.replace("\\", "/").startswith("/root/dir/") or joined.replace("\\", "/") == "/root/dir"


# --------------------------------------------------------------------------- real wheels and the zip reader

def _real_wheels() -> list[Path]:
    wheels = sorted(ARTEFACTS.glob("*.whl"))
    if not wheels:
        pytest.fail(f"no wheels under {ARTEFACTS} (scripts/setup.sh fetches them)")
    return wheels


def test_every_real_wheel_passes_the_rules() -> None:
    """Zip directory and RECORD of every pinned real wheel (no decompression but RECORD's)."""
    for path in _real_wheels():
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            info = next(i.filename.split("/")[0] for i in infos if i.filename.split("/")[0].endswith(".dist-info"))
            record = zf.read(f"{info}/RECORD").decode()
        members = [Member(i.filename, i.file_size, i.compress_size, i.external_attr, i.compress_type) for i in infos]
        assert check_archive(members, record).problems == [], path.name


def test_a_sample_of_real_wheels_hashes_right() -> None:
    wheels = _real_wheels()
    sample = [p for p in wheels if p.name.startswith(("numpy-", "pillow-", "certifi-", "attrs-"))] or wheels[:3]
    for path in sample:
        assert check_wheel_file(path) == [], path.name


def make_wheel(path: Path, members: dict[str, bytes], *, record: str | None = None) -> Path:
    lines = [f"{n},{rhash(d)},{len(d)}" for n, d in members.items()] + [f"{INFO}/RECORD,,"]
    text = record if record is not None else "\n".join(lines) + "\n"
    with zipfile.ZipFile(path, "w") as zf:
        for n, d in {**members, f"{INFO}/RECORD": text.encode()}.items():
            zf.writestr(zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)), d)
    return path


GOOD = {"demo/__init__.py": b"x = 1\n", f"{INFO}/METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        f"{INFO}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}


def test_zip_reader(tmp_path: Path) -> None:
    assert check_wheel_file(make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", GOOD)) == []
    honest_text = "".join(f"{n},{rhash(d)},{len(d)}\n" for n, d in GOOD.items())
    lie = honest_text.replace(rhash(b"x = 1\n"), rhash(b"x = 2\n"))
    found = check_wheel_file(make_wheel(tmp_path / "lie-1.0-py3-none-any.whl", GOOD, record=lie))
    assert [p.member for p in found] == ["demo/__init__.py"]
    junk = tmp_path / "junk-1.0-py3-none-any.whl"
    junk.write_bytes(b"not a zip")
    assert [(p.member, p.message[:26]) for p in check_wheel_file(junk)] == [("", "not a readable zip archive")]
    raw = tmp_path / "raw-1.0-py3-none-any.whl"
    with zipfile.ZipFile(raw, "w") as zf:
        zf.writestr(f"{INFO}/RECORD", b"\xff\xfe")
    assert check_wheel_file(raw) == [Problem(f"{INFO}/RECORD", "RECORD is not UTF-8")]


# --------------------------------------------------------------------------- the cache checks once

def test_the_cache_refuses_a_bad_wheel_and_keeps_nothing(tmp_path: Path) -> None:
    evil = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", {**GOOD, "../../evil.py": b"boom\n"})
    cache = ArtifactCache(tmp_path / "cache", check_wheels=True)
    with pytest.raises(WheelRejectedError) as info:
        cache.add_file(evil, package="demo")
    err = info.value
    assert err.code == "WT340" and err.member == "../../evil.py" and err.filename == evil.name
    assert "'../../evil.py'" in str(err) and isinstance(err, ValueError)
    assert not list((tmp_path / "cache").rglob("*.whl"))
    assert not list((tmp_path / "cache" / "by-sha256").glob("*"))  # glob of a missing folder is empty
    assert not list((tmp_path / "cache" / "tmp").glob("*"))


def test_without_checks_the_cache_stores_any_bytes(tmp_path: Path) -> None:
    junk = tmp_path / "junk-1.0-py3-none-any.whl"
    junk.write_bytes(b"not a zip")
    stored = ArtifactCache(tmp_path / "cache").add_file(junk, package="junk")
    assert "checked" not in json.loads((tmp_path / "cache" / "by-sha256" / f"{stored.sha256}.json").read_text())


def test_a_wheel_is_checked_once_and_the_verdict_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    real = _wheel_zip.check_wheel_file

    def counting(path: Path) -> list[Problem]:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(_wheel_zip, "check_wheel_file", counting)
    good = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", GOOD)
    cache = ArtifactCache(tmp_path / "cache", check_wheels=True)
    stored = cache.add_file(good, package="demo")
    ref = json.loads(cache.ref_path(stored.sha256).read_text())
    assert ref["checked"] == f"{VALIDATOR_VERSION} ok"
    assert cache.add_file(good, package="demo") == stored
    assert cache.lookup(stored.sha256) == stored
    assert cache.lookup_many([stored.sha256]) == {stored.sha256: stored}
    assert len(calls) == 1


def test_an_unchecked_entry_is_checked_on_first_use(tmp_path: Path) -> None:
    good = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", GOOD)
    evil = make_wheel(tmp_path / "evil-1.0-py3-none-any.whl", {**GOOD, "/abs.py": b"boom\n"})
    old = ArtifactCache(tmp_path / "cache")  # an older wasmtool: stores without checking
    good_art = old.add_file(good, package="demo")
    evil_art = old.add_file(evil, package="evil")
    new = ArtifactCache(tmp_path / "cache", check_wheels=True)
    assert new.lookup(good_art.sha256) == good_art
    assert json.loads(new.ref_path(good_art.sha256).read_text())["checked"] == f"{VALIDATOR_VERSION} ok"
    with pytest.raises(WheelRejectedError) as info:
        new.lookup(evil_art.sha256)
    assert info.value.member == "/abs.py"
    assert not new.ref_path(evil_art.sha256).exists() and not evil_art.path.exists()
    assert new.lookup(evil_art.sha256) is None
    # and through fetch's "already cached" path
    old.add_file(evil, package="evil")
    with pytest.raises(WheelRejectedError):
        new.add_file(evil, package="evil")
    assert not new.ref_path(evil_art.sha256).exists()
