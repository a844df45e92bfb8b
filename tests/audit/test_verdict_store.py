"""The lock-time audit's verdict store (``verdicts/audit/`` in the artefact cache).

A fresh lock of wheels another lock already audited with the same inputs reads their verdicts
from the store and opens no binary; mochi.lock and what ``lock`` prints are byte for byte the
same as with an empty store. An entry that is corrupt, edited or about another wheel is ignored
and the wheel audited again (no traceback), and the entry is written over."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.audit.conftest import BAD_MEMBER
from tests.conftest import run_cli, write_project
from tests.support.index_server import IndexServer
from wasmtool.cache.verdicts import read_verdict, verdict_path, write_verdict
from wasmtool.context import Context


def _elf_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the ELF reader's calls (the audit's only way into an ELF member)."""
    import wasmtool.audit.elf as elf

    calls: list[int] = []
    real = elf.read_elf

    def counting(data: bytes, **kw: Any) -> Any:
        calls.append(len(data))
        return real(data, **kw)

    monkeypatch.setattr(elf, "read_elf", counting)
    return calls


def _fresh_lock(root: Path, cache: Path, index: IndexServer) -> tuple[bytes, list[str]]:
    """Lock ``root`` afresh in-process (no mochi.lock before): the lock's bytes and the lines
    ``lock`` prints."""
    from wasmtool.ops.lock import run_lock

    (root / "mochi.lock").unlink(missing_ok=True)
    with Context.open(root, cache_dir=cache, index_url=index.url) as ctx:
        outcome = run_lock(ctx)
    return (root / "mochi.lock").read_bytes(), outcome.summary_lines()


def _store_files(cache: Path) -> list[Path]:
    return sorted((cache / "verdicts" / "audit").glob("*.json"))


def test_a_fresh_lock_reads_stored_verdicts_and_writes_the_same_bytes(
        tmp_path: Path, index: IndexServer, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_project(tmp_path / "p", {"badext": "==1.0", "goodext": "==1.0"}, extra_python='audit = "warn"')
    cache = tmp_path / "cache"
    reads = _elf_reads(monkeypatch)
    first, first_lines = _fresh_lock(root, cache, index)
    assert reads, "the first lock audits the two wheels"
    assert len(_store_files(cache)) == 2
    assert f"library-outside-policy {BAD_MEMBER} libwtaudit.so" in "\n".join(first_lines)

    reads.clear()
    second, second_lines = _fresh_lock(root, cache, index)
    assert reads == []                       # the verdicts came from the store
    assert second == first
    assert second_lines == first_lines      # the findings' details too

    # another project locking the same wheels: the same verdicts, from the store
    other = write_project(tmp_path / "q", {"badext": "==1.0", "goodext": "==1.0"}, extra_python='audit = "warn"')
    third, _ = _fresh_lock(other, cache, index)
    assert reads == []
    assert b"audit-verdict" in third


def test_without_the_store_the_same_lock_is_written(tmp_path: Path, index: IndexServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_project(tmp_path / "p", {"badext": "==1.0", "goodext": "==1.0"}, extra_python='audit = "warn"')
    cache = tmp_path / "cache"
    first, _ = _fresh_lock(root, cache, index)
    stored, _ = _fresh_lock(root, cache, index)
    for path in _store_files(cache):
        path.unlink()
    reads = _elf_reads(monkeypatch)
    audited_again, _ = _fresh_lock(root, cache, index)
    assert reads                              # the store was empty: audited again
    assert first == stored == audited_again
    assert len(_store_files(cache)) == 2      # and stored again


@pytest.mark.parametrize("damage", ["garbage", "truncated", "edited-verdict", "other-wheel", "directory"])
def test_a_bad_store_entry_is_ignored_and_rewritten(tmp_path: Path, index: IndexServer,
                                                    monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    root = write_project(tmp_path / "p", {"badext": "==1.0"}, extra_python='audit = "warn"')
    cache = tmp_path / "cache"
    first, _ = _fresh_lock(root, cache, index)
    [entry] = _store_files(cache)
    key = entry.stem
    good = json.loads(entry.read_bytes())
    if damage == "garbage":
        entry.write_bytes(b"\x00\xff not json")
    elif damage == "truncated":
        entry.write_bytes(entry.read_bytes()[:40])
    elif damage == "edited-verdict":          # valid JSON, the body no longer hashes to its record
        text = entry.read_text().replace('"verdict":"findings"', '"verdict":"ok"')
        assert text != entry.read_text()
        entry.write_text(text)
    elif damage == "other-wheel":             # a whole, checked entry, but about another file
        body = dict(good["body"], file="goodext-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", modules=[])
        write_verdict(cache, "audit", key, body)
    else:
        entry.unlink()
        entry.mkdir()
    reads = _elf_reads(monkeypatch)
    again, lines = _fresh_lock(root, cache, index)
    assert reads, "the bad entry was not trusted: the wheel was audited again"
    assert again == first
    assert f"library-outside-policy {BAD_MEMBER} libwtaudit.so" in "\n".join(lines)
    if damage != "directory":
        assert read_verdict(cache, "audit", key) == good["body"]   # written over with the real verdict


def test_require_failure_stores_no_verdict(tmp_path: Path, index: IndexServer) -> None:
    root = write_project(tmp_path / "p", {"badext": "==1.0"}, extra_python='audit = "require"')
    cache = tmp_path / "cache"
    proc = run_cli(["-C", str(root), "lock"], cache=cache, index_url=index.url)
    assert proc.returncode != 0 and "WT951" in proc.stderr
    assert _store_files(cache) == []


def test_the_store_checks_kind_key_and_body(tmp_path: Path) -> None:
    key = "ab" * 32
    assert read_verdict(tmp_path, "audit", key) is None
    assert write_verdict(tmp_path, "audit", key, {"verdict": "ok"})
    assert read_verdict(tmp_path, "audit", key) == {"verdict": "ok"}
    assert read_verdict(tmp_path, "other", key) is None
    # the same entry under another key is refused (it names its own key)
    moved = verdict_path(tmp_path, "audit", "cd" * 32)
    moved.write_bytes(verdict_path(tmp_path, "audit", key).read_bytes())
    assert read_verdict(tmp_path, "audit", "cd" * 32) is None
    with pytest.raises(ValueError):
        verdict_path(tmp_path, "audit", "../x")
    with pytest.raises(ValueError):
        verdict_path(tmp_path, "../audit", key)


@pytest.mark.parametrize("distribution", ["auditwheel", "abi3info"])
def test_the_data_versions_are_the_installed_metadata_versions(distribution: str) -> None:
    """The fast lookup the inputs hash uses agrees with importlib.metadata (the hash a lock
    records must not change with how the version is read)."""
    from importlib.metadata import version

    from wasmtool.audit.policy import data_version

    assert data_version(distribution) == version(distribution) != ""
