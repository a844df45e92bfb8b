"""PEP 503 HTML page parser: attributes, unescaping, documented error and skip rules."""

from __future__ import annotations

import pytest

from tests.index._helpers import DATA, URL, H
from wasmtool.index.errors import MalformedHTMLPageError, UnsupportedAPIVersionError
from wasmtool.index.parse_html import parse_html_page

WHEEL = "demo-1.0-py3-none-any.whl"


def link(attrs: str = "", href: str = f"/files/{WHEEL}#sha256={H}") -> str:
    return f'<a href="{href}" {attrs}>{WHEEL}</a>'


def parse_one(attrs: str = "", href: str = f"/files/{WHEEL}#sha256={H}") -> object:
    page = parse_html_page(link(attrs, href), url=URL, project="demo")
    assert len(page.files) == 1, page.skipped
    return page.files[0]


def test_fields() -> None:
    page = parse_html_page(
        '<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.3"></head><body>\n'
        f'<a href="../../files/{WHEEL}#SHA256={H.upper()}" data-requires-python="&gt;=3.9,&lt;4" '
        f'data-provenance="/integrity/demo/1.0/{WHEEL}/provenance">wrong text is ignored</a><br/>\n'
        "</body></html>", url=URL, project="Demo")
    (f,) = page.files
    assert f.filename == WHEEL and f.url == f"https://example.invalid/files/{WHEEL}"
    assert f.hashes == {"sha256": H} and f.requires_python == ">=3.9,<4"
    assert f.provenance == f"https://example.invalid/integrity/demo/1.0/{WHEEL}/provenance"
    assert (f.yanked, f.core_metadata, f.size, f.upload_time) == (False, False, None, None)
    assert (page.name, page.source, page.api_version, page.versions) == ("demo", "html", "1.3", ("1.0",))


@pytest.mark.parametrize(("attr", "expected"), [
    ('data-requires-python="&gt;=3.8"', ">=3.8"),
    ('data-requires-python="&lt;3.13,&gt;=3.9"', "<3.13,>=3.9"),
    ('data-requires-python="&#62;=3.8"', ">=3.8"),
    ('data-requires-python=">=3.8"', ">=3.8"),  # unescaped in the wild; still read
    ('data-requires-python="&amp;gt;=3.8"', "&gt;=3.8"),  # unescaped exactly once
    ('data-requires-python=""', None),
    ("", None),
])
def test_requires_python_is_unescaped_once(attr: str, expected: str | None) -> None:
    assert parse_one(attr).requires_python == expected  # type: ignore[attr-defined]


@pytest.mark.parametrize(("attr", "yanked", "reason"), [
    ("", False, None),
    ("data-yanked", True, None),
    ('data-yanked=""', True, None),
    ('data-yanked="broken &amp; replaced"', True, "broken & replaced"),
])
def test_yanked_forms(attr: str, yanked: bool, reason: str | None) -> None:
    f = parse_one(attr)
    assert (f.yanked, f.yanked_reason) == (yanked, reason)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("attr", "expected"), [
    ("", False),
    ('data-core-metadata="true"', True),
    ('data-core-metadata="TRUE"', True),
    (f'data-core-metadata="sha256={H}"', {"sha256": H}),
    (f'data-core-metadata="SHA256={H.upper()}"', {"sha256": H}),
    (f'data-dist-info-metadata="sha256={H}"', {"sha256": H}),
    ('data-dist-info-metadata="true"', True),
    (f'data-core-metadata="true" data-dist-info-metadata="sha256={H}"', True),  # PEP 714: new name wins
])
def test_core_metadata_forms(attr: str, expected: object) -> None:
    assert parse_one(attr).core_metadata == expected  # type: ignore[attr-defined]


@pytest.mark.parametrize(("href", "hashes"), [
    (f"/files/{WHEEL}#sha256={H}", {"sha256": H}),
    (f"/files/{WHEEL}#sha512={'c' * 128}", {"sha512": "c" * 128}),
    (f"/files/{WHEEL}", {}),
    (f"/files/{WHEEL}#egg=demo", {}),  # not a hash fragment: ignored
    (f"/files/{WHEEL}#readme", {}),
    (f"/files/{WHEEL}?x=1#sha256={H}", {"sha256": H}),
])
def test_hash_fragments(href: str, hashes: dict[str, str]) -> None:
    f = parse_one(href=href)
    assert f.hashes == hashes  # type: ignore[attr-defined]
    assert "#" not in f.url  # type: ignore[attr-defined]


