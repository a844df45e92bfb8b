"""The index layer's provenance URLs, fetching provenance (404 / 5xx / timeout), the cache's
sidecar documents, the manifest's policy settings and the lock fields."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.attest.attest_index import PUBLISH, SDIST_PROVENANCE, WHEEL, AttestIndex, require_fixtures, served, sha256
from wasmtool.attest import errors as E
from wasmtool.attest.fetch import fetch_provenance
from wasmtool.attest.policy import PublisherPin
from wasmtool.cache import ArtifactCache
from wasmtool.index.client import ACCEPT, IndexClient
from wasmtool.index.parse_html import parse_html_page
from wasmtool.index.parse_json import parse_json_page
from wasmtool.lock.io import parse_lock_text, render_lock
from wasmtool.lock.model import LockedPackage, MochiLock, TargetInputs
from wasmtool.project.errors import ManifestError
from wasmtool.project.manifest import parse_manifest


@pytest.fixture
def index() -> Iterator[AttestIndex]:
    require_fixtures()
    with AttestIndex({"rfc8785": [served(WHEEL, "rfc8785")]}) as srv:
        srv.provenance[WHEEL.name] = SDIST_PROVENANCE.read_bytes()
        yield srv


def _page(index: AttestIndex, accept: str) -> httpx.Response:
    return httpx.get(index.url + "rfc8785/", headers={"Accept": accept})


def test_json_and_html_pages_give_the_same_provenance_url(index: AttestIndex) -> None:
    want = index.url.replace("/simple/", f"/provenance/{WHEEL.name}")
    j = parse_json_page(_page(index, ACCEPT).content, url=index.url + "rfc8785/", project="rfc8785")
    h = parse_html_page(_page(index, "text/html").text, url=index.url + "rfc8785/", project="rfc8785")
    assert j.files[0].provenance == want
    assert h.files[0].provenance == want  # a relative data-provenance, resolved against the page
    assert j.files[0] == h.files[0]


def test_fetch_returns_the_document_and_none_on_404(index: AttestIndex) -> None:
    with IndexClient([index.url], retries=0) as client:
        f = client.get_project("rfc8785").files[0]
        assert fetch_provenance(client, f, package="rfc8785") == SDIST_PROVENANCE.read_bytes()
        index.provenance_status[WHEEL.name] = 404
        assert fetch_provenance(client, f, package="rfc8785") is None


def test_a_file_without_provenance_url_has_none(index: AttestIndex) -> None:
    index.provenance.clear()
    with IndexClient([index.url], retries=0) as client:
        f = client.get_project("rfc8785").files[0]
        assert f.provenance is None
        assert fetch_provenance(client, f, package="rfc8785") is None
    assert index.provenance_requests() == 0


def test_5xx_is_retried_then_fails_with_its_code(index: AttestIndex) -> None:
    index.provenance_status[WHEEL.name] = 500
    with IndexClient([index.url], retries=2, backoff=0) as client:
        f = client.get_project("rfc8785").files[0]
        with pytest.raises(E.ProvenanceHTTPError) as info:
            fetch_provenance(client, f, package="rfc8785")
    assert info.value.code == "WT272" and info.value.file == WHEEL.name and "500" in info.value.message
    assert index.provenance_requests() == 3


def test_timeout_is_retried_then_fails_with_its_code(index: AttestIndex) -> None:
    with IndexClient([index.url], retries=1, backoff=0, timeout=0.3) as client:
        f = client.get_project("rfc8785").files[0]
        index.provenance_delay[WHEEL.name] = 1.5
        start = time.monotonic()
        with pytest.raises(E.ProvenanceTimeoutError) as info:
            fetch_provenance(client, f, package="rfc8785")
    assert info.value.code == "WT273" and info.value.file == WHEEL.name
    assert index.provenance_requests() == 2 and time.monotonic() - start < 5


def test_cache_sidecars(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "c")
    sha = sha256(b"x")
    assert cache.read_sidecar(sha, "provenance") is None
    cache.write_sidecar(sha, "provenance", b"doc")
    assert cache.read_sidecar(sha, "provenance") == b"doc"
    assert cache.sidecar_path(sha, "provenance") == tmp_path / "c" / "sidecars" / f"{sha}.provenance"
    with pytest.raises(Exception, match="sha256"):
        cache.sidecar_path("../x", "provenance")
    with pytest.raises(ValueError):
        cache.sidecar_path(sha, "../p")


def _manifest(python: str = "", dep: str = '"==0.1.2"') -> str:
    return f'name = "p"\n[python]\n{python}\n[python-dependencies]\nrfc8785 = {dep}\n'


def test_manifest_policy_and_publisher_forms() -> None:
    m = parse_manifest(_manifest('attestations = "require"'), file="mochi.toml")
    assert m.python.attestations == "require"
    assert parse_manifest(_manifest(), file="mochi.toml").python.attestations == "warn"
    forms = {
        '{ version = "*", trusted-publisher = "github:o/r" }': PublisherPin("github", "o/r"),
        '{ version = "*", trusted-publisher = "gitlab:g/sub/p", workflow = ".gitlab-ci.yml" }':
            PublisherPin("gitlab", "g/sub/p", workflow=".gitlab-ci.yml"),
        '{ version = "*", trusted-publisher = { identity = "a@b.org", issuer = "https://i" } }':
            PublisherPin("identity", "a@b.org", issuer="https://i"),
    }
    for dep, pin in forms.items():
        assert parse_manifest(_manifest(dep=dep), file="mochi.toml").dependencies[0].trusted_publisher == pin
    assert PublisherPin("github", "o/r").label == "github:o/r"


@pytest.mark.parametrize(("python", "dep", "problem"), [
    ('attestations = "maybe"', '"*"', "python.attestations"),
    ("", '{ version = "*", trusted-publisher = "pypi:o/r" }', "rfc8785.trusted-publisher"),
    ("", '{ version = "*", trusted-publisher = "github:nothing" }', "rfc8785.trusted-publisher"),
    ("", '{ version = "*", workflow = "x.yml" }', "rfc8785.workflow"),
    ("", '{ version = "*", trusted-publisher = { identity = "a@b" } }', "rfc8785.trusted-publisher"),
    ("", '{ version = "*", trusted-publisher = { identity = "a@b", issuer = "https://i", x = 1 } }',
     "rfc8785.trusted-publisher"),
])
def test_manifest_rejects_bad_settings(python: str, dep: str, problem: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(_manifest(python, dep), file="mochi.toml")
    assert problem in str(info.value)


def test_lock_fields_round_trip_and_older_locks_read() -> None:
    p = LockedPackage(name="rfc8785", version="0.1.2", target="native", wheel_filename=WHEEL.name,
                      attestation_bundle="a" * 64, attestation_verified=True, attestation_publisher="github:o/r",
                      attestation_predicate=PUBLISH,
                      attestation_trust_root="staging")
    lock = MochiLock(packages=(p,), inputs=(TargetInputs("native", "3.12", ("rfc8785==0.1.2",)),))
    text = render_lock(lock)
    assert 'attestation-publisher = "github:o/r"' in text and 'attestation-trust-root = "staging"' in text
    assert parse_lock_text(text, file="mochi.lock") == lock
    assert render_lock(parse_lock_text(text, file="mochi.lock")) == text
    old = "\n".join(line for line in text.splitlines() if not line.startswith("attestation-")) + "\n"
    back = parse_lock_text(old, file="mochi.lock").packages[0]
    assert (back.attestation_publisher, back.attestation_verified) == ("", False)
