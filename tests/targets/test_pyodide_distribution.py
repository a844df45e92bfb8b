"""Packages of the Pyodide distribution lock in an install: where their URL comes from, which
are bundled (their wheel verified from the cache or downloaded) and which are referenced by URL
with their sha256, and what install says about them.

The "CDN" here is the hermetic server on 127.0.0.1 (a served wheel) and a closed port on
127.0.0.1 (a CDN that cannot be reached): nothing leaves the machine.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.conftest import write_project
from tests.resolve.test_wasm_resolver import make_wheel
from tests.support.index_server import IndexServer
from wasmtool.context import Context
from wasmtool.errors import HashMismatchError
from wasmtool.lock.model import LockedPackage
from wasmtool.resolve.errors import DistributionLockMismatchError
from wasmtool.targets.pyodide import (
    PyodideInstallOutcome,
    Referenced,
    distribution_cdn_url,
    distribution_wheels,
    load_distribution_lock,
    referenced_lines,
)

ROOT = Path(__file__).resolve().parents[2]
PYODIDE_DIR = ROOT / "node_modules" / "pyodide"


# --------------------------------------------------------------------------- the CDN URL


def test_the_cdn_url_is_the_npm_packages_own() -> None:
    version = json.loads((PYODIDE_DIR / "package.json").read_text())["version"]
    url = distribution_cdn_url(PYODIDE_DIR, version)
    assert url == f"https://cdn.jsdelivr.net/pyodide/v{version}/full/"
    # and it is what the lock's packages are pinned under
    assert load_distribution_lock(PYODIDE_DIR / "pyodide-lock.json").base_url == url


def test_the_cdn_url_follows_the_package(tmp_path: Path) -> None:
    (tmp_path / "pyodide.mjs").write_text('x=1;e.cdnUrl=k(e.packageBaseUrl ?? `https://mirror.invalid/py/v${V}/all`);')
    assert distribution_cdn_url(tmp_path, "9.9.9") == "https://mirror.invalid/py/v9.9.9/all/"


def test_a_package_without_a_cdn_url_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DistributionLockMismatchError) as info:
        distribution_cdn_url(tmp_path, "1.0")
    assert info.value.file == str(tmp_path / "pyodide.mjs") and "cannot read" in str(info.value)
    (tmp_path / "pyodide.mjs").write_text("export const loadPyodide = () => null;\n")
    with pytest.raises(DistributionLockMismatchError) as info:
        distribution_cdn_url(tmp_path, "1.0")
    assert "no default package URL" in str(info.value)


# --------------------------------------------------------------------------- bundled or referenced


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dist_entry(name: str, url: str, sha256: str, *, depends: tuple[str, ...] = ()) -> LockedPackage:
    filename = url.rsplit("/", 1)[1]
    return LockedPackage(name=name, version="1.0", target="pyodide-314", source="distribution",
                         origin="pyodide-lock", import_names=(name.replace("-", "_"),), wheel_filename=filename,
                         wheel_url=url, platform_tag="py3-none-any", wheel_sha256=sha256, dependencies=depends)


def test_fetchable_or_cached_wheels_are_bundled_the_rest_referenced(tmp_path: Path) -> None:
    made = {n: make_wheel(tmp_path / "made", n, "1.0") for n in ("a-served", "c-cached", "d-after", "e-bad")}
    # e-bad is served with other bytes than its pin says
    with IndexServer({n: [f] for n, f in made.items() if n != "c-cached"}) as server:
        files = server.url.removesuffix("/simple/") + "/files/"
        down = f"http://127.0.0.1:{_closed_port()}/full/b_down-1.0-py3-none-any.whl"
        entries = [
            _dist_entry("a-served", files + made["a-served"].filename, made["a-served"].sha256),
            _dist_entry("b-down", down, "b" * 64, depends=("a-served==1.0",)),
            _dist_entry("c-cached", files + made["c-cached"].filename, made["c-cached"].sha256),
            _dist_entry("d-after", files + made["d-after"].filename, made["d-after"].sha256),
        ]
        root = write_project(tmp_path / "proj", {})
        with Context.open(root, cache_dir=tmp_path / "cache", progress=False, index_url=server.url) as ctx:
            ctx.cache.add_file(made["c-cached"].path, package="c-cached", expected_sha256=made["c-cached"].sha256)
            index_entry = LockedPackage(name="z-index", version="1.0", target="pyodide-314", origin="index")
            bundled, referenced = distribution_wheels(ctx, [*reversed(entries), index_entry])
            assert [w.name for w in bundled] == ["a-served", "c-cached"]
            assert [r.package.name for r in referenced] == ["b-down", "d-after"]
            a = bundled[0]
            assert a.path.read_bytes() == made["a-served"].path.read_bytes() and a.sha256 == made["a-served"].sha256
            assert a.imports == ("a_served",)
            b, d = referenced
            assert b.reason.startswith("cannot be fetched here: ") and "refused" in b.reason  # ECONNREFUSED
            # once the CDN could not be reached the next package is not tried, only looked up
            assert d.reason == b.reason
            assert server.downloads(made["a-served"].filename) == 1 and server.downloads(made["d-after"].filename) == 0

            wrong = _dist_entry("e-bad", files + made["e-bad"].filename, "0" * 64)
            with pytest.raises(HashMismatchError) as info:
                distribution_wheels(ctx, [wrong])
            assert info.value.package == "e-bad"


def test_install_lines_say_what_is_referenced_and_why() -> None:
    url = "https://cdn.example.invalid/v1/full/regex-2026.3.32-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
    regex = _dist_entry("regex", url, "1" * 64)
    outcome = PyodideInstallOutcome(
        "pyodide-314", Path("/p/.mochi/pyodide-314"), ("attrs==26.1.0", "regex==2026.3.32"),
        referenced=(Referenced(regex, "cannot be fetched here: " + "x" * 400),),
        why_distribution="the index has no build of them for pyodide-314")
    lines = outcome.lines()
    assert lines[0] == "bundled 1 package(s) for pyodide-314 into /p/.mochi/pyodide-314"
    assert lines[1] == ("referenced 1 package(s) by URL instead of bundling them: Pyodide's own builds (the index "
                        "has no build of them for pyodide-314) whose wheels cannot be fetched here; the loader "
                        "fetches each and checks its sha256 before Pyodide loads it, so the URL must be reachable "
                        "where the bundle runs:")
    assert lines[2].startswith(f"  regex 1.0: {url} (sha256 {'1' * 64}): cannot be fetched here: xxx")
    assert lines[2].endswith("...") and len(lines[2].encode()) < len(url) + 400
    assert len(lines) == 3
    assert referenced_lines([], "why") == []
