"""JSON and HTML pages of one project give identical files (acceptance 11); the parsers
only ever raise wasmtool's typed errors, whatever the input."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.index._helpers import DATA, URL, render_html, render_json
from wasmtool.errors import IndexError_
from wasmtool.index.models import IndexFile
from wasmtool.index.parse_html import parse_html_page
from wasmtool.index.parse_json import parse_json_page


@pytest.mark.parametrize("project", ["httpx", "numpy", "pyyaml"])
def test_sample_json_and_html_give_identical_files(project: str) -> None:
    url = f"https://index.example.invalid/simple/{project}/"
    pj = parse_json_page((DATA / f"{project}.json").read_bytes(), url=url, project=project)
    ph = parse_html_page((DATA / f"{project}.html").read_text(), url=url, project=project)
    assert pj.files and pj.files == ph.files
    assert pj.md5_only == ph.md5_only and pj.skipped == ph.skipped
    # equality must really compare the parts both formats carry
    for a, b in zip(pj.files, ph.files, strict=True):
        assert (a.hashes, a.core_metadata, a.requires_python, a.yanked_reason, a.provenance) == (
            b.hashes, b.core_metadata, b.requires_python, b.yanked_reason, b.provenance)
    assert pj.files != ph.files[1:] + ph.files[:1]


_hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)
_version = st.sampled_from(["1.0", "2.0.1", "0.1a1", "3!1.0", "1.0.post2", "1.0+local.7"])
_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
_spec = st.none() | st.sampled_from([">=3.9", "<3.13,>=3.9", "!=3.0.*,>=2.7", "~=3.10", "==3.12.*"]) | \
    _text.filter(lambda s: s.strip() == s and s != "")


@st.composite
def index_files(draw: st.DrawFn) -> IndexFile:
    version = draw(_version)
    kind = draw(st.sampled_from(["py3-none-any.whl", "cp312-cp312-manylinux_2_28_x86_64.whl", "tar.gz", "zip"]))
    filename = f"demo-{version}-{kind}" if kind.endswith(".whl") else f"demo-{version}.{kind}"
    host = draw(st.sampled_from(["https://files.example.invalid/p/", "https://example.invalid/", "http://127.0.0.1:8/"]))
    yanked = draw(st.booleans())
    core = draw(st.just(False) | st.just(True) | _hex64.map(lambda h: {"sha256": h}))
    return IndexFile(
        filename=filename, url=host + filename.replace("+", "%2B"), hashes={"sha256": draw(_hex64)},
        requires_python=draw(_spec), yanked=yanked, yanked_reason=draw(st.none() | _text.filter(bool)) if yanked
        else None, core_metadata=core,
        provenance=draw(st.none() | st.just("https://example.invalid/integrity/demo/p")))


@pytest.mark.property
@settings(max_examples=200, deadline=None)
@given(st.lists(index_files(), max_size=6, unique_by=lambda f: f.filename))
def test_json_and_html_renderings_parse_to_the_same_files(files: list[IndexFile]) -> None:
    pj = parse_json_page(render_json(files, name="demo"), url=URL, project="demo")
    ph = parse_html_page(render_html(files), url=URL, project="demo")
    assert pj.files == ph.files
    assert [f.filename.replace("+", "%2B") for f in pj.files] == [f.url.rsplit("/", 1)[-1] for f in files]


@pytest.mark.property
@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_fuzz_json_bytes_raise_only_typed_errors(data: bytes) -> None:
    with contextlib.suppress(IndexError_):
        parse_json_page(data, url=URL, project="demo")


_json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12) | \
    st.sampled_from(["1.0", "2.0", "demo-1.0-py3-none-any.whl", "../x.whl", "http://[::1/", "sha256", "a" * 64])
_json_value = st.recursive(_json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["sha256", "md5", "url", "filename", "yanked", "x"]) | st.text(max_size=5), inner, max_size=3),
    max_leaves=10)
_file_keys = ["filename", "url", "hashes", "requires-python", "yanked", "core-metadata", "dist-info-metadata",
              "data-dist-info-metadata", "size", "upload-time", "provenance"]


@pytest.mark.property
@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(["meta", "name", "files", "versions"]), _json_value),
       st.lists(st.dictionaries(st.sampled_from(_file_keys), _json_value), max_size=3),
       st.sampled_from(["1.0", "1.1", "2.0", 1]))
def test_fuzz_structured_json_raises_only_typed_errors(top: dict[str, object], files: list[dict[str, object]],
                                                       api: object) -> None:
    doc = {"meta": {"api-version": api}, "name": "demo", "files": files, **top}
    with contextlib.suppress(IndexError_):
        parse_json_page(json.dumps(doc).encode(), url=URL, project="demo")


_attr_name = st.sampled_from(["href", "data-yanked", "data-requires-python", "data-core-metadata",
                              "data-dist-info-metadata", "data-provenance", "name", "content"])
_attr_value = st.text(max_size=40) | st.sampled_from(
    ["/f/demo-1.0-py3-none-any.whl#sha256=" + "a" * 64, "true", "sha256=zz", "http://[::1/", "#md5=1", "1.0"])


@pytest.mark.property
@settings(max_examples=400, deadline=None)
@given(st.text(max_size=400) | st.lists(st.tuples(st.sampled_from(["a", "meta", "base", "A", "a/"]),
                                                    st.lists(st.tuples(_attr_name, _attr_value), max_size=4),
                                                    st.text(max_size=10)), max_size=5).map(
    lambda tags: "\n".join(f"<{t} " + " ".join(f'{k}="{v}"' for k, v in attrs) + f">{body}</{t}>"
                           for t, attrs, body in tags)))
def test_fuzz_html_raises_only_typed_errors(text: str) -> None:
    with contextlib.suppress(IndexError_):
        parse_html_page(text, url=URL, project="demo")
