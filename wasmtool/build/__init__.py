"""Source distributions built into wheels (docs/builds.md).

:mod:`wasmtool.build.model` is the pure part (policy, build inputs and their hash, argv),
:mod:`wasmtool.build.sandbox` runs one ``uv build`` in a throw-away folder, and
:mod:`wasmtool.build.service` builds a pinned sdist once per cache and rebuilds a locked one.
"""
