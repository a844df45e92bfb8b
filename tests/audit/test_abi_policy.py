"""abi-tag-policy (docs/audit.md): each policy accepts exactly its classes, the rank is
deterministic, unknown tags are reported as such; synthetic tags incl. ``abi3.abi3t``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.tags import Tag
from packaging.utils import parse_wheel_filename

from wasmtool.lock.model import MochiLock, TargetInputs
from wasmtool.lock.rules import input_drift
from wasmtool.project.manifest import parse_manifest
from wasmtool.targets.abi_policy import TagPolicy, abi_class, admits, freethread_status, policy_tags, project_tag_policy
from wasmtool.targets.profile import load_profile
from wasmtool.targets.tags import best_wheel

PLAT = "manylinux_2_28_x86_64"
#: one synthetic wheel of each ABI class for CPython 3.15 (the first with abi3t)
WHEELS = {
    "exact": f"pkg-1.0-cp315-cp315-{PLAT}.whl",
    "exact-ft": f"pkg-1.0-cp315-cp315t-{PLAT}.whl",
    "next-gen": f"pkg-1.0-cp315-abi3.abi3t-{PLAT}.whl",
    "abi3": f"pkg-1.0-cp39-abi3-{PLAT}.whl",
    "none": "pkg-1.0-py3-none-any.whl",
    "unknown": f"pkg-1.0-cp315-abi2026-{PLAT}.whl",
}


def _admitted(policy: TagPolicy) -> set[str]:
    return {kind for kind, name in WHEELS.items()
            if any(admits(policy, t, "3.15") for t in parse_wheel_filename(name)[3])}


@pytest.mark.parametrize(("abi", "cls"), [("cp315", "exact"), ("cp313t", "exact"), ("abi3t", "next-gen"),
                                          ("abi3", "abi3"), ("none", "none"), ("abi2026", "unknown"),
                                          ("pypy39_pp73", "unknown")])
def test_abi_class(abi: str, cls: str) -> None:
    assert abi_class(abi) == cls


def test_each_policy_accepts_exactly_its_classes() -> None:
    # abi3.abi3t names two tags: legacy accepts the wheel through its abi3 tag only
    assert _admitted(TagPolicy("legacy")) == {"exact", "abi3", "none", "next-gen"}
    assert not any(admits(TagPolicy("legacy"), t, "3.15") for t in parse_wheel_filename(WHEELS["next-gen"])[3]
                   if t.abi == "abi3t")
    assert _admitted(TagPolicy("both")) == {"exact", "next-gen", "abi3", "none"}
    assert _admitted(TagPolicy("abi2026")) == {"next-gen", "none"}
    assert _admitted(TagPolicy("both", free_threaded=True)) == {"exact-ft", "next-gen", "none"}
    assert _admitted(TagPolicy("abi2026", free_threaded=True)) == {"next-gen", "none"}
    assert _admitted(TagPolicy("both", free_threaded=True, allow_untested=True)) == \
        {"exact-ft", "exact", "next-gen", "abi3", "none"}


def test_abi3t_needs_3_15() -> None:
    tag = Tag("cp315", "abi3t", PLAT)
    assert admits(TagPolicy("both"), tag, "3.15")
    assert not admits(TagPolicy("both"), tag, "3.14")


@pytest.mark.parametrize(("policy", "want"), [
    (TagPolicy("both"), ["exact", "next-gen", "abi3", "none"]),
    (TagPolicy("legacy"), ["exact", "abi3", "none"]),
    (TagPolicy("abi2026"), ["next-gen", "none"]),
    (TagPolicy("both", free_threaded=True), ["exact-ft", "next-gen", "none"]),
    (TagPolicy("both", free_threaded=True, allow_untested=True), ["exact-ft", "next-gen", "none", "exact", "abi3"]),
])
def test_rank_inside_the_accepted_set(policy: TagPolicy, want: list[str]) -> None:
    """best_wheel takes the best class; removing it each time gives the whole rank."""
    profile = load_profile("native")
    files = dict(WHEELS)
    order = []
    while True:
        best = best_wheel(sorted(files.values()), profile, "3.15", policy)
        if best is None:
            break
        kind = next(k for k, v in files.items() if v == best)
        if kind == "next-gen" and policy.abi_tag_policy == "legacy":
            del files[kind]   # admitted through its abi3 tag: ranked as abi3
            continue
        order.append(kind)
        del files[kind]
    assert order == want


def test_rank_is_deterministic_and_ties_go_by_filename() -> None:
    profile = load_profile("native")
    twins = [f"zeta-1.0-cp315-cp315-{PLAT}.whl", f"alpha-1.0-cp315-cp315-{PLAT}.whl"]
    assert best_wheel(twins, profile, "3.15", TagPolicy()) == twins[1]
    tags = profile.supported_tags("3.15")
    assert policy_tags(tags, TagPolicy("legacy"), "3.15") == policy_tags(list(tags), TagPolicy("legacy"), "3.15")


def test_unknown_tags_are_refused_by_every_policy() -> None:
    for name in ("legacy", "both", "abi2026"):
        assert "unknown" not in _admitted(TagPolicy(name))


def test_freethread_status() -> None:
    policy = TagPolicy(free_threaded=True)
    assert freethread_status(["cp313t"], policy) == "full"
    assert freethread_status(["abi3", "abi3t"], policy) == "full"
    assert freethread_status(["none"], policy) == "pure"
    assert freethread_status(["cp313"], policy) == "incompatible"
    assert freethread_status(["abi3"], TagPolicy(free_threaded=True, allow_untested=True)) == "untested"


def test_policy_from_the_manifest_and_the_default_changes_nothing() -> None:
    default = parse_manifest("[python]\n", file="mochi.toml").python
    assert project_tag_policy(default) is None
    legacy = parse_manifest('[python]\nabi-tag-policy = "legacy"\n', file="mochi.toml").python
    assert project_tag_policy(legacy) == TagPolicy("legacy")
    with pytest.raises(Exception, match="abi-tag-policy"):
        parse_manifest('[python]\nabi-tag-policy = "abi3t"\n', file="mochi.toml")
    profile = load_profile("native")
    # the default keeps the target's own order (a lock made before the setting existed is unchanged)
    assert best_wheel(WHEELS.values(), profile, "3.13") == best_wheel(WHEELS.values(), profile, "3.13", None)


def test_a_policy_change_changes_the_lock() -> None:
    locked = MochiLock(inputs=(TargetInputs("native", "3.12", ("x",), "http://i", abi_tag_policy="legacy"),))
    assert input_drift(locked, TargetInputs("native", "3.12", ("x",), "http://i")) == \
        ["[native] abi-tag-policy: legacy locked, both configured"]
    text = locked.to_dict()
    assert text["target"][0]["abi-tag-policy"] == "legacy"
    assert MochiLock.from_dict(text) == locked
    default = MochiLock(inputs=(TargetInputs("native", "3.12", ("x",), "http://i"),)).to_dict()
    assert "abi-tag-policy" not in default["target"][0]


def test_policy_change_changes_the_locked_wheel(tmp_path: Path) -> None:
    """End to end on a hermetic index: a package with an abi3 wheel and a pure wheel locks the
    abi3 one by default and the pure one under abi2026; lock --check sees the change."""
    from tests.audit.synthetic import extension_wheel, make_wheel
    from tests.conftest import run_cli, write_project
    from tests.support.index_server import IndexServer

    abi3 = extension_wheel(tmp_path / "w", "abipkg", outside=False, tag="cp39-abi3-manylinux_2_17_x86_64")
    pure = make_wheel(tmp_path / "w" / "wheels", "abipkg", "1.0", "py3-none-any", {"abipkg/__init__.py": b"X = 1\n"})
    root, cache = tmp_path / "p", tmp_path / "c"
    with IndexServer({}) as srv:
        srv.add_file(abi3)
        srv.add_file(pure)

        def lock(policy: str, *args: str) -> dict[str, Any]:
            write_project(root, {"abipkg": "==1.0"}, extra_python=f'abi-tag-policy = "{policy}"')
            proc = run_cli(["-C", str(root), "lock", *args], cache=cache, index_url=srv.url)
            assert proc.returncode == 0, proc.stderr
            return tomllib.loads((root / "mochi.lock").read_text())

        data = lock("both")
        assert data["python-package"][0]["wheel-filename"] == abi3.name
        assert "abi-tag-policy" not in data["target"][0]
        write_project(root, {"abipkg": "==1.0"}, extra_python='abi-tag-policy = "abi2026"')
        check = run_cli(["-C", str(root), "lock", "--check"], cache=cache, index_url=srv.url)
        assert check.returncode != 0 and "abi-tag-policy both -> abi2026" in check.stdout + check.stderr
        data = lock("abi2026")
        assert data["python-package"][0]["wheel-filename"] == pure.name
        assert data["target"][0]["abi-tag-policy"] == "abi2026"
        assert lock("legacy")["python-package"][0]["wheel-filename"] == abi3.name
