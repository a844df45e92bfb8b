"""IndexFile helpers and file selection (md5-only never selected, yanked only when pinned)."""

from __future__ import annotations

import pytest
from packaging.tags import Tag

from tests.index._helpers import DATA, URL, H
from wasmtool.index.errors import FileNotListedError, Md5OnlyFileError, MissingHashError, YankedFileError
from wasmtool.index.models import IndexFile, ProjectPage, parse_filename, versions_of
from wasmtool.index.parse_json import parse_json_page
from wasmtool.index.selection import find_file, rejections, select_files


@pytest.mark.parametrize(("filename", "project", "version", "tags"), [
    ("demo-1.0-py3-none-any.whl", "demo", "1.0", {Tag("py3", "none", "any")}),
    ("Flask_SQLAlchemy-3.1.1-py3-none-any.whl", "flask-sqlalchemy", "3.1.1", {Tag("py3", "none", "any")}),
    ("numpy-2.2.0-cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "numpy", "2.2.0",
     {Tag("cp313", "cp313t", "manylinux_2_17_x86_64"), Tag("cp313", "cp313t", "manylinux2014_x86_64")}),
    ("demo-1.0-1-py2.py3-none-any.whl", "demo", "1.0", {Tag("py2", "none", "any"), Tag("py3", "none", "any")}),
    ("PyYAML-6.0.2.tar.gz", "pyyaml", "6.0.2", set()),
    ("demo-1.0.zip", "demo", "1.0", set()),
])
def test_parse_filename_table(filename: str, project: str, version: str, tags: set[Tag]) -> None:
    parsed = parse_filename(filename)
    assert parsed is not None
    assert (str(parsed[0]), str(parsed[1]), set(parsed[2])) == (project, version, tags)
    f = IndexFile(filename, f"https://example.invalid/{filename}")
    assert (f.project, f.version, set(f.wheel_tags), f.is_wheel) == (project, version, tags, filename.endswith(".whl"))


@pytest.mark.parametrize("filename", ["demo-1.0.exe", "demo.whl", "demo-x-py3-none-any.whl", "demo-1.0.tar.bz2",
                                      "a/demo-1.0.tar.gz", ".demo-1.0.tar.gz", "demo-1.0-py3-none.whl", ""])
def test_parse_filename_rejects(filename: str) -> None:
    assert parse_filename(filename) is None
    f = IndexFile(filename, "https://example.invalid/x")
    assert (f.version, f.project, f.wheel_tags) == (None, None, frozenset())


def test_index_file_helpers_and_equality() -> None:
    f = IndexFile("demo-1.0-py3-none-any.whl", "https://example.invalid/f/demo-1.0-py3-none-any.whl",
                  {"sha256": H}, size=5, upload_time="t")
    assert f.sha256 == H and f.metadata_url.endswith(".whl.metadata") and not f.md5_only
    same_but_html = IndexFile(f.filename, f.url, {"sha256": H})
    assert f == same_but_html and hash(f) == hash(same_but_html)  # size/upload-time: JSON only
    assert f != IndexFile(f.filename, f.url, {"sha256": "b" * 64})
    assert IndexFile("x", "u", {"md5": "0" * 32}).md5_only and IndexFile("x", "u").sha256 == ""
    with pytest.raises(AttributeError):
        f.yanked = True  # type: ignore[misc]


def test_versions_of_sorts_by_pep440() -> None:
    files = tuple(IndexFile(n, "u") for n in ["demo-1.10.tar.gz", "demo-1.9-py3-none-any.whl", "demo-1.9.tar.gz",
                                               "demo-1.0a1.tar.gz", "demo-1!0.1.tar.gz"])
    assert versions_of(files) == ("1.0a1", "1.9", "1.10", "1!0.1")


def _page() -> ProjectPage:
    return parse_json_page((DATA / "httpx.json").read_bytes(), url="https://index.example.invalid/simple/httpx/",
                           project="httpx")


def test_yanked_not_selected_unless_exact_file_pinned() -> None:
    page = _page()
    chosen = {f.filename for f in select_files(page, allow_yanked_pins=set())}
    assert chosen == {"httpx-0.27.2-py3-none-any.whl", "httpx-0.27.2.tar.gz", "httpx-0.28.1-py3-none-any.whl",
                      "httpx-0.28.1.tar.gz"}
    pinned = {f.filename for f in select_files(page, allow_yanked_pins={"httpx-0.28.0-py3-none-any.whl"})}
    assert pinned == chosen | {"httpx-0.28.0-py3-none-any.whl"}  # only that exact file, not its sdist
    # pinning by version or by another spelling does not count
    assert {f.filename for f in select_files(page, allow_yanked_pins={"0.28.0", "httpx==0.28.0"})} == chosen
    assert [f.filename for f in select_files(page, allow_yanked_pins=set())] == [
        f.filename for f in page.files if f.filename in chosen]  # page order kept


def test_md5_only_never_selected_and_explained() -> None:
    page = _page()
    assert all(f.filename != "httpx-0.1.0.tar.gz" for f in select_files(page, allow_yanked_pins={"httpx-0.1.0.tar.gz"}))
    why = rejections(page)
    assert why["httpx-0.1.0.tar.gz"] == "md5 is the only hash offered"
    assert why["httpx-0.28.0-py3-none-any.whl"] == "yanked (Regression in 0.28.0 proxy handling)"
    assert why["httpx-0.28.0.tar.gz"] == "yanked"
    assert "httpx-0.28.1.tar.gz" not in why


@pytest.mark.parametrize(("filename", "pins", "error", "code"), [
    ("httpx-0.1.0.tar.gz", {"httpx-0.1.0.tar.gz"}, Md5OnlyFileError, "WT110"),
    ("httpx-0.28.0.tar.gz", set(), YankedFileError, "WT112"),
    ("httpx-9.9.tar.gz", set(), FileNotListedError, "WT113"),
])
def test_find_file_says_why(filename: str, pins: set[str], error: type[Exception], code: str) -> None:
    page = _page()
    with pytest.raises(error) as ei:
        find_file(page, filename, allow_yanked_pins=pins)
    assert ei.value.code == code and ei.value.package == "httpx" and ei.value.file == page.url  # type: ignore[attr-defined]


def test_find_file_ok_and_hashless() -> None:
    page = _page()
    assert find_file(page, "httpx-0.28.0.tar.gz", allow_yanked_pins={"httpx-0.28.0.tar.gz"}).yanked
    hashless = ProjectPage("demo", URL, (IndexFile("demo-1.0.tar.gz", URL + "demo-1.0.tar.gz"),))
    assert select_files(hashless) == []
    with pytest.raises(MissingHashError):
        find_file(hashless, "demo-1.0.tar.gz")
