"""Helpers shared by the benchmarks: timing, the hermetic index, result files + plots."""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    return {"median_s": statistics.median(samples), "min_s": min(samples), "max_s": max(samples),
            "runs": len(samples)}


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine()}


def run(argv: list[str], **kw: Any) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {proc.stderr[-2000:]}")


def per_call(fn: Callable[[], object], n: int) -> float:
    """Seconds per call of ``fn``, over ``n`` calls in a row."""
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


@dataclass(frozen=True)
class Panel:
    """One bar chart of a results plot."""

    bars: dict[str, float]
    ylabel: str
    title: str
    log: bool = False


@dataclass(frozen=True)
class Curve:
    """One line chart of a results plot: each of ``series`` (label -> y values) over ``x``."""

    x: tuple[float, ...]
    series: dict[str, tuple[float, ...]]
    xlabel: str
    ylabel: str
    title: str


def _draw_curve(ax: Any, curve: Curve, ours: tuple[str, ...]) -> None:
    peers = ["#dd8452", "#55a868", "#c44e52", "#8172b3"]
    for label, ys in curve.series.items():
        color = "#4c72b0" if ours and label.startswith(ours) else peers.pop(0)
        ax.plot(curve.x, ys, marker="o", label=label, color=color)
        for x, y in zip(curve.x, ys, strict=True):
            ax.annotate(f"{y:.3g}", (x, y), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7)
    ax.set_xticks(curve.x)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(curve.xlabel)
    ax.set_ylabel(curve.ylabel)
    ax.set_title(curve.title, fontsize=10)
    ax.legend(fontsize=7)


def write_results(name: str, data: dict[str, Any], bars: dict[str, float], ylabel: str, *,
                  panels: Sequence[Panel | Curve] = (), title: str = "", ours: tuple[str, ...] = ()) -> Path:
    """Write ``bench/results/<name>.json`` and its plot ``<name>.png``: one chart of ``bars``,
    or, given ``panels``, one chart per panel side by side, bars (and curves) whose label
    starts with one of ``ours`` in blue and the peers in orange."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return path
    if not panels:
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.bar(list(bars), list(bars.values()), color=["#4c72b0", "#dd8452", "#55a868", "#c44e52"][: len(bars)])
        ax.set_ylabel(ylabel)
        ax.set_title(name)
    else:
        fig, axes = plt.subplots(1, len(panels), figsize=(13, 3.8))
        for ax, panel in zip(axes, panels, strict=True):
            if isinstance(panel, Curve):
                _draw_curve(ax, panel, ours)
                continue
            colors = ["#4c72b0" if k.startswith(ours) else "#dd8452" for k in panel.bars]
            rects = ax.bar(list(panel.bars), list(panel.bars.values()), color=colors)
            ax.bar_label(rects, fmt="%.3g", fontsize=7)
            if panel.log:
                ax.set_yscale("log")
            ax.set_ylabel(panel.ylabel)
            ax.set_title(panel.title, fontsize=10)
            ax.tick_params(axis="x", labelrotation=30, labelsize=7)
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("right")
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(RESULTS / f"{name}.png", dpi=100)
    plt.close(fig)
    return path
