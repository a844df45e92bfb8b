"""bench: runtime overheads, in one run.

(a) a direct Python call vs the same call through the in-process runtime (the path a
    generated shim takes: lookup, the call, result passing; arguments are bound against the
    signature only when the call raises TypeError); target <= 2x;
(b) sequential vs pipelined calls to the JSON-RPC subprocess worker (the worker runs
    sync calls on a thread pool, answers out of order); target >= 5x throughput.

The called function is ``tomllib.loads`` (tomli in the stdlib) on a small document, in a one-function
module (the shape of a generated ``<pkg>_externs.py``), plus a sleep-bound function for
(b) so that pipelining has latency to hide, as real I/O-bound calls do.

    .venv/bin/python bench/runtime.py
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
import time
from concurrent.futures import wait
from pathlib import Path

from _common import ROOT, machine, per_call, summary, write_results

DOC = 'title = "x"\n[owner]\nname = "mochi"\nn = [1, 2, 3]\n'
MODULE = textwrap.dedent('''
    import time
    import tomllib

    def toml_loads(s: str) -> dict:
        return tomllib.loads(s)

    def io_bound(x: int) -> int:
        time.sleep(0.01)
        return x
''')


def main() -> int:
    sys.path.insert(0, str(ROOT))
    import tomllib

    from wasmtool.run import InProcessRuntime, SubprocessRuntime

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "bench_externs.py").write_text(MODULE)
        sys.path.insert(0, tmp)
        rt = InProcessRuntime("bench_externs")
        n = 20000
        direct = [per_call(lambda: tomllib.loads(DOC), n) for _ in range(5)]
        shim = [per_call(lambda: rt.call("toml_loads", [DOC]), n) for _ in range(5)]
        rt.close()
        wire_rt = InProcessRuntime("bench_externs", roundtrip=True)   # what a Session uses
        wired = [per_call(lambda: wire_rt.call("toml_loads", [DOC]), n) for _ in range(5)]
        wire_rt.close()
        ratio_wire = summary(wired)["median_s"] / summary(direct)["median_s"]
        ratio_a = summary(shim)["median_s"] / summary(direct)["median_s"]

        calls = 200
        with SubprocessRuntime("bench_externs", python=sys.executable, paths=[tmp]) as sub:
            sub.call("io_bound", [0])  # start the worker outside the timing
            t0 = time.perf_counter()
            for i in range(calls):
                sub.call("io_bound", [i])
            seq = time.perf_counter() - t0
            t0 = time.perf_counter()
            futures = [sub.submit("io_bound", [i]) for i in range(calls)]
            wait(futures)
            results = [f.result() for f in futures]
            pipe = time.perf_counter() - t0
            assert results == list(range(calls))
            t0 = time.perf_counter()
            for _ in range(calls):
                sub.call("toml_loads", [DOC])
            seq_cpu = time.perf_counter() - t0
            t0 = time.perf_counter()
            wait([sub.submit("toml_loads", [DOC]) for _ in range(calls)])
            pipe_cpu = time.perf_counter() - t0
    ratio_b = seq / pipe
    data = {
        "benchmark": "runtime", "machine": machine(),
        "inprocess": {"direct_call": summary(direct), "runtime_call": summary(shim), "ratio_median": round(ratio_a, 3),
                      "target_ratio": 2.0, "meets_target": ratio_a <= 2.0, "calls_per_sample": n,
                      "session_path": {"runtime_call": summary(wired), "ratio_median": round(ratio_wire, 3),
                                       "note": "roundtrip=True: arguments and result pass through the "
                                               "formats.md section 7 value encoding, as in wasmtool call/run"}},
        "subprocess_io_bound": {"calls": calls, "sequential_s": seq, "pipelined_s": pipe,
                                "throughput_gain": round(ratio_b, 2), "target_gain": 5.0,
                                "meets_target": ratio_b >= 5.0},
        "subprocess_cpu_bound": {"calls": calls, "sequential_s": seq_cpu, "pipelined_s": pipe_cpu,
                                 "throughput_gain": round(seq_cpu / pipe_cpu, 2),
                                 "note": "CPU-bound calls share the worker's GIL: pipelining hides only IPC latency"},
    }
    path = write_results("runtime", data, {"direct": summary(direct)["median_s"] * 1e6,
                                           "in-process": summary(shim)["median_s"] * 1e6,
                                           "in-process, wire values": summary(wired)["median_s"] * 1e6},
                         "microseconds per call")
    print(f"in-process {ratio_a:.2f}x direct ({ratio_wire:.2f}x with wire values); "
          f"pipelined {ratio_b:.1f}x sequential (io-bound), "
          f"{seq_cpu / pipe_cpu:.1f}x (cpu-bound) -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
