"""PEP 561 stub discovery: tier precedence, partial markers, dist->import mapping, determinism."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.skip_policy import missing
from tests.stubs.conftest import WheelMaker, artefact, build_wheel
from tests.support.index_server import IndexServer
from wasmtool.cache.store import ArtifactCache
from wasmtool.index.client import IndexClient
from wasmtool.skips import SkipReason
from wasmtool.stubs.discover import (
    PROVENANCE_TOKENS,
    StubgenPolicy,
    StubsPackage,
    choose_stubs,
    discover,
    index_stub_finder,
    module_name,
    module_stubs,
    sibling_stub_names,
    stub_sha256,
    wheel_listing,
)
from wasmtool.stubs.typeshed import TypeshedDir, TypeshedHit, bundled_typeshed_root, parse_versions, version_allows

OFF = StubgenPolicy(fallback=False)
PKG_PY = "def f(x: int) -> int:\n    return x\n"
PKG_PYI = "def f(x: int) -> int: ...\n"
STUB_PYI = "def f(x: str) -> str: ...\n"


class FakeTypeshed:
    """A TypeshedSource answering for one import name."""

    def __init__(self, import_name: str, files: dict[str, bytes], *, partial: bool = False) -> None:
        self.import_name, self.files, self.partial = import_name, files, partial
        self.asked: list[tuple[str, str]] = []

    def lookup(self, dist: str, import_name: str, python_version: tuple[int, int]) -> TypeshedHit | None:
        self.asked.append((dist, import_name))
        if import_name != self.import_name:
            return None
        return TypeshedHit("fake-typeshed", self.files, self.partial)


def _siblings(**wheels: Path) -> dict[str, Path]:
    return dict(wheels)


# ---------------------------------------------------------------------------------------------
# precedence pairs on synthetic wheels


def test_stubs_package_beats_inline(make_wheel: WheelMaker) -> None:
    wheel = make_wheel("pkg", "1.0", {"pkg/__init__.py": PKG_PY, "pkg/py.typed": ""})
    stubs = make_wheel("types-pkg", "1.0.1", {"pkg-stubs/__init__.pyi": STUB_PYI})
    s = discover(wheel, dist="pkg", version="1.0", find_sibling_stubs={"types-pkg": stubs}.get, stubgen=OFF)
    assert s.provenance == "stubs-package"
    assert s.source == "types-pkg 1.0.1"
    assert s.files == (("pkg/__init__.pyi", STUB_PYI.encode()),)
    assert s.siblings_tried == ("types-pkg",)


def test_dist_stubs_name_is_tried_second(make_wheel: WheelMaker) -> None:
    wheel = make_wheel("pkg", "1.0", {"pkg/__init__.py": PKG_PY})
    stubs = make_wheel("pkg-stubs", "1.0", {"pkg-stubs/__init__.pyi": STUB_PYI})
    s = discover(wheel, dist="pkg", version="1.0", find_sibling_stubs={"pkg-stubs": stubs}.get, stubgen=OFF)
    assert s.provenance == "stubs-package"
    assert s.siblings_tried == ("types-pkg", "pkg-stubs")


def test_sibling_without_matching_stubs_folder_is_ignored(make_wheel: WheelMaker) -> None:
    wheel = make_wheel("pkg", "1.0", {"pkg/__init__.py": PKG_PY, "pkg/py.typed": ""})
    other = make_wheel("types-pkg", "1.0", {"other-stubs/__init__.pyi": STUB_PYI})
    s = discover(wheel, dist="pkg", version="1.0", find_sibling_stubs={"types-pkg": other}.get, stubgen=OFF)
    assert s.provenance == "py.typed"
    assert s.files == (("pkg/__init__.py", PKG_PY.encode()),)


def test_inline_beats_typeshed(make_wheel: WheelMaker) -> None:
    wheel = make_wheel("pkg", "1.0", {"pkg/__init__.py": PKG_PY, "pkg/__init__.pyi": PKG_PYI, "pkg/py.typed": ""})
    ts = FakeTypeshed("pkg", {"pkg/__init__.pyi": STUB_PYI.encode()})
    s = discover(wheel, dist="pkg", version="1.0", typeshed=ts, stubgen=OFF)
    assert s.provenance == "py.typed"
    assert s.files == (("pkg/__init__.pyi", PKG_PYI.encode()),)  # the .pyi shadows the .py
    assert ts.asked == []


def test_typeshed_beats_stubgen(make_wheel: WheelMaker) -> None:
    wheel = make_wheel("pkg", "1.0", {"pkg/__init__.py": PKG_PY})
    ts = FakeTypeshed("pkg", {"pkg/__init__.pyi": STUB_PYI.encode()})
    # fallback allowed, but typeshed covers the package: stubgen never runs
    s = discover(wheel, dist="pkg", version="1.0", typeshed=ts, stubgen=StubgenPolicy(timeout=0.001))
    assert s.provenance == "typeshed"
    assert s.source == "fake-typeshed"
    assert s.skips == ()


def test_nothing_and_stubgen_denied_is_untyped(make_wheel: WheelMaker) -> None:
    wheel = make_wheel("pkg", "1.0", {"pkg/__init__.py": PKG_PY})
    s = discover(wheel, dist="pkg", version="1.0", typeshed=False, stubgen=OFF)
    assert s.provenance == "none"
    assert s.files == ()
    assert [(k.path, k.reason) for k in s.skips] == [("pkg", SkipReason.SkipUntypedPackage)]


def test_stubgen_is_last(make_wheel: WheelMaker) -> None:
    wheel = make_wheel("pkg", "1.0", {"pkg/__init__.py": PKG_PY})
    s = discover(wheel, dist="pkg", version="1.0", typeshed=False, stubgen=StubgenPolicy(timeout=60))
    assert s.provenance == "stubgen"
    assert s.source.startswith("stubgen (mypy ")
    assert [p for p, _ in s.files] == ["pkg/__init__.pyi"]
    (mod,) = module_stubs(s, python_version="3.12")
    assert mod.function("f") is not None


# ---------------------------------------------------------------------------------------------
# partial markers


def test_py_typed_partial_falls_through_per_module() -> None:
    wheel = {
        "pkg/__init__.py": PKG_PY.encode(),
        "pkg/py.typed": b"partial\n",
        "pkg/_speed.cpython-312-x86_64-linux-gnu.so": b"",
        "pkg/fast.cpython-312-x86_64-linux-gnu.so": b"",
    }
    ts = FakeTypeshed("pkg", {"pkg/fast.pyi": b"def g() -> None: ...\n", "pkg/__init__.pyi": STUB_PYI.encode()},
                      partial=True)
    c = choose_stubs(dist="pkg", version="1", import_names=["pkg"], wheel=wheel, typeshed=ts)
    assert c.per_import == {"pkg": "py.typed-partial"}
    # the inline module wins, typeshed fills the compiled module it lacks
    assert c.files == {"pkg/__init__.py": PKG_PY.encode(), "pkg/fast.pyi": b"def g() -> None: ...\n"}
    assert c.stubgen_modules == ("pkg._speed",)  # typeshed is partial too: stubgen gets the rest
    assert c.stubgen_packages == ()
    complete = FakeTypeshed("pkg", {"pkg/fast.pyi": b""})
    assert choose_stubs(dist="pkg", version="1", import_names=["pkg"], wheel=wheel,
                        typeshed=complete).stubgen_modules == ()


def test_py_typed_partial_provenance_and_denied_stubgen(make_wheel: WheelMaker) -> None:
    wheel = make_wheel("pkg", "1.0", {"pkg/__init__.py": PKG_PY, "pkg/py.typed": "partial\n",
                                      "pkg/ext.cpython-312-x86_64-linux-gnu.so": b"\x7fELF"})
    s = discover(wheel, dist="pkg", version="1.0", typeshed=False, stubgen=OFF)
    assert s.provenance == "py.typed-partial"
    assert [(k.path, k.reason) for k in s.skips] == [("pkg.ext", SkipReason.SkipUntypedPackage)]


def test_complete_py_typed_reports_compiled_module_without_pyi() -> None:
    wheel = {"pkg/__init__.py": b"", "pkg/py.typed": b"", "pkg/ext.abi3.so": b"", "pkg/_priv.abi3.so": b""}
    c = choose_stubs(dist="pkg", version="1", import_names=["pkg"], wheel=wheel)
    assert c.per_import == {"pkg": "py.typed"}
    assert [(k.path, k.reason) for k in c.skips] == [("pkg.ext", SkipReason.SkipCFunctionWithoutStubs)]
    assert c.stubgen_modules == ()


def test_partial_stubs_package_falls_through_to_inline() -> None:
    wheel = {"pkg/__init__.py": b"x: int\n", "pkg/a.py": b"y: int\n", "pkg/py.typed": b""}
    stubs = StubsPackage("types-pkg 1", {"pkg-stubs/__init__.pyi": b"x: str\n", "pkg-stubs/py.typed": b"partial\n"})
    c = choose_stubs(dist="pkg", version="1", import_names=["pkg"], wheel=wheel, stubs_packages=[stubs])
    assert c.per_import == {"pkg": "stubs-package"}
    assert c.files == {"pkg/__init__.pyi": b"x: str\n", "pkg/a.py": b"y: int\n"}
    assert set(c.sources) == {"stubs-package", "py.typed"}


def test_subpackage_py_typed_is_not_a_marker() -> None:
    wheel = {"pkg/__init__.py": b"", "pkg/sub/__init__.py": b"", "pkg/sub/py.typed": b""}
    c = choose_stubs(dist="pkg", version="1", import_names=["pkg"], wheel=wheel)
    assert c.per_import == {"pkg": None}
    assert c.stubgen_packages == ("pkg",)


# ---------------------------------------------------------------------------------------------
# pure helpers


def test_sibling_names() -> None:
    assert sibling_stub_names("PyYAML", ["yaml"]) == ("types-pyyaml", "pyyaml-stubs", "types-yaml", "yaml-stubs",
                                                      "pyyaml-types")
    assert sibling_stub_names("requests", ["requests"]) == ("types-requests", "requests-stubs", "requests-types")
    assert sibling_stub_names("msgpack", ["msgpack"])[-1] == "msgpack-types"   # ships msgpack-stubs/


def test_module_name() -> None:
    assert module_name("yaml/__init__.pyi") == "yaml"
    assert module_name("yaml/nodes.py") == "yaml.nodes"
    assert module_name("pkg/_x.cpython-312-x86_64-linux-gnu.so") == "pkg._x"
    assert module_name("typing_extensions.pyi") == "typing_extensions"


def test_stubgen_policy_from_config() -> None:
    assert StubgenPolicy.from_config(None) == StubgenPolicy()
    assert StubgenPolicy.from_config({"fallback": "deny"}).fallback is False
    assert StubgenPolicy.from_config({"fallback": "allow", "inspect": False}) == StubgenPolicy(inspect_mode=False)
    assert StubgenPolicy.from_config(False).fallback is False


def test_sha256_format() -> None:
    import hashlib

    files = [("b.pyi", b"2"), ("a.pyi", b"1")]
    assert stub_sha256(files) == hashlib.sha256(b"a.pyi\x001b.pyi\x002").hexdigest()


@pytest.mark.property
@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z]{1,6}(/[a-z]{1,6}){0,2}\.pyi", fullmatch=True), st.binary(max_size=20),
                       max_size=8), st.randoms())
def test_sha256_independent_of_order(files: dict[str, bytes], rnd: random.Random) -> None:
    items = list(files.items())
    shuffled = items[:]
    rnd.shuffle(shuffled)
    assert stub_sha256(items) == stub_sha256(shuffled)


def test_provenance_tokens() -> None:
    assert PROVENANCE_TOKENS == ("stubs-package", "py.typed", "py.typed-partial", "typeshed", "stubgen", "none")


# ---------------------------------------------------------------------------------------------
# typeshed


def test_versions_table() -> None:
    versions = parse_versions("# comment\n_typeshed: 3.0-  # x\ntomllib: 3.11-\nasynchat: 3.0-3.11\n")
    assert version_allows(versions, "tomllib", (3, 12))
    assert not version_allows(versions, "tomllib", (3, 10))
    assert not version_allows(versions, "asynchat", (3, 12))
    assert version_allows(versions, "_typeshed.importlib", (3, 12))
    assert not version_allows(versions, "toml", (3, 12))


def test_bundled_typeshed_is_the_pinned_package() -> None:
    root = bundled_typeshed_root()
    if root is None:
        missing("typeshed_client (a wasmtool requirement) or its bundled typeshed")
    hit = TypeshedDir(root).lookup("typing-extensions", "typing_extensions", (3, 12))
    assert hit is not None and "typing_extensions.pyi" in hit.files
    assert TypeshedDir(root).lookup("toml", "toml", (3, 12)) is None  # stdlib only


def test_typing_extensions_from_bundled_typeshed() -> None:
    if bundled_typeshed_root() is None:
        missing("typeshed_client (a wasmtool requirement) or its bundled typeshed")
    s = discover(artefact("typing_extensions-*.whl"), dist="typing-extensions", version="4.16.0", stubgen=OFF)
    assert s.provenance == "typeshed"
    assert s.source.startswith("typeshed_client ")
    assert [p for p, _ in s.files] == ["typing_extensions.pyi"]


def _typeshed_checkout(root: Path) -> Path:
    """A typeshed checkout in its real layout (stdlib/VERSIONS, stubs/<dist>/METADATA.toml),
    the toml stubs taken from the pinned types-toml wheel."""
    (root / "stdlib").mkdir(parents=True)
    (root / "stdlib" / "VERSIONS").write_text("tomllib: 3.11-\n")
    (root / "stdlib" / "tomllib.pyi").write_text("def loads(s: str) -> dict[str, object]: ...\n")
    dist = root / "stubs" / "toml"
    (dist / "@tests").mkdir(parents=True)
    (dist / "@tests" / "stubtest_allowlist.txt").write_text("")
    (dist / "METADATA.toml").write_text('version = "0.10.*"\n')
    for rel, data in wheel_listing(artefact("types_toml-*.whl")).items():
        if rel.startswith("toml-stubs/") and rel.endswith(".pyi"):
            target = dist / "toml" / rel.split("/", 1)[1]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return root


def test_toml_via_typeshed_without_sibling(tmp_path: Path) -> None:
    root = _typeshed_checkout(tmp_path / "typeshed")
    s = discover(artefact("toml-*.whl"), dist="toml", version="0.10.2", find_sibling_stubs=lambda name: None,
                 typeshed=root, stubgen=OFF)
    assert s.provenance == "typeshed"
    assert s.source == "typeshed typeshed stubs/toml 0.10.*"
    assert "toml/__init__.pyi" in s.file_map() and "toml/decoder.pyi" in s.file_map()
    assert not any("@tests" in p for p, _ in s.files)
    assert s.siblings_tried == ("types-toml", "toml-stubs", "toml-types")
    assert {m.name for m in module_stubs(s, python_version="3.12")} >= {"toml", "toml.decoder"}


def test_toml_sibling_beats_typeshed(tmp_path: Path) -> None:
    root = _typeshed_checkout(tmp_path / "typeshed")
    s = discover(artefact("toml-*.whl"), dist="toml", version="0.10.2", typeshed=root, stubgen=OFF,
                 find_sibling_stubs={"types-toml": artefact("types_toml-*.whl")}.get)
    assert s.provenance == "stubs-package"
    assert s.source.startswith("types-toml 0.10.8")


# ---------------------------------------------------------------------------------------------
# real wheels: C2 mapping, check 19, inline numpy, determinism


@pytest.mark.parametrize(("pattern", "dist", "names", "provenance"), [
    ("scikit_learn-*.whl", "scikit-learn", ("sklearn",), "none"),
    ("pillow-*.whl", "pillow", ("PIL",), "py.typed"),
    ("pyyaml-*.whl", "pyyaml", ("yaml",), "none"),
    ("attrs-*.whl", "attrs", ("attr", "attrs"), "py.typed"),
])
def test_dist_to_import_mapping(pattern: str, dist: str, names: tuple[str, ...], provenance: str) -> None:
    s = discover(artefact(pattern), dist=dist, version="x", typeshed=False, stubgen=OFF)
    assert s.import_names == names
    assert tuple(i for i, _ in s.per_import) == names
    assert s.provenance == provenance
    assert all(p.split("/", 1)[0].split(".")[0] in names for p, _ in s.files)
    if provenance == "none":
        assert [k.reason for k in s.skips] == [SkipReason.SkipUntypedPackage]


def test_pyyaml_with_types_pyyaml() -> None:
    s = discover(artefact("pyyaml-*.whl"), dist="pyyaml", version="6.0.4", stubgen=OFF,
                 find_sibling_stubs={"types-pyyaml": artefact("types_pyyaml-*.whl")}.get)
    assert s.provenance == "stubs-package"
    assert s.source.startswith("types-pyyaml 6.0.12")
    assert "yaml/__init__.pyi" in s.file_map()
    assert not any(p.startswith("yaml-stubs") or p.endswith(".toml") for p, _ in s.files)


def test_numpy_inline_py_typed() -> None:
    s = discover(artefact("numpy-*.whl"), dist="numpy", version="2.5.5", typeshed=False, stubgen=OFF)
    assert s.import_names == ("numpy",)
    assert s.provenance == "py.typed"
    assert "numpy/__init__.pyi" in s.file_map()
    assert "numpy/__init__.py" not in s.file_map()  # shadowed by the .pyi


def test_requests_stubs_package_via_index(index_server: IndexServer, cache_dir: Path) -> None:
    """Phases check 19: requests ships py.typed, yet types-requests (requests-stubs) wins."""
    with IndexClient([index_server.url]) as client:
        finder = index_stub_finder(client, ArtifactCache(cache_dir), runtime_version="2.34.2")
        s = discover(artefact("requests-2*.whl"), dist="requests", version="2.34.2", find_sibling_stubs=finder,
                     stubgen=OFF)
    assert s.provenance == "stubs-package"
    assert s.source.startswith("types-requests ")
    assert s.siblings_tried == ("types-requests",)
    assert "requests/api.pyi" in s.file_map()
    modules = module_stubs(s, python_version="3.12")
    api = next(m for m in modules if m.name == "requests.api")
    assert api.function("get") is not None


def test_index_finder_unknown_project(index_server: IndexServer, cache_dir: Path) -> None:
    with IndexClient([index_server.url]) as client:
        finder = index_stub_finder(client, ArtifactCache(cache_dir))
        assert finder("types-does-not-exist") is None


def test_deterministic(tmp_path: Path) -> None:
    a = discover(artefact("attrs-*.whl"), dist="attrs", version="26.1.0", stubgen=OFF)
    copy = tmp_path / artefact("attrs-*.whl").name
    shutil.copy(artefact("attrs-*.whl"), copy)
    b = discover(copy, dist="attrs", version="26.1.0", stubgen=OFF)
    assert a == b
    assert a.sha256 == b.sha256 == stub_sha256(a.files)
    assert list(a.files) == sorted(a.files)


def test_rebuilt_wheel_same_sha(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": PKG_PY, "pkg/b.py": "z = 1\n", "pkg/py.typed": ""}
    one = build_wheel(tmp_path / "one", "pkg", "1.0", files)
    two = build_wheel(tmp_path / "two", "pkg", "1.0", dict(reversed(list(files.items()))))
    assert discover(one, dist="pkg", version="1.0", stubgen=OFF).sha256 == \
        discover(two, dist="pkg", version="1.0", stubgen=OFF).sha256
