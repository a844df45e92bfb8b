"""Which ABI tags a wheel may carry, and how they rank (pure; no IO).

``[python] abi-tag-policy`` (docs/audit.md):

* ``legacy``: ``none``, ``abi3`` and the exact ``cp3XY`` / ``cp3XYt`` ABI; a next-generation
  stable-ABI tag (``abi3t``, PEP 803) is refused.
* ``both`` (default): the legacy set plus ``abi3t``.
* ``abi2026``: pure wheels and next-generation stable-ABI wheels only. PEP 809 (the "abi2026"
  proposal) is a draft, so the only such tag today is ``abi3t`` (a wheel named ``abi3.abi3t``).

``[python] free-threaded`` decides which exact ABI is wanted: ``cp3XYt`` when true, ``cp3XY``
when false. A free-threaded interpreter cannot load a GIL-ABI extension (``cp3XY`` or
``abi3``; only ``abi3t``), so those are dropped there, unless ``allow-untested-freethread``
admits them after every other class (their ``freethread-status`` is then ``untested``).

Inside the accepted set the rank is: exact ABI > next-generation stable ABI > ``abi3`` >
``none``; tags of one class keep the target's own order (platform preference), ties between
wheels are broken by filename (:func:`wasmtool.targets.tags.best_wheel`).

``packaging`` (which parses the tags, the compressed ``abi3.abi3t`` form included) does not
list ``abi3t`` or ``cp3XYt`` tags for an interpreter other than the running one, so the tags
of those classes are added here from the target's platforms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.tags import Tag

if TYPE_CHECKING:
    from wasmtool.project.manifest import PythonSettings

__all__ = ["ABI_CLASSES", "POLICIES", "TagPolicy", "abi_class", "admits", "freethread_status", "policy_tags"]

POLICIES = ("legacy", "both", "abi2026")
DEFAULT_POLICY = "both"

#: rank of each class, best first
ABI_CLASSES = ("exact", "next-gen", "abi3", "none")

#: next-generation stable-ABI tags known today (PEP 803's ``abi3t``; PEP 809's ``abi2026`` is a draft)
NEXT_GEN = frozenset({"abi3t"})

#: the first CPython with each next-generation tag
_NEXT_GEN_FROM = {"abi3t": (3, 15)}
#: the first CPython with a free-threaded build (PEP 703)
_FREE_THREADED_FROM = (3, 13)


@dataclass(frozen=True)
class TagPolicy:
    """The project's say on ABI tags: ``abi-tag-policy`` and ``free-threaded``."""

    abi_tag_policy: str = DEFAULT_POLICY
    free_threaded: bool = False
    allow_untested: bool = False   # free-threaded only: GIL-ABI wheels as a last resort

    def is_default(self) -> bool:
        return self.abi_tag_policy == DEFAULT_POLICY and not self.free_threaded


def project_tag_policy(py: PythonSettings) -> TagPolicy | None:
    """The project's policy, or ``None`` for the default (the target's own tag order is kept:
    nothing changes for a project that sets neither key)."""
    policy = TagPolicy(py.abi_tag_policy, py.free_threaded, py.allow_untested_freethread and py.free_threaded)
    return None if policy.is_default() else policy


def abi_class(abi: str) -> str:
    """``exact`` (``cp3XY``, ``cp3XYt``, ``cp3XYd``...), ``next-gen``, ``abi3``, ``none``, or
    ``unknown`` for a tag wasmtool does not know (e.g. ``pypy39_pp73``, ``abi2026``)."""
    if abi == "none":
        return "none"
    if abi == "abi3":
        return "abi3"
    if abi in NEXT_GEN:
        return "next-gen"
    if abi.startswith("cp3") and abi[3:].rstrip("tdm").isdigit():
        return "exact"
    return "unknown"


def _version(python_version: str) -> tuple[int, int]:
    major, minor = (int(x) for x in python_version.split(".")[:2])
    return major, minor


def admits(policy: TagPolicy, tag: Tag, python_version: str) -> bool:
    """Whether ``policy`` accepts a wheel tag for CPython ``python_version`` (the platform is
    the target's business, not the policy's)."""
    cls = abi_class(tag.abi)
    ver = _version(python_version)
    if cls == "unknown":
        return False
    if cls == "none":
        return True
    if policy.abi_tag_policy == "abi2026" and cls != "next-gen":
        return False
    if cls == "next-gen":
        return policy.abi_tag_policy != "legacy" and ver >= _NEXT_GEN_FROM[tag.abi]
    if cls == "abi3":
        return not policy.free_threaded or policy.allow_untested
    # exact: the free-threaded ABI only on a free-threaded lock, and the other way round
    if tag.abi.endswith("t"):
        return policy.free_threaded
    return not policy.free_threaded or policy.allow_untested


def freethread_status(abis: Sequence[str], policy: TagPolicy) -> str:
    """``freethread-status`` of a wheel with ABI tags ``abis`` on a free-threaded lock:
    ``full`` (``cp3XYt``, ``abi3t``), ``pure`` (``none``), ``untested`` (a GIL ABI admitted
    by ``allow-untested-freethread``) or ``incompatible`` (a GIL ABI otherwise)."""
    classes = {abi_class(a) for a in abis}
    if any(a.endswith("t") and abi_class(a) in ("exact", "next-gen") for a in abis):
        return "full"
    if classes == {"none"}:
        return "pure"
    return "untested" if policy.allow_untested else "incompatible"


def _added_tags(tags: Sequence[Tag], policy: TagPolicy, python_version: str) -> list[Tag]:
    """``cp3XYt`` and ``abi3t`` tags for the platforms of ``tags`` (see the module doc)."""
    major, minor = _version(python_version)
    platforms = list(dict.fromkeys(t.platform for t in tags if t.abi == f"cp{major}{minor}"))
    out: list[Tag] = []
    if policy.free_threaded and (major, minor) >= _FREE_THREADED_FROM:
        out += [Tag(f"cp{major}{minor}", f"cp{major}{minor}t", p) for p in platforms]
    for abi, (fmajor, fminor) in sorted(_NEXT_GEN_FROM.items()):
        # like abi3: a wheel built for an older minor version loads on a newer one
        out += [Tag(f"cp{major}{m}", abi, p) for m in range(minor, fminor - 1, -1) for p in platforms
                if major == fmajor]
    return out


def policy_tags(tags: Sequence[Tag], policy: TagPolicy, python_version: str) -> list[Tag]:
    """The target's tags (best first) as ``policy`` accepts and ranks them."""
    seen = set(tags)
    every = list(tags) + [t for t in _added_tags(tags, policy, python_version) if t not in seen]
    kept = [t for t in every if admits(policy, t, python_version)]
    rank = {c: i for i, c in enumerate(ABI_CLASSES)}

    def key(t: Tag) -> int:
        cls = abi_class(t.abi)
        gil = policy.free_threaded and cls in ("exact", "abi3") and not t.abi.endswith("t")
        return rank[cls] + (len(ABI_CLASSES) if gil else 0)   # GIL ABIs on a free-threaded lock: last

    # sorted() is stable: tags of one class keep the target's order
    return sorted(kept, key=key)
