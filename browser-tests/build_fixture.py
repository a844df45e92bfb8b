"""Build the bundles the browser tests load.

    python browser-tests/build_fixture.py OUT_DIR

Reads the real wheels from ``$WASMTOOL_TEST_WHEELS`` (see tests/pyodide/wheelmaker.py for
the exact files), adds a tiny probe wheel (``wt_probe``), and writes:

- ``OUT_DIR/good/``      the bundle (entry module ``wt_probe``), with the Pyodide runtime in ``pyodide/``;
- ``OUT_DIR/tampered/``  the same bundle with one byte of the pydantic wheel flipped
                          (bundle.json unchanged), which the loader must refuse;
- ``OUT_DIR/tampered-runtime/`` the same bundle with one byte of ``pyodide/python_stdlib.zip`` flipped;
- ``OUT_DIR/hosted/``    the bundle without a runtime of its own: ``bundle.json`` points at the
                          absolute URL ``http://127.0.0.1:$WASMTOOL_BROWSER_PORT/good/pyodide/``
                          (what ``install --pyodide-url`` writes);
- ``OUT_DIR/fixture.json`` what the spec needs to know (the tampered files' names);
- ``OUT_DIR/app/``       a copy of ``$WASMTOOL_BROWSER_APP_BUNDLE``: the bundle the real
                          ``wasmtool install --target=pyodide-314`` wrote for a project (its
                          generated wrappers are what app.spec.ts calls).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pyodide.wheelmaker import (  # noqa: E402
    EXTRA_SET,
    PYDANTIC_SET,
    REQUIRED_FILES,
    flip_byte,
    make_probe,
    real_wheels,
)
from wasmtool.bundle.pyodide import build_bundle  # noqa: E402
from wasmtool.bundle.runtime import bundled_runtime, hosted_runtime  # noqa: E402
from wasmtool.run.pyodide import dist_lock_path, pyodide_dir  # noqa: E402

TAMPERED = PYDANTIC_SET["pydantic"][0]
TAMPERED_RUNTIME = "pyodide/python_stdlib.zip"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0]).absolute()
    folder = os.environ.get("WASMTOOL_TEST_WHEELS")
    if not folder:
        print("build_fixture: set WASMTOOL_TEST_WHEELS to the folder of the pinned wheels", file=sys.stderr)
        return 2
    wheels_dir = Path(folder)
    missing = [f for f in REQUIRED_FILES if not (wheels_dir / f).is_file()]
    if missing:
        print(f"build_fixture: missing in {wheels_dir}: {', '.join(missing)}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    probe = make_probe(out / "made")
    wheels = [*real_wheels(wheels_dir, PYDANTIC_SET), *real_wheels(wheels_dir, EXTRA_SET),
              probe.bundle_wheel(depends=("pydantic", "tomli", "attrs"))]
    build_bundle(out / "good", dist_lock_path=dist_lock_path(), wheels=wheels, entry_module="wt_probe",
                 runtime=bundled_runtime(pyodide_dir()))
    port = os.environ.get("WASMTOOL_BROWSER_PORT", "8770")
    build_bundle(out / "hosted", dist_lock_path=dist_lock_path(), wheels=wheels, entry_module="wt_probe",
                 runtime=hosted_runtime(pyodide_dir(), f"http://127.0.0.1:{port}/good/pyodide/"))
    for name, victim in (("tampered", f"wheels/{TAMPERED}"), ("tampered-runtime", TAMPERED_RUNTIME)):
        shutil.rmtree(out / name, ignore_errors=True)
        shutil.copytree(out / "good", out / name)
        flip_byte(out / name / victim)
    (out / "fixture.json").write_text(json.dumps({"tampered_file": f"wheels/{TAMPERED}",
                                                  "tampered_runtime_file": TAMPERED_RUNTIME}, indent=1) + "\n")
    app = os.environ.get("WASMTOOL_BROWSER_APP_BUNDLE")
    if app:
        shutil.rmtree(out / "app", ignore_errors=True)
        shutil.copytree(app, out / "app")
    print(f"build_fixture: bundles in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
