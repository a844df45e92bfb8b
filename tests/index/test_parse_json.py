"""PEP 691 JSON page parser: fields, forms, skip rules and errors with JSON paths."""

from __future__ import annotations

import json

import pytest

from tests.index._helpers import DATA, URL, H, json_page
from wasmtool.index.errors import MalformedJSONPageError, UnsupportedAPIVersionError
from wasmtool.index.parse_json import parse_json_page

WHEEL = "demo-1.0-py3-none-any.whl"


def one(**fields: object) -> dict[str, object]:
    return {"filename": WHEEL, "url": f"/files/{WHEEL}", "hashes": {"sha256": H}, **fields}


def test_fields_are_read_and_url_is_absolute() -> None:
    page = parse_json_page(json_page([one(
        url=f"../../files/{WHEEL}#sha256={H}", hashes={"SHA256": H.upper(), "blake2b": "b" * 128},
        **{"requires-python": ">=3.9", "size": 10, "upload-time": "2026-01-01T00:00:00Z",
           "provenance": "/integrity/demo/1.0/x/provenance", "gpg-sig": False, "future-field": {"x": 1}})]),
        url=URL, project="Demo")
    (f,) = page.files
    assert f.url == f"https://example.invalid/files/{WHEEL}"
    assert list(f.hashes) == ["blake2b", "sha256"] and f.sha256 == H
    assert (f.requires_python, f.size, f.upload_time) == (">=3.9", 10, "2026-01-01T00:00:00Z")
    assert f.provenance == "https://example.invalid/integrity/demo/1.0/x/provenance"
    assert (page.name, page.source, page.api_version, page.url) == ("demo", "json", "1.1", URL)
    assert page.versions == ("1.0",)  # derived from the files when the page has no PEP 700 list


@pytest.mark.parametrize(("value", "yanked", "reason"), [
    (False, False, None),
    (True, True, None),
    ("", True, None),  # a string, even empty, means yanked
    ("broken build", True, "broken build"),
])
def test_yanked_forms(value: object, yanked: bool, reason: str | None) -> None:
    (f,) = parse_json_page(json_page([one(yanked=value)]), url=URL, project="demo").files
    assert (f.yanked, f.yanked_reason) == (yanked, reason)


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, False),
    ({"core-metadata": True}, True),
    ({"core-metadata": False}, False),
    ({"core-metadata": {}}, True),  # offered, no hash
    ({"core-metadata": {"SHA256": H.upper()}}, {"sha256": H}),
    ({"dist-info-metadata": {"sha256": H}}, {"sha256": H}),  # PEP 658 legacy key
    ({"data-dist-info-metadata": True}, True),  # key emitted by a large index for a while
    ({"core-metadata": False, "dist-info-metadata": True}, False),  # PEP 714: the new key wins
    ({"core-metadata": {"sha256": H}, "dist-info-metadata": False}, {"sha256": H}),
])
def test_core_metadata_forms(fields: dict[str, object], expected: object) -> None:
    (f,) = parse_json_page(json_page([one(**fields)]), url=URL, project="demo").files
    assert f.core_metadata == expected
    assert f.metadata_url == f"https://example.invalid/files/{WHEEL}.metadata"


def test_md5_only_is_set_aside_not_listed() -> None:
    page = parse_json_page(json_page([
        one(filename="demo-0.9.tar.gz", url="/f/demo-0.9.tar.gz", hashes={"md5": "0" * 32}),
        one(filename="demo-0.8.tar.gz", url="/f/demo-0.8.tar.gz", hashes={"md5": "0" * 32, "sha256": H}),
        one(),
    ]), url=URL, project="demo")
    assert [f.filename for f in page.files] == ["demo-0.8.tar.gz", WHEEL]
    assert [f.filename for f in page.md5_only] == ["demo-0.9.tar.gz"]
    assert page.file("demo-0.9.tar.gz") is None and page.md5_only_file("demo-0.9.tar.gz") is not None


