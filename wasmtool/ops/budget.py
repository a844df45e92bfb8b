"""Cold-start budgets at install and at ``lock --check --budget`` (docs/budget.md).

``install --smoke`` of a target with a ``[python.budget.<target>]`` table measures the bundle
it has just written (:func:`wasmtool.bundle.budget.measure_bundle`), compares the measurement
with the budget and with the previous one mochi.lock records (:func:`wasmtool.project.budget.overruns`),
and either fails naming what grew (:class:`~wasmtool.project.errors.BudgetExceededError`,
mochi.lock left as it was) or records the measurement in mochi.lock (``[budget.<target>]``).
Without a budget for the target nothing is measured (a measurement costs a cold start of
Node, and its timings differ from run to run, so mochi.lock changes only when asked to).

``lock --check --budget`` measures the installed bundles again (:func:`check_budgets`) and
fails the same way; it writes nothing. A plain ``lock --check`` never runs Node.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import canonicalize_name

from wasmtool.bundle.budget import measure_bundle
from wasmtool.context import Context
from wasmtool.errors import WasmtoolError
from wasmtool.lock.io import read_lock, render_lock, write_text_files
from wasmtool.lock.model import MochiLock
from wasmtool.project.budget import Budget, Measurement, budget_for, measurement_for, overruns, summary_line
from wasmtool.project.errors import BudgetBundleError, BudgetExceededError, BudgetTargetError
from wasmtool.targets.backend import BindResult, InstallReport, TargetBackend, backend_named
from wasmtool.targets.pyodide import PyodideBackend, PyodideInstallOutcome

__all__ = ["Budgeted", "check_budget_targets", "check_budgets", "measure_install", "previous_measurement"]


@dataclass(frozen=True)
class Budgeted:
    """An install report followed by the lines of its cold-start measurement."""

    report: InstallReport
    measured: tuple[str, ...]

    @property
    def target(self) -> str:
        return self.report.target

    @property
    def bindings(self) -> BindResult | None:
        return self.report.bindings

    def lines(self) -> list[str]:
        return [*self.report.lines(), *self.measured]


def _measurable(backend: TargetBackend) -> bool:
    return isinstance(backend, PyodideBackend)


def check_budget_targets(ctx: Context) -> None:
    """Every ``[python.budget.<target>]`` names a target whose cold start can be measured (WT662)."""
    for budget in ctx.project.manifest.budgets:
        field = f"python.budget.{budget.target}"
        try:
            backend = backend_named(budget.target)
        except WasmtoolError as exc:
            raise BudgetTargetError(f"[{field}] names no known target: {exc.message}",
                                    file=ctx.project.manifest.file, field=field) from exc
        if not _measurable(backend):
            raise BudgetTargetError(
                f"[{field}]: {budget.target} is not a Pyodide target; a cold-start budget measures a Pyodide "
                "bundle under Node", file=ctx.project.manifest.file, field=field,
                hint="name a Pyodide target, or remove the table")


def previous_measurement(ctx: Context, target: str) -> Measurement | None:
    """What mochi.lock records for ``target`` now (read before an install may lock again),
    when the manifest has a budget for it; ``None`` otherwise or without a readable lock."""
    if budget_for(ctx.project.manifest.budgets, target) is None:
        return None
    try:
        return measurement_for(read_lock(ctx.lock_path).budget, target)
    except WasmtoolError:  # no lock yet, or one install is about to replace
        return None


def _measure(ctx: Context, bundle: Path, target: str) -> Measurement:
    from wasmtool.run.pyodide import find_node, pyodide_dir

    return measure_bundle(bundle, target, pyodide_dir=pyodide_dir(), node=find_node())


def _judge(ctx: Context, budget: Budget, measured: Measurement, previous: Measurement | None) -> None:
    over = overruns(budget, measured, previous)
    if over:
        first = over[0]
        raise BudgetExceededError(
            [o.line for o in over], file=ctx.project.manifest.file,
            field=f"python.budget.{budget.target}.{first.key}",
            package=next((o.package for o in over if o.package), None),
            hint="shrink what grew, or raise the budget in mochi.toml (mochi.lock keeps the previous measurement)")


def measure_install(ctx: Context, backend: TargetBackend, report: InstallReport,
                    previous: Measurement | None) -> InstallReport:
    """``install --smoke``: measure the bundle ``report`` names when the manifest has a budget
    for its target; over budget raises, else the measurement is recorded in mochi.lock."""
    budget = budget_for(ctx.project.manifest.budgets, backend.name)
    if budget is None:
        return report
    check_budget_targets(ctx)
    if not isinstance(report, PyodideInstallOutcome):  # a Pyodide backend's install always is one
        return report
    measured = _measure(ctx, report.bundle, backend.name)
    _judge(ctx, budget, measured, previous)
    lock = read_lock(ctx.lock_path)
    kept = tuple(m for m in lock.budget if m.target != backend.name)
    new = replace(lock, budget=tuple(sorted((*kept, measured), key=lambda m: m.target)))
    write_text_files({ctx.lock_path: render_lock(new)}, root=ctx.root)
    recorded = f"recorded in {ctx.lock_path.name} [budget.{backend.name}]"
    return Budgeted(report, (summary_line(measured, budget), recorded))


def _check_bundle_is_the_lock(ctx: Context, lock: MochiLock, target: str, bundle: Path) -> None:
    manifest_path = bundle / "bundle.json"
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BudgetBundleError(f"no installed bundle for {target} to measure", file=str(bundle),
                                hint=f"run `wasmtool install --target={target}` first") from exc
    except (OSError, ValueError) as exc:
        raise BudgetBundleError(f"cannot read the installed bundle of {target}: {exc}",
                                file=str(manifest_path)) from exc
    held = {}
    for entry in [*data.get("packages", []), *data.get("referenced", [])]:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            held[str(canonicalize_name(entry["name"]))] = entry.get("sha256")
    for p in lock.for_target(target):
        name = str(canonicalize_name(p.name))
        if p.wheel_sha256 and held.get(name) != p.wheel_sha256:
            found = "is not in it" if name not in held else f"has sha256 {held[name]}"
            raise BudgetBundleError(
                f"the installed bundle of {target} is not what mochi.lock pins: {p.name} {p.version} "
                f"(sha256 {p.wheel_sha256}) {found}", file=str(manifest_path), package=p.name,
                hint=f"run `wasmtool install --target={target}` again, then check")


def check_budgets(ctx: Context, lock: MochiLock, targets: Sequence[str] = ()) -> list[str]:
    """``lock --check --budget``: measure the installed bundle of every checked target that has
    a budget (``targets``: those; default every target of ``lock``); over budget raises
    (against the measurement ``lock`` records); the summary lines otherwise. Writes nothing."""
    check_budget_targets(ctx)
    lines: list[str] = []
    for budget in ctx.project.manifest.budgets:
        if (targets and budget.target not in targets) or budget.target not in lock.targets:
            continue
        bundle = ctx.root / ".mochi" / budget.target
        _check_bundle_is_the_lock(ctx, lock, budget.target, bundle)
        measured = _measure(ctx, bundle, budget.target)
        _judge(ctx, budget, measured, measurement_for(lock.budget, budget.target))
        lines.append(summary_line(measured, budget))
    if not lines:
        lines.append("no [python.budget.<target>] for the checked targets: nothing measured")
    return lines
