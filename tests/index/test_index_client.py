from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.index_server import IndexServer
from wasmtool.errors import IndexError_
from wasmtool.index import IndexClient, parse_html_page, parse_json_page
from wasmtool.index.config import resolve_index_urls
from wasmtool.index.errors import (
    IndexHTTPError,
    IndexNetworkError,
    MalformedHTMLPageError,
    MalformedJSONPageError,
    MetadataMismatchError,
    ProjectNotFoundError,
    UnsupportedAPIVersionError,
)

H = "a" * 64
URL = "https://example.invalid/simple/demo/"


def json_page(files: list[dict[str, object]], api: str = "1.1") -> bytes:
    return json.dumps({"meta": {"api-version": api}, "name": "demo", "files": files}).encode()


def test_json_page_fields() -> None:
    page = parse_json_page(json_page([
        {"filename": "demo-1.0-py3-none-any.whl", "url": "../../files/demo-1.0-py3-none-any.whl",
         "hashes": {"sha256": H.upper()}, "requires-python": ">=3.9", "core-metadata": {"sha256": H},
         "yanked": "broken", "size": 10, "upload-time": "2026-01-01T00:00:00Z"},
        {"filename": "demo-0.9.tar.gz", "url": "https://example.invalid/f/demo-0.9.tar.gz",
         "hashes": {"md5": "abc"}},
        {"filename": "demo-0.8.tar.gz", "url": "x", "hashes": {"sha256": H}, "dist-info-metadata": True},
    ]), url=URL, project="demo")
    whl = page.files[0]
    assert whl.url == "https://example.invalid/files/demo-1.0-py3-none-any.whl"
    assert whl.sha256 == H and whl.requires_python == ">=3.9" and whl.yanked and whl.yanked_reason == "broken"
    assert whl.core_metadata == {"sha256": H} and whl.version == "1.0" and whl.is_wheel
    assert page.md5_only == ("demo-0.9.tar.gz",)
    assert page.files[1].core_metadata is True
    assert IndexClient.select_files(page, allow_yanked_pins=set()) == [page.files[1]]
    assert whl in IndexClient.select_files(page, allow_yanked_pins={whl.filename})


def test_html_page_fields() -> None:
    page = parse_html_page(
        f'<a href="/files/demo-1.0-py3-none-any.whl#sha256={H}" data-requires-python="&gt;=3.9" '
        f'data-core-metadata="sha256={H}" data-yanked="">demo-1.0-py3-none-any.whl</a>\n'
        '<a href="/files/demo-0.9.tar.gz#md5=abc">demo-0.9.tar.gz</a>', url=URL, project="demo")
    f = page.files[0]
    assert (f.filename, f.url, f.sha256, f.requires_python, f.yanked, f.core_metadata) == (
        "demo-1.0-py3-none-any.whl", "https://example.invalid/files/demo-1.0-py3-none-any.whl", H, ">=3.9",
        True, {"sha256": H})
    assert page.md5_only == ("demo-0.9.tar.gz",)


@pytest.mark.parametrize(("doc", "field"), [
    (b"{not json", None),
    (b"[]", "$"),
    (json.dumps({"files": []}).encode(), "meta.api-version"),
    (json.dumps({"meta": {"api-version": "1.0"}}).encode(), "files"),
    (json.dumps({"meta": {"api-version": "1.0"}, "files": [3]}).encode(), "files[0]"),
    (json.dumps({"meta": {"api-version": "1.0"}, "files": [{"url": "x", "hashes": {}}]}).encode(),
     "files[0].filename"),
    (json.dumps({"meta": {"api-version": "1.0"}, "files": [{"filename": "a.whl", "url": "x", "hashes": {"sha256": 1}}]})
     .encode(), "files[0].hashes"),
    (json.dumps({"meta": {"api-version": "1.0"}, "files": [{"filename": "a.whl", "url": "x", "hashes": {},
                                                           "yanked": 3}]}).encode(), "files[0].yanked"),
])
def test_malformed_json_names_url_and_field(doc: bytes, field: str | None) -> None:
    with pytest.raises(MalformedJSONPageError) as ei:
        parse_json_page(doc, url=URL, project="demo")
    assert ei.value.code == "WT104" and ei.value.file == URL and ei.value.package == "demo"
    assert ei.value.field == field


