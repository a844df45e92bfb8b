"""The client over real sockets (a ThreadingHTTPServer on 127.0.0.1) and over file:// indexes."""

from __future__ import annotations

import hashlib
import shutil
import socket
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.index._helpers import JSON_TYPE, LoopbackIndex, make_wheel
from tests.support.index_server import IndexServer
from wasmtool.index import IndexClient, parse_html_page, parse_json_page, read_wheel_metadata, select_files
from wasmtool.index.errors import (
    IndexHTTPError,
    IndexNetworkError,
    IndexTimeoutError,
    LocalIndexError,
    MetadataUnavailableError,
    ProjectNotFoundError,
)


def test_fetch_page_metadata_and_wheel_over_loopback(loopback: LoopbackIndex, wheelhouse: Path) -> None:
    with IndexClient([loopback.url]) as client:
        page = client.get_project("Tiny_Pkg")
        assert page.source == "json" and page.name == "tiny-pkg"
        assert [f.filename for f in page.files] == ["tiny_pkg-1.0-py3-none-any.whl", "tiny_pkg-1.1-py3-none-any.whl"]
        newest = select_files(page, allow_yanked_pins=set())[-1]
        meta = client.get_metadata(newest)
        assert (meta.name, str(meta.version)) == ("tiny-pkg", "1.1")
        assert [str(r) for r in meta.requires_dist or []] == ["other-pkg>=1"]
        with client.open_stream(newest.url, project=page.name) as resp:
            digest = hashlib.sha256()
            for chunk in resp.iter_bytes():
                digest.update(chunk)
        assert digest.hexdigest() == newest.sha256 == hashlib.sha256(
            (wheelhouse / newest.filename).read_bytes()).hexdigest()
        with pytest.raises(ProjectNotFoundError, match="no-such-project"):
            client.get_project("No.Such_Project")
    paths = [p for _m, p, _a in loopback.requests]
    assert "/simple/tiny-pkg/" in paths and "/simple/no-such-project/" in paths
    assert next(a for _m, p, a in loopback.requests if p == "/simple/tiny-pkg/").startswith(JSON_TYPE)


def test_html_and_json_from_the_same_server_match(loopback: LoopbackIndex) -> None:
    url = loopback.url + "tiny-pkg/"
    pj = parse_json_page(httpx.get(url, headers={"Accept": JSON_TYPE}).content, url=url, project="tiny-pkg")
    ph = parse_html_page(httpx.get(url, headers={"Accept": "text/html"}).text, url=url, project="tiny-pkg")
    assert pj.files and pj.files == ph.files


def test_retry_over_real_sockets(loopback: LoopbackIndex) -> None:
    loopback.fail_first["/simple/tiny-pkg/"] = 2
    with IndexClient([loopback.url], backoff=0.01) as client:
        assert len(client.get_project("tiny-pkg").files) == 2
    assert loopback.count("/simple/tiny-pkg/") == 3


def test_real_read_timeout_is_typed(loopback: LoopbackIndex) -> None:
    loopback.stall["/simple/tiny-pkg/"] = 1.0
    with IndexClient([loopback.url], timeout=0.2, retries=1, backoff=0) as client, \
            pytest.raises(IndexTimeoutError) as ei:
        client.get_project("tiny-pkg")
    assert isinstance(ei.value.__cause__, httpx.TimeoutException)
    assert loopback.count("/simple/tiny-pkg/") == 2


def test_connection_refused_is_typed_after_retries() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    delays: list[float] = []
    with IndexClient([f"http://127.0.0.1:{port}/simple/"], retries=2, backoff=0.05, sleep=delays.append) as client, \
            pytest.raises(IndexNetworkError) as ei:
        client.get_project("demo")
    assert isinstance(ei.value.__cause__, httpx.ConnectError) and delays == [0.05, 0.1]
    assert ei.value.file == f"http://127.0.0.1:{port}/simple/demo/"


def test_client_is_shared_between_threads(loopback: LoopbackIndex) -> None:
    with IndexClient([loopback.url]) as client, ThreadPoolExecutor(max_workers=6) as pool:
        pages = list(pool.map(client.get_project, ["tiny-pkg", "other-pkg"] * 6))
    assert {p.name for p in pages} == {"tiny-pkg", "other-pkg"}


