"""Crash safety and cross-process locking, with real child processes (the venv's interpreter)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.skip_policy import POSIX_ONLY
from wasmtool.cache import ArtifactCache, hash_file

from .conftest import (
    ArtefactServer,
    child_command,
    child_env,
    files_under,
    make_artefact,
    wait_for,
)

pytestmark = POSIX_ONLY  # SIGKILL and flock semantics


def _jobs(path: Path, jobs: list[dict[str, str]]) -> Path:
    path.write_text(json.dumps(jobs))
    return path


def test_kill_mid_download_leaves_nothing_visible(tmp_path: Path, server: ArtefactServer) -> None:
    root = tmp_path / "cache"
    art = make_artefact("big", 7, size=400_000)
    url = server.add(art)
    half = len(art.data) // 2
    server.stall_after[art.filename] = half
    jobs = _jobs(
        tmp_path / "jobs.json",
        [{"url": url, "package": art.package, "filename": art.filename, "sha256": art.sha256}],
    )
    child = subprocess.Popen(
        child_command(root, jobs), env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:

        def half_arrived() -> bool:
            if child.poll() is not None:
                pytest.fail(f"child exited early: {child.communicate()}")
            parts = list((root / "tmp").glob("*.part")) if (root / "tmp").is_dir() else []
            return any(p.stat().st_size >= half for p in parts)

        wait_for(half_arrived, what="half of the body in tmp/")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL

    # nothing visible, only the abandoned temp file
    assert files_under(root / "wheels") == []
    assert files_under(root / "by-sha256") == []
    (part,) = files_under(root / "tmp")
    assert part.name.startswith(art.sha256 + ".")
    assert part.stat().st_size == half
    cache = ArtifactCache(root)
    assert cache.lookup(art.sha256) is None
    assert cache.info().artefacts == 0

    # a second fetch completes and verifies; the dead child's lock is gone with it
    del server.stall_after[art.filename]
    with httpx.Client() as client:
        got = cache.fetch(
            url, package=art.package, filename=art.filename, expected_sha256=art.sha256, opener=client
        )
    assert hash_file(got.path) == (art.sha256, art.blake3)
    assert cache.lookup(art.sha256, verify=True) == got
    assert server.gets[art.filename] == 2
    # the abandoned temp file is not locked by anyone: a sweep removes it
    assert part.exists()
    assert cache.clean_stale_tmp(max_age=0) == 1
    assert files_under(root / "tmp") == []
    assert cache.verify_all() == []


def test_four_processes_share_one_cache(tmp_path: Path, server: ArtefactServer) -> None:
    root = tmp_path / "cache"
    arts = [make_artefact(f"p{i}", 100 + i, size=120_000) for i in range(4)]
    specs = [
        {"url": server.add(a), "package": a.package, "filename": a.filename, "sha256": a.sha256} for a in arts
    ]
    server.chunk_delay = 0.01  # long enough bodies that the children overlap
    go = tmp_path / "go"
    children: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(4):
            # child i wants every artefact, starting with artefact i: each is contended
            order = specs[i:] + specs[:i]
            jobs = _jobs(tmp_path / f"jobs{i}.json", order)
            ready = tmp_path / f"ready{i}"
            children.append(
                subprocess.Popen(
                    [*child_command(root, jobs), str(ready), str(go)],
                    env=child_env(),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )
        wait_for(lambda: all((tmp_path / f"ready{i}").exists() for i in range(4)), what="children ready")
        go.touch()
        outputs = [c.communicate(timeout=30) for c in children]
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()
                c.communicate()
    for c, (_out, err) in zip(children, outputs, strict=True):
        assert c.returncode == 0, err.decode()
    results = [sorted(map(tuple, json.loads(out))) for out, _ in outputs]
    assert all(r == results[0] for r in results)
    expected = sorted((a.sha256, a.blake3, len(a.data)) for a in arts)
    assert [r[:3] for r in results[0]] == expected
    # the per-artefact lock made every artefact download exactly once
    assert {a.filename: server.gets[a.filename] for a in arts} == {a.filename: 1 for a in arts}
    cache = ArtifactCache(root)
    assert cache.verify_all() == []
    info = cache.info()
    assert (info.artefacts, info.bytes, info.tmp_files) == (4, sum(len(a.data) for a in arts), 0)
