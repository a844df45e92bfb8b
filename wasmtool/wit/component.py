"""A built component as it sits in the cache (``component.wasm``, ``build.json``, ``plan.json``,
``wit/``) and the name of its compiled ``.cwasm`` per engine, apart from the build code, so a
process that only runs a component does not import what builds one (see
:mod:`wasmtool.wit.build`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .model import WitPlan

#: The engine configuration :class:`wasmtool.run.wasi.WasiComponentRuntime` uses by default.
DEFAULT_ENGINE_CONFIG = "epoch_interruption=1"


@dataclass(frozen=True)
class BuiltComponent:
    """A built component in the cache (see the module docstring)."""

    path: Path                # component.wasm
    cwasm_path: Path          # the serialized form for the default engine config (may not exist yet)
    wit_dir: Path
    world: str
    input_hash: str
    plan: WitPlan = field(repr=False)
    externs_module: str = ""
    from_cache: bool = False

    @property
    def directory(self) -> Path:
        return self.path.parent

    @classmethod
    def load(cls, directory: Path, *, from_cache: bool = True) -> BuiltComponent:
        """A component directory written by :func:`wasmtool.wit.build.build_component`."""
        info = json.loads((directory / "build.json").read_text(encoding="utf-8"))
        plan = WitPlan.from_dict(json.loads((directory / "plan.json").read_text(encoding="utf-8")))
        return cls(path=directory / "component.wasm",
                   cwasm_path=cwasm_path_for(directory / "component.wasm", engine_key(DEFAULT_ENGINE_CONFIG),
                                             info["input_hash"]),
                   wit_dir=directory / "wit", world=info["world"], input_hash=info["input_hash"], plan=plan,
                   externs_module=info.get("externs_module", ""), from_cache=from_cache)


@lru_cache(maxsize=1)
def _wasmtime_version() -> str:
    from importlib import metadata  # here, not at the top: importing it costs a fresh process ~50 ms

    try:
        return metadata.version("wasmtime")
    except metadata.PackageNotFoundError:
        return "absent"


def engine_key(config: str = DEFAULT_ENGINE_CONFIG) -> str:
    """A short key for a wasmtime version + engine configuration (a ``.cwasm`` is tied to both)."""
    return hashlib.sha256(f"wasmtime {_wasmtime_version()}\n{config}".encode()).hexdigest()[:16]


def cwasm_path_for(component: Path, key: str, input_hash: str) -> Path:
    """The compiled form of ``component`` (the build ``input_hash``) for engine ``key``."""
    return component.with_name(f"component-{input_hash[:16]}-{key}.cwasm")
