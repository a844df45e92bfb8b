"""Cold-start budgets: ``[python.budget.<target>]`` in mochi.toml and the measurements that
``install --smoke`` records in mochi.lock (``[budget.<target>]``); docs/budget.md.

A table per target, every key optional::

    [python.budget.pyodide-314]
    cold-start-ms = 1500       # the loader's first line to the first call's result, in Node
    import-ms = 300            # importing every bundled package (summed)
    bundle-bytes = 9_000_000   # gzip size of what a page load fetches (Pyodide's files included)

A table without keys asks for the measurement only (recorded, never exceeded).

Everything here is pure: parsing the settings (:func:`parse_budgets`), the lock's record of a
measurement (:class:`Measurement`, :func:`measurement_to_dict`, :func:`parse_measurements`) and
the comparison of a measurement with a budget and with the previous measurement
(:func:`overruns`), which names what grew. Measuring is :mod:`wasmtool.bundle.budget`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BUDGET_KEYS",
    "OTHER_PART",
    "RUNTIME_PART",
    "SNAPSHOT_PART",
    "Budget",
    "BudgetTable",
    "Measurement",
    "MeasurementTable",
    "Overrun",
    "PackageMeasure",
    "budget_for",
    "measurement_for",
    "measurement_to_dict",
    "overruns",
    "parse_budgets",
    "parse_measurements",
    "summary_line",
]

#: The keys of one target's budget, in the order they are documented and checked.
BUDGET_KEYS = ("cold-start-ms", "import-ms", "bundle-bytes")

#: The parts of ``bundle-bytes`` that are not a package's wheel, as errors name them.
RUNTIME_PART = "Pyodide runtime"
SNAPSHOT_PART = "memory snapshot"
OTHER_PART = "bundle files"

# a profile name as the target files spell them (letters, digits, '-', '_', '.')
_TARGET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
#: How many parts an error lists when there is no previous measurement to compare with.
_LARGEST = 3


@dataclass(frozen=True)
class Budget:
    """One target's budget; ``None``: that quantity is measured but not limited."""

    target: str
    cold_start_ms: int | None = None
    import_ms: int | None = None
    bundle_bytes: int | None = None

    def limit(self, key: str) -> int | None:
        return {"cold-start-ms": self.cold_start_ms, "import-ms": self.import_ms,
                "bundle-bytes": self.bundle_bytes}[key]


BudgetTable = tuple[Budget, ...]


def _where(path: str, key: Any) -> str:
    text = str(key)
    return f"{path}.{text}" if re.fullmatch(r"[A-Za-z0-9_.-]+", text) else f'{path}."{text}"'


def parse_budgets(raw: Any, problems: list[str], *, path: str = "python.budget") -> BudgetTable:
    """Validate ``[python.budget]``, adding one line per problem to ``problems`` with its key
    path; the targets without problems are returned, sorted by name."""
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: expected a table of targets ([python.budget.<target>])")
        return ()
    out: list[Budget] = []
    for target, table in raw.items():
        where = _where(path, target)
        if not isinstance(target, str) or not _TARGET.fullmatch(target):
            problems.append(f"{where}: not a target name")
            continue
        if not isinstance(table, Mapping):
            problems.append(f"{where}: expected a table with {', '.join(BUDGET_KEYS)}")
            continue
        start = len(problems)
        values: dict[str, int] = {}
        for key, value in table.items():
            at = _where(where, key)
            if key not in BUDGET_KEYS:
                problems.append(f"{at}: unknown key (expected {', '.join(BUDGET_KEYS)})")
            elif not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                problems.append(f"{at}: expected a positive integer, got {value!r}")
            else:
                values[key.replace("-", "_")] = value
        if len(problems) == start:
            out.append(Budget(target, **values))
    return tuple(sorted(out, key=lambda b: b.target))


def budget_for(table: BudgetTable, target: str) -> Budget | None:
    return next((b for b in table if b.target == target), None)


# -- the measurement, as mochi.lock records it -------------------------------------------------


@dataclass(frozen=True)
class PackageMeasure:
    """One bundled package: the time its top-level modules take to import (its dependencies
    are imported first, so theirs is not included) and the gzip size of its wheel (0 for a
    package the bundle references by URL)."""

    name: str
    import_ms: int
    bundle_bytes: int


