"""wasmtool.resolve.explain on synthetic causes: no index, no resolver run.

The causes are built the way resolvelib hands them over (``RequirementInformation(requirement,
parent)``); what the index offered is a :class:`ProjectReport` per project.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from resolvelib.structs import RequirementInformation

from wasmtool.resolve.errors import NoTargetWheelError, UvFailedError, shorten_output
from wasmtool.resolve.explain import (
    HINT_LIMIT,
    LINE_LIMIT,
    MESSAGE_LIMIT,
    Cause,
    TargetFacts,
    chain_to,
    choose_culprit,
    clip,
    explain_conflict,
    explain_no_wheel,
    explain_too_deep,
    requirement_lines,
    some,
    version_span,
)
from wasmtool.resolve.provider import PYTHON, Candidate, DistPackage, ProjectReport, Req
from wasmtool.targets.profile import load_profile

WASI = load_profile("wasi-p2")
PYODIDE = load_profile("pyodide-314")
#: What the CLI adds around a message: ``error: WTnnn <package>: `` and ``\n  hint: ``.
CLI_LIMIT = 2048


# --------------------------------------------------------------------------- builders


def req(text: str) -> Req:
    """``name<specifier>`` (no extras, no markers) as the provider builds it."""
    cut = next((i for i, ch in enumerate(text) if ch in "<>=!~"), len(text))
    return Req(text[:cut], frozenset(), SpecifierSet(text[cut:]), text)


def cand(name: str, version: str) -> Candidate:
    return Candidate(name, Version(version))


def cause(text: str, parent: tuple[str, str] | None = None) -> Cause:
    return RequirementInformation(req(text), cand(*parent) if parent else None)


def report(name: str, files: dict[str, list[str]], *, usable: tuple[str, ...] = (), pure: bool = False,
           reason: str = "no wheel for the target's tags") -> ProjectReport:
    return ProjectReport(name=name, url=f"https://index.invalid/simple/{name}/", files=files,
                         reasons={v: reason for v in files if v not in usable}, usable=list(usable), has_pure=pure)


def compiled(name: str, versions: list[str], platforms: tuple[str, ...] = ("manylinux_2_17_x86_64",)) -> ProjectReport:
    dist = name.replace("-", "_")
    return report(name, {v: [f"{dist}-{v}-cp314-cp314-{p}.whl" for p in platforms] for v in versions})


def pure(name: str, versions: list[str]) -> ProjectReport:
    dist = name.replace("-", "_")
    return report(name, {v: [f"{dist}-{v}-py3-none-any.whl"] for v in versions}, usable=tuple(versions), pure=True)


def facts(profile: object = WASI, **kw: object) -> TargetFacts:
    return TargetFacts(profile=profile, python_version="3.14", **kw)  # type: ignore[arg-type]


#: The pydantic shape: 40 pydantic 2.x versions, each pinning its own pydantic-core, none with a WASI build.
PARENTS = [f"2.{minor}.{patch}" for minor in range(10) for patch in range(4)]
CORES = [f"2.{10 + minor}.{patch}" for minor in range(10) for patch in range(4)]
PYDANTIC_CAUSES = [cause(f"pydantic-core=={c}", ("pydantic", p)) for p, c in zip(PARENTS, CORES, strict=True)]
PYDANTIC_REPORTS = {"pydantic-core": compiled("pydantic-core", CORES, ("manylinux_2_17_x86_64",
                                                                        "pyemscripten_2026_0_wasm32", "win_amd64")),
                    "pydantic": pure("pydantic", PARENTS)}


# --------------------------------------------------------------------------- small pieces


@pytest.mark.parametrize(("versions", "expected"), [
    ([], "none"),
    (["1.0"], "1.0"),
    (["1.0", "2.0", "1.5"], "2.0, 1.5, 1.0"),
    (["1.0", "1.0", "2.0"], "2.0, 1.0"),
    (["2.9.0", "2.10.0", "2.1.0", "2.11.0"], "2.11.0, 2.10.0, 2.9.0, 2.1.0"),       # PEP 440, not text order
    (["2.9.0", "2.10.0", "2.1.0", "2.11.0", "2.0.0"], "5 versions, 2.0.0 to 2.11.0"),
    (["1.0", "not-a-version", "0.5", "3.0", "2.0"], "5 versions, not-a-version to 3.0"),
])
def test_version_span(versions: list[str], expected: str) -> None:
    assert version_span(versions) == expected


@pytest.mark.parametrize(("items", "limit", "expected"), [
    ([], 3, ""), (["a"], 3, "a"), (["a", "b", "c"], 3, "a, b, c"), (["a", "b", "c", "d", "e"], 2, "a, b and 3 more"),
])
def test_some(items: list[str], limit: int, expected: str) -> None:
    assert some(items, limit=limit) == expected


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("short", 10, "short"), ("exactly-10", 10, "exactly-10"), ("a" * 20, 10, "aaaaaaa..."),
    ("é" * 10, 8, "éé..."),   # never half a character
])
def test_clip(text: str, limit: int, expected: str) -> None:
    assert clip(text, limit) == expected
    assert len(clip(text, limit).encode()) <= limit


DEPENDENTS = {"pydantic-core": {"pydantic"}, "pydantic": {"fastapi", "wt-app"}, "fastapi": {"wt-web"},
              "wt-web": set(), "a": {"b"}, "b": {"a"}}


@pytest.mark.parametrize(("name", "roots", "expected"), [
    ("pydantic", {"pydantic"}, ("pydantic",)),                                    # a direct requirement
    ("pydantic-core", {"pydantic"}, ("pydantic", "pydantic-core")),
    ("pydantic-core", {"wt-web"}, ("wt-web", "fastapi", "pydantic", "pydantic-core")),
    ("pydantic-core", {"wt-web", "wt-app"}, ("wt-app", "pydantic", "pydantic-core")),   # the shortest
    ("pydantic-core", {"fastapi", "wt-app"}, ("fastapi", "pydantic", "pydantic-core")),  # ties: alphabetical
    ("pydantic-core", {"nobody"}, ("pydantic-core",)),                              # no root reaches it
    ("a", {"nobody"}, ("a",)),                                                      # a cycle ends
])
def test_chain_to(name: str, roots: set[str], expected: tuple[str, ...]) -> None:
    assert chain_to(name, roots, DEPENDENTS) == expected


@pytest.mark.parametrize(("causes", "reports", "dist", "expected"), [
    (PYDANTIC_CAUSES, PYDANTIC_REPORTS, {}, ("pydantic-core",)),
    ([cause("wt-b>=2"), cause("wt-b<2", ("wt-a", "1.0"))], {"wt-b": pure("wt-b", ["1.0", "2.0"])}, {}, ()),
    # two packages without a wheel: the one more causes name first, then alphabetical
    ([cause("numpy"), cause("zz-core==1", ("zz", "1.0")), cause("zz-core==2", ("zz", "2.0"))],
     {"numpy": compiled("numpy", ["2.0"]), "zz-core": compiled("zz-core", ["1", "2"])}, {}, ("zz-core", "numpy")),
    ([cause("numpy"), cause("aa")], {"numpy": compiled("numpy", ["2.0"]), "aa": compiled("aa", ["1"])}, {},
     ("aa", "numpy")),
    # a distribution entry is a candidate, whatever the index has
    ([cause("numpy>=3")], {"numpy": compiled("numpy", ["2.0"])}, {"numpy": DistPackage("numpy", "2.2", "n.whl", "0")},
     ()),
    ([cause("unread")], {}, {}, ()),                                                # never read from the index
])
def test_choose_culprit(causes: list[Cause], reports: dict[str, ProjectReport], dist: dict[str, DistPackage],
                        expected: tuple[str, ...]) -> None:
    assert choose_culprit(causes, reports, dist) == expected


@pytest.mark.parametrize(("causes", "expected"), [
    ([cause("wt-b>=2")], ["wt-b>=2 (requested)"]),
    ([cause("x==1", ("p", "1.0"))], ["x==1 (required by p 1.0)"]),
    # several versions of one parent, each pinning its own version
    (PYDANTIC_CAUSES[:5], ["pydantic-core==2.11.0 (required by pydantic 2.1.0); 4 other pydantic versions "
                           "(2.0.0 to 2.0.3): each pin another pydantic-core version"]),
    # a few versions: named; the same specifier: said once
    ([cause("x>=1", ("p", "1.0")), cause("x>=1", ("p", "2.0")), cause("x>=1", ("p", "3.0"))],
     ["x>=1 (required by p 3.0); p 2.0 and 1.0: require the same"]),
    # conflicting specifiers from one parent's versions
    ([cause("x<2", ("p", "1.0")), cause("x>=3", ("p", "2.0"))], ["x>=3 (required by p 2.0); p 1.0: requires x<2"]),
    # several parents: direct requirements first, then the parent with most versions
    ([cause("x>=5"), cause("x<2", ("q", "1.0")), cause("x<3", ("p", "1.0")), cause("x<3", ("p", "1.1"))],
     ["x>=5 (requested)", "x<3 (required by p 1.1); p 1.0: requires the same", "x<2 (required by q 1.0)"]),
    # more projects than lines
    ([cause("x>=5"), cause("x<2", ("q", "1.0")), cause("x<3", ("p", "1.0")), cause("x<4", ("r", "1.0"))],
     ["x>=5 (requested)", "x<3 (required by p 1.0)", "and 2 more requiring projects"]),
])
def test_requirement_lines(causes: list[Cause], expected: list[str]) -> None:
    assert requirement_lines(causes) == expected


# --------------------------------------------------------------------------- WT231


def test_no_wheel_under_many_parents_is_a_few_lines() -> None:
    f = facts(roots={"pydantic": "pydantic"}, dependents={"pydantic-core": {"pydantic"}},
              other_targets={"manylinux_2_17_x86_64": ["native"], "pyemscripten_2026_0_wasm32": ["pyodide-314"]})
    why = explain_no_wheel("pydantic-core", PYDANTIC_CAUSES, PYDANTIC_REPORTS, f)
    lines = why.message.splitlines()
    assert lines[0] == ("pydantic-core has no wheel for target wasi-p2 (Python 3.14): it is a compiled extension "
                        "with no WASI build")
    assert "  dependency chain: pydantic -> pydantic-core (direct requirement: pydantic)" in lines
    assert ("  pydantic-core==2.19.3 (required by pydantic 2.9.3); 39 other pydantic versions (2.0.0 to 2.9.2): "
            "each pin another pydantic-core version") in lines
    assert ("  Versions tried: 40 versions, 2.10.0 to 2.19.3: no wheel for the target's tags (40); its wheels are "
            "for manylinux_2_17_x86_64, pyemscripten_2026_0_wasm32, win_amd64") in lines
    assert lines[-1].startswith("  Accepted tags: cp314-cp314-wasi_0_0_0_wasm32, cp314-abi3-wasi_0_0_0_wasm32, ")
    assert lines[-1].endswith(", ..., py3-none-any (47 tags)")
    assert len(lines) == 5 and len(why.message.encode()) < MESSAGE_LIMIT
    assert why.hint is not None
    assert why.hint.startswith("use a pure-Python alternative, or build the package for wasi_0_0_0_wasm32")
    assert "or lock for native, pyodide-314 instead (the index has pydantic-core builds for them)" in why.hint
    assert "or leave pydantic out on wasi targets: give its mochi.toml entry markers = " \
           "\"sys_platform != 'wasi'\"" in why.hint
    assert why.chain == ("pydantic", "pydantic-core")
    assert why.required_by[:2] == ("pydantic 2.0.0", "pydantic 2.0.1") and len(why.required_by) == 40
    # the long form: every parent, every version with its files, every cause, every tag
    assert "required by (40): pydantic 2.0.0, pydantic 2.0.1, " in why.details
    for core in CORES:
        assert f"    {core}: pydantic_core-{core}-cp314-cp314-manylinux_2_17_x86_64.whl, " in why.details
    for c in PYDANTIC_CAUSES:
        assert f"  {c.requirement.text} (required by {c.parent})\n" in why.details
    assert "https://index.invalid/simple/pydantic-core/" in why.details
    assert "accepted tags (47): cp314-cp314-wasi_0_0_0_wasm32, " in why.details


def test_no_wheel_through_a_longer_chain() -> None:
    f = facts(roots={"wt-web": "wt-web>=1"}, dependents={"fastapi": {"wt-web"}, "pydantic": {"fastapi"}})
    why = explain_no_wheel("pydantic-core", PYDANTIC_CAUSES[:1], PYDANTIC_REPORTS, f)
    assert "dependency chain: wt-web -> fastapi -> pydantic -> pydantic-core (direct requirement: wt-web>=1)" \
        in why.message
    assert "pydantic-core==2.10.0 (required by pydantic 2.0.0)" in why.message
    assert why.hint is not None and "leave wt-web out on wasi targets" in why.hint


def test_a_package_with_no_wheel_at_all() -> None:
    """Only sdists, requested directly: every version and file is named, no chain, no other target."""
    only_sdists = report("wt-src", {"1.0": ["wt_src-1.0.tar.gz"], "0.9": ["wt_src-0.9.tar.gz", "wt_src-0.9.zip"]},
                         reason="sdist only (wasm targets take wheels only)")
    why = explain_no_wheel("wt-src", [cause("wt-src>=0.9")], {"wt-src": only_sdists},
                           facts(roots={"wt-src": "wt-src>=0.9"}, other_targets={"manylinux_2_17_x86_64": ["native"]}))
    assert why.message.splitlines()[1:3] == [
        "  wt-src>=0.9 (requested)",
        "  Versions tried: 1.0 (wt_src-1.0.tar.gz: sdist only (wasm targets take wheels only)); "
        "0.9 (wt_src-0.9.tar.gz, wt_src-0.9.zip: sdist only (wasm targets take wheels only))"]
    assert "dependency chain" not in why.message and why.chain == ("wt-src",)
    assert why.hint is not None and "lock for" not in why.hint   # no target takes an sdist
    assert "leave wt-src out on wasi targets" in why.hint


def test_pyodide_wording_comes_from_the_profile() -> None:
    f = facts(PYODIDE, roots={"msgpack": "msgpack"}, dist_lock_given=True)
    why = explain_no_wheel("msgpack", [cause("msgpack")], {"msgpack": compiled("msgpack", ["1.2"])}, f)
    assert "with no build for pyemscripten_2026_0_wasm32, emscripten_5_0_3_wasm32, and the Pyodide " \
           "distribution lock does not list it" in why.message
    assert why.hint is not None and why.hint.startswith("ask upstream for a PEP 783 wheel")
    assert "\"sys_platform != 'emscripten'\"" in why.hint


def test_other_packages_without_a_wheel_are_named() -> None:
    why = explain_no_wheel("pydantic-core", PYDANTIC_CAUSES, PYDANTIC_REPORTS, facts(), also_without=["numpy"])
    assert "also without a wheel for the target: numpy" in why.message


# --------------------------------------------------------------------------- WT232


def test_conflict_groups_causes_by_package() -> None:
    causes = [cause("wt-b>=2"), cause("wt-b<2", ("wt-a", "1.0")), cause("wt-b<2", ("wt-a", "1.1"))]
    why = explain_conflict(causes, {"wt-b": pure("wt-b", ["1.0", "2.0"])}, facts(roots={"wt-a": "wt-a"}))
    assert why.message.splitlines() == [
        "the requirements cannot be satisfied together for target wasi-p2 (Python 3.14):",
        "  wt-b: versions with a wheel for the target: 2.0, 1.0",
        "    wt-b>=2 (requested)",
        "    wt-b<2 (required by wt-a 1.1); wt-a 1.0: requires the same"]
    assert why.hint == "loosen or drop one of the requirements above"
    assert why.lines == ("wt-b>=2 (requested): versions with a wheel for the target: 2.0, 1.0",
                         "wt-b<2 (required by wt-a 1.0): versions with a wheel for the target: 2.0, 1.0",
                         "wt-b<2 (required by wt-a 1.1): versions with a wheel for the target: 2.0, 1.0")


def test_conflict_with_the_interpreter() -> None:
    causes = [RequirementInformation(Req(PYTHON, frozenset(), SpecifierSet(">=3.15"), "Python >=3.15"),
                                     cand("wt-new", v)) for v in ("1.0", "1.1")]
    why = explain_conflict(causes, {}, facts())
    assert "wt-new 1.1 and 1.0 require Python >=3.15, the target wasi-p2 is Python 3.14" in why.message


def test_conflict_where_only_unwanted_versions_have_a_wheel() -> None:
    """The target has x 1.0 (pure); every parent pins a compiled 2.x: choosing another parent version is the way out."""
    x = report("x", {"1.0": ["x-1.0-py3-none-any.whl"], "2.0": ["x-2.0-cp314-cp314-win_amd64.whl"],
                     "2.1": ["x-2.1-cp314-cp314-win_amd64.whl"]}, usable=("1.0",), pure=True)
    causes = [cause("x==2.0", ("p", "1.0")), cause("x>=2", ("p", "1.1"))]
    why = explain_conflict(causes, {"x": x}, facts(roots={"p": "p"}, dependents={"x": {"p"}}))
    assert "x: versions with a wheel for the target: 1.0; without: 2.1, 2.0" in why.message
    assert why.hint is not None
    assert "only x 1.0 has a wheel for the target (choose a p version that allows one)" in why.hint


@pytest.mark.parametrize(("index_first", "says"), [
    (False, 'distribution packages are fixed by the Pyodide lock; loosen the requirement; or set [python] '
            'pyodide-packages = "index-first" (the default) in mochi.toml to take pydantic from the index'),
    (True, "the index has no build of pydantic for the target that fits, so the Pyodide lock's pin is the "
           "only candidate; loosen the requirement"),
])
def test_conflict_with_a_distribution_pin(index_first: bool, says: str) -> None:
    dist = {"pydantic": DistPackage("pydantic", "2.12.5", "pydantic-2.12.5-py3-none-any.whl", "0")}
    why = explain_conflict([cause("pydantic>=2.14")], {}, facts(PYODIDE, dist=dist, dist_lock_given=True,
                                                                index_first=index_first))
    assert "pydantic: the Pyodide distribution lock pins pydantic 2.12.5" in why.message
    assert why.hint is not None and says in why.hint
    # index-first (the default) is offered only where it is not already in force
    assert ('pyodide-packages = "index-first"' in why.hint) is not index_first


def test_target_facts_default_to_index_first() -> None:
    assert facts(PYODIDE).index_first is True


def test_conflict_over_many_packages_is_cut() -> None:
    causes = [cause(f"p{n}>=2", ("root", "1.0")) for n in range(10)] + [cause(f"p{n}<2") for n in range(10)]
    why = explain_conflict(causes, {f"p{n}": pure(f"p{n}", ["1.0", "2.0"]) for n in range(10)}, facts())
    assert why.message.splitlines()[-1] == "  and 6 more conflicting packages"
    assert len(why.lines) == 20 and all(f"p{n}<2 (requested)" in why.details for n in range(10))


# --------------------------------------------------------------------------- WT235


def test_too_deep_names_where_it_backtracked() -> None:
    why = explain_too_deep(2000, {"a": 3, "pydantic-core": 40, "b": 3, "c": 1}, PYDANTIC_CAUSES[:2], {}, facts())
    assert why.message == ("no resolution found within 2000 rounds for target wasi-p2; it backtracked most on "
                           "pydantic-core (40 times), a (3 times), b (3 times) and 1 more")
    assert why.hint == "pin some versions to narrow the search, first those that require pydantic-core"
    assert "conflicts per package:\n  pydantic-core: 40\n  a: 3\n  b: 3\n  c: 1" in why.details
    assert explain_too_deep(5, {}, (), {}, facts()).message == "no resolution found within 5 rounds for target wasi-p2"


# --------------------------------------------------------------------------- bounded, whatever the input

NAMES = st.sampled_from(["a", "b", "pydantic", "pydantic-core", "x" * 60, "numpy"])
VERSIONS = st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 30), st.integers(0, 30))
SPECS = st.sampled_from(["", ">=1", "<2", "==1.0", "!=0.5", ">=2,<3", "~=1.4"])


@st.composite
def searches(draw: st.DrawFn) -> tuple[list[Cause], dict[str, ProjectReport], str]:
    """Random causes over a few names, random parents, and what the index offered for each name."""
    causes: list[Cause] = []
    for _ in range(draw(st.integers(1, 120))):
        name, spec = draw(NAMES), draw(SPECS)
        parent = draw(st.none() | st.tuples(NAMES, VERSIONS))
        causes.append(cause(f"{name}{spec}", parent))
    reports: dict[str, ProjectReport] = {}
    for name in sorted({c.requirement.name for c in causes}):
        versions = draw(st.lists(VERSIONS, max_size=50, unique=True))
        usable = tuple(v for v in versions if draw(st.booleans()))
        reports[name] = report(name, {v: [f"{name}-{v}-cp314-cp314-win_amd64.whl"] * draw(st.integers(1, 5))
                                      for v in versions}, usable=usable)
    return causes, reports, draw(st.sampled_from(sorted(reports)))


@pytest.mark.property
@settings(max_examples=150, deadline=None)
@given(searches())
def test_every_explanation_fits_in_two_kilobytes(search: tuple[list[Cause], dict[str, ProjectReport], str]) -> None:
    causes, reports, name = search
    roots = {c.requirement.name: c.requirement.text for c in causes if c.parent is None}
    f = facts(roots=roots, other_targets={"win_amd64": ["native"]})
    reports[name].usable.clear()
    wheel = explain_no_wheel(name, causes, reports, f, also_without=sorted(reports)[:3])
    conflict = explain_conflict(causes, reports, f)
    for why in (wheel, conflict):
        assert len(why.message.encode()) <= MESSAGE_LIMIT
        assert all(len(line.encode()) <= LINE_LIMIT + 2 for line in why.message.splitlines())
        assert why.hint is None or len(why.hint.encode()) <= HINT_LIMIT
        for c in causes:   # the long form keeps every cause
            assert c.requirement.text in why.details
    err = NoTargetWheelError(wheel.message, package=name, target=f.target, versions_tried=(), accepted_tags=(),
                             compiled=True, hint=wheel.hint, details=wheel.details)
    assert len(f"error: {err}".encode()) < CLI_LIMIT
    # the order resolvelib lists the causes in does not matter
    again = explain_no_wheel(name, list(reversed(causes)), reports, f, also_without=sorted(reports)[:3])
    assert (again.message, again.hint) == (wheel.message, wheel.hint)


# --------------------------------------------------------------------------- uv's output


@pytest.mark.parametrize(("lines", "cut"), [(["error: short"], False), ([f"line {n} " + "x" * 60 for n in range(10)],
                                                                         False),
                                             ([f"line {n} " + "x" * 60 for n in range(200)], True)])
def test_shorten_output_keeps_the_head_and_the_tail(lines: list[str], cut: bool) -> None:
    text = "\n".join(lines)
    shown, was_cut = shorten_output(text + "\n\n")
    assert was_cut is cut
    if not cut:
        assert shown == text
        return
    kept = shown.splitlines()
    assert kept[0] == lines[0] and kept[-1] == lines[-1]   # uv's first line and its conclusion
    marker = next(line for line in kept if line.startswith("[... "))
    assert marker == f"[... {len(lines) - len(kept) + 1} more lines ...]"
    assert len(shown.encode()) < 1700


def test_shorten_output_cuts_a_single_long_line() -> None:
    shown, cut = shorten_output("error: " + "y" * 5000)
    assert cut and shown.startswith("error: yyy") and len(shown.encode()) < 1700
    assert "..." in shown


def test_uv_failure_keeps_everything_in_details() -> None:
    stderr = "error: No solution found\n" + "".join(f"  because {n}\n" for n in range(300)) + "hint: loosen x\n"
    err = UvFailedError("uv failed while resolving (exit 1)", stderr=stderr, argv=["uv"])
    assert len(str(err).encode()) < CLI_LIMIT and str(err).endswith("hint: loosen x")
    assert err.details == stderr.strip() and err.stderr == stderr
    short = UvFailedError("uv failed (exit 2)", stderr="error: no network\n", argv=["uv"])
    assert str(short) == "WT202 uv failed (exit 2)\nerror: no network" and short.details is None
