"""The pure rules behind `lock`'s summary, `install`'s lock step and the joint-version pass:
packages per target, versions that differ, why a lock does not answer the project, and a
project with a version pinned on top."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.lock.test_model import pkg
from wasmtool.lock.model import MochiLock, TargetInputs
from wasmtool.lock.rules import input_drift
from wasmtool.lock.summary import VersionDifference, joint_version, summary_lines, version_differences
from wasmtool.project.manifest import parse_manifest
from wasmtool.project.model import build_project


def lock_of(*pins: tuple[str, str, str]) -> MochiLock:
    targets = sorted({t for t, _, _ in pins})
    return MochiLock(packages=tuple(pkg(n, v, target=t) for t, n, v in pins),
                     inputs=tuple(TargetInputs(t, "3.12", ("x",)) for t in targets))


def test_packages_are_listed_per_target_and_differences_named() -> None:
    lock = lock_of(("native", "jsonschema", "4.26.0"), ("native", "attrs", "25.1.0"),
                   ("wasi-p2", "jsonschema", "4.17.3"), ("wasi-p2", "attrs", "25.1.0"))
    diffs = version_differences(lock, lock.targets)
    assert diffs == {"jsonschema": {"native": "4.26.0", "wasi-p2": "4.17.3"}}
    d = VersionDifference("jsonschema", diffs["jsonschema"], "rpds-py has no wheel for wasi-p2")
    lines = summary_lines(lock, lock.targets, changed=True, differences=[d])
    assert lines == [
        "mochi.lock written for native, wasi-p2",
        "  native: 2 package(s): attrs 25.1.0, jsonschema 4.26.0",
        "  wasi-p2: 2 package(s): attrs 25.1.0, jsonschema 4.17.3",
        "  jsonschema differs: 4.17.3 on wasi-p2, 4.26.0 on native (rpds-py has no wheel for wasi-p2)",
    ]
    assert summary_lines(lock, ["native"], changed=False)[0] == "mochi.lock unchanged for native"
    # a package on one target only is no difference
    assert version_differences(lock_of(("native", "a", "1"), ("wasi-p2", "b", "2")), ["native", "wasi-p2"]) == {}


def test_difference_line_groups_targets_by_version_in_version_order() -> None:
    d = VersionDifference("x", {"pyodide-314": "10.0", "native": "9.1", "wasi-p2": "10.0"})
    assert d.line() == "x differs: 9.1 on native, 10.0 on pyodide-314, wasi-p2"


@given(st.dictionaries(st.sampled_from(["native", "pyodide-314", "wasi-p2"]),
                       st.tuples(st.integers(0, 30), st.integers(0, 30)).map(lambda t: f"{t[0]}.{t[1]}"),
                       min_size=1))
def test_joint_version_is_the_oldest_choice(versions: dict[str, str]) -> None:
    from packaging.version import Version

    j = joint_version(versions)
    assert j in versions.values()
    assert all(Version(j) <= Version(v) for v in versions.values())


def test_input_drift_names_each_difference() -> None:
    lock = MochiLock(packages=(pkg("tomli", "2.5.0"),),
                     inputs=(TargetInputs("native", "3.12", ("tomli", "attrs"), "http://a/simple"),))
    assert input_drift(lock, TargetInputs("native", "3.12", ("attrs", "tomli"), "http://a/simple")) == []
    assert input_drift(None, TargetInputs("native", "3.12", ("tomli",))) == [
        "[native] the lock has no entries for this target"]
    assert input_drift(lock, TargetInputs("wasi-p2", "3.14", ("tomli",))) == [
        "[wasi-p2] the lock has no entries for this target"]
    assert input_drift(lock, TargetInputs("native", "3.13", ("tomli", "httpx"), "http://b/simple")) == [
        "[native] requirement added: httpx",
        "[native] requirement removed: attrs",
        "[native] Python version: 3.12 locked, 3.13 configured",
        "[native] index: http://a/simple locked, http://b/simple configured",
    ]


def test_with_pins_adds_or_narrows_and_keeps_the_rest(tmp_path: Path) -> None:
    manifest = parse_manifest(
        'name = "p"\n[python-dependencies]\nJsonSchema = { version = ">=4", extras = ["format"] }\ntomli = "*"\n',
        file="mochi.toml")
    project = build_project(manifest, [], tmp_path)
    pinned = project.with_pins({"jsonschema": "4.17.3", "rpds-py": "0.1"})
    reqs = {r.name.lower(): r for r in pinned.requirements()}
    assert reqs["jsonschema"].specifier in ("==4.17.3,>=4", ">=4,==4.17.3")
    assert reqs["jsonschema"].extras == ("format",)
    assert reqs["rpds-py"].specifier == "==0.1"
    assert reqs["tomli"] == next(r for r in project.requirements() if r.name == "tomli")
    # the project itself is unchanged
    assert {r.name.lower(): r.specifier for r in project.requirements()} == {"jsonschema": ">=4", "tomli": ""}
