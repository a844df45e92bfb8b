"""The corpus gate (issue 4): the whole pipeline over the seed's 25 packages, golden files.

Per package the golden file (``golden/<dist>.txt``) is text a reviewer reads in ``git diff``:
the stub tiers, the mapped counts, every type declaration and extern of both Mochi dialects
(one line each, with the Python target), every skip with its reason, and the SHA-256 of every
emitted file. ``WASMTOOL_UPDATE_GOLDEN=1 pytest tests/corpus`` rewrites the goldens and then
fails, so a regeneration never passes silently: review the diff, commit it, rerun without it.
A golden that records a stub-tier failure (tier ``none``, an import package whose stubs could
not be made) fails. Every emitted shim, in both dialects, goes through the project's grammar of
the emitted subset and the declared-types check (no Mochi binary is involved); every wrapper
compiles and passes ``mypy --strict``. The minimums are in test_corpus_minimums.py.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus.pipeline import (
    CORPUS,
    GOLDEN,
    CorpusResult,
    corpus_result,
    corpus_stubs,
    golden_text,
    golden_tier_failures,
    map_surface,
    run_package,
)
from wasmtool.synth.dialect import ffi_split
from wasmtool.synth.grammar import check_shim

pytestmark = pytest.mark.corpus

UPDATE = os.environ.get("WASMTOOL_UPDATE_GOLDEN") == "1"


def result(dist: str) -> CorpusResult:
    return corpus_result(dist)


def golden_diff(old: str, new: str, name: str, limit: int = 60) -> str:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), f"golden/{name}", "now", lineterm="", n=1))
    more = f"\n... {len(lines) - limit} more diff lines" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


@pytest.mark.parametrize("dist", sorted(CORPUS))
def test_corpus_package_matches_golden_and_passes_the_shim_checks(dist: str) -> None:
    r = result(dist)
    golden = GOLDEN / f"{dist}.txt"
    text = golden_text(r)
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
        pytest.fail(f"WASMTOOL_UPDATE_GOLDEN=1: wrote {golden.relative_to(GOLDEN.parent)}; the goldens were "
                    "regenerated, not checked: review the diff, commit it and rerun without the variable")
    assert golden.is_file(), f"no golden file for {dist}: run with WASMTOOL_UPDATE_GOLDEN=1 and review it"
    old = golden.read_text()
    if old != text:
        pytest.fail(f"{dist}: the surface changed (review, then regenerate):\n{golden_diff(old, text, f'{dist}.txt')}")

    for dialect in ("0.10", "mep-71"):
        shim_name, shim = r.shim(dialect)
        check_shim(shim, dialect=dialect, file=f"{dialect}/{shim_name}")   # grammar + declared types (T025)
        code = "\n".join(ln.split("//")[0] for ln in shim.splitlines())
        # `bytes` as a type (a parameter may be named `bytes`: `bytes: list<int>`)
        for banned in (r"extern python (type|var)\b", r"\basync\b", r"\bref<", r"\btuple<", r"\bbytes\b(?!\s*:)",
                       r"\bNone\b"):
            assert not re.search(banned, code), f"{dist} ({dialect}): the shim contains {banned}"
    ffi_shim = r.shim("0.10")[1]
    assert ("extern python fun" not in ffi_shim and "extern fun " + r.surface.alias + "." in ffi_shim) or \
        not ffi_split(r.surface)[0]
    assert ffi_shim.count("\nextern fun ") == len(ffi_split(r.surface)[0])
    externs = next(t for n, t in r.files.items() if n.endswith("_externs.py"))
    compile(externs, f"{dist}_externs.py", "exec")
    skipped = r.files["SKIPPED.txt"].splitlines()
    assert skipped[0].startswith(f"# wasmtool SKIPPED {r.surface.dist} {r.surface.version} tier=")
    assert len(skipped) - 1 == len(r.surface.skips) + len(ffi_split(r.surface)[1])   # 0.10: + SkipStatelessFfi
    assert len(r.mep71_files["SKIPPED.txt"].splitlines()) - 1 == len(r.surface.skips)


@pytest.mark.parametrize("dist", sorted(CORPUS))
def test_corpus_golden_records_no_stub_tier_failure(dist: str) -> None:
    """A golden is not a place to keep a failure: stub tier ``none`` or an import package whose
    stubs could not be made (scikit-learn's stubgen run used to die on an import) fails here,
    whatever the golden says."""
    golden = GOLDEN / f"{dist}.txt"
    assert golden.is_file(), f"no golden file for {dist}"
    failures = golden_tier_failures(golden.read_text())
    assert not failures, f"{dist}: the golden records a stub-tier failure: " + "; ".join(failures)


@pytest.mark.parametrize("dist", ["msgpack", "requests", "tomli", "toml"])
def test_corpus_pipeline_is_deterministic(dist: str) -> None:
    first = run_package(dist)
    second = run_package(dist)
    assert first.files == second.files
    assert first.mep71_files == second.mep71_files
    assert first.stubs.sha256 == second.stubs.sha256


#: The largest surfaces (tens of thousands of externs with their public submodules): mypy
#: checks their top-level surface here, which uses every code path of the wrapper renderer;
#: checking their whole default surface takes mypy longer than the suite can spend.
MYPY_TOP_LEVEL_ONLY = frozenset({"numpy", "pandas", "pillow", "scipy", "sqlalchemy"})


def test_corpus_wrappers_pass_mypy_strict(tmp_path: Path) -> None:
    from wasmtool.synth.workspace import wrap_runtime_source
    from wasmtool.synth.wrapper import render_externs

    for dist in sorted(CORPUS):
        # flat files: a folder named like a real package (orjson/) would shadow it for mypy itself
        if dist in MYPY_TOP_LEVEL_ONLY:
            # the wrapper as surface_files renders it (the other files of the folder are not checked here)
            surface = map_surface(dist, stubs=corpus_stubs(dist), submodules_on=False)[1]
            (tmp_path / f"{surface.alias}_externs.py").write_text(render_externs(surface))
            continue
        r = result(dist)
        for name, text in r.files.items():
            if name.endswith("_externs.py"):
                (tmp_path / f"{r.surface.alias}_externs.py").write_text(text)

    (tmp_path / "_mochi_wrap.py").write_text(wrap_runtime_source())
    files = sorted(str(p) for p in tmp_path.glob("*_externs.py"))
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent",
                           "--cache-dir", str(tmp_path / ".mypy"), *files],
                          capture_output=True, text=True, cwd=tmp_path, timeout=900,
                          env={**os.environ, "MYPYPATH": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_corpus_wrappers_import_under_the_native_interpreter(tmp_path: Path) -> None:
    """Every generated wrapper imports (its package and every referenced class resolve) in a
    venv holding the 25 packages, installed offline from the recorded wheels."""
    from tests.corpus.pipeline import corpus_venv
    from wasmtool.synth.workspace import wrap_runtime_source

    python = corpus_venv(tmp_path / "venv")
    (tmp_path / "_mochi_wrap.py").write_text(wrap_runtime_source())
    names = []
    for dist in sorted(CORPUS):
        r = result(dist)
        name = f"{r.surface.alias}_externs"
        (tmp_path / f"{name}.py").write_text(next(t for n, t in r.files.items() if n.endswith("_externs.py")))
        names.append(name)
    code = ("import importlib, sys; sys.path.insert(0, sys.argv[1]); "
            "[importlib.import_module(n) for n in sys.argv[2:]]; print('ok', len(sys.argv) - 2)")
    proc = subprocess.run([str(python), "-c", code, str(tmp_path), *names],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.strip() == f"ok {len(CORPUS)}"
