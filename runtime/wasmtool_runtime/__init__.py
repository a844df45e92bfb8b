"""wasmtool's worker-side runtime: runs inside the *target* Python environment.

Everything in this package is stdlib-only and must not import :mod:`wasmtool` (the
worker runs in the user's venv, where wasmtool itself is not installed). It supports
Python 3.8 and later.

* :mod:`wasmtool_runtime.jsonrpc` — framing, message validation and value encoding of the
  subprocess protocol (formats.md §7), shared with the client in :mod:`wasmtool.run`.
* :mod:`wasmtool_runtime.dispatch` — which module attributes are methods, and how an
  exception is described on the wire.
* :mod:`wasmtool_runtime.worker` — ``python -m wasmtool_runtime.worker --module NAME``.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