@dataclass(frozen=True)
class Measurement:
    """One cold start of a target's bundle under Node. ``bundle_bytes`` is the sum of the
    packages' bytes, ``runtime_bytes`` (Pyodide's own files), ``snapshot_bytes`` and
    ``other_bytes`` (the page, loader, bundle.json, the lock, the app's files), all gzip.
    ``load_ms`` + the imports + ``first_call_ms`` make up ``cold_start_ms``."""

    target: str
    cold_start_ms: int
    import_ms: int
    bundle_bytes: int
    load_ms: int = 0
    first_call_ms: int = 0
    runtime_bytes: int = 0
    snapshot_bytes: int = 0
    other_bytes: int = 0
    snapshot: bool = False
    measured_with: str = ""
    packages: tuple[PackageMeasure, ...] = ()

    def value(self, key: str) -> int:
        return {"cold-start-ms": self.cold_start_ms, "import-ms": self.import_ms,
                "bundle-bytes": self.bundle_bytes}[key]

    def parts(self) -> dict[str, int]:
        """``bundle-bytes`` by part: each package, then the non-package parts that are not 0."""
        out = {p.name: p.bundle_bytes for p in self.packages}
        for name, size in ((RUNTIME_PART, self.runtime_bytes), (SNAPSHOT_PART, self.snapshot_bytes),
                           (OTHER_PART, self.other_bytes)):
            if size:
                out[name] = size
        return out


MeasurementTable = tuple[Measurement, ...]

_INT_KEYS = ("cold-start-ms", "import-ms", "bundle-bytes", "load-ms", "first-call-ms", "runtime-bytes",
             "snapshot-bytes", "other-bytes")


def measurement_for(table: MeasurementTable, target: str) -> Measurement | None:
    return next((m for m in table if m.target == target), None)


def measurement_to_dict(m: Measurement) -> dict[str, Any]:
    """``[budget.<target>]`` of mochi.lock (the target is the table's key)."""
    out: dict[str, Any] = {key: getattr(m, key.replace("-", "_")) for key in _INT_KEYS}
    out["snapshot"] = m.snapshot
    out["measured-with"] = m.measured_with
    out["package"] = [{"name": p.name, "import-ms": p.import_ms, "bundle-bytes": p.bundle_bytes}
                      for p in sorted(m.packages, key=lambda p: p.name)]
    if not out["package"]:
        del out["package"]
    return out


def _nonneg(table: Mapping[str, Any], key: str, at: str, problems: list[str]) -> int:
    value = table.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        problems.append(f"{at}.{key}: expected a non-negative integer")
        return 0
    return value


def parse_measurements(raw: Any, problems: list[str], *, path: str = "budget") -> MeasurementTable:
    """Read mochi.lock's ``[budget]`` (one table per target), reporting problems by key path."""
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: expected a table of targets")
        return ()
    out: list[Measurement] = []
    for target, table in raw.items():
        where = _where(path, target)
        if not isinstance(table, Mapping):
            problems.append(f"{where}: expected a table")
            continue
        start = len(problems)
        for key in table:
            if key not in (*_INT_KEYS, "snapshot", "measured-with", "package"):
                problems.append(f"{_where(where, key)}: unknown key")
        ints = {key.replace("-", "_"): _nonneg(table, key, where, problems) for key in _INT_KEYS}
        snapshot, measured_with = table.get("snapshot", False), table.get("measured-with", "")
        if not isinstance(snapshot, bool):
            problems.append(f"{where}.snapshot: expected a boolean")
        if not isinstance(measured_with, str):
            problems.append(f"{where}.measured-with: expected a string")
        packages: list[PackageMeasure] = []
        raw_packages = table.get("package", [])
        if not isinstance(raw_packages, list):
            problems.append(f"{where}.package: expected an array of tables")
            raw_packages = []
        for i, p in enumerate(raw_packages):
            at = f"{where}.package[{i}]"
            if not isinstance(p, Mapping) or not isinstance(p.get("name"), str) or not p["name"]:
                problems.append(f"{at}: expected a table with a name")
                continue
            for key in p:
                if key not in ("name", "import-ms", "bundle-bytes"):
                    problems.append(f"{at}.{key}: unknown key")
            packages.append(PackageMeasure(p["name"], _nonneg(p, "import-ms", at, problems),
                                           _nonneg(p, "bundle-bytes", at, problems)))
        if len(problems) == start:
            out.append(Measurement(str(target), snapshot=bool(snapshot), measured_with=str(measured_with),
                                   packages=tuple(packages), **ints))
    return tuple(sorted(out, key=lambda m: m.target))


