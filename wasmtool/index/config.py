"""Which simple indexes to use; the one place the built-in default index URL comes from.

The primary index and the extra indexes are each taken from the first source that sets
them (the way pip treats each option), in this order:

====  ==========================================  ============================================
rank  primary                                     extra (whitespace-separated lists)
====  ==========================================  ============================================
1     ``mochi.toml`` (``manifest_url``)           ``mochi.toml`` (``manifest_extra``)
2     ``WASMTOOL_INDEX_URL``                      ``WASMTOOL_EXTRA_INDEX_URL``
3     ``PIP_INDEX_URL``                           ``PIP_EXTRA_INDEX_URL``
4     pip config files: ``install.index-url``,    ``install.extra-index-url``, then
      then ``global.index-url``                   ``global.extra-index-url``
5     pip's built-in default                      none
====  ==========================================  ============================================

pip's configuration files are one fallback layer: they are read (one ``pip config list``
run) only when neither the manifest nor the environment names the primary index, so an
explicitly configured project never picks up extra indexes from a user's pip.conf.
Empty values count as unset. ``http``, ``https`` and ``file`` URLs are accepted.
``IndexUrls.origin`` (and ``extra_origin``) say which source won, for messages.
Importing this module must stay cheap (no httpx): ``wasmtool lock`` starts uv first.
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from wasmtool.errors import ExternalToolError
from wasmtool.index.errors import InvalidIndexURLError, NoDefaultIndexError
from wasmtool.tools import run_tool

__all__ = ["IndexUrls", "builtin_default_index", "parse_pip_config_list", "pip_config_values",
           "resolve_index_urls"]

ORIGIN_MANIFEST = "mochi.toml"
ORIGIN_PIP_CONFIG = "pip configuration"
ORIGIN_DEFAULT = "pip default"


@dataclass(frozen=True)
class IndexUrls:
    primary: str
    extra: tuple[str, ...] = ()
    origin: str = ORIGIN_DEFAULT
    extra_origin: str | None = None

    @property
    def all(self) -> tuple[str, ...]:
        """Primary first, then the extras (the order files are merged in)."""
        return (self.primary, *self.extra)


def builtin_default_index() -> str:
    """pip's own default index URL.

    Read from the installed pip at run time so that no registry host name is written into
    wasmtool. pip keeps it in an internal module (``pip._internal.models.index.PyPI``) that
    has been stable for many releases, but it is internal and pip may be absent: guard the
    import and say what to configure instead.
    """
    try:
        from pip._internal.models.index import PyPI

        url = PyPI.simple_url
    except Exception as exc:  # ImportError, or the internal layout changed (AttributeError, ...)
        raise NoDefaultIndexError(
            "no package index is configured and pip's built-in default is not available",
            hint="set [python].index-url in mochi.toml, or WASMTOOL_INDEX_URL / PIP_INDEX_URL",
        ) from exc
    if not isinstance(url, str) or not url:
        raise NoDefaultIndexError("pip's built-in default index URL is empty",
                                  hint="set [python].index-url in mochi.toml, or WASMTOOL_INDEX_URL")
    return url


def parse_pip_config_list(text: str) -> dict[str, str]:
    """Parse ``pip config list`` output (``global.index-url='https://...'`` per line).

    pip prints values with ``repr``, so a multi-line ``extra-index-url`` arrives as
    ``'\\nhttps://a\\nhttps://b'``. Lines from environment variables (``:env:.``) are
    dropped: the environment is read directly, with its own precedence.
    """
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, raw = line.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key or key.startswith(":env:"):
            continue
        value = raw
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
            try:
                literal = ast.literal_eval(raw)
            except (ValueError, SyntaxError):
                literal = raw[1:-1]
            value = literal if isinstance(literal, str) else raw[1:-1]
        values[key] = value
    return values


def pip_config_values() -> dict[str, str]:
    """pip's configuration files as a flat mapping (``global.index-url`` -> value).

    Runs ``python -m pip config list`` with the running interpreter; no pip, or a failing
    pip, means no configuration.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k == "PIP_CONFIG_FILE"}
    try:
        out = run_tool("pip", [sys.executable, "-m", "pip", "config", "list"], timeout=30, env=env)
    except ExternalToolError:   # no pip, a failing pip, or one that hangs
        return {}
    return parse_pip_config_list(out.stdout)


def _check(url: str, origin: str) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidIndexURLError(f"index URL {url!r} cannot be parsed: {exc}", file=url, field=origin) from exc
    if parts.scheme.lower() not in ("http", "https", "file"):
        raise InvalidIndexURLError(f"index URL {url!r} must be http(s):// or file://", file=url, field=origin)
    if parts.scheme.lower() != "file" and not parts.netloc:
        raise InvalidIndexURLError(f"index URL {url!r} has no host", file=url, field=origin)
    return url


def _pip_conf(conf: Mapping[str, str], name: str) -> str | None:
    for section in ("install", "global"):
        value = conf.get(f"{section}.{name}", "").strip()
        if value:
            return value
    return None


def resolve_index_urls(
    *,
    manifest_url: str | None,
    manifest_extra: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    pip_config: Callable[[], Mapping[str, str]] | None = None,
) -> IndexUrls:
    """Primary and extra index URLs by the precedence in the module docstring.

    ``env`` defaults to ``os.environ``; ``pip_config`` (default :func:`pip_config_values`) is
    called at most once, and only when neither the manifest nor the environment names the
    primary index.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    conf_cache: list[Mapping[str, str]] = []

    def conf() -> Mapping[str, str]:
        if not conf_cache:
            conf_cache.append((pip_config or pip_config_values)())
        return conf_cache[0]

    primary: tuple[str, str] | None = None
    if manifest_url and manifest_url.strip():
        primary = (manifest_url, ORIGIN_MANIFEST)
    else:
        for key in ("WASMTOOL_INDEX_URL", "PIP_INDEX_URL"):
            if environ.get(key, "").strip():
                primary = (environ[key], key)
                break
    if primary is None:
        from_conf = _pip_conf(conf(), "index-url")
        primary = (from_conf, ORIGIN_PIP_CONFIG) if from_conf else (builtin_default_index(), ORIGIN_DEFAULT)

    extra: tuple[list[str], str] | None = None
    listed = [u for item in manifest_extra for u in item.split()]
    if listed:
        extra = (listed, ORIGIN_MANIFEST)
    else:
        for key in ("WASMTOOL_EXTRA_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
            if environ.get(key, "").split():
                extra = (environ[key].split(), key)
                break
    if extra is None and primary[1] in (ORIGIN_PIP_CONFIG, ORIGIN_DEFAULT):
        from_conf = _pip_conf(conf(), "extra-index-url")
        if from_conf:
            extra = (from_conf.split(), ORIGIN_PIP_CONFIG)

    url, origin = primary
    primary_url = _check(url, origin)
    extras: list[str] = []
    for e in extra[0] if extra else []:
        e = _check(e, extra[1] if extra else "")
        if e != primary_url and e not in extras:
            extras.append(e)
    return IndexUrls(primary=primary_url, extra=tuple(extras), origin=origin,
                     extra_origin=extra[1] if extra else None)
