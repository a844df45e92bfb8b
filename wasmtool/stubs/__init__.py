"""Stub discovery and parsing: ``.pyi``/typed ``.py`` -> :class:`~wasmtool.stubs.model.ModuleStub`.

Import from the submodules: :mod:`wasmtool.stubs.pyi` (``parse_stub``, ``read_stub``),
:mod:`wasmtool.stubs.model`, :mod:`wasmtool.stubs.errors`.
"""
