"""Which files of a page may be used (pure; no IO).

A file is selectable when it offers a sha256 (the cache verifies every download against
it; md5-only files are never downloaded, acceptance 9) and is not yanked, unless that
exact filename is pinned by the lock (PEP 592, acceptance 12).
"""

from __future__ import annotations

from collections.abc import Collection

from wasmtool.index.errors import FileNotListedError, Md5OnlyFileError, MissingHashError, YankedFileError
from wasmtool.index.models import IndexFile, ProjectPage

__all__ = ["find_file", "rejections", "select_files"]


def _reason(f: IndexFile, allow_yanked_pins: Collection[str]) -> str | None:
    if f.md5_only:
        return "md5 is the only hash offered"
    if not f.sha256:
        return "no sha256 hash offered"
    if f.yanked and f.filename not in allow_yanked_pins:
        return f"yanked ({f.yanked_reason})" if f.yanked_reason else "yanked"
    return None


def select_files(page: ProjectPage, *, allow_yanked_pins: Collection[str] = frozenset()) -> list[IndexFile]:
    """The page's usable files, in page order."""
    return [f for f in page.files if _reason(f, allow_yanked_pins) is None]


def rejections(page: ProjectPage, *, allow_yanked_pins: Collection[str] = frozenset()) -> dict[str, str]:
    """Every listed file that :func:`select_files` leaves out, with the reason (for messages)."""
    out = {name: f"skipped: {why}" for name, why in page.skipped}
    for f in (*page.md5_only, *page.files):
        why = _reason(f, allow_yanked_pins)
        if why is not None:
            out[f.filename] = why
    return out


def find_file(page: ProjectPage, filename: str, *, allow_yanked_pins: Collection[str] = frozenset()) -> IndexFile:
    """The selectable file ``filename``, or the typed error saying why it cannot be used."""
    f = page.file(filename) or page.md5_only_file(filename)
    if f is None:
        skipped = dict(page.skipped)
        detail = f" (skipped: {skipped[filename]})" if filename in skipped else ""
        raise FileNotListedError(f"{filename} is not listed{detail}", file=page.url, package=page.name)
    if f.md5_only:
        raise Md5OnlyFileError(f"{filename} offers only an md5 hash; it is never downloaded", file=page.url,
                               package=page.name, field=filename, hint="ask the index to publish sha256 hashes")
    if not f.sha256:
        raise MissingHashError(f"{filename} offers no sha256 hash to verify the download against", file=page.url,
                               package=page.name, field=filename)
    if f.yanked and f.filename not in allow_yanked_pins:
        why = f": {f.yanked_reason}" if f.yanked_reason else ""
        raise YankedFileError(f"{filename} is yanked{why}", file=page.url, package=page.name, field=filename,
                              hint="pin this exact file in the lock to use it anyway")
    return f