def test_md5_only_set_aside() -> None:
    page = parse_html_page(link() + "\n" + f'<a href="/f/demo-0.9.tar.gz#md5={"0" * 32}">demo-0.9.tar.gz</a>',
                           url=URL, project="demo")
    assert [f.filename for f in page.files] == [WHEEL]
    assert [f.filename for f in page.md5_only] == ["demo-0.9.tar.gz"]


def test_filename_is_the_percent_decoded_last_segment() -> None:
    page = parse_html_page('<a href="/f/demo-1.0%2Blocal-py3-none-any.whl">x</a>', url=URL, project="demo")
    assert page.files[0].filename == "demo-1.0+local-py3-none-any.whl"


def test_base_href_is_honoured() -> None:
    page = parse_html_page(f'<base href="https://mirror.invalid/pkgs/">{link(href=WHEEL)}', url=URL, project="demo")
    assert page.files[0].url == f"https://mirror.invalid/pkgs/{WHEEL}"


@pytest.mark.parametrize(("html", "reason"), [
    ('<a href="/f/demo-1.0.win32.exe">x</a>', "not a wheel or sdist"),
    ('<a href="/f/">x</a>', "not a wheel or sdist"),
    ('<a href="/f/other-1.0.tar.gz">x</a>', "project 'other'"),
    (f'<a href="javascript:alert(1)/{WHEEL}">x</a>', "scheme 'javascript'"),
    (f'<a href="file:///tmp/{WHEEL}">x</a>', "local file"),
])
def test_skip_rules(html: str, reason: str) -> None:
    page = parse_html_page(html + link(), url=URL, project="demo")
    assert [f.filename for f in page.files] == [WHEEL]
    assert len(page.skipped) == 1 and reason in page.skipped[0][1]


def test_unclosed_anchor_and_other_tags_are_fine() -> None:
    page = parse_html_page(f'<h1>Links</h1><a href="/files/{WHEEL}#sha256={H}">{WHEEL}', url=URL, project="demo")
    assert [f.filename for f in page.files] == [WHEEL]


@pytest.mark.parametrize(("html", "words"), [
    ("<a>no href</a>", "without href"),
    ('<a href="">empty</a>', "without href"),
    ('<a href="   ">blank</a>', "without href"),
    (f'<a href="http://[::1/{WHEEL}">x</a>', "bad URL"),
    (f'<a href="/f/{WHEEL}#sha256">x</a>', "has no digest"),
    (f'<a href="/f/{WHEEL}#sha256=">x</a>', "has no digest"),
    (f'<a href="/f/{WHEEL}#sha256=xyz">x</a>', "not hex"),
    (f'<a href="/f/{WHEEL}#sha256=abc">x</a>', "expected 64"),
    (f'<a href="/f/{WHEEL}#sha256={H}" data-core-metadata="yes">x</a>', "data-core-metadata"),
    (f'<a href="/f/{WHEEL}#sha256={H}" data-core-metadata="sha256=">x</a>', "data-core-metadata"),
    (f'<a href="/f/{WHEEL}#sha256={H}" data-dist-info-metadata="sha256=zz">x</a>', "not hex"),
    (f'<a href="/f/{WHEEL}#sha256={H}" data-provenance="http://[::1/p">x</a>', "data-provenance"),
])
def test_malformed_html_names_url_project_and_line(html: str, words: str) -> None:
    with pytest.raises(MalformedHTMLPageError) as ei:
        parse_html_page(f"<html>\n<body>\n{link()}\n{html}\n</body>", url=URL, project="demo")
    err = ei.value
    assert (err.code, err.file, err.package, err.field) == ("WT105", URL, "demo", "line 4")
    assert words in err.message and "<a" in err.message  # the offending tag is quoted


@pytest.mark.parametrize(("content", "error"), [
    ("2.0", UnsupportedAPIVersionError),
    ("one", MalformedHTMLPageError),
])
def test_repository_version(content: str, error: type[Exception]) -> None:
    with pytest.raises(error) as ei:
        parse_html_page(f'<meta name="pypi:repository-version" content="{content}">\n{link()}', url=URL,
                        project="demo")
    assert ei.value.field == "line 1"  # type: ignore[attr-defined]


def test_sample_pyyaml_html() -> None:
    page = parse_html_page((DATA / "pyyaml.html").read_text(), url="https://index.example.invalid/simple/pyyaml/",
                           project="pyyaml")
    assert page.api_version == "1.1"
    assert [n for n, _ in page.skipped] == ["PyYAML-5.4.1.win-amd64-py3.9.exe"]
    assert [f.filename for f in page.md5_only] == ["PyYAML-3.10.zip"]
    assert {f.requires_python for f in page.files} == {">=3.8", "!=3.0.*,!=3.1.*,!=3.2.*,!=3.3.*,!=3.4.*,!=3.5.*,>=2.7"}
