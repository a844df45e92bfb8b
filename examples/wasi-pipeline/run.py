"""Build and run the WASI pipeline: a TOML-parsing component (tomli, its WIT derived by
wasmtool) composed with a validating component (packaging) that imports it.

    python examples/wasi-pipeline/run.py [--wheels DIR] [--cache DIR]

Steps: derive + build the parser component from a mapped surface; build the validator
against a world that imports the parser's derived interface; `wasm-tools compose` them into
one component (no `mochi:py-tomli` import left); run its `check` export under wasmtime for a
few documents and print one report per line. Builds are cached by input hash in --cache.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from wasmtool.typemap.surface import Field, Function, MappedSurface, Param, Record, TypeRef  # noqa: E402
from wasmtool.wit.build import build_app_component, build_component  # noqa: E402
from wasmtool.wit.render import PY_ERROR_DEP_PATH, PY_ERROR_WIT  # noqa: E402
from wasmtool.wit.validate import find_wasm_tools, tool_env  # noqa: E402

SAMPLES = [
    ("good", '[project]\nname = "Demo_Pkg"\nversion = "1.0rc1"\nrequires-python = ">=3.12"\n'
             'dependencies = ["requests[socks] >=2.31", "tomli"]\n'),
    ("bad-version", '[project]\nname = "x"\nversion = "one"\ndependencies = ["ok-pkg==1", "not a req !!"]\n'),
    ("no-project", '[tool.x]\na = 1\n'),
    ("bad-toml", '[project\nname = 1\n'),
]


def parser_surface() -> MappedSurface:
    s = TypeRef("str")
    info = TypeRef("record", name="ProjectInfo", py="pyproject_externs:ProjectInfo")
    return MappedSurface(
        dist="tomli", version="2.5.0", alias="pyproject", import_names=("tomli",), tier="inline",
        functions=(Function("pyproject_project_info", "tomli:loads", "function",
                            (Param("text", "text", s),), info, doc="The [project] table of a pyproject.toml."),),
        records=(Record("ProjectInfo", "pyproject_externs:ProjectInfo", "typeddict", (
            Field("name", "name", s), Field("version", "version", s),
            Field("dependencies", "dependencies", TypeRef("list", (s,))),
            Field("requires_python", "requires_python", TypeRef("option", (s,))),
        )),),
    )


def build(wheels: Path, cache: Path) -> Path:
    parser = build_component(parser_surface(), externs_dir=HERE / "parser",
                             wheels=[wheels / "tomli-2.5.0-py3-none-any.whl"], cache_dir=cache)
    wit = cache / "validator-wit"
    (wit / "deps" / "mochi-py-tomli").mkdir(parents=True, exist_ok=True)
    (wit / "world.wit").write_text((HERE / "validator" / "wit" / "world.wit").read_text())
    (wit / "deps" / "mochi-py-tomli" / "world.wit").write_text((parser.wit_dir / "world.wit").read_text())
    (wit / PY_ERROR_DEP_PATH).parent.mkdir(parents=True, exist_ok=True)
    (wit / PY_ERROR_DEP_PATH).write_text(PY_ERROR_WIT)
    validator = build_app_component(wit_dir=wit, world="validator", app_dir=HERE / "validator" / "app",
                                    wheels=[wheels / "packaging-26.3-py3-none-any.whl"], cache_dir=cache)
    key = hashlib.sha256(f"{parser.input_hash}\n{validator.parent.name}".encode()).hexdigest()[:16]
    composed = cache / f"pipeline-{key}.wasm"
    if not composed.is_file():
        tmp = composed.with_suffix(".tmp.wasm")
        subprocess.run([str(find_wasm_tools()), "compose", str(validator), "-d", str(parser.path), "-o", str(tmp)],
                       check=True, capture_output=True, env=tool_env())
        os.replace(tmp, composed)
    return composed


def run(composed: Path, samples: list[tuple[str, str]]) -> list[str]:
    from wasmtime import Config, Engine, Store, WasiConfig
    from wasmtime.component import Component, Linker

    engine = Engine(Config())
    cwasm = composed.with_suffix(".cwasm")
    try:
        component = Component.deserialize_file(engine, str(cwasm))
    except Exception:  # absent or stale: compile and keep it
        component = Component.from_file(engine, str(composed))
        cwasm.write_bytes(bytes(component.serialize()))
    imports = list(component.type.imports(engine))
    # only WASI and the types-only mochi:python/types are left: the parser import was plugged
    assert not any(name.startswith("mochi:py-") for name in imports), imports
    linker = Linker(engine)
    linker.add_wasip2()
    store = Store(engine)
    wasi = WasiConfig()
    wasi.inherit_stderr()
    store.set_wasi(wasi)              # required, or wasmtime-py aborts the process
    instance = linker.instantiate(store, component)
    check = instance.get_func(store, "check")
    assert check is not None
    return [f"{label}: {check(store, text)}" for label, text in samples]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheels", type=Path,
                    default=Path(os.environ.get("WASMTOOL_TEST_WHEELS", ROOT / "tests" / "data" / "artefacts")))
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "wasmtool-wasi-pipeline")
    args = ap.parse_args(argv)
    composed = build(args.wheels, args.cache)
    for line in run(composed, SAMPLES):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
