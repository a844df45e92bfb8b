"""The closed type table and the mapped surface.

Import from the submodules: :mod:`wasmtool.typemap.surface` (the contract),
:mod:`wasmtool.typemap.annotation` (annotation AST), :mod:`wasmtool.typemap.table`
(``lower_annotation``, ``lower_return``), :mod:`wasmtool.typemap.lower` (``map_module``).
Kept import-free so that loading the contract never loads the mapper.
"""
