"""Run one ``uv build`` of an sdist in a throw-away folder (the IO edge of :mod:`wasmtool.build`).

What it does (docs/builds.md, "The sandbox"):

* the build runs in a subprocess (through :mod:`wasmtool.tools`, in a session of its own)
  with a timeout; on timeout its whole process group is killed, and, when Linux namespaces
  are available, its whole PID namespace with it (a child that called ``setsid`` dies too);
* in a fresh temporary folder holding the sdist, the build-dependency wheels, ``HOME``,
  ``TMPDIR`` and uv's cache, removed afterwards whatever happened;
* with an environment of its own (nothing of the caller's but ``PATH``), fixed
  ``SOURCE_DATE_EPOCH`` and hash seed;
* offline: uv installs the build dependencies from the folder only (wheels fetched and
  verified beforehand, each pinned with its hash); when namespaces are available the build
  also runs in an empty network namespace (no interface but a down loopback), so a
  ``setup.py`` cannot open a connection either;
* its output is captured; a failure carries the tail of it.

* when namespaces are available, every file system is read-only inside the build but its
  folder: a ``setup.py`` cannot write elsewhere.

Without Linux user namespaces (another OS, or a kernel that forbids them) the last three do not
hold: a ``setup.py`` then runs with the user's rights, can write wherever the user can and open
connections, and a child that leaves the process group outlives the timeout.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wasmtool.build.model import build_argv, build_environment, constraint_lines, skipped_in_folder
from wasmtool.errors import ToolFailedError, ToolNotFoundError, ToolTimeoutError
from wasmtool.resolve.errors import BuildTimeoutError, SdistBuildError
from wasmtool.tools import describe_status, run_tool, tail

__all__ = ["DEFAULT_BUILD_TIMEOUT", "SandboxResult", "namespace_wrapper", "run_build"]

#: Seconds a build may take (``WASMTOOL_BUILD_TIMEOUT`` overrides).
DEFAULT_BUILD_TIMEOUT = 300.0
_LOG_TAIL = 15

#: ``unshare``: a user namespace (no privilege needed), a mount namespace, an empty network
#: namespace, a PID namespace whose processes all die with its first one, which dies with ``unshare``.
_UNSHARE = ("--map-root-user", "--mount", "--net", "--pid", "--fork", "--kill-child", "--")

#: Run inside the namespaces before the build: every mount read-only but the build folder
#: (``$1``), then the build itself.
_READ_ONLY_BUT_WORK = """
work=$1; shift
mount --bind "$work" "$work" || exit 97
for mp in $(awk '{print $2}' /proc/self/mounts | sort -r); do
  [ "$mp" = "$work" ] && continue
  mount -o remount,bind,ro "$mp" 2>/dev/null
