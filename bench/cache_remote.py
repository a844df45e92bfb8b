"""bench: a cold ``install --target=wasi-p2`` vs the same install on a second, empty local cache
fed from the remote cache tier (docs/remote-cache.md), in one run.

A real OCI registry (Debian's ``docker-registry``, tests/support/oci_registry.py) on 127.0.0.1,
the hermetic test index (tests/support/index_server.py) and a project with the example's pure
package (tomli, as in examples/hello-python) locked for wasi-p2, with ``[cache] remote`` set:

- ``cold, no remote``: an empty cache, ``WASMTOOL_CACHE_REMOTE=off`` (what every machine pays today);
- ``cold, pushing``: an empty cache with the remote (builds, then pushes the wheel, the component
  and its precompiled ``.cwasm``);
- ``second machine``: a copy of the project (same lock) on another empty cache with the same
  remote: the component and its ``.cwasm`` come from the registry, nothing is built.

Each is the real console script in a fresh process (interpreter start included), timed from
outside, one run each. Goal: the second machine at least 10x faster than the cold install.

Committed figures (bench/results/cache_remote.json; 2 cores shared with other work, so the
cold installs vary from one run to the next): cold without a remote 76.5 s, cold pushing
55.8 s, second machine 3.6 s: 21.5x, goal met. The second machine built nothing (its
component and ``.cwasm`` came from the registry, 62 MB stored for one component, its
``.cwasm`` and the wheel).

    .venv/bin/python bench/cache_remote.py
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from _common import ROOT, machine, write_results

MANIFEST = """
name = "bench-remote"

[python]
requires-python = ">=3.12"
python-version = "3.12"
targets = ["native", "wasi-p2"]

[python-dependencies]
tomli = {{ version = "*", import-names = ["tomli"] }}

[cache]
remote = "{remote}"
remote-timeout = 10
"""


_TREE: Path | None = None


def _cli(args: list[str], *, cache: Path, index_url: str, extra: dict[str, str] | None = None) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WASMTOOL_", "PIP_INDEX", "PIP_EXTRA"))}
    env.update({"WASMTOOL_CACHE_DIR": str(cache), "WASMTOOL_INDEX_URL": index_url, **(extra or {})})
    if _TREE is not None:   # the copy of the code taken at the start (see main)
        env["PYTHONPATH"] = os.pathsep.join([str(_TREE), str(_TREE / "runtime")])
    t0 = time.perf_counter()
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "wasmtool"), *args], capture_output=True, text=True,
                          env=env, timeout=1800, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"wasmtool {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return seconds, proc.stderr + proc.stdout


def _counts(output: str) -> dict[str, int]:
    return {"built": len(re.findall(r"\(built\)", output)), "cached": len(re.findall(r"\(cached\)", output)),
            "remote_warnings": output.count("warning: remote cache")}


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.support.index_server import IndexServer, load_files
    from tests.support.oci_registry import running_registry

    global _TREE
    with tempfile.TemporaryDirectory(prefix="wasmtool-bench-remote-") as tmp_name:
        tmp = Path(tmp_name)
        # every install runs the code as it was when the run started: a component's input hash
        # covers parts of wasmtool's own code, so an edit during the run would change the key
        _TREE = tmp / "tree"
        shutil.copytree(ROOT / "wasmtool", _TREE / "wasmtool", ignore=shutil.ignore_patterns("__pycache__"))
        for folder in ("runtime", "targets"):    # the runtime package, the target profiles
            shutil.copytree(ROOT / folder, _TREE / folder, ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
        with running_registry(tmp / "registry") as registry, IndexServer(load_files()) as index:
            remote = registry.url("team/wasmtool-cache")
            first = tmp / "first"
            first.mkdir()
            (first / "mochi.toml").write_text(textwrap.dedent(MANIFEST.format(remote=remote)))
            _cli(["-C", str(first), "lock"], cache=tmp / "lock-cache", index_url=index.url,
                 extra={"WASMTOOL_CACHE_REMOTE": "off"})
            projects = {}
            for name in ("baseline", "second"):
                projects[name] = tmp / name
                projects[name].mkdir()
                for f in ("mochi.toml", "mochi.lock", "pylock.toml"):
                    if (first / f).is_file():
                        shutil.copyfile(first / f, projects[name] / f)
            install = ["install", "--target=wasi-p2", "--frozen"]
            base_s, base_out = _cli(["-C", str(projects["baseline"]), *install], cache=tmp / "cache-0",
                                    index_url=index.url, extra={"WASMTOOL_CACHE_REMOTE": "off"})
            cold_s, cold_out = _cli(["-C", str(first), *install], cache=tmp / "cache-1", index_url=index.url)
            warm_s, warm_out = _cli(["-C", str(projects["second"]), *install], cache=tmp / "cache-2",
                                    index_url=index.url)
            stored = sum(p.stat().st_size for p in (registry.storage).rglob("*") if p.is_file())
    data = {
        "machine": machine(),
        "cold_no_remote_s": round(base_s, 2),
        "cold_pushing_s": round(cold_s, 2),
        "second_machine_s": round(warm_s, 2),
        "speedup_vs_cold": round(base_s / warm_s, 1),
        "goal_speedup": 10,
        "goal_met": base_s / warm_s >= 10,
        "counts": {"cold_no_remote": _counts(base_out), "cold_pushing": _counts(cold_out),
                   "second_machine": _counts(warm_out)},
        "registry_bytes": stored,
    }
    bars = {"cold": base_s, "cold + push": cold_s, "2nd machine": warm_s}
    write_results("cache_remote", data, bars, "seconds (one run each)")
    print(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
