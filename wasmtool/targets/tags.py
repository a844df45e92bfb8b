"""Choosing a wheel for a target: rank filenames by the profile's tag priority (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from wasmtool.targets.abi_policy import TagPolicy, policy_tags
from wasmtool.targets.profile import TargetProfile


def rank_wheel(filename: str, priority: dict[Tag, int]) -> int | None:
    """Lower is better; None when no tag of the wheel is accepted."""
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return None
    ranks = [priority[t] for t in tags if t in priority]
    return min(ranks) if ranks else None


def tag_priority(tags: Sequence[Tag]) -> dict[Tag, int]:
    return {t: i for i, t in enumerate(tags)}


@lru_cache(maxsize=64)
def _priority(profile: TargetProfile, python_version: str, policy: TagPolicy | None = None) -> dict[Tag, int]:
    tags = profile.supported_tags(python_version)
    return tag_priority(tags if policy is None else policy_tags(tags, policy, python_version))


def best_wheel(files: Iterable[str], profile: TargetProfile, python_version: str,
               policy: TagPolicy | None = None) -> str | None:
    """The best-ranked wheel among ``files`` for the target (ties broken by filename);
    ``policy``: the project's ``abi-tag-policy`` and ``free-threaded`` (abi_policy.py)."""
    priority = _priority(profile, python_version, policy)
    ranked = sorted((r, f) for f in files if f.endswith(".whl") and (r := rank_wheel(f, priority)) is not None)
    return ranked[0][1] if ranked else None
