from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet

from wasmtool.project.errors import ImportSpecError
from wasmtool.project.spec import expand_version_set, parse_import_spec

ACCEPTED = [
    # text, name, extras, specifier, source
    ("httpx", "httpx", (), "", "registry"),
    ("Flask_SQLAlchemy", "flask-sqlalchemy", (), "", "registry"),
    ("pydantic@2.9.1", "pydantic", (), "==2.9.1", "registry"),
    ("pydantic@^2.9", "pydantic", (), str(SpecifierSet(">=2.9,<3")), "registry"),
    ("httpx@^0.27", "httpx", (), str(SpecifierSet(">=0.27,<0.28")), "registry"),
    ("httpx@^0.27.1", "httpx", (), str(SpecifierSet(">=0.27.1,<0.28")), "registry"),
    ("x@^0.0.3", "x", (), str(SpecifierSet(">=0.0.3,<0.0.4")), "registry"),
    ("x@^1.2.3", "x", (), str(SpecifierSet(">=1.2.3,<2")), "registry"),
    ("x@^1", "x", (), str(SpecifierSet(">=1,<2")), "registry"),
    ("x@~1.4", "x", (), str(SpecifierSet(">=1.4,<1.5")), "registry"),
    ("x@~1.2.3", "x", (), str(SpecifierSet(">=1.2.3,<1.3")), "registry"),
    ("pkg@~=2.2", "pkg", (), "~=2.2", "registry"),
    ("x@>=2,<3", "x", (), str(SpecifierSet(">=2,<3")), "registry"),
    ("x@>= 2 , < 3", "x", (), str(SpecifierSet(">=2,<3")), "registry"),
    ("x@==1.2.*", "x", (), "==1.2.*", "registry"),
    ("x@==1.0+local.1", "x", (), "==1.0+local.1", "registry"),
    ("x@!=1.5", "x", (), "!=1.5", "registry"),
    ("pydantic[email]@^2", "pydantic", ("email",), str(SpecifierSet(">=2,<3")), "registry"),
    ("httpx[http2,brotli]@>=0.27,<0.30", "httpx", ("brotli", "http2"), str(SpecifierSet(">=0.27,<0.30")), "registry"),
    ("pkg@index+https://example.invalid/simple/", "pkg", (), "", "index"),
    ("pkg@git+https://example.invalid/r.git#v1.0", "pkg", (), "", "git"),
    ("pkg@git+ssh://example.invalid/r.git", "pkg", (), "", "git"),
    ("pkg@path+../lib", "pkg", (), "", "path"),
    ("a", "a", (), "", "registry"),
    ("a.b-c_d", "a-b-c-d", (), "", "registry"),
]

REJECTED = [
    (" httpx", "whitespace"),
    ("httpx ", "whitespace"),
    ("", "empty spec"),
    ("-bad", "must start with"),
    ("bad-", "must end with"),
    ("bad.", "must end with"),
    ("a@", "nothing after"),
    ("a@@1", "second '@'"),
    ("a@1@2", "second '@'"),
    ("pkg[email", "unclosed"),
    ("pkg[]", "empty extras"),
    ("pkg[e mail]", "invalid extra"),
    ("pkg[-x]", "invalid extra"),
    ("pkg@>=>1", "not a PEP 440"),
    ("pkg@^abc", "not a version"),
    ("pkg@^1.0.dev1", "plain release"),
    ("pkg@~1.0rc1", "plain release"),
    ("pkg@path+.", "not '.'"),
    ("pkg@path+/abs", "relative"),
    ("pkg@git+https://example.invalid/r.git#", "empty revision"),
    ("pkg@git+ftp://x/r.git", "scheme"),
    ("pkg@svn+https://x", "unsupported source"),
    ("pkg@index+", "empty URL"),
    ("pkg!x", "unexpected"),
    ("pkg@1.0 extra", "not a PEP 440"),
]


@pytest.mark.parametrize(("text", "name", "extras", "specifier", "source"), ACCEPTED)
def test_accepted(text: str, name: str, extras: tuple[str, ...], specifier: str, source: str) -> None:
    spec = parse_import_spec(text)
    assert (spec.name, spec.extras, spec.specifier, spec.source) == (name, extras, specifier, source)
    # the canonical rendering parses back to the same spec
    again = parse_import_spec(spec.render())
    assert (again.name, again.extras, again.specifier, again.source, again.url, again.rev, again.path) == (
        spec.name, spec.extras, spec.specifier, spec.source, spec.url, spec.rev, spec.path)


@pytest.mark.parametrize(("text", "message"), REJECTED)
def test_rejected(text: str, message: str) -> None:
    with pytest.raises(ImportSpecError, match=message) as ei:
        parse_import_spec(text, file="main.mochi", line=3, column=15)
    err = ei.value
    assert err.code == "WT051"
    assert "main.mochi:3:" in str(err) and "^" in str(err)


def test_distinct_messages_for_acceptance_7() -> None:
    msgs = set()
    for text in (" httpx", "-bad", "bad-", "a@"):
        with pytest.raises(ImportSpecError) as ei:
            parse_import_spec(text)
        msgs.add(ei.value.reason)
    assert len(msgs) == 4


def test_tilde_equal_keeps_pep440_meaning() -> None:
    spec = SpecifierSet(parse_import_spec("pkg@~=2.2").specifier)
    assert "2.9" in spec and "3.0" not in spec


def test_git_rev_and_index_render_exactly() -> None:
    g = parse_import_spec("pkg@git+https://example.invalid/r.git#v1.0")
    assert (g.url, g.rev) == ("https://example.invalid/r.git", "v1.0")
    assert parse_import_spec("pkg@index+https://example.invalid/simple/").render() == \
        "pkg@index+https://example.invalid/simple/"


def test_expand_star_means_any() -> None:
    assert expand_version_set("*") == ""


@pytest.mark.property
@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_fuzz_only_typed_errors(text: str) -> None:
    with contextlib.suppress(ImportSpecError):
        parse_import_spec(text)


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,8}(\[[a-z]{1,4}\])?(@[~^<>=!0-9.,*]{0,10})?", fullmatch=True))
def test_fuzz_spec_like_inputs(text: str) -> None:
    with contextlib.suppress(ImportSpecError):
        parse_import_spec(text)