# -- comparison -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overrun:
    """One exceeded budget: ``key`` (``cold-start-ms`` ...), what was measured, the budget, and
    the line that says what grew; ``package``: the package it names first, if any."""

    key: str
    measured: int
    budget: int
    line: str
    package: str | None = None


def _unit(key: str) -> str:
    return "bytes" if key == "bundle-bytes" else "ms"


def _grown(now: Mapping[str, int], before: Mapping[str, int], unit: str) -> list[tuple[str, str]]:
    """(name, text) for each part that grew or is new since ``before``, largest growth first."""
    growth = [(now[n] - before.get(n, 0), n) for n in now if now[n] > before.get(n, 0)]
    out = []
    for delta, name in sorted(growth, key=lambda g: (-g[0], g[1])):
        if name in before:
            out.append((name, f"{name} grew by {delta} {unit} ({before[name]} -> {now[name]})"))
        else:
            out.append((name, f"{name} is new ({now[name]} {unit})"))
    return out


def _largest(now: Mapping[str, int], unit: str) -> list[tuple[str, str]]:
    ranked = sorted(now.items(), key=lambda kv: (-kv[1], kv[0]))[:_LARGEST]
    return [(name, f"{name} {size} {unit}") for name, size in ranked]


def _is_package(name: str) -> bool:
    return name not in (RUNTIME_PART, SNAPSHOT_PART, OTHER_PART)


def _causes(now: Mapping[str, int], before: Mapping[str, int] | None, unit: str) -> tuple[str, str | None]:
    """What to blame: the parts that grew since ``before`` (else the largest parts), and the
    first package among them."""
    if before is not None:
        grown = _grown(now, before, unit)
        if grown:
            named = next((n for n, _ in grown if _is_package(n)), None)
            return "; ".join(t for _, t in grown), named
    largest = _largest(now, unit)
    named = next((n for n, _ in largest if _is_package(n)), None)
    lead = "no part grew since the previous measurement; " if before is not None else ""
    return lead + "largest: " + ", ".join(t for _, t in largest), named


def overruns(budget: Budget, measured: Measurement, previous: Measurement | None = None) -> list[Overrun]:
    """The budgets ``measured`` exceeds, each with the line naming what grew (against
    ``previous``, the measurement mochi.lock recorded, when there is one)."""
    out: list[Overrun] = []
    for key in BUDGET_KEYS:
        limit = budget.limit(key)
        value = measured.value(key)
        if limit is None or value <= limit:
            continue
        unit = _unit(key)
        head = f"{key}: measured {value} {unit}, budget {limit} {unit} (over by {value - limit} {unit})"
        if previous is not None:
            head += f"; previous measurement {previous.value(key)} {unit}"
        if key == "bundle-bytes":
            cause, package = _causes(measured.parts(), None if previous is None else previous.parts(), unit)
        elif key == "import-ms":
            cause, package = _causes({p.name: p.import_ms for p in measured.packages},
                                     None if previous is None else {p.name: p.import_ms for p in previous.packages},
                                     unit)
        else:
            phases = (f"Pyodide start and bundle load {measured.load_ms} ms, imports {measured.import_ms} ms, "
                      f"first call {measured.first_call_ms} ms" + (" (memory snapshot)" if measured.snapshot else ""))
            sub, package = _causes({p.name: p.import_ms for p in measured.packages},
                                   None if previous is None else {p.name: p.import_ms for p in previous.packages},
                                   "ms")
            cause = f"{phases}; imports: {sub}"
        out.append(Overrun(key, value, limit, f"{head}: {cause}", package))
    return out


def summary_line(m: Measurement, budget: Budget | None) -> str:
    """What install prints after measuring: the three figures with their budgets."""
    parts = []
    for key in BUDGET_KEYS:
        limit = None if budget is None else budget.limit(key)
        text = f"{key} {m.value(key)}"
        parts.append(text + (f" (budget {limit})" if limit is not None else ""))
    mode = "memory snapshot" if m.snapshot else "no snapshot"
    return f"cold start of {m.target}: {', '.join(parts)}; {mode}; measured with {m.measured_with}"

