"""Drift between two locks: one readable line per difference (formats.md §2)."""

from __future__ import annotations

from dataclasses import fields

from wasmtool.lock.model import LockedPackage, MochiLock

# Fields compared by `lock --check`; the rest describe the environment, not the pins.
_COMPARED = [f.name for f in fields(LockedPackage) if f.name not in ("name", "target", "wheel_url", "index_url")]


def diff_locks(old: MochiLock, new: MochiLock, targets: list[str] | None = None) -> list[str]:
    lines: list[str] = []
    for target in targets or sorted(set(old.targets) | set(new.targets)):
        oi, ni = old.inputs_for(target), new.inputs_for(target)
        o_reqs = set(oi.requirements) if oi else set()
        n_reqs = set(ni.requirements) if ni else set()
        lines += [f"[{target}] requirement added: {r}" for r in sorted(n_reqs - o_reqs)]
        lines += [f"[{target}] requirement removed: {r}" for r in sorted(o_reqs - n_reqs)]
        if oi and ni and oi.python_version != ni.python_version:
            lines.append(f"[{target}] python-version {oi.python_version} -> {ni.python_version}")
        if oi and ni and oi.abi_tag_policy != ni.abi_tag_policy:
            lines.append(f"[{target}] abi-tag-policy {oi.abi_tag_policy or 'both'} -> {ni.abi_tag_policy or 'both'}")
        if oi and ni and oi.freethread_status != ni.freethread_status:
            lines.append(f"[{target}] freethread-status {oi.freethread_status or 'gil'} -> "
                         f"{ni.freethread_status or 'gil'}")
        olds = {p.name: p for p in old.for_target(target)}
        news = {p.name: p for p in new.for_target(target)}
        for name in sorted(set(olds) | set(news)):
            o, n = olds.get(name), news.get(name)
            if o is None and n is not None:
                lines.append(f"[{target}] added {n.label} {n.version}")
            elif n is None and o is not None:
                lines.append(f"[{target}] removed {o.label} {o.version}")
            elif o is not None and n is not None:
                for f in _COMPARED:
                    ov, nv = getattr(o, f), getattr(n, f)
                    if ov != nv:
                        lines.append(f"[{target}] changed {n.label} {f.replace('_', '-')}: {_fmt(ov)} -> {_fmt(nv)}")
    return lines


def _fmt(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    text = str(value)
    return text if text else '""'
