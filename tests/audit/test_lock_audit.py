"""Lock-time audit (``[python] audit``) on a hermetic index serving two tiny extensions built
here with the system compiler: one needs ``libwtaudit.so`` (in no manylinux policy, not in
the wheel), one needs only the C library.

``warn`` records the verdicts per file in mochi.lock and prints the findings; a second audit
(``wasmtool audit`` or ``lock --upgrade``) opens no wheel; ``require`` fails with the rule's
code naming the wheel, the member and the library, leaving mochi.lock and the cache as they
were; ``off`` records nothing."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.audit.conftest import BAD_MEMBER
from tests.conftest import run_cli, tree_snapshot, write_project
from tests.support.index_server import IndexServer
from wasmtool.context import Context


def _project(root: Path, mode: str, deps: tuple[str, ...] = ("badext", "goodext")) -> Path:
    return write_project(root, {d: "==1.0" for d in deps}, extra_python=f'audit = "{mode}"')


def _entries(root: Path) -> dict[str, dict[str, Any]]:
    lock = tomllib.loads((root / "mochi.lock").read_text())
    return {p["name"]: p for p in lock["python-package"]}


def _lock(root: Path, cache: Path, index: IndexServer, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli(["-C", str(root), "lock", *extra], cache=cache, index_url=index.url)


def _count_audits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import wasmtool.audit.service as service

    calls: list[str] = []
    real = service.audit_wheel

    def counting(path: Path, **kw: Any) -> Any:
        calls.append(path.name)
        return real(path, **kw)

    monkeypatch.setattr(service, "audit_wheel", counting)
    return calls


def test_warn_records_the_verdicts_and_a_second_audit_does_no_work(
        tmp_path: Path, index: IndexServer, monkeypatch: pytest.MonkeyPatch) -> None:
    root, cache = _project(tmp_path / "p", "warn"), tmp_path / "cache"
    proc = _lock(root, cache, index)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert f"library-outside-policy {BAD_MEMBER} libwtaudit.so" in out
    entries = _entries(root)
    assert entries["badext"]["audit-verdict"] == "findings"
    assert entries["badext"]["audit-findings"] == [f"library-outside-policy {BAD_MEMBER} libwtaudit.so"]
    assert entries["goodext"]["audit-verdict"] == "ok"
    assert "audit-findings" not in entries["goodext"]
    assert len(entries["goodext"]["audit-inputs-sha256"]) == 64
    assert entries["goodext"]["audit-inputs-sha256"] != entries["badext"]["audit-inputs-sha256"]

    from wasmtool.ops.audit import audit_report

    calls = _count_audits(monkeypatch)
    with Context.open(root, cache_dir=cache, index_url=index.url) as ctx:
        report = audit_report(ctx)
    assert (report.audited, report.reused, calls) == (0, 2, [])
    assert {a.filename: a.verdict for a in report.audits} == {
        "badext-1.0-cp312-cp312-manylinux_2_17_x86_64.whl": "findings",
        "goodext-1.0-cp312-cp312-manylinux_2_17_x86_64.whl": "ok"}
    assert [f.summary() for a in report.audits for f in a.findings] == \
        [f"library-outside-policy {BAD_MEMBER} libwtaudit.so"]

    # a recorded hash that no longer matches (another rule-set, another file): audited again
    text = (root / "mochi.lock").read_text().replace(entries["goodext"]["audit-inputs-sha256"], "0" * 64)
    (root / "mochi.lock").write_text(text)
    with Context.open(root, cache_dir=cache, index_url=index.url) as ctx:
        report = audit_report(ctx)
    assert (report.audited, report.reused) == (1, 1)
    assert calls == ["goodext-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"]


def test_a_second_lock_reuses_the_recorded_verdicts(tmp_path: Path, index: IndexServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    root, cache = _project(tmp_path / "p", "warn"), tmp_path / "cache"
    assert _lock(root, cache, index).returncode == 0
    first = (root / "mochi.lock").read_bytes()
    from wasmtool.ops.lock import run_lock

    calls = _count_audits(monkeypatch)
    with Context.open(root, cache_dir=cache, index_url=index.url) as ctx:
        outcome = run_lock(ctx, upgrade=True)   # resolved again: the same files, verdicts from the lock
    assert calls == []
    assert not outcome.changed
    assert (root / "mochi.lock").read_bytes() == first
    check = run_cli(["-C", str(root), "lock", "--check"], cache=cache, index_url=index.url)
    assert check.returncode == 0, check.stderr


def test_require_fails_naming_wheel_member_library_and_leaves_lock_and_cache(
        tmp_path: Path, index: IndexServer) -> None:
    root, cache = _project(tmp_path / "p", "require", deps=("goodext",)), tmp_path / "cache"
    assert _lock(root, cache, index).returncode == 0
    before_lock, before_cache = (root / "mochi.lock").read_bytes(), tree_snapshot(cache)
    _project(root, "require")   # badext added
    proc = _lock(root, cache, index)
    assert proc.returncode != 0
    assert "WT951" in proc.stderr
    for part in ("badext-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", BAD_MEMBER, "libwtaudit.so"):
        assert part in proc.stderr, proc.stderr
    assert (root / "mochi.lock").read_bytes() == before_lock
    after = tree_snapshot(cache)
    assert any(k.startswith("wheels/") for k in after) and any(k.startswith("by-sha256/") for k in after)
    assert {k: v for k, v in after.items() if not k.startswith(("locks/", "tmp/"))} == \
        {k: v for k, v in before_cache.items() if not k.startswith(("locks/", "tmp/"))}


def test_require_fails_on_a_kept_target_with_recorded_findings(tmp_path: Path, index: IndexServer) -> None:
    root, cache = _project(tmp_path / "p", "warn"), tmp_path / "cache"
    assert _lock(root, cache, index).returncode == 0
    before = (root / "mochi.lock").read_bytes()
    _project(root, "require")   # nothing else changed: the target is kept, its verdicts reused
    proc = _lock(root, cache, index)
    assert proc.returncode != 0
    assert "WT951" in proc.stderr and "libwtaudit.so" in proc.stderr
    assert (root / "mochi.lock").read_bytes() == before


def test_off_records_nothing(tmp_path: Path, index: IndexServer) -> None:
    root, cache = _project(tmp_path / "p", "off"), tmp_path / "cache"
    proc = _lock(root, cache, index)
    assert proc.returncode == 0, proc.stderr
    assert "libwtaudit" not in proc.stdout + proc.stderr
    assert not [k for e in _entries(root).values() for k in e if k.startswith("audit-")]


def test_wasmtool_audit_reports_the_recorded_verdicts(tmp_path: Path, index: IndexServer) -> None:
    root, cache = _project(tmp_path / "p", "warn"), tmp_path / "cache"
    assert _lock(root, cache, index).returncode == 0
    proc = run_cli(["-C", str(root), "audit", "--json"], cache=cache, index_url=index.url)
    assert proc.returncode != 0
    assert "WT951" in proc.stderr and BAD_MEMBER in proc.stderr
    import json

    report = json.loads(proc.stdout)
    verdicts = {a["file"].split("-")[0]: a["verdict"] for a in report["audits"]}
    assert verdicts == {"badext": "findings", "goodext": "ok"}


PYODIDE_WHEEL = "msgpack-1.2.4-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
PYODIDE_MEMBER = "wtmsgpack/_cmsgpack.cpython-314-wasm32-emscripten.so"


def _pyodide_variant(folder: Path, *, missing_symbol: str | None) -> Path:
    """The real msgpack Pyodide wheel repacked as ``wtmsgpack``; with ``missing_symbol`` its
    module also imports that symbol from ``env`` (which the pinned runtime does not export)."""
    import zipfile

    from tests.support.audit_builders import add_wasm_import, pack_wheel
    from tests.support.index_server import ARTEFACTS

    members: dict[str, bytes] = {}
    with zipfile.ZipFile(ARTEFACTS / PYODIDE_WHEEL) as zf:
        for name in zf.namelist():
            if ".dist-info/" in name:
                continue
            data = zf.read(name)
            if name.endswith(".so") and missing_symbol:
                data = add_wasm_import(data, "env", missing_symbol)
            members["wt" + name] = data
    folder.mkdir(parents=True, exist_ok=True)
    return pack_wheel(folder, f"wtmsgpack-1.0-{PYODIDE_WHEEL.split('-', 2)[2]}", members)


@pytest.mark.parametrize("missing_symbol", [None, "wt_symbol_the_runtime_lacks"])
def test_pyodide_lock_audits_env_imports_against_the_pinned_runtime(tmp_path: Path, missing_symbol: str | None) -> None:
    wheel = _pyodide_variant(tmp_path / "w", missing_symbol=missing_symbol)
    root, cache = tmp_path / "p", tmp_path / "cache"
    with IndexServer({}) as srv:
        srv.add_file(wheel)
        write_project(root, {"wtmsgpack": "==1.0"}, python_version="3.14",
                      extra_python='target = "pyodide-314"\naudit = "require"')
        proc = run_cli(["-C", str(root), "lock"], cache=cache, index_url=srv.url)
    if missing_symbol is None:
        assert proc.returncode == 0, proc.stderr
        entry = _entries(root)["wtmsgpack"]
        assert entry["target"] == "pyodide-314"
        assert entry["audit-verdict"] == "ok"
        return
    assert proc.returncode != 0
    assert "WT954" in proc.stderr
    for part in (wheel.name, PYODIDE_MEMBER, missing_symbol):
        assert part in proc.stderr, proc.stderr
    assert not (root / "mochi.lock").exists()
    assert not [k for k in tree_snapshot(cache) if k.startswith(("wheels/", "by-sha256/"))]