done
exec "$@"
"""


@functools.cache
def _unshare() -> str | None:
    """``unshare``, when this system lets an unprivileged user make the namespaces above."""
    if os.environ.get("WASMTOOL_BUILD_NAMESPACES", "1") == "0" or not sys.platform.startswith("linux"):
        return None
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    with tempfile.TemporaryDirectory(prefix="wasmtool-probe-") as probe:
        try:
            run_tool("unshare", [*_wrapper(unshare, Path(probe)), "touch", str(Path(probe) / "ok")], timeout=10,
                     env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        except (ToolFailedError, ToolNotFoundError, ToolTimeoutError):
            return None
        return unshare if (Path(probe) / "ok").is_file() else None


def _wrapper(unshare: str, work: Path) -> tuple[str, ...]:
    return (unshare, *_UNSHARE, "sh", "-c", _READ_ONLY_BUT_WORK, "wasmtool-sandbox", str(work))


def namespace_wrapper(work: Path | None = None) -> tuple[str, ...]:
    """The prefix that runs a command with no network, every file system read-only but ``work``,
    and its processes in one PID namespace; ``()`` when this system does not allow it (then
    the build is offline only by uv's ``--offline``/``--no-index``, may write wherever the user
    can, and a timeout kills its process group)."""
    unshare = _unshare()
    if unshare is None:
        return ()
    return _wrapper(unshare, work or Path(tempfile.gettempdir()))


@dataclass(frozen=True)
class SandboxResult:
    wheel: Path          # inside ``keep``: the caller copies it out
    log: str


def _timeout() -> float:
    raw = os.environ.get("WASMTOOL_BUILD_TIMEOUT", "")
    try:
        return float(raw) if raw else DEFAULT_BUILD_TIMEOUT
    except ValueError:
        return DEFAULT_BUILD_TIMEOUT


def run_build(*, uv: str, sdist: Path, build_wheels: Sequence[Path], pins: Sequence[str], package: str,
              backend: str, keep: Path, python: str | None = None, timeout: float | None = None) -> SandboxResult:
    """Build ``sdist`` into one wheel, moved into ``keep`` (a folder the caller owns). Raises
    :class:`SdistBuildError` (WT240, naming the package, the backend and the tail of the log) or
    :class:`BuildTimeoutError` (WT241). The build folder is removed in every case."""
    limit = timeout if timeout is not None else _timeout()
    work = Path(tempfile.mkdtemp(prefix="wasmtool-build-"))
    try:
        links = work / "links"
        out = work / "out"
        for sub in ("home", "tmp", "uv-cache", "src"):
            (work / sub).mkdir()
        links.mkdir()
        for wheel in build_wheels:
            shutil.copyfile(wheel, links / wheel.name)
        local_sdist = work / "src" / sdist.name
        if sdist.is_dir():   # a project's own folder: built from a copy, so it is never written
            shutil.copytree(sdist, local_sdist, symlinks=True,
                            ignore=lambda _d, names: [n for n in names if skipped_in_folder([n])])
        else:
            shutil.copyfile(sdist, local_sdist)
        constraints = work / "build-constraints.txt"
        constraints.write_text(constraint_lines(pins), encoding="utf-8")
        argv = build_argv(uv, sdist=str(local_sdist), out_dir=str(out), python=python or sys.executable,
                          find_links=str(links), constraints=str(constraints), cache_dir=str(work / "uv-cache"),
                          isolate_network=namespace_wrapper(work))
        env = build_environment(home=str(work / "home"), tmp=str(work / "tmp"),
                                path=os.environ.get("PATH", "/usr/bin:/bin"))
        what = f"building {sdist.name} (backend {backend})"
        try:
            proc = run_tool("uv build", argv, env=env, cwd=work / "src", timeout=limit)
        except ToolTimeoutError as exc:
            log = tail((exc.stdout or "") + "\n" + (exc.stderr or ""), _LOG_TAIL)
            raise BuildTimeoutError(f"{what} did not finish within {limit:g} s; it was stopped"
                                    + (f"\nlast lines of its log:\n{_indent(log)}" if log else ""),
                                    package=package, hint="a build that hangs is a bug of the package or a hostile "
                                    "setup.py; WASMTOOL_BUILD_TIMEOUT sets the limit in seconds",
                                    details=(exc.stdout or "") + (exc.stderr or "")) from None
        except ToolFailedError as exc:
            full = (exc.stdout or "") + "\n" + (exc.stderr or "")
            raise SdistBuildError(f"{what} failed (the build {describe_status(exc.returncode)})\n"
                                  f"last lines of its log:\n{_indent(tail(full, _LOG_TAIL))}",
                                  package=package, details=full.strip()) from None
        except ToolNotFoundError as exc:
            raise SdistBuildError(f"cannot start the build of {sdist.name}: {exc.reason}", package=package) from None
        wheels = sorted(out.glob("*.whl")) if out.is_dir() else []
        if len(wheels) != 1:
            raise SdistBuildError(f"{what} made {len(wheels)} wheels, expected one", package=package,
                                  details=proc.stdout + proc.stderr)
        dest = keep / wheels[0].name
        shutil.move(str(wheels[0]), dest)
        return SandboxResult(dest, proc.stdout + proc.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())