def test_unsupported_api_version() -> None:
    with pytest.raises(UnsupportedAPIVersionError):
        parse_json_page(json_page([], api="2.0"), url=URL, project="demo")


@pytest.mark.parametrize("html", ['<a>no href</a>', '<a href="/f/x.whl#sha256">x</a>'])
def test_malformed_html_names_url_and_line(html: str) -> None:
    with pytest.raises(MalformedHTMLPageError) as ei:
        parse_html_page("\n" + html, url=URL, project="demo")
    assert ei.value.file == URL and ei.value.field == "line 2"


def test_json_and_html_give_identical_files(index_server: IndexServer) -> None:
    for project in ("pydantic", "tomli", "attrs"):
        base = index_server.url + project + "/"
        j = httpx.get(base, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        h = httpx.get(base, headers={"Accept": "text/html"})
        pj = parse_json_page(j.content, url=base, project=project)
        ph = parse_html_page(h.text, url=base, project=project)
        assert pj.files == ph.files
        assert [f.core_metadata for f in pj.files] == [f.core_metadata for f in ph.files]


def test_client_against_loopback_index(index_server: IndexServer) -> None:
    with IndexClient([index_server.url]) as client:
        page = client.get_project("Typing_Extensions")
        assert page.name == "typing-extensions" and page.source == "json"
        wheel = page.files[0]
        meta = client.get_metadata(wheel)
        assert str(meta.name).lower().replace("_", "-") == "typing-extensions"
        with pytest.raises(ProjectNotFoundError, match="no-such-project"):
            client.get_project("no-such-project")
    assert ("GET", "/simple/typing-extensions/") in index_server.behaviour.requests


def test_request_url_is_normalised() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, headers={"content-type": "application/vnd.pypi.simple.v1+json"},
                              content=json_page([]))

    with IndexClient(["https://example.invalid/simple"], transport=httpx.MockTransport(handler)) as c:
        c.get_project("Flask_SQLAlchemy")
    assert seen == ["/simple/flask-sqlalchemy/"]


def test_retries_on_503_then_succeeds_and_not_on_404() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if request.url.path.endswith("/missing/"):
            return httpx.Response(404)
        if calls["n"] < 3:
            return httpx.Response(503)
        return httpx.Response(200, headers={"content-type": "application/vnd.pypi.simple.v1+json"},
                              content=json_page([]))

    with IndexClient(["https://example.invalid/simple/"], transport=httpx.MockTransport(handler), backoff=0) as c:
        c.get_project("demo")
        assert calls["n"] == 3
        calls["n"] = 10
        with pytest.raises(ProjectNotFoundError):
            c.get_project("missing")
        assert calls["n"] == 11


def test_persistent_5xx_and_timeouts_are_typed() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502)

    with IndexClient(["https://example.invalid/simple/"], transport=httpx.MockTransport(fail), backoff=0,
                     retries=2) as c, pytest.raises(IndexHTTPError, match="after 3 attempts"):
        c.get_project("demo")

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with IndexClient(["https://example.invalid/simple/"], transport=httpx.MockTransport(timeout), backoff=0,
                     retries=1) as c, pytest.raises(IndexNetworkError) as ei:
        c.get_project("demo")
    assert ei.value.package == "demo" and isinstance(ei.value.__cause__, httpx.ReadTimeout)


