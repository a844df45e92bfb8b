"""IndexClient against httpx.MockTransport: negotiation, normalisation, retries, errors, metadata."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.index._helpers import DATA, JSON_TYPE, H, json_page, make_wheel, metadata_bytes
from wasmtool.index import IndexClient, IndexUrls
from wasmtool.index.client import ACCEPT
from wasmtool.index.errors import (
    IndexHTTPError,
    IndexNetworkError,
    IndexTimeoutError,
    MalformedJSONPageError,
    MetadataInvalidError,
    MetadataMismatchError,
    MetadataUnavailableError,
    ProjectNotFoundError,
    UnsupportedContentTypeError,
)
from wasmtool.index.models import IndexFile

BASE = "https://example.invalid/simple/"
WHEEL = "demo-1.0-py3-none-any.whl"
Handler = Callable[[httpx.Request], httpx.Response]


def ok_json(content: bytes | None = None) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": JSON_TYPE},
                          content=content if content is not None else json_page([]))


def client(handler: Handler, *, urls: list[str] | None = None, **kw: object) -> IndexClient:
    kw.setdefault("backoff", 0)
    return IndexClient(urls or [BASE], transport=httpx.MockTransport(handler), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "path"), [
    ("Flask_SQLAlchemy", "/simple/flask-sqlalchemy/"),
    ("flask.sqlalchemy", "/simple/flask-sqlalchemy/"),
    ("FLASK--SQLALCHEMY", "/simple/flask-sqlalchemy/"),
    ("zope.interface", "/simple/zope-interface/"),
    ("demo", "/simple/demo/"),
])
def test_request_url_is_normalised_and_accept_negotiates(name: str, path: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok_json(json_page([], name=name))

    with client(handler, urls=["https://example.invalid/simple"]) as c:  # no trailing slash given
        page = c.get_project(name)
        assert c.get_project(name) is page  # memoised: one request
    assert [r.url.path for r in seen] == [path]
    assert seen[0].headers["accept"] == ACCEPT == (
        "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.5, text/html;q=0.1")
    assert seen[0].headers["user-agent"].startswith("wasmtool/")
    assert page.name == path.split("/")[2]


@pytest.mark.parametrize(("ctype", "body", "source"), [
    (JSON_TYPE, (DATA / "httpx.json").read_bytes(), "json"),
    (JSON_TYPE + "; charset=utf-8", (DATA / "httpx.json").read_bytes(), "json"),
    ("application/vnd.pypi.simple.v1+html", (DATA / "httpx.html").read_bytes(), "html"),
    ("text/html; charset=utf-8", (DATA / "httpx.html").read_bytes(), "html"),
    ("Text/HTML", (DATA / "httpx.html").read_bytes(), "html"),
])
def test_dispatch_on_content_type(ctype: str, body: bytes, source: str) -> None:
    with client(lambda r: httpx.Response(200, headers={"content-type": ctype}, content=body)) as c:
        page = c.get_project("httpx")
    assert page.source == source and len(page.files) == 6 and page.url == BASE + "httpx/"


@pytest.mark.parametrize("ctype", ["application/json", "text/plain", "application/vnd.pypi.simple.v2+json", ""])
def test_unsupported_content_type(ctype: str) -> None:
    headers = {"content-type": ctype} if ctype else {}
    with client(lambda r: httpx.Response(200, headers=headers, content=b"{}")) as c, \
            pytest.raises(UnsupportedContentTypeError) as ei:
        c.get_project("demo")
    assert (ei.value.code, ei.value.file, ei.value.package) == ("WT106", BASE + "demo/", "demo")


def test_page_url_is_the_final_url_after_redirects() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/simple/demo/":
            return httpx.Response(301, headers={"location": "https://mirror.invalid/s/demo/"})
        return ok_json(json_page([{"filename": WHEEL, "url": WHEEL, "hashes": {"sha256": H}}]))

    with client(handler) as c:
        page = c.get_project("demo")
    assert page.url == "https://mirror.invalid/s/demo/"
    assert page.files[0].url == f"https://mirror.invalid/s/demo/{WHEEL}"


@pytest.mark.parametrize("status", [503, 502, 500, 504, 429])
def test_retries_transient_status_then_succeeds(status: int) -> None:
    calls: list[int] = []
    delays: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status) if len(calls) < 3 else ok_json()

    with client(handler, backoff=0.2, sleep=delays.append) as c:
        c.get_project("demo")
    assert len(calls) == 3
    assert delays == [0.2, 0.4]  # exponential


@pytest.mark.parametrize("status", [400, 401, 403, 418])
def test_no_retry_on_other_4xx(status: int) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status)

    with client(handler) as c, pytest.raises(IndexHTTPError) as ei:
        c.get_project("demo")
    assert calls == [1] and ei.value.status == status and ei.value.code == "WT101"
    assert ei.value.file == BASE + "demo/" and ei.value.package == "demo"


@pytest.mark.parametrize("status", [404, 410])
def test_not_found_is_not_retried_and_names_project_and_indexes(status: int) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(status)

    urls = ["https://one.invalid/simple/", "https://two.invalid/simple/"]
    with client(handler, urls=urls) as c, pytest.raises(ProjectNotFoundError) as ei:
        c.get_project("No_Such")
    assert calls == [u + "no-such/" for u in urls]  # each index once
    err = ei.value
    assert err.code == "WT103" and err.package == "no-such" and err.indexes == tuple(urls)
    assert all(u in str(err) for u in urls)


def test_persistent_5xx_is_typed_with_attempts() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(502)

    with client(handler, retries=2) as c, pytest.raises(IndexHTTPError, match="after 3 attempts") as ei:
        c.get_project("demo")
    assert len(calls) == 3 and ei.value.status == 502


@pytest.mark.parametrize(("exc", "error"), [
    (httpx.ReadTimeout, IndexTimeoutError),
    (httpx.ConnectTimeout, IndexTimeoutError),
    (httpx.ConnectError, IndexNetworkError),
    (httpx.RemoteProtocolError, IndexNetworkError),
    (httpx.ReadError, IndexNetworkError),
])
def test_transport_errors_retried_then_typed(exc: type[httpx.TransportError], error: type[Exception]) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise exc("boom", request=request)

    with client(handler, retries=2) as c, pytest.raises(error) as ei:
        c.get_project("demo")
    assert len(calls) == 3
    assert type(ei.value) is error and ei.value.package == "demo"  # type: ignore[attr-defined]
    assert isinstance(ei.value.__cause__, exc) and "after 3 attempts" in str(ei.value)


def test_timeout_then_success() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return ok_json()

    with client(handler) as c:
        assert c.get_project("demo").files == ()
    assert len(calls) == 2


def test_unsupported_protocol_is_not_retried() -> None:
    with IndexClient(["gopher://example.invalid/simple/"], backoff=0) as c, pytest.raises(IndexNetworkError):
        c.get_project("demo")


def test_malformed_page_error_names_final_url() -> None:
    with client(lambda r: ok_json(b'{"meta": {"api-version": "1.0"}, "files": [1]}')) as c, \
            pytest.raises(MalformedJSONPageError) as ei:
        c.get_project("demo")
    assert (ei.value.file, ei.value.field) == (BASE + "demo/", "files[0]")


def test_extra_index_files_merged_after_primary() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        files: list[dict[str, object]] = [{"filename": WHEEL, "url": f"/f/{WHEEL}", "hashes": {"sha256": H}}]
        if host == "two.invalid":
            files = [{"filename": WHEEL, "url": f"/other/{WHEEL}", "hashes": {"sha256": "b" * 64}},
                     {"filename": "demo-2.0.tar.gz", "url": "/f/demo-2.0.tar.gz", "hashes": {"sha256": H}}]
        if host == "three.invalid":
            return httpx.Response(404)
        return ok_json(json_page(files))

    urls = IndexUrls("https://one.invalid/simple/", ("https://two.invalid/simple/", "https://three.invalid/simple"))
    with client(handler, urls=urls.all) as c:  # type: ignore[arg-type]
        page = c.get_project("demo")
    assert [(f.filename, f.url) for f in page.files] == [
        (WHEEL, f"https://one.invalid/f/{WHEEL}"), ("demo-2.0.tar.gz", "https://two.invalid/f/demo-2.0.tar.gz")]
    assert page.versions == ("1.0", "2.0")


def test_failure_of_an_extra_index_is_not_hidden() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return ok_json() if request.url.host == "one.invalid" else httpx.Response(500)

    with client(handler, urls=["https://one.invalid/", "https://two.invalid/"], retries=1) as c, \
            pytest.raises(IndexHTTPError) as ei:
        c.get_project("demo")
    assert ei.value.file == "https://two.invalid/demo/"


def test_index_urls_object_and_single_string() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return ok_json()

    with IndexClient(IndexUrls("https://a.invalid/s"), transport=httpx.MockTransport(handler)) as c:
        c.get_project("demo")
    with IndexClient("https://b.invalid/s/", transport=httpx.MockTransport(handler)) as c:
        c.get_project("demo")
    assert seen == ["https://a.invalid/s/demo/", "https://b.invalid/s/demo/"]
    with pytest.raises(ValueError):
        IndexClient([])


# -- metadata ------------------------------------------------------------------------------

META = metadata_bytes("demo", "1.0", requires=("idna>=2",))


def metadata_client(meta_response: httpx.Response, core: object) -> tuple[IndexClient, list[str]]:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if request.url.path.endswith(".metadata"):
            return meta_response
        entry: dict[str, object] = {"filename": WHEEL, "url": f"/f/{WHEEL}", "hashes": {"sha256": H}}
        if core is not None:
            entry["core-metadata"] = core
        return ok_json(json_page([entry]))

    return client(handler), paths


def test_metadata_from_pep658_file_with_hash() -> None:
    c, paths = metadata_client(httpx.Response(200, content=META), {"sha256": hashlib.sha256(META).hexdigest()})
    with c:
        meta = c.get_metadata(c.get_project("demo").files[0])
    assert (meta.name, str(meta.version), [str(r) for r in meta.requires_dist or []]) == ("demo", "1.0", ["idna>=2"])
    assert paths[-1] == f"/f/{WHEEL}.metadata"


def test_metadata_without_hash_is_accepted() -> None:
    c, _ = metadata_client(httpx.Response(200, content=META), True)
    with c:
        assert c.get_metadata(c.get_project("demo").files[0]).name == "demo"


def test_metadata_hash_mismatch() -> None:
    expected = {"sha256": hashlib.sha256(META).hexdigest()}
    c, _ = metadata_client(httpx.Response(200, content=META + b"tampered"), expected)
    with c:
        f = c.get_project("demo").files[0]
        with pytest.raises(MetadataMismatchError) as ei:
            c.get_metadata(f, fallback=lambda: pytest.fail("no fallback after a mismatch"))
    assert ei.value.file == f.metadata_url and ei.value.field == "core-metadata.sha256"
    assert ei.value.package == "demo"


@pytest.mark.parametrize(("body", "error", "field"), [
    (metadata_bytes("other", "1.0"), MetadataMismatchError, "Name"),
    (metadata_bytes("demo", "2.0"), MetadataMismatchError, "Version"),
    (b"Metadata-Version: 2.1\nName: demo\n", MetadataInvalidError, None),
    (b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: ))bad\n", MetadataInvalidError, None),
])
def test_metadata_content_is_checked(body: bytes, error: type[Exception], field: str | None) -> None:
    c, _ = metadata_client(httpx.Response(200, content=body), True)
    with c, pytest.raises(error) as ei:
        c.get_metadata(c.get_project("demo").files[0])
    assert ei.value.field == field  # type: ignore[attr-defined]


def test_metadata_404_falls_back_to_wheel(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, WHEEL, requires=("sniffio",))
    c, _ = metadata_client(httpx.Response(404), True)
    with c:
        f = c.get_project("demo").files[0]
        assert [str(r) for r in c.get_metadata(f, fallback=lambda: wheel).requires_dist or []] == ["sniffio"]
        with pytest.raises(MetadataUnavailableError, match="answered 404"):
            c.get_metadata(f)


def test_metadata_not_offered_uses_fallback_only(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, WHEEL)
    c, paths = metadata_client(httpx.Response(500), None)
    with c:
        f = c.get_project("demo").files[0]
        assert c.get_metadata(f, fallback=lambda: wheel).name == "demo"
        with pytest.raises(MetadataUnavailableError) as ei:
            c.get_metadata(f)
    assert not any(p.endswith(".metadata") for p in paths)
    assert ei.value.code == "WT109" and ei.value.package == "demo"


def test_metadata_of_sdist_without_pep658_is_unavailable(tmp_path: Path) -> None:
    with client(lambda r: ok_json()) as c, pytest.raises(MetadataUnavailableError, match="sdist"):
        c.get_metadata(IndexFile("demo-1.0.tar.gz", "https://example.invalid/demo-1.0.tar.gz"),
                       fallback=lambda: tmp_path / "x")


def test_fallback_wheel_must_match_the_file(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "demo-2.0-py3-none-any.whl")
    with client(lambda r: ok_json()) as c, pytest.raises(MetadataMismatchError):
        c.get_metadata(IndexFile(WHEEL, f"https://example.invalid/{WHEEL}"), fallback=lambda: wheel)


# -- streaming ------------------------------------------------------------------------------

def test_open_stream_retries_before_body_and_streams() -> None:
    body = bytes(range(256)) * 1000
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        if len(calls) == 2:
            return httpx.Response(503)
        assert request.headers["accept-encoding"] == "identity"
        return httpx.Response(200, content=body)

    with client(handler) as c, c.open_stream(f"https://example.invalid/f/{WHEEL}") as resp:
        got = b"".join(resp.iter_bytes())
    assert got == body and len(calls) == 3


@pytest.mark.parametrize("status", [404, 403])
def test_open_stream_http_errors_are_typed(status: int) -> None:
    with client(lambda r: httpx.Response(status)) as c, pytest.raises(IndexHTTPError) as ei, \
            c.open_stream("https://example.invalid/f/x.whl", project="x"):
        pytest.fail("not reached")
    assert ei.value.status == status and ei.value.file == "https://example.invalid/f/x.whl"


def test_open_stream_body_errors_are_translated() -> None:
    class Broken(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield b"abc"
            raise httpx.ReadError("reset")

    with client(lambda r: httpx.Response(200, stream=Broken())) as c, pytest.raises(IndexNetworkError) as ei, \
            c.open_stream("https://example.invalid/f/x.whl") as resp:
        for _chunk in resp.iter_bytes():
            pass
    assert isinstance(ei.value.__cause__, httpx.ReadError)
