"""Source distributions made by the build tests: a tiny C extension and a hostile ``setup.py``."""

from __future__ import annotations

import io
import tarfile
import textwrap
from pathlib import Path


def make_sdist(folder: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """``<name>-<version>.tar.gz`` holding ``files`` (plus a PKG-INFO) under ``<name>-<version>/``,
    with fixed timestamps and modes."""
    folder.mkdir(parents=True, exist_ok=True)
    base = f"{name}-{version}"
    members = {"PKG-INFO": f"Metadata-Version: 1.1\nName: {name}\nVersion: {version}\n", **files}
    path = folder / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for rel, text in sorted(members.items()):
            data = textwrap.dedent(text).encode()
            info = tarfile.TarInfo(f"{base}/{rel}")
            info.size, info.mtime, info.mode = len(data), 315532800, 0o644
            tf.addfile(info, io.BytesIO(data))
    return path


def compiled_sdist(folder: Path) -> Path:
    """``cext-1.0``: one C function, ``cext.answer() -> 42``."""
    return make_sdist(folder, "cext", "1.0", {
        "setup.py": """
            from setuptools import Extension, setup
            setup(name="cext", version="1.0", ext_modules=[Extension("cext", ["cext.c"])])
        """,
        "cext.c": """
            #include <Python.h>
            static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
            static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, "42"}, {NULL, NULL, 0, NULL}};
            static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "cext", NULL, -1, methods};
            PyMODINIT_FUNC PyInit_cext(void) { return PyModule_Create(&module); }
        """,
    })


def hostile_sdist(folder: Path, *, outside: Path, port: int, token: str) -> Path:
    """``hostile-1.0``, pure Python by its looks: its ``setup.py`` writes ``outside`` (a file out of
    its folder), tries a connection to the test index on ``port`` (asking for ``/probe-<token>``),
    records what happened in ``outside``, starts a child in a session of its own that sleeps
    with ``token`` in its argv, and never exits."""
    return make_sdist(folder, "hostile", "1.0", {
        "setup.py": f"""
            import socket, subprocess, sys, time
            outside = {str(outside)!r}
            try:
                s = socket.create_connection(("127.0.0.1", {port}), timeout=3)
                s.sendall(b"GET /probe-{token} HTTP/1.0\\r\\n\\r\\n")
                s.close()
                net = "connected"
            except OSError as exc:
                net = f"no network: {{exc}}"
            try:
                with open(outside, "w") as fh:
                    fh.write(net)
            except OSError:
                pass
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{token}"],
                             start_new_session=True)
            while True:
                time.sleep(1)
        """,
        "hostile.py": "def hello() -> str:\n    return 'hi'\n",
    })