@pytest.mark.parametrize(("filename", "url", "reason"), [
    ("demo-1.0.win32.exe", "/f/demo-1.0.win32.exe", "not a wheel or sdist"),
    ("demo-1.0.tar.bz2", "/f/demo-1.0.tar.bz2", "not a wheel or sdist"),
    ("demo-1.0-py2.4.egg", "/f/x.egg", "not a wheel or sdist"),
    ("demo-notaversion-py3-none-any.whl", "/f/x.whl", "not a wheel or sdist"),
    ("../demo-1.0.tar.gz", "/f/x.tar.gz", "not a wheel or sdist"),
    ("other-1.0-py3-none-any.whl", "/f/other.whl", "project 'other'"),
    (WHEEL, "ftp://example.invalid/x.whl", "scheme 'ftp'"),
    (WHEEL, "file:///etc/demo-1.0-py3-none-any.whl", "local file"),
])
def test_unusable_names_and_urls_are_skipped_not_fatal(filename: str, url: str, reason: str) -> None:
    page = parse_json_page(json_page([one(filename=filename, url=url), one()]), url=URL, project="demo")
    assert [f.filename for f in page.files] == [WHEEL]
    ((name, why),) = page.skipped
    assert name == filename and reason in why


def test_pep700_versions_are_kept() -> None:
    doc = {"meta": {"api-version": "1.1"}, "name": "demo", "files": [one()], "versions": ["0.5", "1.0"]}
    assert parse_json_page(json.dumps(doc).encode(), url=URL, project="demo").versions == ("0.5", "1.0")


@pytest.mark.parametrize("api", ["1.0", "1.1", "1.4", "1.99"])
def test_api_version_1x_accepted(api: str) -> None:
    assert parse_json_page(json_page([], api=api), url=URL, project="demo").api_version == api


@pytest.mark.parametrize("api", ["2.0", "0.9", "10.1"])
def test_other_major_api_version_refused(api: str) -> None:
    with pytest.raises(UnsupportedAPIVersionError) as ei:
        parse_json_page(json_page([], api=api), url=URL, project="demo")
    assert (ei.value.code, ei.value.file, ei.value.package, ei.value.field) == (
        "WT107", URL, "demo", "meta.api-version")


def _doc(files: object, **top: object) -> bytes:
    return json.dumps({"meta": {"api-version": "1.0"}, "name": "demo", "files": files, **top}).encode()


