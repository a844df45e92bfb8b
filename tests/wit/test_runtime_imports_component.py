"""Modules a package reaches by name at run time, in a real component (componentize-py +
wasmtime): unidecode's per-block tables (``__import__`` with a computed name, an
``ImportError`` read as "no transliteration"), codecs looked up by name (idna's punycode),
and a submodule reached through a module-level ``__getattr__``. Each call answers as the
same wrapper does natively, and the component's self-check reports no module of the wheels
missing; a probe component (``lock --smoke``) reports a module that needs ``_bz2``.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pyodide.wheelmaker import make_wheel
from tests.wit.conftest import native_module, wheel_path
from tests.wit.surfaces import S, fn
from wasmtool.typemap.surface import MappedSurface
from wasmtool.wit.build import BuiltComponent, build_component, build_probe_component, run_selfcheck
from wasmtool.wit.guest_python import guest_stdlib

pytestmark = pytest.mark.slow

EXTERNS = textwrap.dedent('''\
    """Calls whose modules are found by name at run time."""
    import codecs

    import idna
    import lazypkg
    import unidecode


    def rt_unidecode(s: str) -> str:
        return unidecode.unidecode(s)


    def rt_idna_decode(s: str) -> str:
        return idna.decode(s)


    def rt_encode(s: str, codec: str) -> str:
        return codecs.encode(s, codec).hex()


    def rt_lazy(s: str) -> str:
        return lazypkg.shout.shout(s)


    def rt_plugin(name: str, s: str) -> str:
        return lazypkg.run_plugin(name, s)
    ''')

LAZYPKG = {
    "lazypkg/__init__.py": textwrap.dedent('''\
        import importlib

        _SUBMODULES = {"shout"}


        def __getattr__(name):
            if name in _SUBMODULES:
                return importlib.import_module("." + name, __name__)
            raise AttributeError(name)


        def run_plugin(name, s):
            try:
                mod = __import__("lazypkg.plugins." + name, fromlist=["run"])
            except ImportError:
                return s          # a missing plugin is tolerated: the silent wrong answer
            return mod.run(s)
        '''),
    "lazypkg/shout.py": "def shout(s):\n    return s.upper() + '!'\n",
    "lazypkg/plugins/__init__.py": "",
    "lazypkg/plugins/reverse.py": "def run(s):\n    return s[::-1]\n",
    "lazypkg/tests/__init__.py": "",
    "lazypkg/tests/test_shout.py": "import lazypkg\n\ndef test_shout():\n    assert lazypkg.shout.shout('a') == 'A!'\n",
}

CALLS: list[tuple[str, list[object]]] = [
    ("rt_unidecode", ["kožušček"]),
    ("rt_unidecode", ["北京 Ελληνικά"]),
    ("rt_idna_decode", ["xn--bcher-kva.example"]),
    ("rt_encode", ["kožušček", "cp1250"]),
    ("rt_encode", ["bücher", "punycode"]),
    ("rt_lazy", ["hi"]),
    ("rt_plugin", ["reverse", "abc"]),
]


def surface() -> MappedSurface:
    return MappedSurface(
        dist="Unidecode", version="1.4.0", alias="rtimports", import_names=("unidecode",), tier="inline",
        functions=(
            fn("rt_unidecode", "unidecode:unidecode", [("s", S)], S),
            fn("rt_idna_decode", "idna:decode", [("s", S)], S),
            fn("rt_encode", "codecs:encode", [("s", S), ("codec", S)], S),
            fn("rt_lazy", "lazypkg.shout:shout", [("s", S)], S),
            fn("rt_plugin", "lazypkg:run_plugin", [("name", S), ("s", S)], S),
        ),
    )


@pytest.fixture(scope="module")
def inputs(wit_tools: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    folder = tmp_path_factory.mktemp("rt-imports")
    externs = folder / "externs"
    externs.mkdir()
    (externs / "rtimports_externs.py").write_text(EXTERNS, encoding="utf-8")
    lazy = make_wheel(folder / "wheels", "lazypkg", "1.0", LAZYPKG)
    wheels = [wheel_path("Unidecode-1.4.0-py3-none-any.whl"), wheel_path("idna-3.20-py3-none-any.whl"), lazy.path]
    return externs, wheels


@pytest.fixture(scope="module")
def built(inputs: tuple[Path, list[Path]], component_cache: Path) -> BuiltComponent:
    externs, wheels = inputs
    return build_component(surface(), externs_dir=externs, wheels=wheels, cache_dir=component_cache)


@pytest.fixture(scope="module")
def native(inputs: tuple[Path, list[Path]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    externs, wheels = inputs
    with native_module(wheels, externs, "rtimports_externs", tmp_path_factory.mktemp("rt-native-site"),
                       ("rtimports_externs", "unidecode", "idna", "lazypkg")) as module:
        yield module


def test_run_time_imports_answer_as_natively(built: BuiltComponent, native: object) -> None:
    from wasmtool.run.wasi import WasiComponentRuntime

    with WasiComponentRuntime(built) as rt:
        got = [rt.call(name, args) for name, args in CALLS]
    expected = [getattr(native, name)(*args) for name, args in CALLS]
    assert got == expected
    assert got[0] == "kozuscek" and got[1] == "Bei Jing  Ellenika" and got[2] == "bücher.example"
    assert got[5] == "HI!" and got[6] == "cba"


def test_self_check_reports_no_module_of_the_wheels_missing(built: BuiltComponent) -> None:
    failures = run_selfcheck(built)
    stdlib = guest_stdlib()
    ours = [f for f in failures if not stdlib.is_module(f[0])]
    assert ours == []
    assert all(phase == "build" for _m, phase, _e in failures)     # nothing lost between build and run
    report = json.loads((built.directory / "modules.json").read_text(encoding="utf-8"))
    carried = set(report["carried"])
    assert {"unidecode.x001", "unidecode.x000", "idna.uts46data", "encodings.punycode", "encodings.cp1250",
            "lazypkg.shout", "lazypkg.plugins.reverse"} <= carried
    assert "lazypkg.tests.test_shout" not in carried
    left_out = {"module": "lazypkg.tests.test_shout", "reason": "a test suite shipped inside the wheel"}
    assert left_out in report["left_out"]
    info = json.loads((built.directory / "build.json").read_text(encoding="utf-8"))
    assert info["carried_modules"] == len(carried) and info["build_world"] == "unidecode-checked"


def test_probe_reports_a_module_that_needs_what_wasi_lacks(inputs: tuple[Path, list[Path]], component_cache: Path,
                                                           tmp_path: Path) -> None:
    archive = make_wheel(tmp_path, "packer", "1.0", {
        "packer/__init__.py": "def pack(b):\n    from packer import compress\n    return compress.run(b)\n",
        "packer/compress.py": "import bz2\n\ndef run(b):\n    return bz2.compress(b)\n",
        # imported at build time, then dropped by a later module: the component does not carry it
        "packer/a_kept.py": "VALUE = 1\n",
        "packer/z_forget.py": "import sys\n\nsys.modules.pop('packer.a_kept', None)\n",
    })
    _, wheels = inputs
    probe = build_probe_component([wheels[2], archive.path], cache_dir=component_cache)
    failures = {m: (phase, err) for m, phase, err in run_selfcheck(probe)}
    assert failures["packer.compress"] == ("build", "ModuleNotFoundError: No module named '_bz2'")
    assert failures["packer.a_kept"] == ("run", "ModuleNotFoundError: No module named 'packer.a_kept'")
    assert "packer" not in failures and "lazypkg.shout" not in failures and "packer.z_forget" not in failures
