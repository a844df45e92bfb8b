"""What ``wasmtool lock`` tells the user (pure: a lock in, lines out): the packages of each
target, and each package whose version differs between targets, with why.

A lock holds one pin per ``(target, package)``; counting pins across targets says nothing a
user can act on, so the summary lists packages per target. Versions that differ are the
thing to look at: :func:`version_differences` finds them, and the lock operation records
the reason it could not make them one (:class:`VersionDifference`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from wasmtool.lock.model import MochiLock

__all__ = ["VersionDifference", "joint_version", "summary_lines", "target_line", "version_differences"]


@dataclass(frozen=True)
class VersionDifference:
    """``name`` is locked at different versions across targets (``versions``: target ->
    version); ``why`` says what kept them apart, when it is known."""

    name: str
    versions: Mapping[str, str]
    why: str = ""

    def line(self) -> str:
        by_version: dict[str, list[str]] = {}
        for target, version in sorted(self.versions.items()):
            by_version.setdefault(version, []).append(target)
        spread = ", ".join(f"{v} on {', '.join(ts)}" for v, ts in sorted(by_version.items(), key=_version_key))
        return f"{self.name} differs: {spread}" + (f" ({self.why})" if self.why else "")


def _version_key(item: tuple[str, list[str]]) -> tuple[int, Version | str]:
    try:
        return (0, Version(item[0]))
    except InvalidVersion:
        return (1, item[0])


def version_differences(lock: MochiLock, targets: Sequence[str]) -> dict[str, dict[str, str]]:
    """Packages locked in two or more of ``targets`` at different versions: name -> {target: version}."""
    seen: dict[str, dict[str, str]] = {}
    for target in targets:
        for p in lock.for_target(target):
            seen.setdefault(p.name, {})[target] = p.version
    return {n: vs for n, vs in sorted(seen.items()) if len(set(vs.values())) > 1}


def joint_version(versions: Mapping[str, str]) -> str:
    """The version to try on every target: the oldest one a target chose (a resolver takes
    the newest version it can, so an older choice is the one the most constrained target
    could have; the others can usually take it too)."""
    return min(versions.values(), key=lambda v: _version_key((v, [])))


def target_line(lock: MochiLock, target: str) -> str:
    pkgs = sorted(lock.for_target(target), key=lambda p: p.name)
    listed = ", ".join(f"{p.name} {p.version}" for p in pkgs) or "nothing to pin"
    return f"  {target}: {len(pkgs)} package(s): {listed}"


def summary_lines(lock: MochiLock, targets: Sequence[str], *, changed: bool,
                  differences: Sequence[VersionDifference] = ()) -> list[str]:
    """The lines ``wasmtool lock`` prints: the state of the lock, a line per target, then one
    line per package whose version differs between targets."""
    head = f"mochi.lock {'written' if changed else 'unchanged'} for {', '.join(targets) or 'no target'}"
    return [head, *(target_line(lock, t) for t in targets), *(f"  {d.line()}" for d in differences)]
