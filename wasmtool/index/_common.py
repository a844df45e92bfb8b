"""Rules shared by the JSON and the HTML parser, so that both build identical files.

Pure functions, no IO.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit, urlunsplit

from packaging.utils import canonicalize_name

from wasmtool.index.models import parse_filename

_HEX = re.compile(r"[0-9a-f]+")
# Digest lengths (hex characters) of the algorithms indexes use; others only need to be hex.
DIGEST_LENGTHS: Mapping[str, int] = {
    "md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128,
    "blake2b": 128, "blake2s": 64, "sha3_256": 64, "sha3_512": 128, "blake3": 64,
}
_ALGO = re.compile(r"[a-z0-9_]+")
ALLOWED_SCHEMES = ("http", "https", "file")


def digest_problem(algo: str, value: str) -> str | None:
    """Why ``algo=value`` is not a usable digest (``None`` if it is). Inputs lowercased."""
    if not _ALGO.fullmatch(algo):
        return f"hash name {algo!r} is not a hash algorithm name"
    if not _HEX.fullmatch(value):
        return f"{algo} digest {value!r} is not hex"
    want = DIGEST_LENGTHS.get(algo)
    if want is not None and len(value) != want:
        return f"{algo} digest has {len(value)} hex digits, expected {want}"
    return None


def sorted_hashes(hashes: Mapping[str, str]) -> dict[str, str]:
    return {k: hashes[k] for k in sorted(hashes)}


def resolve(base: str, href: str) -> str:
    """``href`` made absolute against ``base``, without its fragment.

    Raises ``ValueError`` for URLs ``urllib`` cannot split (bad IPv6 literal, ...).
    """
    absolute = urljoin(base, href.strip())
    parts = urlsplit(absolute)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def fragment(href: str) -> str:
    return urlsplit(href.strip()).fragment


def skip_reason(filename: str, url: str, *, page_url: str, project: str) -> str | None:
    """Why a listed file is left out of the page (not an error), or ``None``.

    - the name is not a wheel or ``.tar.gz``/``.zip`` sdist name (legacy ``.egg``,
      ``.exe``, ``.tar.bz2``, names with path separators);
    - the name belongs to another project;
    - the URL is neither http(s) nor file, or a remote page points at a local ``file:`` URL.
    """
    parsed = parse_filename(filename)
    if parsed is None:
        return "not a wheel or sdist filename"
    if parsed[0] != canonicalize_name(project):
        return f"file of project {parsed[0]!r}, not {canonicalize_name(project)!r}"
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        return f"URL scheme {scheme!r} is not one of {', '.join(ALLOWED_SCHEMES)}"
    if scheme == "file" and urlsplit(page_url).scheme.lower() != "file":
        return "a remote page may not point at a local file: URL"
    return None
