"""Index URL precedence: mochi.toml > WASMTOOL_* > PIP_* > pip config files > pip's default."""

from __future__ import annotations

import builtins
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from wasmtool.index.config import (
    builtin_default_index,
    parse_pip_config_list,
    pip_config_values,
    resolve_index_urls,
)
from wasmtool.index.errors import InvalidIndexURLError, NoDefaultIndexError

M, W, P, C = "https://m.invalid/simple/", "https://w.invalid/simple/", "https://p.invalid/simple/", \
    "https://c.invalid/simple/"
ALL_ENV = {"WASMTOOL_INDEX_URL": W, "PIP_INDEX_URL": P}
CONF = {"global.index-url": C}


@pytest.mark.parametrize(("manifest", "env", "conf", "primary", "origin"), [
    (M, ALL_ENV, CONF, M, "mochi.toml"),
    (None, ALL_ENV, CONF, W, "WASMTOOL_INDEX_URL"),
    (None, {"PIP_INDEX_URL": P}, CONF, P, "PIP_INDEX_URL"),
    (None, {"WASMTOOL_INDEX_URL": "", "PIP_INDEX_URL": P}, CONF, P, "PIP_INDEX_URL"),  # empty = unset
    ("  ", {"PIP_INDEX_URL": P}, CONF, P, "PIP_INDEX_URL"),
    (None, {}, CONF, C, "pip configuration"),
    (None, {}, {"global.index-url": C, "install.index-url": "https://i.invalid/"}, "https://i.invalid/",
     "pip configuration"),
    (None, {}, {"install.index-url": "file:///srv/idx"}, "file:///srv/idx", "pip configuration"),
    (None, {"PIP_INDEX_URL": "file:///srv/wheels/"}, {}, "file:///srv/wheels/", "PIP_INDEX_URL"),
])
def test_primary_precedence(manifest: str | None, env: dict[str, str], conf: dict[str, str], primary: str,
                            origin: str) -> None:
    urls = resolve_index_urls(manifest_url=manifest, env=env, pip_config=lambda: conf)
    assert (urls.primary, urls.origin) == (primary, origin)


@pytest.mark.parametrize(("manifest", "manifest_extra", "env", "conf", "extra", "origin"), [
    (M, ["https://x.invalid/"], {"WASMTOOL_EXTRA_INDEX_URL": "https://y.invalid/"}, {}, ("https://x.invalid/",),
     "mochi.toml"),
    (M, (), {"WASMTOOL_EXTRA_INDEX_URL": "https://y.invalid/  https://z.invalid/\thttps://y.invalid/",
             "PIP_EXTRA_INDEX_URL": "https://p.invalid/"}, {}, ("https://y.invalid/", "https://z.invalid/"),
     "WASMTOOL_EXTRA_INDEX_URL"),
    (M, (), {"PIP_EXTRA_INDEX_URL": "https://p.invalid/ " + M}, {}, ("https://p.invalid/",), "PIP_EXTRA_INDEX_URL"),
    (None, (), {}, {"global.index-url": M, "global.extra-index-url": "\nhttps://a.invalid/\nhttps://b.invalid/"},
     ("https://a.invalid/", "https://b.invalid/"), "pip configuration"),
    (None, (), {}, {"global.index-url": M, "global.extra-index-url": "https://a.invalid/",
                    "install.extra-index-url": "https://i.invalid/"}, ("https://i.invalid/",), "pip configuration"),
    (M, (), {}, {}, (), None),
])
def test_extra_precedence(manifest: str | None, manifest_extra: list[str], env: dict[str, str],
                          conf: dict[str, str], extra: tuple[str, ...], origin: str | None) -> None:
    urls = resolve_index_urls(manifest_url=manifest, manifest_extra=manifest_extra, env=env, pip_config=lambda: conf)
    assert (urls.extra, urls.extra_origin) == (extra, origin)
    assert urls.all == (M, *extra)  # the primary is never repeated as an extra


