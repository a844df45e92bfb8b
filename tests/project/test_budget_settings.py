"""Cold-start budgets, the pure parts: ``[python.budget.<target>]`` in mochi.toml, the
measurement mochi.lock records (``[budget.<target>]``), the comparison that names what grew,
and the reading of the Node measurement's report (docs/budget.md)."""

from __future__ import annotations

import gzip
import json
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from wasmtool.bundle.budget import fetched_files, gzip_size, parse_report
from wasmtool.lock.errors import LockSchemaError
from wasmtool.lock.io import parse_lock_text, render_lock
from wasmtool.lock.model import MochiLock
from wasmtool.project.budget import (
    OTHER_PART,
    RUNTIME_PART,
    SNAPSHOT_PART,
    Budget,
    Measurement,
    PackageMeasure,
    overruns,
)
from wasmtool.project.errors import BudgetMeasureError, BudgetSettingError, ManifestError
from wasmtool.project.manifest import Manifest, parse_manifest

HEAD = """
name = "b"
[python]
requires-python = ">=3.12"
"""


def _manifest(budget: str) -> Manifest:
    return parse_manifest(textwrap.dedent(HEAD) + textwrap.dedent(budget), file="proj/mochi.toml")


def test_budget_tables_are_read_per_target() -> None:
    m = _manifest("""
        [python.budget.pyodide-314]
        cold-start-ms = 1500
        import-ms = 300
        bundle-bytes = 9_000_000

        [python.budget.pyodide-2025]
    """)
    assert m.budgets == (Budget("pyodide-2025"), Budget("pyodide-314", 1500, 300, 9_000_000))
    assert _manifest("").budgets == ()


@pytest.mark.parametrize(("body", "field", "says"), [
    ("[python.budget.pyodide-314]\ncold-start-ms = 0\n", "python.budget.pyodide-314.cold-start-ms",
     "expected a positive integer, got 0"),
    ("[python.budget.pyodide-314]\nimport-ms = -5\n", "python.budget.pyodide-314.import-ms",
     "expected a positive integer, got -5"),
    ("[python.budget.pyodide-314]\nbundle-bytes = \"9MB\"\n", "python.budget.pyodide-314.bundle-bytes",
     "expected a positive integer, got '9MB'"),
    ("[python.budget.pyodide-314]\nimport-ms = true\n", "python.budget.pyodide-314.import-ms",
     "expected a positive integer, got True"),
    ("[python.budget.pyodide-314]\nimport-ms = 1.5\n", "python.budget.pyodide-314.import-ms",
     "expected a positive integer, got 1.5"),
    ("[python.budget.pyodide-314]\ncold-start = 100\n", "python.budget.pyodide-314.cold-start",
     "unknown key (expected cold-start-ms, import-ms, bundle-bytes)"),
    ("[python.budget]\npyodide-314 = 5\n", "python.budget.pyodide-314",
     "expected a table with cold-start-ms, import-ms, bundle-bytes"),
])
def test_a_bad_budget_names_the_file_and_the_field(body: str, field: str, says: str) -> None:
    with pytest.raises(BudgetSettingError) as info:
        _manifest(body)
    err = info.value
    assert err.code == "WT660"
    assert err.file == "proj/mochi.toml"
    assert err.field == field
    assert err.problems == [f"{field}: {says}"]


def test_every_budget_problem_is_reported_at_once() -> None:
    with pytest.raises(BudgetSettingError) as info:
        _manifest("[python.budget.pyodide-314]\ncold-start-ms = 0\nimport-ms = \"x\"\n")
    assert [p.split(":")[0] for p in info.value.problems] == ["python.budget.pyodide-314.cold-start-ms",
                                                             "python.budget.pyodide-314.import-ms"]


def test_budget_that_is_not_a_table_is_a_manifest_error() -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest('name = "b"\n[python]\nbudget = 5\n', file="m.toml")
    assert "python.budget: expected dict, got int" in info.value.problems


# -- the lock's record -------------------------------------------------------------------------

MEASURED = Measurement(
    target="pyodide-314", cold_start_ms=3100, import_ms=90, bundle_bytes=6_500_000, load_ms=3000,
    first_call_ms=10, runtime_bytes=6_300_000, snapshot_bytes=0, other_bytes=45_000, snapshot=False,
    measured_with="pyodide 314.0.7, node v20.20.2",
    packages=(PackageMeasure("tomli", 30, 14_000), PackageMeasure("mochi-bindings", 60, 141_000)))


