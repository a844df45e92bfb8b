"""Packages published only as source (docs/builds.md), end to end through the CLI against the
hermetic index: docopt (an sdist and nothing else; its backend, setuptools, is pinned too) is
built once into a pure wheel that every target locks; the lock pins the sdist and records the
wheel as built from it; `install` on a cold cache rebuilds and compares; `--no-build` refuses.
A C extension made in the test builds natively only under `build = "all"` and never for a wasm
target; a hostile `setup.py` made in the test times out and leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.build.sdists import compiled_sdist, hostile_sdist
from tests.conftest import run_cli, tree_snapshot
from tests.support.index_server import IndexServer, ServedFile

DOCOPT_SDIST_SHA256 = "49b3a825280bd66b3aa83585ef59c4a8c82f2c8a522dbe754a8bc8d08c85c491"
TARGETS = ("native", "pyodide-314", "wasi-p2")


def write_manifest(root: Path, deps: dict[str, str], *, targets: tuple[str, ...] = TARGETS, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = ['name = "built"', "", "[python]", 'requires-python = ">=3.12"', 'python-version = "3.12"',
             f"targets = {json.dumps(list(targets))}", extra, "", "[python-dependencies]",
             *(f'{k} = "{v}"' for k, v in deps.items())]
    (root / "mochi.toml").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def server(served_files: dict[str, list[ServedFile]]) -> Iterator[IndexServer]:
    with IndexServer(served_files) as srv:
        yield srv


@pytest.fixture(scope="module")
def docopt_locked(tmp_path_factory: pytest.TempPathFactory, server: IndexServer) -> tuple[Path, Path]:
    """A docopt project locked for the three targets (one build, shared by the tests)."""
    root = tmp_path_factory.mktemp("docopt")
    project = write_manifest(root / "proj", {"docopt": "*"})
    cache = root / "cache"
    run_cli(["-C", str(project), "lock"], cache=cache, index_url=server.url, check=True)
    return project, cache


def read_lock(project: Path) -> list[dict[str, object]]:
    return tomllib.loads((project / "mochi.lock").read_text())["python-package"]


def test_docopt_locks_for_every_target_from_one_wheel_built_from_its_sdist(docopt_locked: tuple[Path, Path],
                                                                           server: IndexServer) -> None:
    project, cache = docopt_locked
    entries = {e["target"]: e for e in read_lock(project)}
    assert sorted(entries) == sorted(TARGETS)
    wheels = {e["wheel-sha256"] for e in entries.values()}
    assert len(wheels) == 1                      # the same file everywhere
    for e in entries.values():
        assert e["name"] == "docopt" and e["version"] == "0.6.2"
        assert e["sdist-filename"] == "docopt-0.6.2.tar.gz" and e["sdist-sha256"] == DOCOPT_SDIST_SHA256
        assert str(e["sdist-url"]).startswith(server.url.removesuffix("simple/"))
        assert str(e["wheel-filename"]).endswith("-none-any.whl") and "wheel-url" not in e
        assert e["build-backend"] == "setuptools.build_meta:__legacy__"
        assert [str(r).split(" ")[0] for r in e["build-requires"]] == ["setuptools==84.2.1"]   # type: ignore[union-attr]
        assert re.fullmatch(r"[0-9a-f]{64}", str(e["build-inputs-sha256"]))
        assert "index-sha256" not in e
    # the build record maps the build inputs to the wheel in the cache
    record = json.loads((cache / "builds" / f"{entries['native']['build-inputs-sha256']}.json").read_text())
    assert record["wheel-sha256"] == entries["native"]["wheel-sha256"]
    assert record["sdist-sha256"] == DOCOPT_SDIST_SHA256
    # PEP 751: the sdist is the pinned artefact; the built wheel is wasmtool's
    pylock = tomllib.loads((project / "pylock.toml").read_text())
    (pkg,) = pylock["packages"]
    assert pkg["sdist"]["hashes"] == {"sha256": DOCOPT_SDIST_SHA256} and "wheels" not in pkg
    built = pkg["tool"]["wasmtool"]
    assert built["built-wheel"]["hashes"]["sha256"] == entries["native"]["wheel-sha256"]
    assert built["build-inputs-sha256"] == entries["native"]["build-inputs-sha256"]


def test_two_clean_builds_make_the_same_bytes(docopt_locked: tuple[Path, Path], tmp_path: Path,
                                              server: IndexServer) -> None:
    project, _ = docopt_locked
    first = read_lock(project)[0]
    other = write_manifest(tmp_path / "again", {"docopt": "*"}, targets=("native",))
    run_cli(["-C", str(other), "lock"], cache=tmp_path / "fresh-cache", index_url=server.url, check=True)
    again = read_lock(other)[0]
    assert again["wheel-sha256"] == first["wheel-sha256"]
    assert again["build-inputs-sha256"] == first["build-inputs-sha256"]
    built = list((tmp_path / "fresh-cache" / "wheels").rglob("docopt-*.whl"))
    assert len(built) == 1


def test_install_on_a_cold_cache_rebuilds_and_compares(docopt_locked: tuple[Path, Path], tmp_path: Path,
                                                       server: IndexServer) -> None:
    project, _ = docopt_locked
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("mochi.toml", "mochi.lock", "pylock.toml"):
        shutil.copy(project / name, copy / name)
    cache = tmp_path / "cold"
    proc = run_cli(["-C", str(copy), "install", "--frozen", "--no-bind"], cache=cache, index_url=server.url)
    assert proc.returncode == 0, proc.stderr
    assert server.downloads("docopt-0.6.2.tar.gz") >= 1
    out = subprocess.run([str(copy / ".mochi" / "venv" / "bin" / "python"), "-W", "ignore", "-c",
                          "import docopt, json; print(json.dumps(docopt.docopt('Usage: prog [-v] <x>', ['-v', 'a'])))"],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {"-v": True, "<x>": "a"}

    # a lock whose wheel hash the rebuild cannot reproduce is refused, unless the project accepts it
    lock_text = (copy / "mochi.lock").read_text()
    locked_sha = read_lock(copy)[0]["wheel-sha256"]
    other = "0" * 64
    tampered = re.sub(r'wheel-blake3 = "[0-9a-f]{64}"\n', "", lock_text.replace(str(locked_sha), other))
    (copy / "mochi.lock").write_text(tampered)
    proc = run_cli(["-C", str(copy), "install", "--frozen", "--no-bind"], cache=tmp_path / "cold2",
                   index_url=server.url)
    assert proc.returncode != 0
    assert "WT245" in proc.stderr and "docopt" in proc.stderr and "not reproducible" in proc.stderr, proc.stderr
    assert other in proc.stderr and str(locked_sha) in proc.stderr
    manifest = (copy / "mochi.toml").read_text()
    (copy / "mochi.toml").write_text(manifest.replace("[python]\n", "[python]\naccept-unreproducible-builds = true\n"))
    proc = run_cli(["-C", str(copy), "install", "--frozen", "--no-bind"], cache=tmp_path / "cold2",
                   index_url=server.url)
    assert proc.returncode == 0, proc.stderr                # the project accepts the rebuilt wheel
    (copy / "mochi.toml").write_text(manifest)

    # --no-build: a built wheel missing from the cache is not rebuilt
    (copy / "mochi.lock").write_text(lock_text)
    proc = run_cli(["-C", str(copy), "install", "--frozen", "--no-bind", "--no-build"], cache=tmp_path / "cold3",
                   index_url=server.url)
    assert proc.returncode != 0 and "WT242" in proc.stderr and "docopt" in proc.stderr, proc.stderr


@pytest.mark.parametrize("target", ["native", "pyodide-314"])
def test_no_build_refuses_the_sdist_with_a_coded_error(tmp_path: Path, server: IndexServer, target: str) -> None:
    project = write_manifest(tmp_path / "p", {"docopt": "*"}, targets=(target,))
    proc = run_cli(["-C", str(project), "lock", "--no-build"], cache=tmp_path / "c", index_url=server.url)
    assert proc.returncode == 1
    assert "WT242" in proc.stderr and "docopt 0.6.2 is published only as source (docopt-0.6.2.tar.gz)" in proc.stderr
    assert not (project / "mochi.lock").exists()
    # the manifest's setting says the same
    write_manifest(project, {"docopt": "*"}, targets=(target,), extra='build = "none"')
    proc = run_cli(["-C", str(project), "lock"], cache=tmp_path / "c", index_url=server.url)
    assert proc.returncode == 1 and "WT242" in proc.stderr


def test_a_compiled_sdist_builds_natively_only_when_allowed(tmp_path: Path, served_files: dict[str, list[ServedFile]]
                                                             ) -> None:
    with IndexServer(served_files) as srv:
        srv.add_file(compiled_sdist(tmp_path / "dist"))
        project = write_manifest(tmp_path / "p", {"cext": "*"}, targets=("native",))
        proc = run_cli(["-C", str(project), "lock"], cache=tmp_path / "c", index_url=srv.url)
        assert proc.returncode == 1
        assert "WT243" in proc.stderr and "cext 1.0 is a compiled extension" in proc.stderr
        assert "cext.c" in proc.stderr and 'build = "all"' in proc.stderr, proc.stderr

        write_manifest(project, {"cext": "*"}, targets=("native",), extra='build = "all"')
        run_cli(["-C", str(project), "lock"], cache=tmp_path / "c", index_url=srv.url, check=True)
        (entry,) = read_lock(project)
        assert str(entry["wheel-filename"]).endswith("-linux_x86_64.whl"), entry
        assert entry["sdist-filename"] == "cext-1.0.tar.gz"
        run_cli(["-C", str(project), "install", "--no-bind"], cache=tmp_path / "c", index_url=srv.url, check=True)
        out = subprocess.run([str(project / ".mochi" / "venv" / "bin" / "python"), "-c",
                              "import cext; print(cext.answer())"], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "42"

        for target, hint in (("pyodide-314", "Pyodide needs a build made with pyodide-build"),
                             ("wasi-p2", "wasi_0_0_0_wasm32")):
            wasm = write_manifest(tmp_path / target, {"cext": "*"}, targets=(target,), extra='build = "all"')
            proc = run_cli(["-C", str(wasm), "lock"], cache=tmp_path / "c", index_url=srv.url)
            assert proc.returncode == 1
            assert "WT244" in proc.stderr and "builds only as a compiled extension for linux_x86_64" in proc.stderr
            assert hint in proc.stderr, proc.stderr
            assert "pure" not in proc.stderr.split("hint:")[0].replace("pure-Python alternative", ""), proc.stderr


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_a_hostile_setup_py_times_out_and_leaves_nothing_behind(tmp_path: Path,
                                                                served_files: dict[str, list[ServedFile]]) -> None:
    from wasmtool.build.sandbox import namespace_wrapper

    token = f"wasmtool-hostile-{os.getpid()}-{time.monotonic_ns()}"
    outside = tmp_path / "outside" / "written-by-setup.py"
    outside.parent.mkdir()
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    with IndexServer(served_files) as srv:
        port = int(srv.url.split(":")[2].split("/")[0])
        srv.add_file(hostile_sdist(tmp_path / "dist", outside=outside, port=port, token=token))
        project = write_manifest(tmp_path / "p", {"hostile": "*"}, targets=("native",))
        cache = tmp_path / "c"
        before = tree_snapshot(project)
        started = time.monotonic()
        proc = run_cli(["-C", str(project), "lock"], cache=cache, index_url=srv.url,
                       env={"WASMTOOL_BUILD_TIMEOUT": "8", "TMPDIR": str(tmpdir)})
        took = time.monotonic() - started
        requests = list(srv.behaviour.requests)
    assert proc.returncode == 1
    assert "WT241" in proc.stderr and "hostile" in proc.stderr and "did not finish within 8 s" in proc.stderr
    assert "setuptools.build_meta:__legacy__" in proc.stderr, proc.stderr
    assert took < 90
    # nothing is left: no build folder, no project file, no cache entry, no process
    time.sleep(0.5)
    left = _processes_with(token)
    if not namespace_wrapper():
        # without namespaces (docs/builds.md, what the sandbox does not protect against), the child
        # that started a session of its own outlives the build: the test ends it (it started it)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    assert [p.name for p in tmpdir.iterdir() if p.name.startswith("wasmtool-build")] == []
    assert tree_snapshot(project) == before
    assert not (cache / "builds").exists() or list((cache / "builds").iterdir()) == []
    assert list((cache / "wheels").rglob("hostile-*.whl")) == []
    if namespace_wrapper():
        assert left == []
        # the build had no network: the probe never reached the index
        assert not any(path == f"/probe-{token}" for _, path in requests), requests
        # and every file system but its folder was read-only: the write outside did not happen
        assert not outside.exists(), outside.read_text()