def test_against_the_shared_hermetic_index(index_server: IndexServer) -> None:
    """The project's own test index (tests/support) serves both formats identically too."""
    with IndexClient([index_server.url]) as client:
        page = client.get_project("Typing_Extensions")
        assert page.source == "json" and page.files
        meta = client.get_metadata(page.files[0])
        assert str(meta.name).lower().replace("_", "-") == "typing-extensions"
    for project in ("pydantic", "tomli", "attrs"):
        base = index_server.url + project + "/"
        j = httpx.get(base, headers={"Accept": JSON_TYPE})
        h = httpx.get(base, headers={"Accept": "text/html"})
        assert parse_json_page(j.content, url=base, project=project).files == \
            parse_html_page(h.text, url=base, project=project).files


# -- file:// indexes -----------------------------------------------------------------------

def test_file_index_per_project_folder(wheelhouse: Path, tmp_path: Path) -> None:
    root = tmp_path / "idx"
    (root / "tiny-pkg").mkdir(parents=True)
    for w in wheelhouse.glob("tiny_pkg-*.whl"):
        shutil.copy(w, root / "tiny-pkg")
    (root / "tiny-pkg" / "notes.txt").write_text("not an artefact")
    with IndexClient(root.as_uri()) as client:
        page = client.get_project("Tiny.Pkg")
        assert [f.filename for f in page.files] == ["tiny_pkg-1.0-py3-none-any.whl", "tiny_pkg-1.1-py3-none-any.whl"]
        f = page.files[0]
        assert f.sha256 == hashlib.sha256((root / "tiny-pkg" / f.filename).read_bytes()).hexdigest()
        assert f.url.startswith("file://") and f.size == (root / "tiny-pkg" / f.filename).stat().st_size
        with client.open_stream(f.url) as resp:
            assert hashlib.sha256(b"".join(resp.iter_bytes())).hexdigest() == f.sha256
        # no PEP 658 sidecar: the wheel itself is the fallback
        assert f.core_metadata is False
        assert client.get_metadata(f, fallback=lambda: root / "tiny-pkg" / f.filename).name == "tiny-pkg"
        with pytest.raises(ProjectNotFoundError):
            client.get_project("other-pkg")


def test_file_index_flat_wheelhouse_with_metadata_sidecar(wheelhouse: Path) -> None:
    wheel = wheelhouse / "other_pkg-2.0-py3-none-any.whl"
    sidecar = wheelhouse / (wheel.name + ".metadata")
    sidecar.write_bytes(b"Metadata-Version: 2.1\nName: other-pkg\nVersion: 2.0\n\n")
    with IndexClient([wheelhouse.as_uri() + "/"]) as client:
        page = client.get_project("other-pkg")
        (f,) = page.files
        assert f.core_metadata == {"sha256": hashlib.sha256(sidecar.read_bytes()).hexdigest()}
        assert client.get_metadata(f).version is not None  # read from the sidecar, hash checked
        assert [g.filename for g in client.get_project("tiny-pkg").files] == [
            "tiny_pkg-1.0-py3-none-any.whl", "tiny_pkg-1.1-py3-none-any.whl"]


def test_file_index_static_pep503_pages(tmp_path: Path) -> None:
    root = tmp_path / "static"
    wheel = make_wheel(tmp_path / "files", "demo-1.0-py3-none-any.whl")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (root / "demo").mkdir(parents=True)
    (root / "demo" / "index.html").write_text(
        f'<a href="../../files/{wheel.name}#sha256={digest}" data-requires-python="&gt;=3.9">{wheel.name}</a>')
    with IndexClient([root.as_uri()]) as client:
        page = client.get_project("demo")
        assert page.source == "html" and page.files[0].requires_python == ">=3.9"
        assert page.files[0].url == wheel.as_uri()
        with client.open_stream(page.files[0].url) as resp:
            assert hashlib.sha256(resp.read()).hexdigest() == digest


def test_file_index_with_remote_host_is_refused() -> None:
    with IndexClient(["file://server.invalid/share/"]) as client, pytest.raises(LocalIndexError):
        client.get_project("demo")


def test_file_index_missing_file_is_404_typed(tmp_path: Path) -> None:
    with IndexClient([tmp_path.as_uri()]) as client, pytest.raises(IndexHTTPError) as ei, \
            client.open_stream((tmp_path / "gone.whl").as_uri()):
        pass
    assert ei.value.status == 404


@pytest.mark.parametrize("content", [b"not a zip", None])
def test_read_wheel_metadata_errors(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    if content is None:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("demo/__init__.py", "")
    else:
        path.write_bytes(content)
    with pytest.raises(MetadataUnavailableError) as ei:
        read_wheel_metadata(path)
    assert ei.value.file == str(path) and ei.value.package == "demo"


def test_read_wheel_metadata_picks_own_dist_info(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("aaa_vendored-9.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: aaa-vendored\nVersion: 9.0\n")
        zf.writestr("demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
    assert read_wheel_metadata(path).name == "demo"
