"""Download progress: a ``rich`` bar on a terminal, nothing otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["progress_reporter"]


def _noop(_n: int) -> None:
    return None


@contextmanager
def progress_reporter(
    *,
    enabled: bool | None,
    description: str,
    total: int | None,
    stream: TextIO | None = None,
) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n_bytes)``.

    ``enabled=None`` shows a bar only when ``stream`` (default: ``sys.stderr`` at call
    time) is a terminal; ``True`` forces one, ``False`` never draws. ``total`` is the
    Content-Length when the source knows it (``None`` draws an open-ended bar).
    """
    out = sys.stderr if stream is None else stream
    if enabled is None:
        isatty = getattr(out, "isatty", None)
        enabled = bool(isatty()) if callable(isatty) else False
    if not enabled:
        yield _noop
        return
    # Imported here: rich costs tens of milliseconds and most runs are not on a terminal.
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    console = Console(file=out, force_terminal=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int) -> None:
            bar.advance(task, n)

        yield advance