def test_metadata_hash_is_checked() -> None:
    meta = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(".metadata"):
            return httpx.Response(200, content=meta + b"tampered")
        return httpx.Response(200, headers={"content-type": "application/vnd.pypi.simple.v1+json"}, content=json_page([
            {"filename": "demo-1.0-py3-none-any.whl", "url": "/f/demo-1.0-py3-none-any.whl", "hashes": {"sha256": H},
             "core-metadata": {"sha256": hashlib.sha256(meta).hexdigest()}}]))

    with IndexClient(["https://example.invalid/simple/"], transport=httpx.MockTransport(handler)) as c:
        f = c.get_project("demo").files[0]
        with pytest.raises(MetadataMismatchError):
            c.get_metadata(f)


def test_file_index_directory_listing(tmp_path: Path) -> None:
    proj = tmp_path / "demo"
    proj.mkdir()
    (proj / "demo-1.0-py3-none-any.whl").write_bytes(b"not really a wheel")
    with IndexClient([tmp_path.as_uri() + "/"]) as c:
        page = c.get_project("demo")
    assert [f.filename for f in page.files] == ["demo-1.0-py3-none-any.whl"]
    assert page.files[0].sha256 == hashlib.sha256(b"not really a wheel").hexdigest()


def test_extra_index_files_are_merged_after_primary() -> None:
    def primary(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        name = "a" if host == "one.invalid" else "b"
        return httpx.Response(200, headers={"content-type": "application/vnd.pypi.simple.v1+json"}, content=json_page([
            {"filename": f"demo-1.0-py3-none-{name}.whl", "url": f"/f/{name}", "hashes": {"sha256": H}}]))

    with IndexClient(["https://one.invalid/simple/", "https://two.invalid/simple/"],
                     transport=httpx.MockTransport(primary)) as c:
        assert [f.filename for f in c.get_project("demo").files] == ["demo-1.0-py3-none-a.whl",
                                                                     "demo-1.0-py3-none-b.whl"]


@pytest.mark.parametrize(("manifest", "env", "conf", "expected", "origin"), [
    ("https://m.invalid/simple/", {"WASMTOOL_INDEX_URL": "https://e.invalid/"}, {}, "https://m.invalid/simple/",
     "mochi.toml"),
    (None, {"WASMTOOL_INDEX_URL": "https://e.invalid/", "PIP_INDEX_URL": "https://p.invalid/"}, {},
     "https://e.invalid/", "WASMTOOL_INDEX_URL"),
    (None, {"PIP_INDEX_URL": "https://p.invalid/"}, {"global.index-url": "https://c.invalid/"}, "https://p.invalid/",
     "PIP_INDEX_URL"),
    (None, {}, {"global.index-url": "https://c.invalid/"}, "https://c.invalid/", "pip configuration"),
    (None, {}, {"install.index-url": "file:///srv/idx"}, "file:///srv/idx", "pip configuration"),
])
def test_index_url_precedence(manifest: str | None, env: dict[str, str], conf: dict[str, str], expected: str,
                              origin: str) -> None:
    urls = resolve_index_urls(manifest_url=manifest, env=env, pip_config=lambda: conf)
    assert (urls.primary, urls.origin) == (expected, origin)


def test_builtin_default_comes_from_pip() -> None:
    urls = resolve_index_urls(manifest_url=None, env={}, pip_config=dict)
    assert urls.origin == "pip default" and urls.primary.startswith("https://")
    extra = resolve_index_urls(manifest_url="https://m.invalid/", manifest_extra=["https://x.invalid/"],
                               env={"WASMTOOL_EXTRA_INDEX_URL": "https://y.invalid/ https://x.invalid/"})
    assert extra.extra == ("https://x.invalid/", "https://y.invalid/")


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_fuzz_json_parser_raises_only_typed_errors(data: bytes) -> None:
    with contextlib.suppress(IndexError_):
        parse_json_page(data, url=URL, project="demo")


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.builds(lambda h, f: f'<a href="{h}#{f}">x</a>', st.text(max_size=30),
                                         st.text(max_size=30)))
def test_fuzz_html_parser_raises_only_typed_errors(text: str) -> None:
    with contextlib.suppress(IndexError_):
        parse_html_page(text, url=URL, project="demo")
