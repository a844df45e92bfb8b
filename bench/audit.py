"""bench: what ``wasmtool audit`` costs on the corpus, cold and warm, beside ``auditwheel show``.

The wheels are those of the corpus audit table (tests/audit/corpus_table.py): every compiled
wheel the corpus locks for ``native`` and ``pyodide-314``, from the recorded artefacts.

- ``wasmtool cold``: a fresh process audits every wheel of a lock that records no verdict
  (each wheel read from the cache and checked; the Pyodide runtime's exports read once);
  timed inside the process, interpreter start-up and the set-up of the cache excluded;
- ``wasmtool warm``: the same lock again, now recording the verdicts: nothing is opened, each
  entry's inputs hash is compared (what a second ``wasmtool audit`` or ``lock`` does);
- ``auditwheel show``: one ``auditwheel show`` process per native wheel, one after the other
  (it has no batch mode), on the same native wheels; ``wasmtool cold (native)`` is ours on
  those wheels only.

    .venv/bin/python bench/audit.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, Panel, machine, summary, write_results

RUN = r"""
import json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from tests.audit.corpus_table import corpus_wheels
from wasmtool.context import Context
from wasmtool.lock.model import LockedPackage, MochiLock
from wasmtool.ops.audit import audit_entries

targets = sys.argv[2].split(",")
wheels, _ = corpus_wheels()
with tempfile.TemporaryDirectory() as tmp:
    root = Path(tmp) / "project"
    root.mkdir()
    (root / "mochi.toml").write_text('name = "bench"\n')
    ctx = Context.open(root, cache_dir=Path(tmp) / "cache")
    entries = []
    for target in targets:
        for path in wheels[target]:
            art = ctx.cache.add_file(path, package=path.name.split("-")[0])
            entries.append(LockedPackage(name=path.name.split("-")[0].lower().replace("_", "-"), version="0",
                                         target=target, source="index", wheel_filename=path.name,
                                         wheel_sha256=art.sha256, wheel_blake3=art.blake3))
    lock = MochiLock(packages=tuple(entries))
    t0 = time.perf_counter()
    done, cold = audit_entries(ctx, lock, targets)
    t1 = time.perf_counter()
    _, warm = audit_entries(ctx, done, targets)
    t2 = time.perf_counter()
    print(json.dumps({"cold_s": t1 - t0, "warm_s": t2 - t1, "wheels": len(entries),
                      "cold_audited": cold.audited, "warm_audited": warm.audited, "warm_reused": warm.reused}))
"""


def _ours(targets: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", RUN, str(ROOT), ",".join(targets)], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    data: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def _auditwheel(paths: list[Path]) -> float:
    exe = str(Path(sys.executable).parent / "auditwheel")
    t0 = time.perf_counter()
    for path in paths:
        subprocess.run([exe, "show", str(path)], capture_output=True, text=True, check=False)
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.audit.corpus_table import corpus_wheels

    wheels, _ = corpus_wheels()
    both = sorted(wheels)
    samples: dict[str, list[float]] = {"wasmtool cold": [], "wasmtool warm": [], "wasmtool cold (native)": [],
                                       "wasmtool warm (native)": [], "auditwheel show (native)": []}
    counts: dict[str, object] = {}
    for _ in range(args.runs):
        all_targets = _ours(both)
        native = _ours(["native"])
        samples["wasmtool cold"].append(all_targets["cold_s"])
        samples["wasmtool warm"].append(all_targets["warm_s"])
        samples["wasmtool cold (native)"].append(native["cold_s"])
        samples["wasmtool warm (native)"].append(native["warm_s"])
        samples["auditwheel show (native)"].append(_auditwheel(wheels["native"]))
        counts = {k: v for k, v in all_targets.items() if not k.endswith("_s")}
    data = {"machine": machine(), "runs": args.runs, "counts": counts,
            "wheels": {t: [p.name for p in ps] for t, ps in wheels.items()},
            "seconds": {k: summary(v) for k, v in samples.items()}}
    for k, v in data["seconds"].items():  # type: ignore[attr-defined]
        print(f"{k}: {v['median_s'] * 1e3:.1f} ms (median of {v['runs']})")
    bars = {k: v["median_s"] for k, v in data["seconds"].items()}  # type: ignore[attr-defined]
    panels = [
        Panel({k: bars[k] for k in ("wasmtool cold (native)", "auditwheel show (native)")}, "s (median)",
              f"{len(wheels['native'])} native wheels, cold"),
        Panel({k: bars[k] for k in ("wasmtool cold", "wasmtool warm")}, "s (median)",
              f"{sum(len(v) for v in wheels.values())} wheels (native + pyodide-314)", log=True),
    ]
    path = write_results("audit", data, {}, "s", panels=panels, ours=("wasmtool",),
                         title="wasmtool audit of the corpus: cold, warm (verdicts from mochi.lock), auditwheel show")
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
