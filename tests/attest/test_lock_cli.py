"""End to end through the CLI on a hermetic index serving the recorded rfc8785 wheel and its
attestation: lock records the verified publisher, verify reports it, install re-verifies
offline, and every bad case fails with its own code leaving mochi.lock and the cache as
they were."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.attest.attest_index import (
    PUBLISH,
    SDIST,
    SDIST_ATTESTATION,
    SDIST_LABEL,
    SDIST_PROVENANCE,
    WHEEL,
    WHEEL_ATTESTATION,
    WHEEL_IDENTITY,
    WHEEL_ISSUER,
    WHEEL_LABEL,
    AttestIndex,
    altered_statement,
    flipped,
    require_fixtures,
    served,
    sha256,
    wheel_provenance,
)
from tests.conftest import run_cli, tree_snapshot, write_project

PIN = f'{{ version = "==0.1.2", trusted-publisher = {{ identity = "{WHEEL_IDENTITY}", issuer = "{WHEEL_ISSUER}" }} }}'


@pytest.fixture
def index() -> Iterator[AttestIndex]:
    require_fixtures()
    with AttestIndex({"rfc8785": [served(WHEEL, "rfc8785")]}) as srv:
        srv.provenance[WHEEL.name] = wheel_provenance()
        yield srv


def _project(root: Path, *, mode: str = "require", dep: str = PIN) -> Path:
    write_project(root, {}, extra_python=f'attestations = "{mode}"')
    with (root / "mochi.toml").open("a") as fh:
        fh.write(f"rfc8785 = {dep}\n")
    return root


def _entry(root: Path) -> dict[str, object]:
    lock = tomllib.loads((root / "mochi.lock").read_text())
    (entry,) = [p for p in lock["python-package"] if p["name"] == "rfc8785"]
    return entry


def _cli(args: list[str], root: Path, cache: Path, index: AttestIndex):  # type: ignore[no-untyped-def]
    return run_cli(["-C", str(root), *args], cache=cache, index_url=index.url)


def test_lock_require_records_the_publisher_verify_and_offline_install(tmp_path: Path, index: AttestIndex) -> None:
    root, cache = _project(tmp_path / "p"), tmp_path / "cache"
    proc = _cli(["lock", "--trust-root", "staging"], root, cache, index)
    assert proc.returncode == 0, proc.stderr
    entry = _entry(root)
    assert entry["attestation-publisher"] == WHEEL_LABEL
    assert entry["attestation-predicate"] == PUBLISH
    assert entry["attestation-trust-root"] == "staging"
    assert entry["attestation-verified"] is True
    assert entry["attestation-bundle"] == sha256(index.provenance[WHEEL.name])
    assert (cache / "sidecars" / f"{sha256(WHEEL.read_bytes())}.provenance").read_bytes() == \
        index.provenance[WHEEL.name]
    first = (root / "mochi.lock").read_bytes()

    # verify: from the cache, no request to the index
    before = len(index.behaviour.requests)
    proc = _cli(["verify", "--json"], root, cache, index)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["files"]
    assert [(r["name"], r["status"], r["publisher"], r["trust-root"]) for r in rows] == \
        [("rfc8785", "verified", WHEEL_LABEL, "staging")]
    assert len(index.behaviour.requests) == before

    # lock --check agrees; a second lock changes nothing (deterministic)
    assert _cli(["lock", "--check"], root, cache, index).returncode == 0
    assert _cli(["lock", "--upgrade", "--trust-root", "staging"], root, cache, index).returncode == 0
    assert (root / "mochi.lock").read_bytes() == first

    # install with the index gone: verified again from the cache, offline
    index.stop()
    proc = run_cli(["-C", str(root), "install", "--no-bind", "--frozen"], cache=cache,
                   index_url="http://127.0.0.1:9/simple/")
    assert proc.returncode == 0, proc.stderr

    # the cached provenance altered: install refuses it
    side = cache / "sidecars" / f"{sha256(WHEEL.read_bytes())}.provenance"
    side.write_bytes(side.read_bytes() + b" ")
    proc = run_cli(["-C", str(root), "install", "--no-bind", "--frozen"], cache=cache,
                   index_url="http://127.0.0.1:9/simple/")
    assert proc.returncode != 0 and "WT283" in proc.stderr and WHEEL.name in proc.stderr
    side.unlink()
    proc = run_cli(["-C", str(root), "install", "--no-bind", "--frozen"], cache=cache,
                   index_url="http://127.0.0.1:9/simple/")
    assert proc.returncode != 0 and "WT282" in proc.stderr


def test_require_without_attestations_fails_warn_warns_off_fetches_nothing(tmp_path: Path,
                                                                            index: AttestIndex) -> None:
    index.provenance.clear()  # the page gives no provenance URL
    cache = tmp_path / "cache"
    root = _project(tmp_path / "req", dep='"==0.1.2"')
    proc = _cli(["lock", "--trust-root", "staging"], root, cache, index)
    assert proc.returncode != 0 and "WT271" in proc.stderr and WHEEL.name in proc.stderr
    assert not (root / "mochi.lock").exists()

    root = _project(tmp_path / "warn", mode="warn", dep='"==0.1.2"')
    proc = _cli(["lock"], root, cache, index)
    assert proc.returncode == 0, proc.stderr
    assert f"1 file(s) locked for native have no PEP 740 attestation (attestations = \"warn\"): {WHEEL.name}" \
        in proc.stderr
    assert "attestation-verified" not in _entry(root)
    report = _cli(["verify", "--json"], root, cache, index)
    assert report.returncode == 0, report.stderr
    assert [(r["name"], r["status"]) for r in json.loads(report.stdout)["files"]] == [("rfc8785", "unattested")]
    proc = _cli(["lock", "--require-attestations"], root, cache, index)
    assert proc.returncode != 0 and "WT271" in proc.stderr

    index.provenance[WHEEL.name] = wheel_provenance()
    root = _project(tmp_path / "off", mode="off", dep='"==0.1.2"')
    proc = _cli(["lock"], root, cache, index)
    assert proc.returncode == 0, proc.stderr
    assert index.provenance_requests() == 0
    assert "attestation-verified" not in _entry(root)


def _bad_case(tmp_path: Path, index: AttestIndex, *, dep: str = PIN) -> tuple[Path, Path, dict[str, bytes]]:
    """A project locked with attestations off (the wheel is in the cache), then set to require."""
    cache = tmp_path / "cache"
    root = _project(tmp_path / "p", mode="off", dep=dep)
    assert _cli(["lock"], root, cache, index).returncode == 0
    text = (root / "mochi.toml").read_text().replace('attestations = "off"', 'attestations = "require"')
    (root / "mochi.toml").write_text(text)
    return root, cache, {**tree_snapshot(root), **{f"cache/{k}": v for k, v in tree_snapshot(cache).items()}}


#: case -> (code, how the index misbehaves, trust root). The sdist's provenance is served for
#: the wheel under the production root its signature verifies on: only the subject is wrong.
BAD_CASES = {
    "404": ("WT271", lambda s: s.provenance_status.__setitem__(WHEEL.name, 404), "staging"),
    "500": ("WT272", lambda s: s.provenance_status.__setitem__(WHEEL.name, 500), "staging"),
    "malformed-json": ("WT274", lambda s: s.provenance.__setitem__(WHEEL.name, b'{"version": 1, "attestation_'),
                       "staging"),
    "altered-statement": ("WT277", lambda s: s.provenance.__setitem__(
        WHEEL.name, wheel_provenance(altered_statement(WHEEL_ATTESTATION.read_bytes()))), "staging"),
    "another-file": ("WT276", lambda s: s.provenance.__setitem__(WHEEL.name, SDIST_PROVENANCE.read_bytes()),
                     "production"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_provenance_fails_with_its_code_and_changes_nothing(case: str, tmp_path: Path,
                                                               index: AttestIndex) -> None:
    code, breaks, trust_root = BAD_CASES[case]
    root, cache, before = _bad_case(tmp_path, index)
    breaks(index)
    proc = _cli(["lock", "--upgrade", "--trust-root", trust_root], root, cache, index)
    assert proc.returncode != 0 and code in proc.stderr and WHEEL.name in proc.stderr, proc.stderr
    after = {**tree_snapshot(root), **{f"cache/{k}": v for k, v in tree_snapshot(cache).items()}}
    assert {k: v for k, v in after.items() if "/locks/" not in k} == \
        {k: v for k, v in before.items() if "/locks/" not in k}


def test_wrong_identity_fails_naming_expected_and_actual(tmp_path: Path, index: AttestIndex) -> None:
    wrong = PIN.replace(WHEEL_IDENTITY, "fake@example.com")
    root, cache, before = _bad_case(tmp_path, index, dep=wrong)
    proc = _cli(["lock", "--upgrade", "--trust-root", "staging"], root, cache, index)
    assert proc.returncode != 0 and "WT278" in proc.stderr
    assert "fake@example.com" in proc.stderr and WHEEL_IDENTITY in proc.stderr and WHEEL.name in proc.stderr
    after = {**tree_snapshot(root), **{f"cache/{k}": v for k, v in tree_snapshot(cache).items()}}
    assert {k: v for k, v in after.items() if "/locks/" not in k} == \
        {k: v for k, v in before.items() if "/locks/" not in k}


def test_production_root_fails_for_a_staging_signature(tmp_path: Path, index: AttestIndex) -> None:
    root, cache = _project(tmp_path / "p"), tmp_path / "cache"
    proc = _cli(["lock"], root, cache, index)
    assert proc.returncode != 0 and "WT277" in proc.stderr and "production" in proc.stderr


def test_flipped_byte_served_file_fails_on_the_digest(tmp_path: Path, index: AttestIndex) -> None:
    index.replace_file("rfc8785", served(WHEEL, "rfc8785", flipped(WHEEL.read_bytes()), folder=tmp_path / "srv"))
    root, cache = _project(tmp_path / "p"), tmp_path / "cache"
    proc = _cli(["lock", "--trust-root", "staging"], root, cache, index)
    assert proc.returncode != 0 and "WT275" in proc.stderr and WHEEL.name in proc.stderr, proc.stderr
    assert not (root / "mochi.lock").exists() and not (cache / "sidecars").exists()
    # the file this lock downloaded (it matched the index's own hash) is not kept either
    kept = sorted(k for k in tree_snapshot(cache) if k.startswith(("wheels/", "by-sha256/")))
    assert kept == [], kept
    wheels = cache / "wheels"
    assert not wheels.exists() or not any(wheels.rglob("*")), list(wheels.rglob("*"))


def test_publisher_drift_fails_unless_accepted(tmp_path: Path, index: AttestIndex) -> None:
    root, cache = _project(tmp_path / "p"), tmp_path / "cache"
    assert _cli(["lock", "--trust-root", "staging"], root, cache, index).returncode == 0
    lock_path = root / "mochi.lock"
    # the lock remembers another publisher for rfc8785 (as if an earlier release was signed by it)
    lock_path.write_text(lock_path.read_text().replace(WHEEL_LABEL, "github:someone/else"))
    drifted = lock_path.read_bytes()
    proc = _cli(["lock", "--upgrade", "--trust-root", "staging"], root, cache, index)
    assert proc.returncode != 0 and "WT279" in proc.stderr
    assert f"publisher changed for rfc8785: github:someone/else \u2192 {WHEEL_LABEL}" in proc.stderr
    assert lock_path.read_bytes() == drifted
    check = _cli(["lock", "--check", "--trust-root", "staging"], root, cache, index)
    assert check.returncode != 0 and "WT279" in check.stderr
    proc = _cli(["lock", "--upgrade", "--trust-root", "staging", "--accept-publisher-change", "rfc8785"],
                root, cache, index)
    assert proc.returncode == 0, proc.stderr
    assert _entry(root)["attestation-publisher"] == WHEEL_LABEL


def test_lock_check_fails_when_the_recorded_publisher_no_longer_verifies(tmp_path: Path,
                                                                        index: AttestIndex) -> None:
    root, cache = _project(tmp_path / "p"), tmp_path / "cache"
    assert _cli(["lock", "--trust-root", "staging"], root, cache, index).returncode == 0
    toml = root / "mochi.toml"
    toml.write_text(toml.read_text().replace(WHEEL_IDENTITY, "fake@example.com"))
    proc = _cli(["lock", "--check", "--trust-root", "staging"], root, cache, index)
    assert proc.returncode != 0 and "WT278" in proc.stderr
    proc = _cli(["verify"], root, cache, index)
    assert proc.returncode != 0 and "WT278" in proc.stderr and "failed" in proc.stdout


def test_verify_one_file_on_disk(tmp_path: Path, index: AttestIndex) -> None:
    ok = _cli(["verify", str(SDIST), "--attestation", str(SDIST_ATTESTATION), "--json"], tmp_path, tmp_path / "c",
              index)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["publisher"] == SDIST_LABEL
    ok = _cli(["verify", str(SDIST), "--attestation", str(SDIST_PROVENANCE)], tmp_path, tmp_path / "c", index)
    assert ok.returncode == 0 and SDIST_LABEL in ok.stdout
    ok = _cli(["verify", str(WHEEL), "--attestation", str(WHEEL_ATTESTATION), "--trust-root", "staging",
               "--identity", WHEEL_IDENTITY, "--issuer", WHEEL_ISSUER], tmp_path, tmp_path / "c", index)
    assert ok.returncode == 0, ok.stderr
    bad = tmp_path / WHEEL.name
    bad.write_bytes(flipped(WHEEL.read_bytes()))
    proc = _cli(["verify", str(bad), "--attestation", str(WHEEL_ATTESTATION), "--trust-root", "staging"],
                tmp_path, tmp_path / "c", index)
    assert proc.returncode != 0 and "WT275" in proc.stderr and WHEEL.name in proc.stderr
    proc = _cli(["verify", str(WHEEL), "--attestation", str(WHEEL_ATTESTATION), "--trust-root", "staging",
                 "--identity", "fake@example.com", "--issuer", WHEEL_ISSUER], tmp_path, tmp_path / "c", index)
    assert proc.returncode != 0 and "WT278" in proc.stderr
    proc = _cli(["verify", str(SDIST), "--attestation", str(SDIST_ATTESTATION), "--trust-root", "staging"],
                tmp_path, tmp_path / "c", index)
    assert proc.returncode != 0 and "WT277" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_provenance_timeout_fails_with_its_code_and_changes_nothing(tmp_path: Path, index: AttestIndex) -> None:
    root, cache, before = _bad_case(tmp_path, index)
    index.provenance_delay[WHEEL.name] = 3
    proc = run_cli(["-C", str(root), "lock", "--upgrade", "--trust-root", "staging"], cache=cache,
                   index_url=index.url, env={"WASMTOOL_PROVENANCE_TIMEOUT": "0.5"})
    assert proc.returncode != 0 and "WT273" in proc.stderr and WHEEL.name in proc.stderr, proc.stderr
    assert index.provenance_requests() == 4  # the first try and three retries
    after = {**tree_snapshot(root), **{f"cache/{k}": v for k, v in tree_snapshot(cache).items()}}
    assert {k: v for k, v in after.items() if "/locks/" not in k} == \
        {k: v for k, v in before.items() if "/locks/" not in k}
    bad = run_cli(["-C", str(root), "lock"], cache=cache, index_url=index.url,
                  env={"WASMTOOL_PROVENANCE_TIMEOUT": "soon"})
    assert bad.returncode == 2 and "WASMTOOL_PROVENANCE_TIMEOUT" in bad.stderr
