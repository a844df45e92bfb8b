"""The pure parts of building sdists (wasmtool.build.model, the uv bridge's reading of a refusal,
the choice of the sdist to build) and WT231's wording for a package with no usable wheel."""

from __future__ import annotations

import pytest
from packaging.specifiers import SpecifierSet
from resolvelib.structs import RequirementInformation

from wasmtool.build.model import (
    DEFAULT_BACKEND,
    SOURCE_DATE_EPOCH,
    BuildInputs,
    build_argv,
    build_environment,
    compiled_sources,
    constraint_lines,
    is_pure_wheel,
    parse_build_system,
)
from wasmtool.index.models import IndexFile
from wasmtool.resolve.explain import TargetFacts, explain_no_wheel
from wasmtool.resolve.provider import ProjectReport, Req
from wasmtool.targets.profile import load_profile
from wasmtool.targets.uv_lock import pick_sdist, sdist_only_packages

PIN = "setuptools==84.2.1 --hash=sha256:" + "a" * 64


def inputs(**kw: object) -> BuildInputs:
    base: dict[str, object] = {"sdist_sha256": "1" * 64, "backend": DEFAULT_BACKEND, "requires": (PIN,),
                               "python_version": "3.12"}
    return BuildInputs(**{**base, **kw})  # type: ignore[arg-type]


def test_the_build_inputs_hash_covers_every_input_and_nothing_else() -> None:
    first = inputs().sha256()
    assert first == inputs().sha256() and len(first) == 64
    changed = [inputs(sdist_sha256="2" * 64), inputs(backend="hatchling.build"), inputs(python_version="3.13"),
               inputs(requires=("setuptools==84.2.0 --hash=sha256:" + "a" * 64,)), inputs(requires=())]
    assert len({c.sha256() for c in changed} | {first}) == len(changed) + 1
    # the order of the pins is no input
    two = ("a==1 --hash=sha256:" + "b" * 64, PIN)
    assert inputs(requires=two).sha256() == inputs(requires=two[::-1]).sha256()


def test_build_system_defaults_to_setuptools_legacy() -> None:
    assert parse_build_system(None).backend == DEFAULT_BACKEND and not parse_build_system(None).declared
    assert parse_build_system("[project]\nname = 'x'\n").requires == ("setuptools>=40.8.0",)
    declared = parse_build_system('[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n')
    assert declared.backend == "hatchling.build" and declared.requires == ("hatchling",) and declared.declared
    with pytest.raises(ValueError, match="list of strings"):
        parse_build_system('[build-system]\nrequires = "setuptools"\n')


def test_compiled_sources_and_pure_wheels() -> None:
    assert compiled_sources(["x-1/setup.py", "x-1/x/__init__.py", "x-1/README.c.txt"]) == []
    assert compiled_sources(["x-1/src/fast.c", "x-1/setup.py", "x-1/rust/Cargo.toml"]) == \
        ["x-1/rust/Cargo.toml", "x-1/src/fast.c"]
    assert is_pure_wheel("docopt-0.6.2-py2.py3-none-any.whl")
    assert not is_pure_wheel("cext-1.0-cp312-cp312-linux_x86_64.whl")
    assert not is_pure_wheel("x-1.0-cp312-abi3-any.whl")


def test_constraint_lines_accept_only_hashed_pins() -> None:
    assert constraint_lines([PIN]) == PIN + "\n"
    for bad in ("setuptools>=40", "-r other.txt", PIN + "\n-e .", "setuptools==1 --hash=md5:00"):
        with pytest.raises(ValueError, match="not a hashed pin"):
            constraint_lines([bad])


def test_the_build_runs_offline_with_an_environment_of_its_own() -> None:
    argv = build_argv("uv", sdist="s.tar.gz", out_dir="out", python="py", find_links="links", constraints="c.txt",
                      cache_dir="cache", isolate_network=("unshare", "--net", "--"))
    assert argv[:3] == ["unshare", "--net", "--"] and argv[-1] == "s.tar.gz"
    for flag in ("--no-index", "--offline", "--require-build-hashes", "--no-config", "--wheel"):
        assert flag in argv
    env = build_environment(home="/w/home", tmp="/w/tmp", path="/usr/bin")
    assert env["HOME"] == "/w/home" and env["TMPDIR"] == "/w/tmp" and env["SOURCE_DATE_EPOCH"] == SOURCE_DATE_EPOCH
    assert not any(k.startswith(("UV_INDEX", "PIP_", "PYTHONPATH")) for k in env)