def test_the_lock_records_a_measurement_and_reads_it_back() -> None:
    lock = MochiLock(budget=(MEASURED,))
    text = render_lock(lock)
    assert "[budget.pyodide-314]" in text and "[[budget.pyodide-314.package]]" in text
    back = parse_lock_text(text, file="mochi.lock")
    assert back.budget == (replace(MEASURED, packages=tuple(sorted(MEASURED.packages, key=lambda p: p.name))),)
    assert render_lock(back) == text
    assert "budget" not in MochiLock().to_dict()


@pytest.mark.parametrize(("table", "problem"), [
    ({"cold-start-ms": -1}, "budget.pyodide-314.cold-start-ms: expected a non-negative integer"),
    ({"snapshot": "no"}, "budget.pyodide-314.snapshot: expected a boolean"),
    ({"colour": 1}, "budget.pyodide-314.colour: unknown key"),
    ({"package": [{"import-ms": 1}]}, "budget.pyodide-314.package[0]: expected a table with a name"),
])
def test_a_bad_recorded_measurement_is_a_lock_schema_error(table: dict[str, object], problem: str) -> None:
    data = {**MochiLock().to_dict(), "budget": {"pyodide-314": table}}
    with pytest.raises(LockSchemaError) as info:
        MochiLock.from_dict(data)
    assert problem in info.value.problems


# -- the comparison ----------------------------------------------------------------------------


def _with(**changes: Any) -> Measurement:
    return replace(MEASURED, **changes)


def test_within_budget_nothing_is_over() -> None:
    assert overruns(Budget("pyodide-314", 3100, 90, 6_500_000), MEASURED) == []
    assert overruns(Budget("pyodide-314"), MEASURED) == []


def test_bytes_over_budget_names_the_package_that_grew_and_by_how_much() -> None:
    grown = _with(bundle_bytes=6_520_000, packages=(PackageMeasure("tomli", 30, 34_000),
                                                     PackageMeasure("mochi-bindings", 60, 141_000)))
    [over] = overruns(Budget("pyodide-314", bundle_bytes=6_500_000), grown, MEASURED)
    assert over.key == "bundle-bytes" and over.package == "tomli"
    assert over.line == ("bundle-bytes: measured 6520000 bytes, budget 6500000 bytes (over by 20000 bytes); "
                         "previous measurement 6500000 bytes: tomli grew by 20000 bytes (14000 -> 34000)")


def test_a_new_package_is_named_as_new() -> None:
    added = _with(bundle_bytes=6_600_000, packages=(*MEASURED.packages, PackageMeasure("attrs", 5, 100_000)))
    [over] = overruns(Budget("pyodide-314", bundle_bytes=1000), added, MEASURED)
    assert over.package == "attrs"
    assert over.line.endswith(": attrs is new (100000 bytes)")


def test_without_a_previous_measurement_the_largest_parts_are_named() -> None:
    [over] = overruns(Budget("pyodide-314", bundle_bytes=1000), MEASURED)
    assert over.line.endswith(f": largest: {RUNTIME_PART} 6300000 bytes, mochi-bindings 141000 bytes, "
                              f"{OTHER_PART} 45000 bytes")
    assert over.package == "mochi-bindings"


def test_ms_budgets_say_measured_against_budget_and_name_the_slowest_import() -> None:
    slower = _with(import_ms=130, cold_start_ms=3200,
                   packages=(PackageMeasure("tomli", 70, 14_000), PackageMeasure("mochi-bindings", 60, 141_000)))
    over = {o.key: o for o in overruns(Budget("pyodide-314", cold_start_ms=1, import_ms=1), slower, MEASURED)}
    assert set(over) == {"cold-start-ms", "import-ms"}
    assert over["import-ms"].line == ("import-ms: measured 130 ms, budget 1 ms (over by 129 ms); previous "
                                      "measurement 90 ms: tomli grew by 40 ms (30 -> 70)")
    assert over["cold-start-ms"].line.startswith("cold-start-ms: measured 3200 ms, budget 1 ms (over by 3199 ms); "
                                                 "previous measurement 3100 ms: Pyodide start and bundle load 3000 ms")
    assert over["cold-start-ms"].package == "tomli"


