"""Synthesis: from a :class:`~wasmtool.typemap.surface.MappedSurface` to the files Mochi and
Python use — the wrapper ``<pkg>_externs.py`` + ``.pyi`` (flat calling convention, values
converted by ``_mochi_wrap``), the Mochi shim ``<pkg>_shim.mochi`` (checked against the
grammar of the emitted subset), and the Python workspace that holds them.

Everything here is pure (text in, text out); :mod:`wasmtool.ops.bind` writes the files.
"""

from wasmtool.synth.grammar import check_shim
from wasmtool.synth.shim import mochi_type, render_shim
from wasmtool.synth.workspace import Workspace, render_workspace, wrap_runtime_source
from wasmtool.synth.wrapper import render_externs, render_externs_stub

__all__ = [
    "Workspace",
    "check_shim",
    "mochi_type",
    "render_externs",
    "render_externs_stub",
    "render_shim",
    "render_workspace",
    "wrap_runtime_source",
]
