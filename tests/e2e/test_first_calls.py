"""The first-calls table (tests/corpus/first_calls.py), called the way a user calls it: one
project naming each package with no other line of configuration, `wasmtool lock`, `install`
per target, then `wasmtool run` of the table natively, in Pyodide (Node) and as WASI
components under wasmtime wherever the package installs there. Every row gives the documented
answer, and the same answer on every target it runs on (the parity rows).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.corpus.first_calls import FIRST_CALLS, FirstCall
from tests.e2e.parity import make_project, normalised
from tests.support.session_cache import SharedIndex

pytestmark = pytest.mark.slow

TARGETS = ("native", "pyodide-314", "wasi-p2")


#: The marker that leaves a package out of a target it does not install on (the only line
#: beyond the dependency itself: it is about installing, not binding).
_NOT_ON = {"pyodide-314": "sys_platform != 'emscripten'", "wasi-p2": "sys_platform != 'wasi'"}


def _manifest() -> str:
    deps = sorted({row.dist for row in FIRST_CALLS})
    entries = []
    for dep in deps:
        on = {t for row in FIRST_CALLS if row.dist == dep for t in row.targets}
        markers = " and ".join(m for t, m in _NOT_ON.items() if t not in on)
        entries.append(f'{dep} = {{ version = "*", markers = "{markers}" }}' if markers else f'{dep} = "*"')
    lines = [
        'name = "first-calls"', "", "[python]", 'requires-python = ">=3.12"', 'python-version = "3.12"',
        f"targets = {json.dumps(list(TARGETS))}", "",
        "[python-dependencies]", *entries,
    ]
    return "\n".join(lines) + "\n"


def _resolve_urls(value: object, base: str) -> object:
    if isinstance(value, dict) and set(value) == {"$url"}:
        return base + str(value["$url"])
    if isinstance(value, list):
        return [_resolve_urls(v, base) for v in value]
    return value


def _rows(target: str, base: str) -> list[dict[str, object]]:
    out = []
    for row in FIRST_CALLS:
        if target in row.targets:
            line = row.line()
            line["args"] = _resolve_urls(line["args"], base)
            out.append(line)
    return out


def _expected(target: str) -> list[FirstCall]:
    return [row for row in FIRST_CALLS if target in row.targets]


def test_first_calls_answer_as_documented_on_every_target(tmp_path: Path, shared_cache: Path,
                                                          shared_index: SharedIndex) -> None:
    base = shared_index.url.removesuffix("/simple/")
    project, _, cli = make_project(tmp_path, "first", _manifest(), [], shared_cache, shared_index)
    cli("lock")
    answers: dict[str, list[dict[str, object]]] = {}
    for target in TARGETS:
        rows = _rows(target, base)
        if not rows:
            continue
        packages = sorted({row.dist for row in _expected(target)})
        cli("install", f"--target={target}")
        calls = tmp_path / f"calls-{target}.jsonl"
        calls.write_text("".join(json.dumps(r) + "\n" for r in rows))
        code, out, err = cli("run", f"--target={target}", str(calls), check=False)
        answers[target] = normalised(out)
        assert len(answers[target]) == len(rows), f"{target}: {err}"
        for row, answer in zip(_expected(target), answers[target], strict=True):
            assert answer.get("ok") is True, f"{target}: {row.call}{row.args}: {answer}\n{err}"
            assert answer["result"] == row.expect, f"{target}: {row.call}: {answer['result']!r} != {row.expect!r}"
        assert code == 0, f"{target} ({', '.join(packages)}): {err}"
    # parity: a row answers the same wherever it runs (the line number aside)
    def same(answer: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in answer.items() if k != "line"}

    native = {row.call + json.dumps(row.args): same(a)
              for row, a in zip(_expected("native"), answers["native"], strict=True)}
    ran_elsewhere = 0
    for target in TARGETS[1:]:
        for row, answer in zip(_expected(target), answers.get(target, []), strict=True):
            assert same(answer) == native[row.call + json.dumps(row.args)], (target, row.call)
            ran_elsewhere += 1
    assert ran_elsewhere == sum(len(row.targets) - 1 for row in FIRST_CALLS) and project.is_dir()
