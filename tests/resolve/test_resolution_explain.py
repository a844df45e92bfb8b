"""A failed resolution explains itself in a few lines; the whole search is in ``details``.

Through the CLI entry point (``wasmtool.cli.main.main``) against the hermetic index on
127.0.0.1: the real pydantic 2.14.4 / pydantic-core 2.50.5 artefacts, plus 56 older pydantic
2.x versions served beside them, each pinning its own pydantic-core, whose wheels are for
Linux, Pyodide, Windows and macOS but never WASI (the shape of the real index, where the whole
search printed ~51 KB). The hints are checked by following them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_project
from tests.resolve.test_wasm_resolver import DIST_LOCK, make_wheel
from tests.support.index_server import IndexServer, ServedFile
from wasmtool.cli import main as cli_main
from wasmtool.errors import WasmtoolError
from wasmtool.index.client import IndexClient
from wasmtool.resolve.errors import NoTargetWheelError, ResolutionConflictError, UvFailedError
from wasmtool.resolve.wasm import resolve
from wasmtool.targets.profile import load_profile
from wasmtool.targets.pyodide import load_distribution_lock

#: Everything ``wasmtool lock`` prints on failure must stay under this.
LIMIT = 2048
#: The older pydantic versions served beside the real 2.14.4: 2.0.0 ... 2.13.3.
OLD_PYDANTIC = [f"2.{minor}.{patch}" for minor in range(14) for patch in range(4)]
CORE_TAGS = ("cp314-cp314-manylinux_2_17_x86_64", "cp314-cp314-pyemscripten_2026_0_wasm32",
             "cp314-cp314-win_amd64", "cp314-cp314-macosx_11_0_arm64")


def core_of(version: str) -> str:
    minor, patch = version.split(".")[1:]
    return f"2.{10 + int(minor)}.{patch}"


def with_old_pydantic(served: dict[str, list[ServedFile]], folder: Path) -> dict[str, list[ServedFile]]:
    projects = {k: list(v) for k, v in served.items()}
    for version in OLD_PYDANTIC:
        projects["pydantic"].append(make_wheel(folder, "pydantic", version, requires=(
            f"pydantic-core=={core_of(version)}", "typing-extensions>=4.6")))
        projects["pydantic-core"] += [make_wheel(folder, "pydantic-core", core_of(version), tag=t) for t in CORE_TAGS]
    projects["wt-app"] = [make_wheel(folder, "wt-app", "1.0", requires=("pydantic>=2",))]
    for n in range(6):   # for uv: six projects whose versions each pin their own wt-shared
        name = f"wt-long-package-name-number-{n}"
        projects[name] = [make_wheel(folder, name, f"{v}.0", requires=(f"wt-shared=={n}.{v}",)) for v in (1, 2, 3)]
    projects["wt-shared"] = [make_wheel(folder, "wt-shared", f"{n}.{v}") for n in range(6) for v in (1, 2, 3)]
    return projects


@pytest.fixture
def server(served_files: dict[str, list[ServedFile]], tmp_path: Path) -> Iterator[IndexServer]:
    with IndexServer(with_old_pydantic(served_files, tmp_path / "synthetic")) as srv:
        yield srv


Run = Callable[..., tuple[int, str, WasmtoolError | None]]


@pytest.fixture
def wasmtool(server: IndexServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch) -> Run:
    """``wasmtool -C <project> ... <args>`` in-process: (exit code, stderr, the error main() reported)."""
    raised: list[WasmtoolError] = []
    original = cli_main.cli.main

    def recording(*args: Any, **kwargs: Any) -> Any:
        try:
            return original(*args, **kwargs)
        except WasmtoolError as exc:
            raised.append(exc)
            raise

    monkeypatch.setattr(cli_main.cli, "main", recording)

    def run(project: Path, *args: str) -> tuple[int, str, WasmtoolError | None]:
        raised.clear()
        code = cli_main.main(["-C", str(project), "--cache-dir", str(tmp_path / "cache"), "--index-url", server.url,
                              "--no-progress", *args])
        return code, capsys.readouterr().err, raised[0] if raised else None

    return run


def project(tmp_path: Path, deps: dict[str, str], name: str = "proj") -> Path:
    return write_project(tmp_path / name, deps)


def locked_names(root: Path) -> set[str]:
    return {p["name"] for p in tomllib.loads((root / "mochi.lock").read_text())["python-package"]}


# --------------------------------------------------------------------------- WT231 through the CLI


def test_pydantic_for_wasi_is_explained_in_a_few_lines(wasmtool: Run, tmp_path: Path) -> None:
    root = project(tmp_path, {"pydantic": "*"})
    code, stderr, err = wasmtool(root, "lock", "--target=wasi-p2")
    assert code == 1 and isinstance(err, NoTargetWheelError)
    assert len(stderr.encode()) < LIMIT, stderr
    assert "Traceback" not in stderr and not (root / "mochi.lock").exists()
    assert stderr.startswith("error: WT231 pydantic-core: pydantic-core has no wheel for target wasi-p2 "
                             "(Python 3.14): it is a compiled extension with no WASI build\n")
    # who requires it, and which versions were tried: counted, not listed
    assert "dependency chain: pydantic -> pydantic-core (direct requirement: pydantic)" in stderr
    assert ("pydantic-core==2.50.5 (required by pydantic 2.14.4); 56 other pydantic versions (2.0.0 to 2.13.3): "
            "each pin another pydantic-core version") in stderr
    assert "Versions tried: 57 versions, 2.10.0 to 2.50.5: no wheel for the target's tags (57)" in stderr
    assert "pydantic 2.5.1" not in stderr and "2.13.2" not in stderr
    # the tags the target takes: the best few and the pure one
    assert "Accepted tags: cp314-cp314-wasi_0_0_0_wasm32, cp314-abi3-wasi_0_0_0_wasm32, " in stderr
    assert ", ..., py3-none-any (47 tags)" in stderr
    hint = next(line for line in stderr.splitlines() if line.startswith("  hint: "))
    assert "lock for native, pyodide-314 instead (the index has pydantic-core builds for them)" in hint
    assert "leave pydantic out on wasi targets" in hint
    # the whole search is kept for -v
    assert err.details is not None and err.details not in stderr
    assert err.chain == ("pydantic", "pydantic-core") and len(err.required_by) == 57
    assert "required by (57): pydantic 2.0.0, pydantic 2.0.1, " in err.details
    assert "pydantic-core==2.50.5 (required by pydantic 2.14.4)" in err.details
    for version in OLD_PYDANTIC:
        assert f"pydantic-core=={core_of(version)} (required by pydantic {version})" in err.details
    for version in OLD_PYDANTIC:
        for tag in CORE_TAGS:
            assert f"pydantic_core-{core_of(version)}-{tag}.whl" in err.details
    assert len(err.details.encode()) > 10 * LIMIT


def test_the_markers_hint_locks_the_project_for_wasi(wasmtool: Run, tmp_path: Path) -> None:
    root = project(tmp_path, {"pydantic": "*", "tomli": "^2"})
    code, stderr, err = wasmtool(root, "lock", "--target=wasi-p2")
    assert code == 1 and err is not None and err.hint is not None
    marker = re.search(r'markers = "([^"]+)"', err.hint)
    assert marker is not None
    fixed = project(tmp_path, {"tomli": "^2"}, name="fixed")
    with (fixed / "mochi.toml").open("a") as f:
        f.write(f'pydantic = {{ version = "*", markers = "{marker.group(1)}" }}\n')
    code, stderr, err = wasmtool(fixed, "lock", "--target=wasi-p2")
    assert (code, err) == (0, None), stderr
    assert locked_names(fixed) == {"tomli"}


@pytest.mark.parametrize("target", ["native", "pyodide-314"])
def test_the_targets_the_hint_names_lock(wasmtool: Run, tmp_path: Path, target: str) -> None:
    root = project(tmp_path, {"pydantic": "*"})
    _, _, err = wasmtool(root, "lock", "--target=wasi-p2")
    assert err is not None and err.hint is not None
    named = re.search(r"lock for (.+?) instead", err.hint)
    assert named is not None and target in named.group(1).split(", ")
    code, stderr, err = wasmtool(root, "lock", f"--target={target}")
    assert (code, err) == (0, None), stderr
    assert {"pydantic", "pydantic-core"} <= locked_names(root)


def test_a_transitive_dependency_names_the_chain(server: IndexServer) -> None:
    with IndexClient(server.url, retries=0) as client, pytest.raises(NoTargetWheelError) as info:
        resolve(["wt-app", "tomli"], load_profile("wasi-p2"), client)
    err = info.value
    assert err.package == "pydantic-core" and err.chain == ("wt-app", "pydantic", "pydantic-core")
    assert "dependency chain: wt-app -> pydantic -> pydantic-core (direct requirement: wt-app)" in str(err)
    assert err.hint is not None and "leave wt-app out on wasi targets" in err.hint
    assert len(str(err).encode()) < LIMIT


# --------------------------------------------------------------------------- WT232: the index-first hint


def test_the_index_first_hint_resolves_a_distribution_pin_conflict(server: IndexServer) -> None:
    """Under `pyodide-packages = "distribution"` the hint offers index-first; following it (the
    default, no setting at all) resolves."""
    dist = load_distribution_lock(DIST_LOCK)
    pyodide = load_profile("pyodide-314")
    with IndexClient(server.url, retries=0) as client:
        with pytest.raises(ResolutionConflictError) as info:
            resolve(["pydantic>=2.14"], pyodide, client, dist_lock=dist, index_first=False)
        assert info.value.hint is not None and 'pyodide-packages = "index-first" (the default)' in info.value.hint
        assert info.value.details is not None and "pydantic>=2.14 (requested)" in info.value.details
        got = {w.name: (w.version, w.origin) for w in resolve(["pydantic>=2.14"], pyodide, client, dist_lock=dist)}
    assert got["pydantic"] == ("2.14.4", "index")
    assert got["pydantic-core"] == ("2.50.5", "index")


# --------------------------------------------------------------------------- WT202: uv's long explanation


def test_a_long_uv_failure_is_cut_and_kept_whole_in_details(wasmtool: Run, tmp_path: Path) -> None:
    root = project(tmp_path, {f"wt-long-package-name-number-{n}": "*" for n in range(6)})
    code, stderr, err = wasmtool(root, "lock", "--target=native")
    assert code == 1 and isinstance(err, UvFailedError)
    assert len(err.stderr.encode()) > LIMIT   # uv's own explanation is long here
    assert len(stderr.encode()) < LIMIT, stderr
    assert "error: WT202 uv failed while resolving" in stderr and "No solution found" in stderr
    # uv's conclusion, last (uv wraps its lines at a width that depends on the environment)
    assert "we can conclude that your requirements are unsatisfiable" in " ".join(stderr.split())
    assert re.search(r"\[\.\.\. \d+ more lines \.\.\.\]", stderr)
    assert err.details == err.stderr.strip()
