"""WIT rendering: deterministic, valid, typemap's WIT column, skips on wasi-p2 (acceptance 62-64)."""

from __future__ import annotations

import json
import random
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.wit.surfaces import synthetic_surface, tomli_surface
from wasmtool.skips import SkipReason
from wasmtool.typemap.surface import Function, MappedSurface, Param, TypeRef
from wasmtool.wit.errors import InvalidWitError
from wasmtool.wit.model import WitPlan, plan_surface
from wasmtool.wit.names import is_valid_label
from wasmtool.wit.render import PY_ERROR_WIT, render_package, write_wit_dir
from wasmtool.wit.validate import find_wasm_tools, tool_env, validate_wit

ROOT = Path(__file__).resolve().parents[2]


def _shuffled(surface: MappedSurface, seed: int) -> MappedSurface:
    rng = random.Random(seed)
    fns, recs, enums = list(surface.functions), list(surface.records), list(surface.enums)
    rng.shuffle(fns)
    rng.shuffle(recs)
    rng.shuffle(enums)
    return replace(surface, functions=tuple(fns), records=tuple(recs), enums=tuple(enums))


@pytest.mark.parametrize("make", [synthetic_surface, tomli_surface])
def test_render_is_deterministic(make: object) -> None:
    surface = make()  # type: ignore[operator]
    first = render_package(surface)
    assert render_package(surface).files == first.files
    for seed in range(5):
        assert render_package(_shuffled(surface, seed)).files == first.files


def _all_labels(plan: WitPlan) -> list[str]:
    labels = [plan.package.split(":")[-1], plan.world, "types"]
    for r in plan.records:
        labels += [r.label, *(f.label for f in r.fields)]
    for e in plan.enums:
        labels += [e.label, *(c for c, _ in e.cases)]
    for iface in plan.interfaces:
        labels.append(iface.label)
        for fn in iface.functions:
            labels += [fn.label, *(p.label for p in fn.params)]
    return labels


@pytest.mark.parametrize("make", [synthetic_surface, tomli_surface])
def test_all_labels_valid_and_parser_agrees(make: object, wit_tools: None, tmp_path: Path) -> None:
    rendered = render_package(make())  # type: ignore[operator]
    labels = _all_labels(rendered.plan)
    assert labels and all(is_valid_label(label) for label in labels), [x for x in labels if not is_valid_label(x)]
    write_wit_dir(rendered, tmp_path)
    validate_wit(tmp_path)
    proc = subprocess.run([str(find_wasm_tools()), "component", "wit", str(tmp_path), "--json"],
                          capture_output=True, text=True, env=tool_env(), check=True)
    doc = json.loads(proc.stdout)
    names: list[str] = []
    for iface in doc["interfaces"]:
        names.append(iface["name"])
        # a resource's methods (`[method]client.python-type`, receiver `self`) are the parser's names
        own = {n: f for n, f in iface["functions"].items() if not n.startswith("[")}
        names += list(own)
        for f in own.values():
            names += [p["name"] for p in f["params"]]
    for t in doc["types"]:
        if t.get("name"):
            names.append(t["name"])
        kind = t["kind"]
        if isinstance(kind, dict) and "record" in kind:
            names += [f["name"] for f in kind["record"]["fields"]]
        if isinstance(kind, dict) and "enum" in kind:
            names += [c["name"] for c in kind["enum"]["cases"]]
    assert names and all(is_valid_label(n) for n in names)
    exported = {f for i in doc["interfaces"] for f in i["functions"] if not f.startswith("[")}
    planned = {fn.label for _, fn in rendered.plan.functions()}
    assert exported == planned


def test_keyword_function_is_escaped() -> None:   # acceptance 63
    surface = MappedSurface("kw", "1.0", "kw", ("kw",), "inline", functions=(
        Function("kw_type", "kw:type", "function", (Param("from", "from_", TypeRef("str")),), TypeRef("int")),
    ))
    text = render_package(surface).text
    assert "  %type: func(%from: string) -> result<s64, py-error>;\n" in text


