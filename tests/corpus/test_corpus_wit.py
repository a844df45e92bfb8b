"""Issue 6: the WIT world of every corpus package's surface (mapped for wasi-p2) validates
with the real ``wasm-tools``, deterministically; the golden file of each package is the WIT
itself (``golden/wit/<dist>.wit``: a comment header with counts, the functions skipped on
this target and SHA-256, then ``world.wit`` verbatim), so a change is a readable diff.

``WASMTOOL_UPDATE_GOLDEN=1`` writes the goldens and then fails the test: review the diff,
commit it, and rerun without the variable.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from pathlib import Path

import pytest

from tests.corpus.pipeline import CORPUS, GOLDEN, corpus_stubs, map_surface
from wasmtool.typemap.surface import MappedSurface
from wasmtool.wit.render import render_package, write_wit_dir
from wasmtool.wit.validate import validate_wit

pytestmark = pytest.mark.corpus

UPDATE = os.environ.get("WASMTOOL_UPDATE_GOLDEN") == "1"


def wit_golden(dist: str, tmp: Path) -> str:
    surface: MappedSurface = map_surface(dist, target="wasi-p2", stubs=corpus_stubs(dist))[1]
    rendered = render_package(surface)
    directory = write_wit_dir(rendered, tmp / dist)
    validate_wit(directory)
    files = dict(rendered.files)
    world = files["world.wit"]
    again = dict(render_package(surface).files)["world.wit"]
    assert again == world  # same surface, same bytes
    plan = rendered.plan
    header = [
        f"wasmtool WIT golden: {dist} {surface.version} for wasi-p2 (tests/corpus/test_corpus_wit.py)",
        "written by WASMTOOL_UPDATE_GOLDEN=1, which then fails the run: review the diff, commit it, rerun",
        f"functions\t{len(surface.functions)}", f"records\t{len(surface.records)}",
        f"interfaces\t{len(plan.interfaces)}", f"exported\t{len(plan.exported)}", f"resources\t{len(plan.resources)}",
        f"target_skips\t{len(plan.skips)}",
        f"callables_skipped\t{sum(1 for s in surface.skips if s.reason.token == 'SkipTargetUnrepresentable')}",
        *(f"target_skip\t{s.path}\t{s.reason.token}\t{' '.join(s.detail.split())}" for s in plan.skips),
        *(f"sha256\t{name}\t{hashlib.sha256(text.encode()).hexdigest()}" for name, text in sorted(files.items())),
        "", "world.wit follows:",
    ]
    return "".join(f"// {line}".rstrip() + "\n" for line in header) + world + ("" if world.endswith("\n") else "\n")


def golden_diff(old: str, new: str, name: str, limit: int = 60) -> str:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), f"golden/{name}", "now", lineterm="", n=1))
    more = f"\n... {len(lines) - limit} more diff lines" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


@pytest.mark.parametrize("dist", sorted(CORPUS))
def test_corpus_wit_validates_and_matches_golden(dist: str, tmp_path: Path) -> None:
    text = wit_golden(dist, tmp_path)
    golden = GOLDEN / "wit" / f"{dist}.wit"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
        pytest.fail(f"WASMTOOL_UPDATE_GOLDEN=1: wrote {golden.relative_to(GOLDEN.parent)}; the goldens were "
                    "regenerated, not checked: review the diff, commit it and rerun without the variable")
    assert golden.is_file(), f"no WIT golden for {dist}: run with WASMTOOL_UPDATE_GOLDEN=1 and review it"
    old = golden.read_text()
    if old != text:
        pytest.fail(f"{dist}: the WIT changed (review, then regenerate):\n{golden_diff(old, text, f'wit/{dist}.wit')}")
