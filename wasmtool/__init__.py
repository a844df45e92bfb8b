"""wasmtool: the package bridge that lets Mochi programs use Python packages.

Subpackages, one per responsibility:

- ``project``  reads ``mochi.toml`` and scans ``import python`` lines (pure parsers + a reader)
- ``index``    PEP 503/691 simple-API client (PEP 658/714 metadata, yanked, retries)
- ``cache``    content-addressed artefact cache (SHA-256 checked, BLAKE3 recorded, atomic)
- ``targets``  target profiles loaded from the ``targets/`` data folder, and one backend per
               profile kind (native, pyodide, wasi) that owns how it locks, installs,
               smoke-tests and runs, and its platform facts (``targets.backend.backend_for``)
- ``resolve``  resolution per target (uv for native, resolvelib where uv cannot)
- ``lock``     ``mochi.lock`` and PEP 751 ``pylock.toml`` models, writers and drift check
- ``stubs``    PEP 561 stub discovery and the ``.pyi`` parser
- ``typemap``  the closed Python -> Mochi / WIT type table
- ``synth``    wrapper (``<pkg>_externs.py``) and Mochi shim generators
- ``wit``      WIT world generator for the wasi-p2 target
- ``calls``    the errors of a call, shared by ``run`` and ``wit``
- ``run``      one call interface over every runtime (in-process, subprocess, Pyodide, wasmtime)
- ``publish``, ``audit``  build/publish and wheel audits (later issues)
- ``cli``      the ``wasmtool`` command line
"""

__version__ = "0.1.0"
