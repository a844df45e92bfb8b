"""Rendered files whose texts are read on first use.

A warm ``bind`` of a large project reuses every alias folder it rendered before. The
folders' texts are hundreds of megabytes for a big surface (numpy, scipy, pandas with their
submodules), while deciding what to bind and what the lock records needs only each file's
name and SHA-256. :class:`RenderedFiles` carries exactly that up front and produces the
texts from a loader the caller supplies (the cache reader in :mod:`wasmtool.ops.bind`) the
first time a text is asked for; the loaded texts are checked against the digests.

Pure: the loader is the only way this module touches anything outside memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping

from wasmtool.synth.errors import WorkspaceError

__all__ = ["RenderedFiles", "text_digest"]


def text_digest(text: str) -> str:
    """SHA-256 (hex) of ``text`` encoded as UTF-8: the bytes a workspace file holds."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class RenderedFiles(Mapping[str, str]):
    """Files by name (text). ``digests`` (name -> :func:`text_digest`) are known at once;
    the texts come from ``load`` on the first access to a value, and must match them
    (:class:`~wasmtool.synth.errors.WorkspaceError` names ``origin`` when they do not, after
    calling ``discard``: the caller's chance to drop the damaged source)."""

    __slots__ = ("_digests", "_discard", "_load", "_origin", "_texts")

    def __init__(self, digests: Mapping[str, str], load: Callable[[], Mapping[str, str]], *,
                 origin: str = "", discard: Callable[[], None] | None = None) -> None:
        self._digests = dict(digests)
        self._load: Callable[[], Mapping[str, str]] | None = load
        self._origin = origin
        self._discard = discard
        self._texts: Mapping[str, str] | None = None

    @classmethod
    def of(cls, texts: Mapping[str, str]) -> RenderedFiles:
        """Files already in memory (their digests computed now)."""
        out = cls({name: text_digest(text) for name, text in texts.items()}, lambda: texts)
        out._texts = dict(texts)
        return out

    @property
    def digests(self) -> Mapping[str, str]:
        """Name -> SHA-256 of the file's UTF-8 bytes, without reading any text."""
        return self._digests

    @property
    def loaded(self) -> bool:
        """Whether the texts are in memory."""
        return self._texts is not None

    def digest(self, name: str) -> str:
        return self._digests[name]

    def texts(self) -> Mapping[str, str]:
        """Every text (loaded and checked on the first call)."""
        if self._texts is None:
            assert self._load is not None
            texts = dict(self._load())
            bad = sorted(name for name in set(texts) | set(self._digests)
                         if name not in texts or name not in self._digests
                         or text_digest(texts[name]) != self._digests[name])
            if bad:
                if self._discard is not None:
                    self._discard()
                raise WorkspaceError(f"rendered files do not match their recorded hashes: {', '.join(bad)}",
                                     file=self._origin or None,
                                     hint="the damaged copy was removed: run the command again to render them afresh")
            self._texts, self._load = texts, None
        return self._texts

    def __getitem__(self, name: str) -> str:
        if name not in self._digests:
            raise KeyError(name)
        return self.texts()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._digests)

    def __len__(self) -> int:
        return len(self._digests)

    def __contains__(self, name: object) -> bool:
        return name in self._digests

    def __repr__(self) -> str:
        return f"RenderedFiles({sorted(self._digests)!r}, loaded={self.loaded})"
