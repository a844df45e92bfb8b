"""Which simple index to use: the one place the default index URL comes from.

Precedence (first that is set wins): the project's ``mochi.toml`` (``[python].index-url``
or an explicit ``--index-url``), ``WASMTOOL_INDEX_URL``, ``PIP_INDEX_URL``, pip's
configuration files (``pip config list``), then pip's own built-in default. Extra indexes
come from the manifest, ``WASMTOOL_EXTRA_INDEX_URL``/``PIP_EXTRA_INDEX_URL`` (space
separated) and pip's ``extra-index-url``. ``file://`` URLs are allowed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class IndexUrls:
    primary: str
    extra: tuple[str, ...] = ()
    origin: str = "default"

    @property
    def all(self) -> tuple[str, ...]:
        return (self.primary, *self.extra)


def builtin_default_index() -> str:
    """pip's own default index URL, read from the installed pip so that no registry host
    is written into wasmtool. pip keeps it in an internal module that has been stable
    for many releases; guard the import and say clearly what is missing."""
    try:
        from pip._internal.models.index import PyPI

        return str(PyPI.simple_url)
    except Exception as exc:
        from wasmtool.errors import ConfigError

        raise ConfigError(
            "no package index configured and pip's built-in default is not available",
            hint="set [python].index-url in mochi.toml or WASMTOOL_INDEX_URL",
        ) from exc


def pip_config_values() -> dict[str, str]:
    """``pip config list`` as a flat mapping (``global.index-url`` -> value)."""
    try:
        out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                             timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    values: dict[str, str] = {}
    for line in out.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("'\"")
    return values


def _pip_conf(values: Mapping[str, str], name: str) -> str | None:
    for section in ("install", "global"):
        v = values.get(f"{section}.{name}")
        if v:
            return v
    return None


def resolve_index_urls(
    *,
    manifest_url: str | None,
    manifest_extra: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    pip_config: Callable[[], Mapping[str, str]] | None = None,
) -> IndexUrls:
    env = os.environ if env is None else env
    extra: list[str] = list(manifest_extra)
    for key in ("WASMTOOL_EXTRA_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        extra += env.get(key, "").split()
    if manifest_url:
        primary, origin = manifest_url, "mochi.toml"
    elif env.get("WASMTOOL_INDEX_URL"):
        primary, origin = env["WASMTOOL_INDEX_URL"], "WASMTOOL_INDEX_URL"
    elif env.get("PIP_INDEX_URL"):
        primary, origin = env["PIP_INDEX_URL"], "PIP_INDEX_URL"
    else:
        conf = (pip_config or pip_config_values)()
        from_conf = _pip_conf(conf, "index-url")
        extra += (_pip_conf(conf, "extra-index-url") or "").split()
        if from_conf:
            primary, origin = from_conf, "pip configuration"
        else:
            primary, origin = builtin_default_index(), "pip default"
    seen: list[str] = []
    for e in extra:
        if e and e != primary and e not in seen:
            seen.append(e)
    return IndexUrls(primary=primary, extra=tuple(seen), origin=origin)
