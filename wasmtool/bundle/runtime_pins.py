"""sha256 and size of the Pyodide runtime files, per npm version (generated: do not edit).

Written by ``scripts/pin_pyodide_runtime.py`` from the ``pyodide`` tarball whose sha512 is the
``integrity`` that ``package-lock.json`` records; read by :mod:`wasmtool.bundle.runtime`.
"""

from __future__ import annotations

#: version -> file name -> (sha256, size in bytes)
PINS: dict[str, dict[str, tuple[str, int]]] = {
    "314.0.7": {
        "pyodide.asm.mjs": ("f7cdc8ece80678ceb712f8e65ebe6d3a83203a180c399865f49612a051693635", 1250344),
        "pyodide.asm.wasm": ("cc36e3cab04fdfc9a63ff13eb52eae2b911bf46c025cc7b281f394bd3de1d5e6", 9598218),
        "pyodide.mjs": ("6f1d60f7bf529beb300f0f47983c921d3982363640ba20af0e38efdddbc66109", 17931),
        "python_stdlib.zip": ("fa1957e5777068fc4f7437f96d860ae2fbe9c19732ba06c84e004ec16dd7dd7a", 2545637),
    },
}
