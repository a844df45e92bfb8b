"""Issue 6: the WIT world of every corpus package's surface (mapped for wasi-p2) validates
with the real ``wasm-tools``, deterministically; golden files pin counts and the WIT's SHA-256.

Regenerate with ``WASMTOOL_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.corpus.pipeline import CORPUS, GOLDEN, run_package
from wasmtool.typemap.surface import MappedSurface
from wasmtool.wit.render import render_package, write_wit_dir
from wasmtool.wit.validate import validate_wit

pytestmark = pytest.mark.corpus

UPDATE = os.environ.get("WASMTOOL_UPDATE_GOLDEN") == "1"


def wit_golden(dist: str, tmp: Path) -> dict[str, object]:
    surface: MappedSurface = run_package(dist, target="wasi-p2").surface
    rendered = render_package(surface)
    directory = write_wit_dir(rendered, tmp / dist)
    validate_wit(directory)
    world = dict(rendered.files)["world.wit"]
    again = dict(render_package(surface).files)["world.wit"]
    assert again == world  # same surface, same bytes
    return {
        "dist": dist, "functions": len(surface.functions), "records": len(surface.records),
        "interfaces": len(rendered.plan.interfaces),
        "exported": len(rendered.plan.exported), "resources": len(rendered.plan.resources),
        "target_skips": len(rendered.plan.skips),
        "callables_skipped": sum(1 for s in surface.skips if s.reason.token == "SkipTargetUnrepresentable"),
        "world_sha256": hashlib.sha256(world.encode()).hexdigest(),
    }


@pytest.mark.parametrize("dist", sorted(CORPUS))
def test_corpus_wit_validates_and_matches_golden(dist: str, tmp_path: Path) -> None:
    data = wit_golden(dist, tmp_path)
    golden = GOLDEN / "wit" / f"{dist}.json"
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.is_file(), f"no WIT golden for {dist}: run with WASMTOOL_UPDATE_GOLDEN=1 and review it"
    assert json.loads(golden.read_text()) == data, f"{dist}: the WIT changed (review, then regenerate)"
