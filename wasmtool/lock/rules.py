"""The lock-file rules of ``wasmtool lock`` and ``wasmtool bind`` (pure: locks in, locks,
texts and lines out; :mod:`wasmtool.ops.lock` does the resolving and the writing).

* what a re-lock keeps: a target whose inputs did not change (:func:`up_to_date`; what did
  change is :func:`input_drift`), and the
  binding fields of entries whose wheel did not change (:func:`carry_bindings`);
* which bindings belong to a lock: the :data:`BINDING_FIELDS` of a target's bound entries
  (:func:`bound_entries`, :func:`with_bindings`);
* whether a lock can be installed at all: :func:`coverage_gaps` (every direct requirement
  has an entry, every entry's dependencies too: a hand-edited lock may have lost some);
* what changed: :func:`binding_drift` (recorded binding fields against fresh ones; the pins
  themselves are :func:`wasmtool.lock.check.diff_locks`);
* which grants a lock records: :func:`capability_drift` (the lock's ``[python-capabilities]``
  against the manifest's; growth itself is :func:`wasmtool.project.capabilities.capability_growth`);
* which files a lock is written as: :func:`lock_files` (``mochi.lock`` and one pylock per target),
  and which of them on disk are not what the lock implies (:func:`pylock_drift`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from wasmtool.lock.io import render_lock, render_pylock_for
from wasmtool.lock.model import LockedPackage, MochiLock, TargetInputs
from wasmtool.lock.pylock import pylock_filename
from wasmtool.project.capabilities import CapabilityTable, Grants

__all__ = [
    "BINDING_FIELDS",
    "binding_drift",
    "bound_entries",
    "capability_drift",
    "carry_bindings",
    "coverage_gaps",
    "input_drift",
    "lock_files",
    "missing_direct",
    "primary_target",
    "pylock_drift",
    "uncovered",
    "up_to_date",
    "with_bindings",
]

#: Fields `wasmtool bind` records per bound package (formats.md §2); `lock` keeps them while
#: the wheel is the same, `lock --check` recomputes them.
BINDING_FIELDS = ("alias", "stub_provenance", "stub_sha256", "wrapper_sha256", "shim_sha256", "skipped_count")


def up_to_date(existing: MochiLock | None, inputs: TargetInputs) -> bool:
    """The lock already answers these inputs (same requirement set, interpreter and index,
    and its entries cover them: :func:`coverage_gaps`): like ``uv lock``, keep it rather
    than re-resolve; ``--upgrade`` re-resolves."""
    return existing is not None and not input_drift(existing, inputs) and not coverage_gaps(existing, inputs)


def input_drift(existing: MochiLock | None, inputs: TargetInputs) -> list[str]:
    """Why the lock does not answer ``inputs`` (one line per difference; empty: it does)."""
    t = inputs.target
    have = existing.inputs_for(t) if existing is not None else None
    if have is None:
        return [f"[{t}] the lock has no entries for this target"]
    lines = [f"[{t}] requirement added: {r}" for r in sorted(set(inputs.requirements) - set(have.requirements))]
    lines += [f"[{t}] requirement removed: {r}" for r in sorted(set(have.requirements) - set(inputs.requirements))]
    if have.python_version != inputs.python_version:
        lines.append(f"[{t}] Python version: {have.python_version} locked, {inputs.python_version} configured")
    if have.index_url != inputs.index_url:
        lines.append(f"[{t}] index: {have.index_url} locked, {inputs.index_url} configured")
    if have.abi_tag_policy != inputs.abi_tag_policy:
        lines.append(f"[{t}] abi-tag-policy: {have.abi_tag_policy or 'both'} locked, "
                     f"{inputs.abi_tag_policy or 'both'} configured")
    if have.freethread_status != inputs.freethread_status:
        lines.append(f"[{t}] free-threaded: {bool(have.freethread_status)} locked, "
                     f"{bool(inputs.freethread_status)} configured")
    return lines


def missing_direct(existing: MochiLock, inputs: TargetInputs,
                   environment: Mapping[str, str] | None = None) -> list[str]:
    """The canonical names of ``inputs``' direct requirements that have no entry for its
    target in ``existing``, sorted. A requirement with a marker is only checked when
    ``environment`` (the target's marker environment) is given and the marker holds there."""
    have = {str(canonicalize_name(p.name)) for p in existing.for_target(inputs.target)}
    missing: set[str] = set()
    for text in inputs.requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue  # input_drift and the resolver report unparsable requirements
        if req.marker is not None and (environment is None or not req.marker.evaluate(dict(environment))):
            continue
        name = str(canonicalize_name(req.name))
        if name not in have:
            missing.add(name)
    return sorted(missing)


def coverage_gaps(existing: MochiLock | None, inputs: TargetInputs,
                  environment: Mapping[str, str] | None = None) -> list[str]:
    """Why the lock's entries for ``inputs.target`` are not a closed set covering the
    project (one line per gap; empty: they are): a direct requirement without an entry
    (:func:`missing_direct`), or an entry's dependency without one. A lock without the
    target at all is :func:`input_drift`'s business, so it gives no lines here."""
    t = inputs.target
    if existing is None or existing.inputs_for(t) is None:
        return []
    lines = [f"[{t}] direct requirement {name} has no entry in the lock"
             for name in missing_direct(existing, inputs, environment)]
    lines += [f"[{t}] {name} depends on {dep}, which has no entry in the lock"
              for name, dep in _dangling_dependencies(existing, t)]
    return lines


def _dangling_dependencies(lock: MochiLock, target: str) -> list[tuple[str, str]]:
    """``(package, dependency)`` for every dependency of ``target``'s entries that has no
    entry itself, by package name."""
    entries = lock.for_target(target)
    have = {str(canonicalize_name(p.name)) for p in entries}
    return [(p.name, dep) for p in sorted(entries, key=lambda p: p.name)
            for dep in p.dependency_names if dep not in have]


def uncovered(existing: MochiLock | None, inputs: TargetInputs,
              environment: Mapping[str, str] | None = None) -> list[str]:
    """The canonical names :func:`coverage_gaps` reports missing, sorted (no duplicates)."""
    if existing is None or existing.inputs_for(inputs.target) is None:
        return []
    deps = {dep for _, dep in _dangling_dependencies(existing, inputs.target)}
    return sorted(set(missing_direct(existing, inputs, environment)) | deps)


def carry_bindings(existing: MochiLock | None, packages: list[LockedPackage]) -> list[LockedPackage]:
    """Keep the binding fields of entries whose wheel did not change (a re-lock does not bind)."""
    if existing is None:
        return packages
    old = {(p.target, p.name, p.wheel_sha256): p for p in existing.packages if p.stub_sha256}
    out: list[LockedPackage] = []
    for p in packages:
        prev = old.get((p.target, p.name, p.wheel_sha256))
        if prev is not None:
            p = replace(p, **{f: getattr(prev, f) for f in BINDING_FIELDS if f != "alias" or not p.alias})
        out.append(p)
    return out


def with_bindings(lock: MochiLock, target: str, fields_by_name: Mapping[str, Mapping[str, Any]]) -> MochiLock:
    """``lock`` with the binding fields of ``target``'s named entries set."""
    packages = tuple(replace(p, **fields_by_name[p.name]) if p.target == target and p.name in fields_by_name else p
                     for p in lock.packages)
    return replace(lock, packages=packages)


def bound_entries(lock: MochiLock, target: str) -> dict[str, LockedPackage]:
    """``target``'s entries that carry binding fields (``wasmtool bind`` recorded them), by name."""
    return {p.name: p for p in lock.for_target(target) if p.stub_sha256}


def binding_drift(target: str, recorded: Mapping[str, LockedPackage],
                  fresh: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per binding field whose recorded value differs from the freshly computed one."""
    lines: list[str] = []
    for name, entry in sorted(recorded.items()):
        now = fresh.get(name, {})
        for f in BINDING_FIELDS:
            if f in now and now[f] != getattr(entry, f):
                lines.append(f"[{target}] changed {entry.label} {f.replace('_', '-')}: "
                             f"{getattr(entry, f)} -> {now[f]} (re-run `wasmtool bind`)")
    return lines


def capability_drift(existing: MochiLock | None, wanted: CapabilityTable) -> list[str]:
    """One line per grant the manifest (``wanted``) and the lock's record disagree on (empty:
    the lock records exactly the manifest's grants, or there is no lock yet)."""
    if existing is None:
        return []
    have = {n: g for n, g in existing.capabilities if not g.is_empty()}
    want = {n: g for n, g in wanted if not g.is_empty()}
    lines: list[str] = []
    for name in sorted(set(have) | set(want)):
        old, new = have.get(name, Grants()).describe(), want.get(name, Grants()).describe()
        lines += [f"capability granted in mochi.toml, not recorded in the lock: {name} {item}"
                  for item in new if item not in old]
        lines += [f"capability recorded in the lock, no longer granted in mochi.toml: {name} {item}"
                  for item in old if item not in new]
    return lines


def primary_target(configured: str, targets: Sequence[str]) -> str:
    """The target whose pylock is ``pylock.toml``: the configured one when locked, else the first."""
    return configured if configured in targets else (targets[0] if targets else configured)


def lock_files(lock: MochiLock, *, lock_path: Path, configured_target: str) -> dict[Path, str]:
    """The files ``lock`` is written as: ``mochi.lock`` and one pylock per target, beside it."""
    primary = primary_target(configured_target, lock.targets)
    files = {lock_path: render_lock(lock)}
    for target in lock.targets:
        files[lock_path.parent / pylock_filename(target, primary)] = render_pylock_for(lock, target)
    return files


def pylock_drift(expected: Mapping[Path, str], on_disk: Mapping[Path, bytes | None]) -> list[str]:
    """One line per pylock file whose bytes on disk (``None``: missing) are not the text the
    lock implies (``expected``, from :func:`lock_files` without ``mochi.lock``)."""
    lines: list[str] = []
    for path, text in sorted(expected.items()):
        have = on_disk.get(path)
        if have is None:
            lines.append(f"{path.name} is missing")
        elif have != text.encode("utf-8"):
            lines.append(f"{path.name} differs from what mochi.lock implies")
    return lines
