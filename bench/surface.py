"""bench: time to produce the typed surface of the 25 corpus packages, in one run.

(a) cold: ``bind`` (stub discovery incl. sibling stub wheels and sandboxed stubgen, .pyi
    parsing, type mapping, wrapper + shim rendering and the shim grammar check) with empty
    stub and surface caches — the wheels are already in the artefact cache, as after ``lock``;
(b) warm: the same ``bind`` again (stub and surface caches hit: nothing is mapped or rendered,
    and no rendered file is read, only each surface's digests);
    target <= 1 s total;
(d) the surface's size: externs, skips and the Python modules the externs come from (each
    package's top-level module plus its public submodules, the default since submodules are
    bound), and extern names bound twice (must stay 0);
(c) peer: mypy's ``stubgen`` alone on the same 25 packages (the sandboxed runner wasmtool
    uses for its last tier, source mode for pure packages, inspect mode for compiled ones).

Everything runs against the hermetic index on 127.0.0.1 (tests/support/index_server.py)
with the recorded artefacts (``scripts/setup.sh`` fetches them).

    .venv/bin/python bench/surface.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine, summary, write_results

CORPUS = ["numpy", "pandas", "scipy", "scikit-learn", "requests", "httpx", "urllib3", "pillow", "pydantic",
          "attrs", "click", "typer", "rich", "tqdm", "sqlalchemy", "fastapi", "starlette", "uvicorn", "aiohttp",
          "pyyaml", "toml", "tomli", "msgpack", "orjson", "pytest"]


def main() -> None:
    from tests.corpus.pipeline import dependency_wheels, native_wheel, wheel_import_names
    from tests.support.index_server import IndexServer, load_files
    from wasmtool.ops.bind import bind
    from wasmtool.ops.context import Context
    from wasmtool.ops.lock import run_lock
    from wasmtool.stubs.stubgen import run_stubgen

    work = Path(tempfile.mkdtemp(prefix="wasmtool-bench-surface-"))
    try:
        project, cache = work / "proj", work / "cache"
        project.mkdir()
        deps = "\n".join(f'{name} = "*"' for name in CORPUS)
        (project / "mochi.toml").write_text(
            f'name = "corpus"\n\n[python]\nrequires-python = ">=3.12"\npython-version = "3.12"\n\n'
            f"[python-dependencies]\n{deps}\n")
        with IndexServer(load_files()) as server:
            with Context.open(project, cache_dir=cache, index_url=server.url, progress=False) as ctx:
                run_lock(ctx)
                bind(ctx, write=False)  # fetch every wheel and stub wheel once (not measured)
                for sub in ("stubs", "surfaces"):
                    shutil.rmtree(cache / sub, ignore_errors=True)
            cold = []
            with Context.open(project, cache_dir=cache, index_url=server.url, progress=False) as ctx:
                t0 = time.perf_counter()
                outcome = bind(ctx, write=False)
                cold.append(time.perf_counter() - t0)
            assert len(outcome.bound) == len(CORPUS), [b.package.name for b in outcome.bound]
            warm = []
            for _ in range(5):
                with Context.open(project, cache_dir=cache, index_url=server.url, progress=False) as ctx:
                    t0 = time.perf_counter()
                    bind(ctx, write=False)
                    warm.append(time.perf_counter() - t0)
        peer = []
        t0 = time.perf_counter()
        for dist in CORPUS:
            wheel = native_wheel(dist)
            tops = sorted({n.split(".")[0] for n in wheel_import_names(wheel) if "__mypyc" not in n})
            compiled = any(x in wheel.name for x in ("cp312", "abi3"))
            run_stubgen([wheel, *dependency_wheels(wheel)], packages=tops, inspect=compiled)
        peer.append(time.perf_counter() - t0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    externs = sum(len(b.surface.functions) for b in outcome.bound)
    modules = sum(len({f.target.partition(":")[0] for f in b.surface.functions}) for b in outcome.bound)
    twice = sum(len(b.surface.functions) - len({f.extern_name for f in b.surface.functions}) for b in outcome.bound)
    data = {
        "machine": machine(),
        "packages": len(CORPUS),
        "externs": externs,
        "skips": sum(len(b.surface.skips) for b in outcome.bound),
        "modules": modules,
        "externs_bound_twice": twice,
        "per_package": {b.package.name: {"externs": len(b.surface.functions), "skips": len(b.surface.skips)}
                        for b in outcome.bound},
        "cold_bind": summary(cold),
        "warm_bind": summary(warm),
        "stubgen_alone": summary(peer),
        "warm_target_s": 1.0,
        "warm_target_met": summary(warm)["median_s"] <= 1.0,
        "note": "bind includes discovery, parsing, mapping, wrapper/shim rendering and the grammar check; "
                "stubgen alone only writes .pyi files (and only covers what it can import or parse)",
    }
    path = write_results("surface", data, {"cold bind": summary(cold)["median_s"],
                                           "warm bind": summary(warm)["median_s"],
                                           "stubgen alone": summary(peer)["median_s"]}, "seconds (25 packages)")
    print(path.read_text())


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
