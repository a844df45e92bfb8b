"""bench: how long timeouts take to act (the tests assert what they do, not how fast).

(a) worker deadline: an async call with ``timeout=0.3`` to the JSON-RPC worker; the worker
    cancels the coroutine and answers. Reported: seconds from the call to the
    ``CallTimeoutError``, and the overshoot past 0.3 s. Expected: at the timeout.
(b) client deadline: a sync call the worker cannot interrupt, ``timeout=0.3``; the client
    gives up at ``timeout + CLIENT_GRACE``. Same figures.
(c) stubgen sandbox: an import that hangs, ``timeout=3``; the sandbox's process group is
    killed. Reported: seconds for ``run_stubgen`` to return.

The bounds the tests used to assert on wall-clock time are recorded next to each figure
(``timeout + CLIENT_GRACE + 1 s`` for (a) and (b), 20 s for (c)).

    .venv/bin/python bench/timeouts.py
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

from _common import ROOT, Panel, machine, summary, write_results

MODULE = textwrap.dedent('''
    import asyncio
    import os
    import time

    async def hang(tag):
        await asyncio.sleep(3600)

    def gate(path):
        while not os.path.exists(path):
            time.sleep(0.01)
        return "opened"
''')

HANG_PACKAGE = "import time\ntime.sleep(600)\n"


def _wheel(folder: Path) -> Path:
    path = folder / "benchhang-1.0-py3-none-any.whl"
    info = "benchhang-1.0.dist-info"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("benchhang/__init__.py", HANG_PACKAGE)
        zf.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: benchhang\nVersion: 1.0\n")
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr(f"{info}/RECORD", "")
    return path


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from wasmtool.run import CallTimeoutError, SubprocessRuntime
    from wasmtool.run.subprocess_runtime import CLIENT_GRACE
    from wasmtool.stubs.stubgen import run_stubgen

    timeout, runs = 0.3, 20
    worker: list[float] = []
    client: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "bench_timeouts.py").write_text(MODULE)
        with SubprocessRuntime("bench_timeouts", python=sys.executable, paths=[tmp]) as rt:
            rt.call("wasmtool.ping")          # start the worker outside the timing

            def time_out(method: str, arg: object, side: str) -> float:
                """Seconds until the call's CallTimeoutError (which must come from ``side``)."""
                t0 = time.perf_counter()
                try:
                    rt.call(method, [arg], timeout=timeout)
                except CallTimeoutError as exc:
                    if exc.side != side:
                        raise SystemExit(f"{method}: timed out on the {exc.side} side, not the {side}") from exc
                    return time.perf_counter() - t0
                raise SystemExit(f"{method}: answered instead of timing out")

            worker = [time_out("hang", i, "worker") for i in range(runs)]
            for i in range(runs):
                gate = folder / f"gate{i}"
                client.append(time_out("gate", str(gate), "client"))
                gate.touch()                  # let the abandoned call finish
        stubgen: list[float] = []
        wheel = _wheel(folder)
        for _ in range(3):
            t0 = time.perf_counter()
            result = run_stubgen([wheel], packages=["benchhang"], timeout=3)
            stubgen.append(time.perf_counter() - t0)
            if not result.timed_out:
                raise SystemExit(f"stubgen did not time out: {result}")

    bound = timeout + CLIENT_GRACE + 1.0
    data = {
        "machine": machine(),
        "worker_deadline": {**summary(worker), "timeout_s": timeout,
                            "overshoot_median_s": summary(worker)["median_s"] - timeout,
                            "old_test_bound_s": bound, "within_old_bound": max(worker) < bound},
        "client_deadline": {**summary(client), "timeout_s": timeout, "client_grace_s": CLIENT_GRACE,
                            "overshoot_median_s": summary(client)["median_s"] - timeout,
                            "old_test_bound_s": bound, "within_old_bound": max(client) < bound},
        "stubgen_kill": {**summary(stubgen), "timeout_s": 3, "old_test_bound_s": 20,
                         "within_old_bound": max(stubgen) < 20},
    }
    write_results("timeouts", data, {}, "", title="time for a timeout to act (median; orange: the timeout asked for)",
                  ours=("worker", "client", "stubgen"), panels=[
        Panel({"worker deadline": summary(worker)["median_s"], "client deadline": summary(client)["median_s"],
               "timeout": timeout}, "seconds", f"call timeout {timeout:g} s"),
        Panel({"stubgen kill": summary(stubgen)["median_s"], "timeout": 3.0}, "seconds", "stubgen sandbox timeout 3 s"),
    ])
    for name in ("worker_deadline", "client_deadline", "stubgen_kill"):
        print(f"{name}: median {data[name]['median_s']:.3f} s, max {data[name]['max_s']:.3f} s "
              f"(old test bound {data[name]['old_test_bound_s']:g} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
