"""Where wasmtool may write in a project: never through a symbolic link that leads outside
it (:func:`ensure_inside`). The file-system walk is :func:`wasmtool.fsutil.escaping_link`;
this adds the coded error users see."""

from __future__ import annotations

from pathlib import Path

from wasmtool.fsutil import escaping_link
from wasmtool.project.errors import PathEscapeError

__all__ = ["ensure_inside"]


def ensure_inside(root: Path, path: Path, *, hint: str | None = None) -> None:
    """Raise :class:`PathEscapeError` when writing ``path`` would go through a symbolic link
    leading outside ``root`` (nothing has been written when it is raised)."""
    link = escaping_link(root, path)
    if link is not None:
        raise PathEscapeError(f"{link} is a symbolic link leading outside the project; "
                              "wasmtool writes nothing through it", file=str(link),
                              hint=hint or "remove the link (wasmtool recreates the folder), "
                                           "or point it inside the project")