def test_synthetic_wit_text() -> None:
    text = render_package(synthetic_surface()).text
    assert "package mochi:py-demo-pkg@1.0.0-rc1;\n" in text
    # typemap.md WIT column
    assert "  f: func(p: option<string>) -> result<list<tuple<string, list<s64>>>, py-error>;" in text
    assert "  g: func(b: list<u8>, t: tuple<s64, string>) -> result<_, py-error>;" in text
    assert "  sets: func(s: list<f64>) -> result<list<color>, py-error>;" in text
    assert "  levels: func(lv: s64, c: option<color>) -> result<list<option<point>>, py-error>;" in text
    assert "  %import: func(class: bool) -> result<list<u8>, py-error>;" in text
    assert "  %type: func(%from: string, self-v2: s64) -> result<point, py-error>;" in text
    assert "    y-val: option<f64>,\n" in text          # not-required field
    assert "    %list: list<tuple<string, option<s64>>>,\n" in text
    assert "  enum color {\n    red,\n    green-blue,\n    %type,\n  }" in text
    assert "level" not in text.split("world")[0].split("interface demo ")[0]   # int enums are s64
    for label in ("get-value", "get-value-v2", "get-value-v3"):
        assert f"  {label}: func() -> result<s64, py-error>;" in text
    assert "world demo-pkg {\n  export types;\n  export demo;\n  export demo-impl;\n  export demo-sub;\n}\n" in text


def test_module_named_like_the_world_becomes_api() -> None:
    plan = plan_surface(tomli_surface())
    assert [i.label for i in plan.interfaces] == ["api", "tomli-parser"]
    assert plan.world == "tomli" and plan.package_id == "mochi:py-tomli@2.5.0"
    # a function keeps its name; the record it shares it with is renamed in the `use`
    assert next(fn.label for _, fn in plan.functions() if fn.extern_name == "tomli_summary") == "summary"
    text = render_package(tomli_surface()).text
    assert "  use types.{parser, summary as summary-type, value-kind};\n" in text
    assert "  summary: func(s: string) -> result<summary-type, py-error>;\n" in text
    assert "  describe: func(summary: summary-type) -> result<string, py-error>;\n" in text


def test_unrepresentable_functions_are_skipped() -> None:   # acceptance 64
    rendered = render_package(synthetic_surface())
    skipped = {s.detail.split(":")[0]: s for s in rendered.skips}
    assert set(skipped) == {"demo_cb", "demo_ret_cb", "demo_handles", "demo_tree"}   # `any`: a dyn-value
    assert all(s.reason is SkipReason.SkipTargetUnrepresentable for s in rendered.skips)
    assert "callables" in skipped["demo_cb"].detail and "recursive" in skipped["demo_tree"].detail
    assert not set(skipped) & set(rendered.exported)
    assert "demo_type" in rendered.exported
    assert "node" not in rendered.text
    assert "inside a parameter" in skipped["demo_handles"].detail       # option<borrow<..>>: not borrowed


def test_handles_are_resources_borrowed_as_whole_parameters() -> None:
    text = render_package(synthetic_surface()).text
    assert "  resource client {\n" in text and "    python-type: func() -> string;\n" in text
    assert "  use types.{client as client-type, color, point};\n" in text
    assert "handle: func(x: borrow<client-type>) -> result<_, py-error>;" in text
    assert "client: func(name: string) -> result<client-type, py-error>;" in text   # renamed in the `use`


def test_plan_round_trips() -> None:
    plan = plan_surface(synthetic_surface())
    again = WitPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan


def test_shipped_wit_package_matches() -> None:
    assert (ROOT / "wit" / "mochi-python" / "types.wit").read_text() == PY_ERROR_WIT


def test_invalid_wit_reports_file_line_column(wit_tools: None, tmp_path: Path) -> None:
    (tmp_path / "w.wit").write_text("package a:b;\ninterface i {\n  f: func(x: strin);\n}\n")
    with pytest.raises(InvalidWitError) as info:
        validate_wit(tmp_path)
    err = info.value
    assert err.code == "WT871"
    assert (err.line, err.column) == (3, 14)
    assert err.path is not None and err.path.endswith("w.wit")
    assert "strin" in err.message
    assert "Stack backtrace" not in str(err)