def test_pip_config_is_not_consulted_when_manifest_or_env_decide() -> None:
    calls: list[int] = []

    def conf() -> Mapping[str, str]:
        calls.append(1)
        return {"global.index-url": C, "global.extra-index-url": "https://leak.invalid/"}

    assert resolve_index_urls(manifest_url=M, env={}, pip_config=conf).extra == ()
    assert resolve_index_urls(manifest_url=None, env={"PIP_INDEX_URL": P}, pip_config=conf).extra == ()
    assert calls == []
    assert resolve_index_urls(manifest_url=None, env={}, pip_config=conf).extra == ("https://leak.invalid/",)
    assert calls == [1]  # one call for both settings


def test_builtin_default_comes_from_pip() -> None:
    from pip._internal.models.index import PyPI

    urls = resolve_index_urls(manifest_url=None, env={}, pip_config=dict)
    assert (urls.primary, urls.origin, urls.extra) == (PyPI.simple_url, "pip default", ())
    assert builtin_default_index() == PyPI.simple_url


def test_missing_pip_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_pip(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("pip"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_pip)
    for mod in [m for m in sys.modules if m == "pip" or m.startswith("pip.")]:
        monkeypatch.delitem(sys.modules, mod)
    with pytest.raises(NoDefaultIndexError) as ei:
        resolve_index_urls(manifest_url=None, env={}, pip_config=dict)
    assert ei.value.code == "WT117" and "index-url" in (ei.value.hint or "")
    assert isinstance(ei.value.__cause__, ImportError)


@pytest.mark.parametrize(("url", "origin"), [
    ("ftp://x.invalid/simple/", "mochi.toml"),
    ("x.invalid/simple", "mochi.toml"),
    ("https:///nohost", "mochi.toml"),
    ("http://[::1/simple", "mochi.toml"),
])
def test_bad_urls_name_their_origin(url: str, origin: str) -> None:
    with pytest.raises(InvalidIndexURLError) as ei:
        resolve_index_urls(manifest_url=url, env={}, pip_config=dict)
    assert ei.value.field == origin and ei.value.file == url and ei.value.code == "WT115"


def test_bad_extra_url_names_env_var() -> None:
    with pytest.raises(InvalidIndexURLError) as ei:
        resolve_index_urls(manifest_url=M, env={"WASMTOOL_EXTRA_INDEX_URL": "gopher://x"}, pip_config=dict)
    assert ei.value.field == "WASMTOOL_EXTRA_INDEX_URL"


@pytest.mark.parametrize(("text", "expected"), [
    ("global.index-url='https://c.invalid/simple'\n", {"global.index-url": "https://c.invalid/simple"}),
    ("install.extra-index-url='\\nhttps://a.invalid/\\nhttps://b.invalid/'",
     {"install.extra-index-url": "\nhttps://a.invalid/\nhttps://b.invalid/"}),
    ('global.timeout="60"\nnonsense line\n', {"global.timeout": "60"}),
    (":env:.index-url='https://e.invalid/'\nglobal.index-url=https://c.invalid/",
     {"global.index-url": "https://c.invalid/"}),
    ("", {}),
])
def test_parse_pip_config_list(text: str, expected: dict[str, str]) -> None:
    assert parse_pip_config_list(text) == expected


def test_real_pip_config_list_is_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = https://c.invalid/simple\nextra-index-url =\n"
                    "    https://a.invalid/\n    https://b.invalid/\n[install]\ntimeout = 5\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    monkeypatch.setenv("PIP_INDEX_URL", "https://ignored-by-the-subprocess.invalid/")
    values = pip_config_values()
    assert values.get("global.index-url") == "https://c.invalid/simple"
    assert values.get("global.extra-index-url", "").split() == ["https://a.invalid/", "https://b.invalid/"]
    assert not any(k.startswith(":env:") for k in values)
    urls = resolve_index_urls(manifest_url=None, env={}, pip_config=pip_config_values)
    assert (urls.primary, urls.extra, urls.origin) == (
        "https://c.invalid/simple", ("https://a.invalid/", "https://b.invalid/"), "pip configuration")