def test_uv_refusals_name_the_packages_to_build() -> None:
    stderr = ("  cause: Because docopt==0.6.2 has no usable wheels and only docopt==0.6.2 is available, we can "
              "conclude that all versions of docopt cannot be used.\n"
              "hint: Wheels are required for `docopt` because building from source is disabled for all packages\n"
              "hint: Wheels are required for `Other_Pkg` because building from source is disabled\n")
    assert sdist_only_packages(stderr) == {"docopt": "0.6.2", "other-pkg": ""}
    assert sdist_only_packages("error: the index answered 500") == {}


def _file(name: str) -> IndexFile:
    return IndexFile(filename=name, url=f"https://i.invalid/{name}", hashes={"sha256": "c" * 64})


def test_the_sdist_to_build_is_the_newest_allowed_version_without_a_wheel() -> None:
    native = load_profile("native")
    files = [_file("p-2.0.tar.gz"), _file("p-2.0-py3-none-any.whl"), _file("p-1.5.tar.gz"), _file("p-1.0.tar.gz")]
    assert pick_sdist(files, native, "3.12", version="", specifier="").filename == "p-1.5.tar.gz"  # type: ignore[union-attr]
    assert pick_sdist(files, native, "3.12", version="", specifier="<1.5").filename == "p-1.0.tar.gz"  # type: ignore[union-attr]
    assert pick_sdist(files, native, "3.12", version="1.0", specifier="").filename == "p-1.0.tar.gz"  # type: ignore[union-attr]
    assert pick_sdist(files, native, "3.12", version="2.0", specifier="") is None


def _explain(report: ProjectReport) -> str:
    facts = TargetFacts(profile=load_profile("pyodide-314"), python_version="3.14", roots={report.name: report.name})
    cause = RequirementInformation(Req(report.name, frozenset(), SpecifierSet(), report.name), None)
    why = explain_no_wheel(report.name, [cause], {report.name: report}, facts)
    return why.message + "\n" + why.details


def test_wt231_tells_sdist_only_compiled_only_and_wrong_python_apart() -> None:
    sdist = ProjectReport("src", "u", files={"1.0": ["src-1.0.tar.gz"]},
                          reasons={"1.0": "sdist only (wasm targets take wheels only)"},
                          file_reasons={"1.0": {"src-1.0.tar.gz": "sdist only (wasm targets take wheels only)"}})
    text = _explain(sdist)
    assert "published only as source" in text and "compiled" not in text
    assert "1.0 (src-1.0.tar.gz: sdist only" in text

    compiled = ProjectReport("fast", "u", files={"2.0": ["fast-2.0-cp314-cp314-manylinux_2_17_x86_64.whl",
                                                          "fast-2.0.tar.gz"]},
                             reasons={"2.0": "no wheel for the target's tags"},
                             file_reasons={"2.0": {"fast-2.0-cp314-cp314-manylinux_2_17_x86_64.whl":
                                                   "no wheel for the target's tags",
                                                   "fast-2.0.tar.gz": "sdist only (wasm targets take wheels only)"}})
    text = _explain(compiled)
    assert "compiled extension" in text and "published only as source" not in text
    # per version, each file with why it was refused
    assert "fast-2.0-cp314-cp314-manylinux_2_17_x86_64.whl: no wheel for the target's tags" in text
    assert "fast-2.0.tar.gz: sdist only" in text

    old = ProjectReport("old", "u", files={"1.0": ["old-1.0-py3-none-any.whl"], "0.9": ["old-0.9-py3-none-any.whl"]},
                        reasons={"1.0": "requires Python <3.10", "0.9": "requires Python <3.8"}, has_pure=True)
    text = _explain(old)
    assert "no version supports Python 3.14" in text and "compiled" not in text
    assert "1.0 (old-1.0-py3-none-any.whl: requires Python <3.10)" in text
