"""The wheel audit: what a compiled wheel links, which ABI it really uses, whether its target
can load it.

Readers (one per binary format, from libraries): :mod:`.elf` (pyelftools), :mod:`.macho`
(macholib), :mod:`.pe` (pefile), :mod:`.wasm` (a small reader of three sections). Data the
checks compare against, from published packages: :mod:`.policy` (auditwheel's manylinux /
musllinux policies), :mod:`.abi3` (abi3info's stable ABI). Runtime facts of WebAssembly
targets: :mod:`.pyodide`, :mod:`.wasi`, checked by :mod:`.wasmlink`. Results:
:mod:`.model`; errors of ``require`` mode: :mod:`.errors`. :mod:`.service` audits one wheel.
"""
