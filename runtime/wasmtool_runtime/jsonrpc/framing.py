"""Line framing of the worker protocol (formats.md §7).

Grammar (bytes on the pipe)::

    stream  = *frame [partial]
    frame   = body [CR] LF          ; body: one UTF-8 JSON value, at most ``max_frame`` bytes
    partial = 1*OCTET               ; bytes after the last LF -> "truncated" error

* A ``\\r`` immediately before the ``\\n`` is stripped (peers on Windows).
* A body longer than ``max_frame`` (16 MiB by default, terminator excluded) is an
  ``oversize`` error. The reader discards the rest of that line (in bounded chunks), so
  the stream stays in sync and the next frame can still be read.
* End of file between frames is a clean close (:meth:`FrameReader.read_frame` returns
  ``None``); end of file inside a frame is a ``truncated`` error.
* A body that is not UTF-8 or not exactly one JSON value is a ``parse`` error. The JSON
  constants ``NaN``/``Infinity`` are refused (the protocol spells them ``{"$float": ...}``).

Every problem is reported as :class:`ProtocolViolation`, never as a bare ``ValueError``,
``UnicodeDecodeError`` or ``RecursionError``.
"""

from __future__ import annotations

import json
import threading
from typing import IO, Any

__all__ = [
    "DEFAULT_MAX_FRAME",
    "FrameReader",
    "FrameWriter",
    "ProtocolViolation",
    "encode_frame",
    "parse_frame",
]

#: Largest frame body (bytes, terminator excluded) either side accepts by default.
DEFAULT_MAX_FRAME = 16 * 1024 * 1024

_PARSE_ERROR = -32700
_INVALID_REQUEST = -32600
_DISCARD_CHUNK = 64 * 1024


class ProtocolViolation(ValueError):
    """A frame or message breaks formats.md §7.

    ``kind`` is one of ``parse`` (not UTF-8 / not one JSON value), ``oversize``,
    ``truncated`` (EOF inside a frame), ``invalid`` (valid JSON, not a valid message),
    ``version`` (``jsonrpc`` is not ``"2.0"``). ``code`` is the JSON-RPC error code a
    server answers with and ``request_id`` the id of the offending request when it could
    be read (else ``None``: the answer then carries ``"id": null``).
    """

    def __init__(self, kind: str, message: str, *, request_id: Any = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.request_id = request_id

    @property
    def code(self) -> int:
        return _PARSE_ERROR if self.kind in ("parse", "truncated") else _INVALID_REQUEST


def _reject_constant(name: str) -> Any:
    raise ValueError(f'JSON constant {name} is not allowed (use {{"$float": ...}})')


def parse_frame(body: bytes) -> Any:
    """Decode one frame body into the JSON value it holds (``parse`` errors only)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolViolation("parse", f"frame is not valid UTF-8: {exc}") from exc
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ProtocolViolation("parse", "frame nests JSON too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, int digit limit, NaN/Infinity
        raise ProtocolViolation("parse", f"frame is not one JSON value: {exc}") from exc


def encode_frame(message: Any, *, max_frame: int = DEFAULT_MAX_FRAME) -> bytes:
    """``message`` (plain JSON data) as one ``\\n``-terminated frame.

    Raises :class:`ProtocolViolation` (``oversize``) when the body exceeds ``max_frame``
    and ``TypeError``/``ValueError`` when ``message`` is not plain JSON data (values must
    go through :func:`~wasmtool_runtime.jsonrpc.values.encode_value` first).
    """
    try:
        text = json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except RecursionError as exc:
        raise ValueError("message nests too deeply to encode") from exc
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: fall back to \\uXXXX escapes
        data = json.dumps(message, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")
    if len(data) > max_frame:
        raise ProtocolViolation("oversize", f"frame of {len(data)} bytes exceeds the {max_frame}-byte cap")
    return data + b"\n"


class FrameReader:
    """Reads frames from a binary stream that has ``readline(size)`` (pipes, files, BytesIO).

    Not thread-safe: one reader thread per stream.
    """

    def __init__(self, stream: IO[bytes], *, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        if max_frame < 1:
            raise ValueError("max_frame must be positive")
        self._stream = stream
        self.max_frame = max_frame
        self._eof = False

    def read_frame(self) -> bytes | None:
        """The next frame body (``\\r\\n``/``\\n`` removed), or ``None`` at a clean EOF."""
        if self._eof:
            return None
        limit = self.max_frame + 2  # body + optional CR + LF
        line = self._stream.readline(limit)
        if not line:
            self._eof = True
            return None
        if line.endswith(b"\n"):
            body = line[:-1]
            if body.endswith(b"\r"):
                body = body[:-1]
            if len(body) > self.max_frame:
                raise self._oversize()
            return body
        if len(line) < limit:
            self._eof = True
            raise ProtocolViolation("truncated", f"stream ended inside a frame after {len(line)} bytes")
        self._discard_rest_of_line()
        raise self._oversize()

    def read_message(self) -> Any:
        """The next frame decoded as JSON; raises ``EOFError`` at a clean EOF."""
        body = self.read_frame()
        if body is None:
            raise EOFError("stream closed")
        return parse_frame(body)

    def _oversize(self) -> ProtocolViolation:
        return ProtocolViolation("oversize", f"frame exceeds the {self.max_frame}-byte cap")

    def _discard_rest_of_line(self) -> None:
        while True:
            chunk = self._stream.readline(_DISCARD_CHUNK)
            if not chunk:
                self._eof = True
                return
            if chunk.endswith(b"\n"):
                return


class FrameWriter:
    """Writes whole frames to a binary stream; safe to share between threads."""

    def __init__(self, stream: IO[bytes], *, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self._stream = stream
        self.max_frame = max_frame
        self._lock = threading.Lock()

    def write(self, message: Any) -> None:
        """Encode and write ``message``; encoding errors are raised before anything is written."""
        self.write_bytes(encode_frame(message, max_frame=self.max_frame))

    def write_bytes(self, frame: bytes) -> None:
        """Write an already encoded frame (from :func:`encode_frame`) atomically w.r.t. other writers."""
        with self._lock:
            self._stream.write(frame)
            self._stream.flush()

    def close(self) -> None:
        with self._lock:
            self._stream.close()
