"""ArtifactCache: fetch, lookup, add_file, errors, verify_all, info, clean, stale temp files."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest

from wasmtool.cache import ArtifactCache, CachedArtifact, hash_bytes, hash_file
from wasmtool.cache.errors import (
    CachedArtifactMissingError,
    CachedSizeMismatchError,
    CacheLockTimeoutError,
    CacheRefError,
    DownloadError,
    InvalidDigestError,
    InvalidFilenameError,
    OrphanArtifactError,
)
from wasmtool.errors import CacheError, HashMismatchError

from .conftest import Artefact, ArtefactServer, files_under, make_artefact, snapshot, wait_for


def fetch(
    cache: ArtifactCache, url: str, art: Artefact, client: httpx.Client, **kw: object
) -> CachedArtifact:
    return cache.fetch(
        url,
        package=art.package,
        filename=art.filename,
        expected_sha256=str(kw.pop("sha256", art.sha256)),
        opener=client,
        progress=False,
    )


def chunks_opener(data: bytes, *, size: int = 7000, calls: list[str] | None = None) -> object:
    @contextlib.contextmanager
    def opener(url: str) -> Iterator[Iterable[bytes]]:
        if calls is not None:
            calls.append(url)
        yield (data[i : i + size] for i in range(0, len(data), size))

    return opener


def refuse_opener(url: str) -> contextlib.AbstractContextManager[Iterable[bytes]]:
    raise AssertionError(f"opener called for {url} although the artefact is cached")


# -- happy path -------------------------------------------------------------------------------


def test_fetch_then_lookup_over_loopback_http(
    cache: ArtifactCache, server: ArtefactServer, demo: Artefact
) -> None:
    url = server.add(demo)
    assert cache.lookup(demo.sha256) is None
    with httpx.Client() as client:
        art = fetch(cache, url, demo, client)
    assert art.path == cache.root / "wheels" / demo.blake3 / demo.filename
    assert art.path.read_bytes() == demo.data
    assert (art.filename, art.sha256, art.blake3, art.size) == (
        demo.filename,
        demo.sha256,
        demo.blake3,
        len(demo.data),
    )
    ref = json.loads((cache.root / "by-sha256" / f"{demo.sha256}.json").read_text())
    assert ref == {
        "filename": demo.filename,
        "blake3": demo.blake3,
        "sha256": demo.sha256,
        "size": len(demo.data),
        "package": "demo",
    }
    assert cache.lookup(demo.sha256) == art
    assert cache.lookup(demo.sha256.upper(), verify=True) == art
    assert files_under(cache.root / "tmp") == []
    assert server.gets[demo.filename] == 1


def test_second_fetch_is_served_from_the_cache(
    cache: ArtifactCache, server: ArtefactServer, demo: Artefact
) -> None:
    url = server.add(demo)
    with httpx.Client() as client:
        first = fetch(cache, url, demo, client)
        second = fetch(cache, url, demo, client)
    assert first == second
    assert server.gets[demo.filename] == 1
    third = cache.fetch(
        "http://unused.invalid/x",
        package=demo.package,
        filename=demo.filename,
        expected_sha256=demo.sha256,
        opener=refuse_opener,
    )
    assert third == first


def test_fetch_follows_redirects(cache: ArtifactCache, server: ArtefactServer, demo: Artefact) -> None:
    server.add(demo)
    with httpx.Client() as client:
        art = fetch(cache, server.url("r/" + demo.filename), demo, client)
    assert art.path.read_bytes() == demo.data
    assert server.gets[demo.filename] == 1


def test_fetch_with_a_callable_opener(cache: ArtifactCache, demo: Artefact) -> None:
    calls: list[str] = []
    art = cache.fetch(
        "mem://demo",
        package=demo.package,
        filename=demo.filename,
        expected_sha256=demo.sha256,
        opener=chunks_opener(demo.data, calls=calls),  # type: ignore[arg-type]
    )
    assert calls == ["mem://demo"]
    assert hash_file(art.path) == (demo.sha256, demo.blake3)


def test_fetch_file_url_reads_the_local_file(cache: ArtifactCache, tmp_path: Path, demo: Artefact) -> None:
    src = tmp_path / "index" / demo.filename
    src.parent.mkdir()
    src.write_bytes(demo.data)
    art = cache.fetch(
        src.as_uri(),
        package=demo.package,
        filename=demo.filename,
        expected_sha256=demo.sha256,
        opener=refuse_opener,
    )
    assert art.path.read_bytes() == demo.data


def test_add_file_with_and_without_expected_hash(cache: ArtifactCache, tmp_path: Path) -> None:
    a, b = make_artefact("alpha", 2), make_artefact("beta", 3)
    for art in (a, b):
        (tmp_path / art.filename).write_bytes(art.data)
    got_a = cache.add_file(tmp_path / a.filename, package="alpha")
    got_b = cache.add_file(tmp_path / b.filename, package="beta", expected_sha256=b.sha256)
    assert (got_a.sha256, got_a.blake3) == (a.sha256, a.blake3)
    assert (got_b.sha256, got_b.blake3) == (b.sha256, b.blake3)
    assert cache.lookup(a.sha256, verify=True) == got_a
    assert cache.verify_all() == []


def test_same_bytes_under_another_filename(cache: ArtifactCache, demo: Artefact) -> None:
    first = cache.fetch(
        "mem://1",
        package="demo",
        filename=demo.filename,
        expected_sha256=demo.sha256,
        opener=chunks_opener(demo.data),  # type: ignore[arg-type]
    )
    other_name = "demo-1.1-py2.py3-none-any.whl"
    second = cache.fetch(
        "mem://2", package="demo", filename=other_name, expected_sha256=demo.sha256, opener=refuse_opener
    )
    assert second.filename == other_name
    assert second.path.parent == first.path.parent
    assert second.path.read_bytes() == first.path.read_bytes() == demo.data
    assert cache.verify_all() == []


def test_empty_artefact(cache: ArtifactCache) -> None:
    sha, b3 = hash_bytes(b"")
    art = cache.fetch(
        "mem://empty",
        package="e",
        filename="e-0-py3-none-any.whl",
        expected_sha256=sha,
        opener=chunks_opener(b""),  # type: ignore[arg-type]
    )
    assert (art.size, art.blake3) == (0, b3)
    assert cache.lookup(sha, verify=True) == art


# -- failures leave the cache as it was --------------------------------------------------------


def test_hash_mismatch_raises_and_leaves_cache_identical(
    cache: ArtifactCache, server: ArtefactServer, demo: Artefact
) -> None:
    good = make_artefact("good", 9)
    tampered = demo.data[:-1] + bytes([demo.data[-1] ^ 0xFF])
    with httpx.Client() as client:
        fetch(cache, server.add(good), good, client)  # a populated cache
        before = snapshot(cache.root)
        with pytest.raises(HashMismatchError) as info:
            fetch(cache, server.add(demo, tampered), demo, client)
    err = info.value
    assert err.code == "WT301"
    assert err.package == "demo"
    assert err.filename == demo.filename
    assert err.algorithm == "sha256"
    assert err.expected == demo.sha256
    assert err.actual == hash_bytes(tampered)[0] != demo.sha256
    assert demo.filename in str(err)
    assert snapshot(cache.root) == before
    assert cache.lookup(demo.sha256) is None


def test_hash_mismatch_on_an_empty_cache_stores_nothing(cache: ArtifactCache, demo: Artefact) -> None:
    with pytest.raises(HashMismatchError):
        cache.fetch(
            "mem://x",
            package="demo",
            filename=demo.filename,
            expected_sha256="0" * 64,
            opener=chunks_opener(demo.data),  # type: ignore[arg-type]
        )
    for sub in ("wheels", "by-sha256", "tmp"):
        assert files_under(cache.root / sub) == []
    assert [p.name for p in files_under(cache.root / "locks")] in ([], ["cache.lock"])


def test_add_file_with_wrong_expected_hash(cache: ArtifactCache, tmp_path: Path, demo: Artefact) -> None:
    src = tmp_path / demo.filename
    src.write_bytes(demo.data)
    wrong = hash_bytes(b"something else")[0]
    with pytest.raises(HashMismatchError) as info:
        cache.add_file(src, package="demo", expected_sha256=wrong)
    assert (info.value.expected, info.value.actual) == (wrong, demo.sha256)
    assert info.value.file == str(src)
    assert files_under(cache.root / "wheels") == files_under(cache.root / "by-sha256") == []


def test_http_404_is_a_download_error(cache: ArtifactCache, server: ArtefactServer, demo: Artefact) -> None:
    url = server.url(demo.filename)  # not served
    with httpx.Client() as client, pytest.raises(DownloadError) as info:
        fetch(cache, url, demo, client)
    err = info.value
    assert (err.code, err.package, err.filename, err.file) == ("WT304", "demo", demo.filename, url)
    assert isinstance(err.__cause__, httpx.HTTPStatusError)
    assert files_under(cache.root / "tmp") == files_under(cache.root / "wheels") == []


def test_source_failing_mid_stream_is_a_download_error(cache: ArtifactCache, demo: Artefact) -> None:
    @contextlib.contextmanager
    def broken(url: str) -> Iterator[Iterable[bytes]]:
        def body() -> Iterator[bytes]:
            yield demo.data[:1000]
            raise ConnectionResetError("peer reset")

        yield body()

    with pytest.raises(DownloadError) as info:
        cache.fetch(
            "mem://broken",
            package="demo",
            filename=demo.filename,
            expected_sha256=demo.sha256,
            opener=broken,
        )
    assert "peer reset" in str(info.value)
    assert isinstance(info.value.__cause__, ConnectionResetError)
    assert files_under(cache.root / "tmp") == []


def test_missing_local_file(cache: ArtifactCache, tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as info:
        cache.add_file(tmp_path / "nope-1.0-py3-none-any.whl", package="nope")
    assert info.value.filename == "nope-1.0-py3-none-any.whl"


@pytest.mark.parametrize("digest", ["", "abc", "g" * 64, "0" * 63, "0" * 65, "sha256=" + "0" * 64])
def test_invalid_digest(cache: ArtifactCache, digest: str) -> None:
    with pytest.raises(InvalidDigestError):
        cache.lookup(digest)
    with pytest.raises(ValueError):  # also a ValueError
        cache.fetch("mem://x", package="p", filename="p.whl", expected_sha256=digest, opener=refuse_opener)


@pytest.mark.parametrize("filename", ["", ".", "..", "a/b.whl", "..\\x.whl", ".hidden.whl", "a\0.whl"])
def test_invalid_filename(cache: ArtifactCache, filename: str) -> None:
    with pytest.raises(InvalidFilenameError) as info:
        cache.fetch("mem://x", package="p", filename=filename, expected_sha256="0" * 64, opener=refuse_opener)
    assert info.value.package == "p"
    assert not cache.root.exists()


# -- corruption is detected, never served -----------------------------------------------------


@pytest.fixture
def stored(cache: ArtifactCache, demo: Artefact) -> CachedArtifact:
    return cache.fetch(
        "mem://demo",
        package="demo",
        filename=demo.filename,
        expected_sha256=demo.sha256,
        opener=chunks_opener(demo.data),  # type: ignore[arg-type]
    )


def test_flipped_byte_detected_by_verify(cache: ArtifactCache, stored: CachedArtifact) -> None:
    data = bytearray(stored.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.path.write_bytes(bytes(data))
    with pytest.raises(HashMismatchError) as info:
        cache.lookup(stored.sha256, verify=True)
    assert info.value.algorithm == "sha256"
    assert info.value.package == "demo"
    assert info.value.file == str(stored.path)
    problems = cache.verify_all()
    assert [p.code for p in problems] == ["WT301"]
    assert problems[0].path == stored.path


def test_lookup_many_is_lookup_of_each(cache: ArtifactCache, stored: CachedArtifact, demo: Artefact) -> None:
    absent = make_artefact("absent", 7)
    given = demo.sha256.upper()      # keyed as given, looked up normalised
    assert cache.lookup_many([given, absent.sha256]) == {given: stored}
    assert cache.lookup_many([absent.sha256]) == {}
    stored.path.write_bytes(stored.path.read_bytes()[: stored.size // 2])
    with pytest.raises(CachedSizeMismatchError):  # a wrong file is never served
        cache.lookup_many([demo.sha256])


def test_lookup_many_of_an_empty_cache_creates_nothing(cache: ArtifactCache, demo: Artefact) -> None:
    assert cache.lookup_many([demo.sha256]) == {}
    assert not cache.root.exists()


def test_truncated_file_detected_by_plain_lookup(
    cache: ArtifactCache, stored: CachedArtifact, demo: Artefact
) -> None:
    stored.path.write_bytes(stored.path.read_bytes()[: stored.size // 2])
    with pytest.raises(CachedSizeMismatchError) as info:
        cache.lookup(stored.sha256)
    assert isinstance(info.value, HashMismatchError)
    assert (info.value.expected, info.value.actual) == (str(stored.size), str(stored.size // 2))
    assert [p.code for p in cache.verify_all()] == ["WT303"]
    # fetch repairs the entry instead of serving it
    calls: list[str] = []
    again = cache.fetch(
        "mem://again",
        package="demo",
        filename=demo.filename,
        expected_sha256=demo.sha256,
        opener=chunks_opener(demo.data, calls=calls),  # type: ignore[arg-type]
    )
    assert calls == ["mem://again"]
    assert again == stored
    assert cache.verify_all() == []


def test_missing_artefact_file(cache: ArtifactCache, stored: CachedArtifact, demo: Artefact) -> None:
    stored.path.unlink()
    with pytest.raises(CachedArtifactMissingError):
        cache.lookup(stored.sha256)
    assert [p.code for p in cache.verify_all()] == ["WT306"]
    cache.fetch(
        "mem://again",
        package="demo",
        filename=demo.filename,
        expected_sha256=demo.sha256,
        opener=chunks_opener(demo.data),  # type: ignore[arg-type]
    )
    assert cache.lookup(stored.sha256, verify=True) == stored


@pytest.mark.parametrize(
    "ref_text",
    [
        "{not json",
        "[]",
        '{"filename": "x.whl"}',
        json.dumps({"filename": "../x", "blake3": "0" * 64, "sha256": "0" * 64, "size": 1, "package": "p"}),
    ],
)
def test_bad_ref(cache: ArtifactCache, stored: CachedArtifact, ref_text: str) -> None:
    cache.ref_path(stored.sha256).write_text(ref_text)
    with pytest.raises(CacheRefError):
        cache.lookup(stored.sha256)
    assert [p.code for p in cache.verify_all()] == ["WT305", "WT311"]  # bad ref; its file is orphaned


def test_ref_for_another_sha(cache: ArtifactCache, stored: CachedArtifact) -> None:
    other = hash_bytes(b"other")[0]
    cache.ref_path(stored.sha256).rename(cache.ref_path(other))
    with pytest.raises(CacheRefError, match="does not match"):
        cache.lookup(other)


def test_orphan_and_misplaced_files_are_reported(cache: ArtifactCache, stored: CachedArtifact) -> None:
    orphan_dir = cache.root / "wheels" / hash_bytes(b"orphan")[1]
    orphan_dir.mkdir()
    (orphan_dir / "o-1-py3-none-any.whl").write_bytes(b"orphan")
    # a second name inside a referenced folder whose bytes do not hash to the folder name
    (stored.path.parent / "impostor.whl").write_bytes(b"not the same bytes")
    problems = cache.verify_all()
    by_code = sorted((p.code, p.path.name) for p in problems)
    assert by_code == [("WT301", "impostor.whl"), ("WT311", "o-1-py3-none-any.whl")]
    assert all(isinstance(p.error, CacheError) for p in problems)
    assert isinstance(problems[[p.code for p in problems].index("WT311")].error, OrphanArtifactError)


# -- info, clean, stale temp files ------------------------------------------------------------


def _store_many(cache: ArtifactCache, arts: list[Artefact]) -> list[CachedArtifact]:
    return [
        cache.fetch(
            f"mem://{a.filename}",
            package=a.package,
            filename=a.filename,
            expected_sha256=a.sha256,
            opener=chunks_opener(a.data),  # type: ignore[arg-type]
        )
        for a in arts
    ]


def test_info_on_missing_empty_and_populated_cache(cache: ArtifactCache) -> None:
    info = cache.info()
    assert (info.root, info.artefacts, info.bytes, info.tmp_files) == (cache.root, 0, 0, 0)
    arts = [make_artefact(f"p{i}", i, size=1000 * (i + 1)) for i in range(3)]
    _store_many(cache, arts)
    (cache.root / "tmp" / ("0" * 64 + ".x.part")).write_bytes(b"partial")
    info = cache.info()
    assert info.artefacts == 3
    assert info.bytes == sum(len(a.data) for a in arts)
    assert info.tmp_files == 1
    assert not (cache.root.parent / "never").exists()
    assert ArtifactCache(cache.root.parent / "never").info().artefacts == 0
    assert not (cache.root.parent / "never").exists()  # info creates nothing


def test_clean_removes_everything(cache: ArtifactCache) -> None:
    arts = [make_artefact(f"p{i}", i, size=5000) for i in range(3)]
    _store_many(cache, arts)
    (cache.root / "tmp" / "leftover.part").write_bytes(b"x")
    assert cache.clean() == 4  # 3 artefacts + 1 temp file
    info = cache.info()
    assert (info.artefacts, info.bytes, info.tmp_files) == (0, 0, 0)
    assert files_under(cache.root / "by-sha256") == []
    assert [p.name for p in files_under(cache.root / "locks")] == ["cache.lock"]
    assert all(cache.lookup(a.sha256) is None for a in arts)
    assert cache.clean() == 0
    assert ArtifactCache(cache.root.parent / "never").clean() == 0


def test_clean_removes_what_was_derived_from_artefacts_but_not_a_build_in_progress(cache: ArtifactCache) -> None:
    (kept, gone) = _store_many(cache, [make_artefact("kept", 1), make_artefact("gone", 2)])
    derived = {
        "stubs/k1.json": b"{}", "surfaces/k2.json": b"{}", "workspaces/k3.json": b"{}",
        "summaries/s.json": b"{}", "verdicts/audit/v.json": b"{}", "components/abc/component.wasm": b"\0asm",
        "components/abc/build.json": b"{}", "declarations/d.d.ts": b"", "pyodide-bytecode/b.zip": b"",
        "builds/x.json": b"{}",
    }
    for rel, data in derived.items():
        (cache.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (cache.root / rel).write_bytes(data)
    in_progress = cache.root / "components" / ".tmp-abc-123" / "src" / "app.py"
    in_progress.parent.mkdir(parents=True)
    in_progress.write_text("")
    just_made = cache.root / "components" / ".tmp-def-456"     # a build's folder right after mkdtemp
    just_made.mkdir()
    outside = cache.root.parent / "outside"
    (outside / "keep.txt").parent.mkdir(parents=True, exist_ok=True)
    (outside / "keep.txt").write_text("not the cache's")
    (cache.root / "surfaces" / "link").symlink_to(outside, target_is_directory=True)
    cache.write_sidecar(kept.sha256, "provenance", b"{}")
    cache.write_sidecar(gone.sha256, "provenance", b"{}")

    long_ago = time.time() - 3 * 86400
    for p in (gone.path, cache.ref_path(gone.sha256), cache.root / "stubs" / "k1.json"):
        os.utime(p, (long_ago, long_ago))
    # older_than: the old artefact, its sidecar and the old derived entry go; recent ones stay
    assert cache.clean(older_than=86400) == 3
    assert not (cache.root / "stubs" / "k1.json").exists() and (cache.root / "surfaces" / "k2.json").exists()
    assert cache.read_sidecar(gone.sha256, "provenance") is None
    assert cache.read_sidecar(kept.sha256, "provenance") == b"{}"

    # a plain clean empties the cache, except a component build another process is writing
    # (a link goes as itself: what it points at is not the cache's)
    assert cache.clean() == 1 + len(derived) - 1 + 1 + 1  # the artefact, derived files left, the sidecar, the link
    assert [p.relative_to(cache.root).as_posix() for p in files_under(cache.root)
            if "locks" not in p.parts] == ["components/.tmp-abc-123/src/app.py"]
    assert just_made.is_dir() and (outside / "keep.txt").read_text() == "not the cache's"
    # once it is older than `stale_after`, the abandoned build goes too
    for p in (in_progress, in_progress.parent, in_progress.parent.parent, just_made):
        os.utime(p, (long_ago, long_ago))
    assert cache.clean() == 1
    assert not (cache.root / "components" / ".tmp-abc-123").exists() and not just_made.exists()


def test_clean_older_than_keeps_recent_entries(cache: ArtifactCache) -> None:
    old, recent = _store_many(cache, [make_artefact("old", 1), make_artefact("recent", 2)])
    long_ago = time.time() - 3 * 86400
    for p in (old.path, cache.ref_path(old.sha256)):
        os.utime(p, (long_ago, long_ago))
    assert cache.clean(older_than=86400) == 1
    assert cache.lookup(old.sha256) is None
    assert not old.path.exists()
    assert cache.lookup(recent.sha256, verify=True) == recent
    assert cache.verify_all() == []


def test_clean_older_than_counts_a_cache_hit_as_use(cache: ArtifactCache) -> None:
    art = make_artefact("used", 1)
    (stored,) = _store_many(cache, [art])
    long_ago = time.time() - 3 * 86400
    for p in (stored.path, cache.ref_path(stored.sha256)):
        os.utime(p, (long_ago, long_ago))
    _store_many(cache, [art])  # a hit refreshes "last used"
    assert cache.clean(older_than=86400) == 0
    assert cache.lookup(stored.sha256) == stored


def test_clean_waits_for_a_running_fetch(tmp_path: Path, server: ArtefactServer, demo: Artefact) -> None:
    root = tmp_path / "cache"
    url = server.add(demo)
    server.stall_after[demo.filename] = len(demo.data) // 2
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with httpx.Client() as client:
                fetch(ArtifactCache(root), url, demo, client)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert server.stalled.wait(10)
        with pytest.raises(CacheLockTimeoutError) as info:
            ArtifactCache(root, lock_timeout=0.2).clean()
        assert info.value.code == "WT307"
        assert len(files_under(root / "tmp")) == 1  # clean touched nothing
    finally:
        server.release()
        thread.join(10)
    # the server closed the stalled body early: the fetch fails cleanly
    assert len(errors) == 1
    assert isinstance(errors[0], DownloadError)
    assert files_under(root / "tmp") == files_under(root / "wheels") == []


def test_stale_tmp_sweep(cache: ArtifactCache, demo: Artefact) -> None:
    _store_many(cache, [demo])
    tmp = cache.root / "tmp"
    old = time.time() - 7200
    sha_a, sha_b, sha_c = (hash_bytes(bytes([i]))[0] for i in range(3))
    stale = tmp / f"{sha_a}.abc.part"
    locked = tmp / f"{sha_b}.def.part"
    fresh = tmp / f"{sha_c}.ghi.part"
    foreign = tmp / "something-else"
    for p in (stale, locked, fresh, foreign):
        p.write_bytes(b"partial")
    for p in (stale, locked, foreign):
        os.utime(p, (old, old))
    import filelock

    with filelock.FileLock(str(cache.root / "locks" / f"{sha_b}.lock")):
        assert cache.clean_stale_tmp() == 2
    assert sorted(p.name for p in files_under(tmp)) == sorted([locked.name, fresh.name])
    assert cache.clean_stale_tmp() == 1  # the lock is free now
    assert cache.clean_stale_tmp(max_age=0) == 1
    assert files_under(tmp) == []
    assert cache.verify_all() == []


def test_fetch_sweeps_stale_tmp(cache: ArtifactCache, demo: Artefact) -> None:
    tmp = cache.root / "tmp"
    tmp.mkdir(parents=True)
    abandoned = tmp / f"{demo.sha256}.zzz.part"
    abandoned.write_bytes(b"half")
    old = time.time() - 2 * cache.stale_after
    os.utime(abandoned, (old, old))
    _store_many(cache, [demo])
    assert not abandoned.exists()
    assert files_under(tmp) == []


def test_concurrent_threads_download_once(cache: ArtifactCache, server: ArtefactServer) -> None:
    arts = [make_artefact(f"t{i}", 40 + i) for i in range(2)]
    urls = [server.add(a) for a in arts]
    server.chunk_delay = 0.005
    results: list[CachedArtifact] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def run(i: int) -> None:
        try:
            start.wait()
            with httpx.Client() as client:
                a = arts[i % 2]
                results.append(fetch(ArtifactCache(cache.root), urls[i % 2], a, client))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []
    assert len(results) == 6
    assert {r.sha256 for r in results} == {a.sha256 for a in arts}
    assert all(server.gets[a.filename] == 1 for a in arts)
    assert cache.verify_all() == []


def test_wait_helper_fails_instead_of_hanging() -> None:
    with pytest.raises(pytest.fail.Exception):
        wait_for(lambda: False, timeout=0.05, what="never")


def test_discard_added_takes_back_only_what_this_cache_object_stored(cache: ArtifactCache, demo: Artefact) -> None:
    """A command that fails after a download for a reason found in the file (an attestation that
    does not verify) leaves the cache as it was: its own download goes, an older entry stays."""
    def store(c: ArtifactCache) -> Path:
        return c.fetch("mem://demo", package=demo.package, filename=demo.filename, expected_sha256=demo.sha256,
                       opener=chunks_opener(demo.data)).path  # type: ignore[arg-type]

    path = store(cache)
    assert cache.discard_added(demo.sha256) is True
    assert cache.lookup(demo.sha256) is None and not path.exists() and not path.parent.exists()
    assert cache.discard_added(demo.sha256) is False            # nothing of this object's left

    store(cache)
    other = ArtifactCache(cache.root)                           # another command: found, not stored
    assert other.fetch("mem://demo", package=demo.package, filename=demo.filename, expected_sha256=demo.sha256,
                       opener=refuse_opener).path == path
    assert other.discard_added(demo.sha256) is False
    assert cache.lookup(demo.sha256) is not None
