"""The folder one test session shares between its processes (pytest-xdist workers inherit
the environment of the process that starts them). Kept apart from the corpus pipeline so
that naming it costs tests/conftest.py no import of wasmtool at start-up."""

#: Set by tests/conftest.py; the corpus pipeline keeps its per-package results there.
SESSION_CACHE_ENV = "WASMTOOL_TEST_CORPUS_CACHE"
