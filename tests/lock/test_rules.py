"""The pure lock-file rules (wasmtool.lock.rules): what a re-lock keeps, which bindings belong
to a lock, what changed, and which files a lock is written as."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasmtool.lock.model import LockedPackage, MochiLock, TargetInputs
from wasmtool.lock.rules import (
    BINDING_FIELDS,
    binding_drift,
    bound_entries,
    carry_bindings,
    lock_files,
    primary_target,
    up_to_date,
    with_bindings,
)

BOUND = {"stub_provenance": "py.typed", "stub_sha256": "s1", "wrapper_sha256": "w1", "shim_sha256": "m1",
         "skipped_count": 2}


def pkg(name: str, target: str = "native", sha: str = "a" * 64, **fields: object) -> LockedPackage:
    return LockedPackage(name=name, version="1.0", target=target, wheel_sha256=sha,
                         wheel_filename=f"{name}-1.0-py3-none-any.whl",
                         wheel_url=f"https://files.example/{name}-1.0-py3-none-any.whl",
                         **fields)  # type: ignore[arg-type]


def lock(*packages: LockedPackage, inputs: tuple[TargetInputs, ...] = ()) -> MochiLock:
    return MochiLock(packages=tuple(packages), inputs=inputs)


INPUTS = TargetInputs("native", "3.12", ("a>=1", "b"), "https://pypi.org/simple")


@pytest.mark.parametrize(("have", "now", "expected"), [
    (INPUTS, INPUTS, True),
    (INPUTS, TargetInputs("native", "3.12", ("b", "a>=1"), INPUTS.index_url), True),     # order does not count
    (INPUTS, TargetInputs("native", "3.13", INPUTS.requirements, INPUTS.index_url), False),
    (INPUTS, TargetInputs("native", "3.12", ("a>=1",), INPUTS.index_url), False),
    (INPUTS, TargetInputs("native", "3.12", INPUTS.requirements, "https://other/simple"), False),
    (None, INPUTS, False),
])
def test_up_to_date(have: TargetInputs | None, now: TargetInputs, expected: bool) -> None:
    existing = lock(pkg("a"), pkg("b"), inputs=(have,)) if have is not None else None
    assert up_to_date(existing, now) is expected


def test_binding_fields_are_kept_while_the_wheel_is_the_same() -> None:
    old = lock(pkg("a", alias="aa", **BOUND), pkg("b", **BOUND))
    fresh = [pkg("a"), pkg("b", sha="b" * 64), pkg("c")]
    kept = {p.name: p for p in carry_bindings(old, fresh)}
    assert {f: getattr(kept["a"], f) for f in BINDING_FIELDS} == {"alias": "aa", **BOUND}
    assert kept["b"].stub_sha256 == "" and kept["c"].stub_sha256 == ""      # new wheel, new package
    assert carry_bindings(None, fresh) == fresh


def test_bindings_belong_to_their_target() -> None:
    base = lock(pkg("a"), pkg("a", target="wasi-p2"))
    bound = with_bindings(base, "wasi-p2", {"a": BOUND})
    assert bound_entries(bound, "wasi-p2") == {"a": bound.for_target("wasi-p2")[0]}
    assert bound_entries(bound, "native") == {}


def test_binding_drift_names_each_changed_field() -> None:
    recorded = bound_entries(with_bindings(lock(pkg("a")), "native", {"a": BOUND}), "native")
    assert binding_drift("native", recorded, {"a": BOUND}) == []
    lines = binding_drift("native", recorded, {"a": {**BOUND, "shim_sha256": "m2", "skipped_count": 3}})
    assert lines == ["[native] changed a shim-sha256: m1 -> m2 (re-run `wasmtool bind`)",
                     "[native] changed a skipped-count: 2 -> 3 (re-run `wasmtool bind`)"]


def test_lock_files_and_the_primary_target() -> None:
    both = lock(pkg("a"), pkg("a", target="wasi-p2"),
                inputs=(INPUTS, TargetInputs("wasi-p2", "3.14", INPUTS.requirements, INPUTS.index_url)))
    files = lock_files(both, lock_path=Path("/p/mochi.lock"), configured_target="wasi-p2")
    assert sorted(p.name for p in files) == ["mochi.lock", "pylock.native.toml", "pylock.toml"]
    assert primary_target("pyodide-314", ("native", "wasi-p2")) == "native"
    assert primary_target("wasi-p2", ("native", "wasi-p2")) == "wasi-p2"