@pytest.mark.parametrize(("doc", "field", "words"), [
    (b"{not json", "$", "not valid JSON"),
    (b"\xff\xfe\x00", "$", "not valid JSON"),
    (b"[" * 100_000, "$", "not valid JSON"),
    (b"[]", "$", "an array"),
    (json.dumps({"files": []}).encode(), "meta", "null"),
    (json.dumps({"meta": {}, "files": []}).encode(), "meta.api-version", "null"),
    (json.dumps({"meta": {"api-version": 1.0}, "files": []}).encode(), "meta.api-version", "a number"),
    (json.dumps({"meta": {"api-version": "one"}, "files": []}).encode(), "meta.api-version", "<major>.<minor>"),
    (json.dumps({"meta": {"api-version": "1.0"}}).encode(), "files", "null"),
    (_doc({"a": 1}), "files", "an object"),
    (_doc([], name=3), "name", "a number"),
    (_doc([], name="other"), "name", "'other'"),
    (_doc([], versions="1.0"), "versions", "a string"),
    (_doc([], versions=["1.0", None]), "versions[1]", "null"),
    (_doc([one(), one(), 3]), "files[2]", "a number"),
    (_doc([one(), {"url": "x", "hashes": {}}]), "files[1].filename", "null"),
    (_doc([one(filename="")]), "files[0].filename", "empty"),
    (_doc([one(url=None)]), "files[0].url", "null"),
    (_doc([one(url="http://[::1/x.whl")]), "files[0].url", "bad URL"),
    (_doc([one(), one(), one(hashes=["sha256", H])]), "files[2].hashes", "an array"),
    (_doc([one(hashes={"sha256": 1})]), "files[0].hashes.sha256", "a number"),
    (_doc([one(hashes={"sha256": "xyz"})]), "files[0].hashes.sha256", "not hex"),
    (_doc([one(hashes={"sha256": "ab"})]), "files[0].hashes.sha256", "expected 64"),
    (_doc([one(hashes={"md5": "ab"})]), "files[0].hashes.md5", "expected 32"),
    (_doc([one(hashes={"sha 256": H})]), "files[0].hashes.sha 256", "not a hash algorithm"),
    (_doc([one(yanked=3)]), "files[0].yanked", "a number"),
    (_doc([one(yanked=None)]), "files[0].yanked", "null"),
    (_doc([one(**{"requires-python": 3})]), "files[0].requires-python", "a number"),
    (_doc([one(**{"core-metadata": "true"})]), "files[0].core-metadata", "a string"),
    (_doc([one(**{"core-metadata": {"sha256": "zz"}})]), "files[0].core-metadata.sha256", "not hex"),
    (_doc([one(**{"dist-info-metadata": 1})]), "files[0].dist-info-metadata", "a number"),
    (_doc([one(size=-1)]), "files[0].size", "non-negative"),
    (_doc([one(size=True)]), "files[0].size", "a boolean"),
    (_doc([one(size="10")]), "files[0].size", "a string"),
    (_doc([one(**{"upload-time": 0})]), "files[0].upload-time", "a number"),
    (_doc([one(provenance=False)]), "files[0].provenance", "a boolean"),
])
def test_malformed_json_names_url_project_and_path(doc: bytes, field: str, words: str) -> None:
    with pytest.raises(MalformedJSONPageError) as ei:
        parse_json_page(doc, url=URL, project="demo")
    err = ei.value
    assert (err.code, err.file, err.package, err.field) == ("WT104", URL, "demo", field)
    assert words in err.message
    assert f"{URL}: demo: {field}" in str(err)


@pytest.mark.parametrize("project", ["httpx", "numpy", "pyyaml"])
def test_sample_pages(project: str) -> None:
    data = (DATA / f"{project}.json").read_bytes()
    page = parse_json_page(data, url=f"https://index.example.invalid/simple/{project}/", project=project)
    raw = json.loads(data)
    listed = {f["filename"] for f in raw["files"]}
    kept = {f.filename for f in page.files} | {f.filename for f in page.md5_only} | {n for n, _ in page.skipped}
    assert kept == listed
    assert page.versions == tuple(raw["versions"])
    assert all(f.sha256 and len(f.sha256) == 64 for f in page.files)
    assert all(f.url.startswith("https://files.example.invalid/") for f in page.files)


def test_sample_httpx_details() -> None:
    page = parse_json_page((DATA / "httpx.json").read_bytes(), url="https://index.example.invalid/simple/httpx/",
                           project="httpx")
    assert [f.filename for f in page.md5_only] == ["httpx-0.1.0.tar.gz"]
    assert page.md5_only[0].url == "https://index.example.invalid/packages/0a/httpx-0.1.0.tar.gz"
    yanked = {f.filename: f.yanked_reason for f in page.files if f.yanked}
    assert yanked == {"httpx-0.28.0-py3-none-any.whl": "Regression in 0.28.0 proxy handling",
                      "httpx-0.28.0.tar.gz": None}
    wheel = page.file("httpx-0.28.1-py3-none-any.whl")
    assert wheel is not None and isinstance(wheel.core_metadata, dict) and wheel.provenance is not None
    assert wheel.size is not None and wheel.upload_time is not None


def test_sample_pyyaml_legacy_key_and_skips() -> None:
    page = parse_json_page((DATA / "pyyaml.json").read_bytes(), url="https://index.example.invalid/simple/pyyaml/",
                           project="PyYAML")
    assert [n for n, _ in page.skipped] == ["PyYAML-5.4.1.win-amd64-py3.9.exe"]
    assert [f.filename for f in page.md5_only] == ["PyYAML-3.10.zip"]
    whl = next(f for f in page.files if f.is_wheel)
    assert whl.core_metadata is True and whl.version == "6.0.2"
    assert whl.requires_python == ">=3.8"
