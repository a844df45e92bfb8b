"""A lookup that found no PEP 740 attestation is kept (``verdicts/noattest/`` in the cache) and
stands for asking the index again only where it cannot weaken a decision: ``warn``, no
trusted-publisher pin. ``require`` always asks, so a file that gained an attestation since is
verified and recorded; an expired or damaged record is asked again."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.attest.attest_index import (
    WHEEL,
    WHEEL_IDENTITY,
    WHEEL_ISSUER,
    WHEEL_LABEL,
    AttestIndex,
    require_fixtures,
    served,
    wheel_provenance,
)
from tests.conftest import write_project
from wasmtool.context import Context


@pytest.fixture
def index() -> Iterator[AttestIndex]:
    require_fixtures()
    srv = AttestIndex({"rfc8785": [served(WHEEL, "rfc8785")]})
    with srv:
        yield srv                      # no provenance served until a test adds it


PIN = f'{{ version = "==0.1.2", trusted-publisher = {{ identity = "{WHEEL_IDENTITY}", issuer = "{WHEEL_ISSUER}" }} }}'


def _project(root: Path, mode: str, dep: str = '"==0.1.2"') -> Path:
    write_project(root, {}, extra_python=f'attestations = "{mode}"')
    with (root / "mochi.toml").open("a") as fh:
        fh.write(f"rfc8785 = {dep}\n")
    return root


def _fetches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import wasmtool.ops.attest as attest

    calls: list[str] = []
    real = attest._fetch

    def counting(client: Any, name: str, filename: str) -> Any:
        calls.append(filename)
        return real(client, name, filename)

    monkeypatch.setattr(attest, "_fetch", counting)
    return calls


def _lock(root: Path, cache: Path, index: AttestIndex, **opts: Any) -> bytes:
    from wasmtool.ops.attest import AttestOptions
    from wasmtool.ops.lock import run_lock

    (root / "mochi.lock").unlink(missing_ok=True)
    with Context.open(root, cache_dir=cache, index_url=index.url) as ctx:
        run_lock(ctx, attest=AttestOptions(**opts))
    return (root / "mochi.lock").read_bytes()


def _records(cache: Path) -> list[Path]:
    return sorted((cache / "verdicts" / "noattest").glob("*.json"))


def test_warn_reuses_a_negative_lookup_and_writes_the_same_lock(tmp_path: Path, index: AttestIndex,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root, cache = _project(tmp_path / "p", "warn"), tmp_path / "cache"
    calls = _fetches(monkeypatch)
    first = _lock(root, cache, index)
    assert calls == [WHEEL.name]
    assert len(_records(cache)) == 1
    second = _lock(root, cache, index)
    assert calls == [WHEEL.name]           # not asked again
    assert second == first
    assert "attestation-verified" not in first.decode()


def test_require_and_a_pin_ask_again_and_record_an_attestation_added_since(
        tmp_path: Path, index: AttestIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    root, cache = _project(tmp_path / "p", "warn"), tmp_path / "cache"
    _lock(root, cache, index)
    assert len(_records(cache)) == 1
    index.provenance[WHEEL.name] = wheel_provenance()
    calls = _fetches(monkeypatch)
    _project(root, "require", PIN)
    text = _lock(root, cache, index, trust_root="staging").decode()
    assert calls == [WHEEL.name]
    (entry,) = [p for p in tomllib.loads(text)["python-package"] if p["name"] == "rfc8785"]
    assert entry["attestation-verified"] is True and entry["attestation-publisher"] == WHEEL_LABEL


def test_require_is_not_satisfied_by_a_negative_record(tmp_path: Path, index: AttestIndex,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from wasmtool.attest.errors import AttestationMissingError

    root, cache = _project(tmp_path / "p", "warn"), tmp_path / "cache"
    _lock(root, cache, index)
    calls = _fetches(monkeypatch)
    _project(root, "require")
    with pytest.raises(AttestationMissingError):
        _lock(root, cache, index, trust_root="staging")
    assert calls == [WHEEL.name]           # asked the index, which still serves none


@pytest.mark.parametrize("damage", ["expired", "garbage"])
def test_an_expired_or_damaged_record_is_asked_again(tmp_path: Path, index: AttestIndex,
                                                    monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    import wasmtool.ops.attest as attest

    root, cache = _project(tmp_path / "p", "warn"), tmp_path / "cache"
    first = _lock(root, cache, index)
    (record,) = _records(cache)
    if damage == "expired":
        monkeypatch.setattr(attest, "NEGATIVE_TTL", 0.0)
    else:
        record.write_bytes(b"{not json")
    calls = _fetches(monkeypatch)
    assert _lock(root, cache, index) == first
    assert calls == [WHEEL.name]
