"""What ``wasmtool bind`` skipped for one alias: its ``SKIPPED.txt`` (no wasmtool imports, so
that the errors of :mod:`wasmtool.run.errors` can name a skipped item)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["SkippedItem", "read_skipped"]


@dataclass(frozen=True)
class SkippedItem:
    """One line of an alias's ``SKIPPED.txt``: ``path<TAB>reason<TAB>detail[<TAB>hint]``."""

    path: str
    reason: str
    detail: str = ""
    hint: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason, "detail": self.detail, "hint": self.hint}


def read_skipped(alias_dir: Path) -> tuple[SkippedItem, ...]:
    """The items ``wasmtool bind`` skipped for one alias (empty when ``SKIPPED.txt`` is missing)."""
    try:
        text = (alias_dir / "SKIPPED.txt").read_text(encoding="utf-8")
    except OSError:
        return ()
    items = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) >= 2:
            items.append(SkippedItem(cells[0], cells[1], *(cells[2:4])))
    return tuple(items)
