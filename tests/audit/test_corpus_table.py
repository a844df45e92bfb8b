"""The corpus audit table: wasmtool's verdicts and those of auditwheel (``show``), abi3audit
and auditwheel-emscripten, run here on the same wheels, must equal the committed
docs/audit-corpus.md, and every disagreement must be explained.
``WASMTOOL_UPDATE_GOLDEN=1`` rewrites the table (and fails the run: review and commit it)."""

from __future__ import annotations

import difflib
import os
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.audit.corpus_table import DOC, PEERS, ROOT, Row, audit_rows, corpus_wheels, explain, render
from tests.skip_policy import missing
from wasmtool.audit.service import audit_wheel
from wasmtool.ops.audit_runtime import runtime_facts
from wasmtool.targets.profile import load_profile

UPDATE = os.environ.get("WASMTOOL_UPDATE_GOLDEN") == "1"


def ours(path: Path, target: str, others: list[Path]) -> tuple[str, tuple[str, ...]]:
    runtime = runtime_facts(ROOT, load_profile(target))
    result = audit_wheel(path, target=target, runtime=runtime, lock_wheels=others if runtime is not None else ())
    return result.verdict, tuple(sorted(f.summary() for f in result.findings))


@cache
def rows() -> tuple[Row, ...]:
    for tool in ("auditwheel", "abi3audit", "pyodide"):
        if not (Path(sys.executable).parent / tool).exists():
            missing(f"{tool} in the virtual environment (a dev dependency)")
    return tuple(audit_rows(ours))


def test_the_corpus_covers_both_targets() -> None:
    wheels, _ = corpus_wheels()
    assert len(wheels["native"]) >= 15
    assert {p.name.split("-")[0] for p in wheels["pyodide-314"]} == {"msgpack", "pydantic_core"}
    assert any("-abi3-" in p.name for p in wheels["native"])


@pytest.mark.slow
def test_every_disagreement_is_explained() -> None:
    unexplained = [f"{r.target} {r.filename}: {r.why}" for r in rows() if "UNEXPLAINED" in r.why]
    assert not unexplained, "\n".join(unexplained)
    # each peer gave a verdict on the wheels it reads (an "error" is a peer that did not run)
    for r in rows():
        for peer, verdict in r.peers.items():
            assert verdict != "error", (peer, r.filename)
    applies = {peer: sum(not v.startswith("n/a") for r in rows() for p, v in r.peers.items() if p == peer)
               for peer in PEERS}
    assert all(n > 0 for n in applies.values()), applies


@pytest.mark.slow
def test_the_table_matches_the_committed_one() -> None:
    text = render(list(rows()))
    if UPDATE:
        DOC.write_text(text)
        pytest.fail(f"WASMTOOL_UPDATE_GOLDEN=1: wrote {DOC.relative_to(ROOT)}; review the diff, commit it and rerun")
    assert DOC.is_file(), f"{DOC} is missing: run with WASMTOOL_UPDATE_GOLDEN=1 and review it"
    old = DOC.read_text()
    if old != text:
        diff = "\n".join(difflib.unified_diff(old.splitlines(), text.splitlines(), "committed", "now", lineterm=""))
        pytest.fail(f"the corpus audit table changed (review, then regenerate):\n{diff}")


def test_explain_names_the_peer_and_flags_the_unknown() -> None:
    row = Row("pyodide-314", Path("x-1.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl"), "findings",
              ("wasm-missing-import x/_m.so PyFoo",), {"auditwheel-emscripten": "ok"})
    assert explain(row).startswith("auditwheel-emscripten lists needed libraries only")
    row = Row("native", Path("x-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"), "ok", (),
              {"auditwheel show": "findings (needs manylinux_2_28_x86_64)"})
    assert explain(row).startswith("UNEXPLAINED")
    assert explain(Row("native", row.path, "ok", (), {"auditwheel show": "ok", "abi3audit": "n/a (not abi3)"})) == ""
