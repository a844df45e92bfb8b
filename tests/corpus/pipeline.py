"""The corpus pipeline without the CLI: wheel -> stubs (all tiers) -> surface -> workspace files.

Used by the corpus gate (tests/corpus/test_corpus.py) and ``bench/surface.py``. Sibling stub
wheels come from the recorded artefacts (the same files the hermetic index serves).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from wasmtool.ops.bind import public_import_names
from wasmtool.resolve.wheelinfo import read_wheel_info
from wasmtool.skips import count_by_reason
from wasmtool.stubs.discover import StubgenPolicy, StubSet, discover, module_stubs
from wasmtool.synth.dialect import ffi_split
from wasmtool.synth.workspace import surface_files
from wasmtool.typemap.lower import map_module
from wasmtool.typemap.surface import MappedSurface

ARTEFACTS = Path(__file__).resolve().parent.parent / "data" / "artefacts"
GOLDEN = Path(__file__).resolve().parent / "golden"

#: The seed's corpus: distribution -> alias (the Mochi import alias users would write).
CORPUS: dict[str, str] = {
    "numpy": "np", "pandas": "pd", "scipy": "scipy", "scikit-learn": "sklearn", "requests": "requests",
    "httpx": "httpx", "urllib3": "urllib3", "pillow": "PIL", "pydantic": "pydantic", "attrs": "attrs",
    "click": "click", "typer": "typer", "rich": "rich", "tqdm": "tqdm", "sqlalchemy": "sqlalchemy",
    "fastapi": "fastapi", "starlette": "starlette", "uvicorn": "uvicorn", "aiohttp": "aiohttp",
    "pyyaml": "yaml", "toml": "toml", "tomli": "tomli", "msgpack": "msgpack", "orjson": "orjson",
    "pytest": "pytest",
}


def _wheels() -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for p in sorted(ARTEFACTS.glob("*.whl")):
        name = str(parse_wheel_filename(p.name)[0])
        out.setdefault(name, []).append(p)
    return out


def native_wheel(dist: str) -> Path:
    """The cp312 manylinux wheel if there is one, else the pure wheel (the native profile's choice)."""
    files = _wheels()[str(canonicalize_name(dist))]
    compiled = [p for p in files if "cp312" in p.name or "abi3" in p.name]
    return (compiled or files)[0]


def wheel_import_names(wheel: Path) -> tuple[str, ...]:
    return tuple(n for n in read_wheel_info(wheel).import_names if n.isidentifier())


def dependency_wheels(wheel: Path) -> list[Path]:
    """Wheels of the declared dependencies (markers ignored) found among the artefacts, for
    stubgen's imports of compiled packages (scipy needs numpy)."""
    wheels = _wheels()
    out: list[Path] = []
    for req in read_wheel_info(wheel).metadata.requires_dist or ():
        if req.marker is not None and "extra" in str(req.marker):
            continue
        files = wheels.get(str(canonicalize_name(req.name)), [])
        if files:
            compiled = [p for p in files if "cp312" in p.name or "abi3" in p.name]
            out.append((compiled or files)[0])
    return out


def artefact_finder() -> Callable[[str], Path | None]:
    wheels = _wheels()

    def find(name: str) -> Path | None:
        files = wheels.get(str(canonicalize_name(name)), [])
        return files[-1] if files else None
    return find


@dataclass(frozen=True)
class CorpusResult:
    stubs: StubSet
    surface: MappedSurface
    files: dict[str, str]                  # the alias folder in the default dialect (0.10)
    mep71_files: dict[str, str]            # the same folder in the mep-71 dialect

    def shim(self, dialect: str) -> tuple[str, str]:
        """(file name, text) of the shim in ``dialect``."""
        files = self.files if dialect == "0.10" else self.mep71_files
        return next((n, t) for n, t in files.items() if n.endswith("_shim.mochi"))

    def golden(self) -> dict[str, object]:
        s = self.surface
        return {
            "dist": s.dist, "version": s.version, "alias": s.alias, "import_names": list(s.import_names),
            "tier": s.tier, "per_import": dict(self.stubs.per_import),
            "functions": len(s.functions), "records": len(s.records), "enums": len(s.enums),
            "handles": len(s.handles), "classes": len({f.owner for f in s.functions if f.owner}),
            "skips": len(s.skips), "skips_by_reason": count_by_reason(s.skips),
            # byte-level determinism across runs and machines: any change to the emitted files shows here
            "stub_sha256": self.stubs.sha256,
            "files_sha256": {name: hashlib.sha256(text.encode()).hexdigest()
                             for name, text in sorted(self.files.items()) if name != "surface.json"},
            # the released Mochi's stateless FFI (dialect 0.10) vs mep-71
            "dialects": {
                "0.10": {"externs": len(ffi_split(s)[0]), "stateless_ffi_skips": len(ffi_split(s)[1]),
                         "shim_sha256": hashlib.sha256(self.shim("0.10")[1].encode()).hexdigest()},
                "mep-71": {"externs": len(s.functions),
                           "shim_sha256": hashlib.sha256(self.shim("mep-71")[1].encode()).hexdigest(),
                           "skipped_sha256": hashlib.sha256(self.mep71_files["SKIPPED.txt"].encode()).hexdigest()},
            },
        }


def run_package(dist: str, *, timeout: float = 60.0, target: str = "native") -> CorpusResult:
    wheel = native_wheel(dist)
    version = str(parse_wheel_filename(wheel.name)[1])
    names = wheel_import_names(wheel)
    scan = tuple(n for n in names if "__mypyc" not in n)
    stubs = discover(wheel, dist=dist, version=version, import_names=scan, find_sibling_stubs=artefact_finder(),
                     typeshed=True, stubgen=StubgenPolicy(timeout=timeout), python_version="3.12",
                     dependency_wheels=dependency_wheels(wheel))
    skips: list = []
    modules = module_stubs(stubs, python_version=(3, 12), platform="linux", skips=skips)
    surface = map_module(modules, dist=dist, version=version, alias=CORPUS[dist],
                         import_names=public_import_names(scan), target=target,
                         tier=stubs.provenance)
    extra = tuple(sorted({*surface.skips, *stubs.skips, *skips}))
    surface = MappedSurface(surface.dist, surface.version, surface.alias, surface.import_names, surface.tier,
                            surface.functions, surface.records, surface.enums, surface.handles, extra)
    return CorpusResult(stubs, surface, surface_files(surface, "0.10"), surface_files(surface, "mep-71"))


def golden_text(result: CorpusResult) -> str:
    return json.dumps(result.golden(), indent=1, sort_keys=True) + "\n"