def test_nothing_grew_says_so() -> None:
    [over] = overruns(Budget("pyodide-314", import_ms=1), MEASURED, MEASURED)
    assert "no part grew since the previous measurement; largest: mochi-bindings 60 ms, tomli 30 ms" in over.line


# -- reading the measurement -------------------------------------------------------------------

REPORT = {"ok": True, "cold_start_ms": 3100.4, "load_ms": 3000.2, "import_ms": 90.1, "first_call_ms": 9.6,
          "packages": [{"name": "tomli", "import_ms": 30.4, "imports": ["tomli"]},
                       {"name": "mochi-bindings", "import_ms": 59.7, "imports": ["_mochi_wrap"]}],
          "snapshot": False, "timings": {}, "pyodide": "314.0.7", "node": "v20.20.2"}


def test_the_node_report_and_the_sizes_make_the_measurement() -> None:
    sizes = {"tomli": 14_000, "mochi-bindings": 141_000, RUNTIME_PART: 6_300_000, OTHER_PART: 45_000}
    m = parse_report("python noise\n" + json.dumps(REPORT) + "\n", target="pyodide-314", sizes=sizes)
    assert m == Measurement(
        target="pyodide-314", cold_start_ms=3100, import_ms=90, bundle_bytes=6_500_000, load_ms=3000,
        first_call_ms=10, runtime_bytes=6_300_000, other_bytes=45_000, snapshot=False,
        measured_with="pyodide 314.0.7, node v20.20.2",
        packages=(PackageMeasure("tomli", 30, 14_000), PackageMeasure("mochi-bindings", 60, 141_000)))


@pytest.mark.parametrize(("stdout", "says"), [
    ("", "printed no result"),
    ('{"ok": false, "error": {"message": "tomli: import tomli failed: boom", "code": "WT854", "package": "tomli"}}',
     "did not load under Node: tomli: import tomli failed: boom (WT854)"),
    ('{"ok": true, "cold_start_ms": 1}', "is incomplete"),
])
def test_a_failed_measurement_is_wt663(stdout: str, says: str) -> None:
    with pytest.raises(BudgetMeasureError) as info:
        parse_report(stdout, target="pyodide-314", sizes={})
    assert info.value.code == "WT663" and says in info.value.message


def test_the_fetched_files_are_classified_by_part(tmp_path: Path) -> None:
    bundle, pyodide = tmp_path / "bundle", tmp_path / "npm"
    (bundle / "wheels").mkdir(parents=True)
    pyodide.mkdir()
    for rel in ("wheels/tomli-2.0-py3-none-any.whl", "loader.mjs", "index.html", "tomli.d.ts", "loader.d.mts",
                "snapshot.bin", "snapshot.json", "snapshot.mjs"):
        (bundle / rel).write_bytes(b"x" * 100)
    (pyodide / "pyodide.asm.wasm").write_bytes(b"\0" * 1000)
    manifest = {"packages": [{"name": "tomli", "file": "wheels/tomli-2.0-py3-none-any.whl"}],
                "runtime": {"index_url": "https://cdn.invalid/pyodide/", "files": [{"file": "pyodide.asm.wasm"}]}}
    (bundle / "bundle.json").write_text(json.dumps(manifest))
    parts = {p.relative_to(tmp_path).as_posix(): part for p, part in fetched_files(bundle, manifest, pyodide).items()}
    assert parts == {
        "bundle/wheels/tomli-2.0-py3-none-any.whl": "tomli", "bundle/loader.mjs": OTHER_PART,
        "bundle/index.html": OTHER_PART, "bundle/bundle.json": OTHER_PART, "bundle/snapshot.mjs": OTHER_PART,
        "bundle/snapshot.bin": SNAPSHOT_PART, "bundle/snapshot.json": SNAPSHOT_PART,
        "npm/pyodide.asm.wasm": RUNTIME_PART,
    }


def test_gzip_size_is_the_size_of_the_gzip_stream() -> None:
    data = b"abc" * 10_000
    assert gzip_size(data) == len(gzip.compress(data, compresslevel=9, mtime=0))
    assert gzip_size(data) == gzip_size(data) < len(data)
