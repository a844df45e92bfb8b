"""The last stub tier: mypy's ``stubgen`` in a sandboxed child process.

The wheels are unpacked into a throwaway folder that goes first on the child's
``sys.path``. The child runs with a scrubbed environment (no proxies, no ``PIP_*``/``UV_*``,
``HOME``/``TMPDIR`` inside the throwaway folder), in its own process group, with a
``sitecustomize`` that refuses IPv4/IPv6 connections and name lookups and records each
attempt (also for stubgen's own import worker processes, through a log file). A driver
imports every target first: a target whose import touched the network is reported as
``SkipImportTimeNetwork``, one whose import raised as ``SkipImportTimeError`` (the error's
last line); the rest go to ``mypy.stubgen``. On timeout the whole process group is killed.
:func:`run_stubgen` never raises for a misbehaving package.

Nothing outlives a killed wasmtool: the driver asks the kernel (Linux ``PR_SET_PDEATHSIG``)
for ``SIGKILL`` when wasmtool dies, and so does every Python process it forks or starts (the
sandbox's ``sitecustomize``); a watchdog thread in the driver also kills its process group
when its parent changes (where ``prctl`` does not exist). The throwaway folder
(``wasmtool-stubgen-<pid>-*`` in the temp dir) carries an ``owner.json`` marker with its
creator's pid and start time: each run first removes the folders whose creator is gone
(:func:`sweep_stubgen_temps`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from wasmtool.skips import SkipReason, SkipReport

__all__ = ["DEFAULT_TIMEOUT", "StubgenResult", "run_stubgen", "stubgen_label", "sweep_stubgen_temps", "unpack_wheel"]

DEFAULT_TIMEOUT = 60.0

#: The throwaway folders' name prefix in the temp dir, and their owner marker.
TEMP_PREFIX = "wasmtool-stubgen-"
OWNER_FILE = "owner.json"
#: Age in seconds after which a folder whose owner cannot be told (no marker, no pid in its
#: name: an older wasmtool's) is abandoned: a stubgen run lasts minutes at most.
UNOWNED_MAX_AGE = 3600.0

_GUARD = '''"""wasmtool stubgen sandbox: no network while packages are imported."""
import errno
import os
import socket
import sys

ATTEMPTS = []
_LOG = os.environ.get("WASMTOOL_NETGUARD_LOG", "")
_INET = (socket.AF_INET, getattr(socket, "AF_INET6", socket.AF_INET))


def _blocked(what):
    ATTEMPTS.append(what)
    if _LOG:
        try:
            with open(_LOG, "a", encoding="utf-8") as fh:
                fh.write(what.replace("\\n", " ") + "\\n")
        except OSError:
            pass
    raise OSError(errno.ENETUNREACH, "network access is disabled while generating stubs (" + what + ")")


_PARENT = "WASMTOOL_SANDBOX_PARENT"


def _set_pdeathsig():
    """Linux: SIGKILL this process when the process (thread) that started it dies."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - no libc: the driver's watchdog remains
        pass


def _arm():
    """PDEATHSIG, then close its race: a parent that died before it was armed is no longer
    our parent (its pid is in the environment it passed down), so exit now."""
    if sys.platform.startswith("linux"):
        _set_pdeathsig()
    expected = os.environ.get(_PARENT, "")
    if expected.isdigit() and int(expected) != os.getppid():
        os._exit(137)
    os.environ[_PARENT] = str(os.getpid())


def die_with_parent():
    """Die with the parent, in this process and in every child it forks (spawned Python
    children run this module's sitecustomize themselves)."""
    _arm()
    if hasattr(os, "register_at_fork"):  # POSIX
        os.register_at_fork(after_in_child=_arm)


def install():
    cls = socket.socket
    connect, connect_ex, sendto = cls.connect, cls.connect_ex, cls.sendto

    def guarded_connect(self, address):
        if self.family in _INET:
            _blocked("connect " + repr(address))
        return connect(self, address)

    def guarded_connect_ex(self, address):
        if self.family in _INET:
            _blocked("connect " + repr(address))
        return connect_ex(self, address)

    def guarded_sendto(self, data, *args):
        if self.family in _INET:
            _blocked("sendto " + repr(args[-1] if args else None))
        return sendto(self, data, *args)

    def lookup(name):
        def refuse(*args, **kwargs):
            _blocked(name + " " + repr(args[0] if args else None))
        return refuse

    cls.connect, cls.connect_ex, cls.sendto = guarded_connect, guarded_connect_ex, guarded_sendto
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "create_connection"):
        setattr(socket, name, lookup(name))
'''

_SITECUSTOMIZE = "import _wasmtool_netguard\n_wasmtool_netguard.die_with_parent()\n_wasmtool_netguard.install()\n"

_DRIVER = '''"""wasmtool stubgen driver: import each target, then run mypy.stubgen on the clean ones."""
import contextlib
import importlib
import io
import json
import os
import signal
import sys
import threading
import time
import traceback

import _wasmtool_netguard as guard


def watch_parent(parent):
    """Exit at once if wasmtool is already gone, then kill this process group (the driver
    and whatever it started) as soon as the parent changes: the kernel's PDEATHSIG (set by
    sitecustomize) is the first line, this is for where it does not exist."""
    def gone():
        return os.getppid() != parent

    def kill_group():
        with contextlib.suppress(OSError, AttributeError):  # no process groups: just this process
            os.killpg(os.getpgrp(), signal.SIGKILL)
        os._exit(137)

    if gone():
        kill_group()

    def watch():
        while True:
            time.sleep(0.2)
            if gone():
                kill_group()

    threading.Thread(target=watch, name="wasmtool-parent-watch", daemon=True).start()


def last_line(exc):
    lines = [ln.strip() for ln in traceback.format_exception_only(type(exc), exc) if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


def why_not_generated(mod, inspect):
    """mypy --ignore-errors only names the module: the reason is its import's error, or in
    inspect mode the introspection's (mypy cannot render some runtime annotations)."""
    try:
        importlib.import_module(mod)
    except BaseException as exc:  # noqa: BLE001
        return last_line(exc)
    if inspect:
        try:
            from mypy.stubgenc import InspectionStubGenerator

            InspectionStubGenerator(module_name=mod, known_modules=[], _all_=None).generate_module()
        except BaseException as exc:  # noqa: BLE001
            return "stubgen --inspect-mode: " + last_line(exc)
    return "stub generation failed"


def main():
    with open(sys.argv[1], encoding="utf-8") as fh:
        cfg = json.load(fh)
    if cfg.get("parent"):
        watch_parent(int(cfg["parent"]))
    result = {"imports": {}, "failed": [], "error": None, "done": False}

    def save():
        with open(cfg["result"], "w", encoding="utf-8") as fh:
            json.dump(result, fh)

    clean = {"packages": [], "modules": []}
    for kind in ("packages", "modules"):
        for name in cfg[kind]:
            before = len(guard.ATTEMPTS)
            error = None
            try:
                importlib.import_module(name)
            except BaseException as exc:  # noqa: BLE001 - SystemExit at import counts too
                error = last_line(exc)
            network = guard.ATTEMPTS[before:]
            result["imports"][name] = {"error": error, "network": network}
            save()
            if error is None and not network:
                clean[kind].append(name)
    if clean["packages"] or clean["modules"]:
        import mypy.stubgen

        # --ignore-errors: one submodule that cannot be generated (inspect mode imports each
        # module again, and mypy keeps a module whose import failed if its file exists) must
        # not end the run for the modules after it; it is reported below instead
        args = ["-o", cfg["out"], "--ignore-errors"]
        if cfg["inspect"]:
            args.append("--inspect-mode")
        for name in clean["packages"]:
            args += ["-p", name]
        for name in clean["modules"]:
            args += ["-m", name]
        buf, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
                mypy.stubgen.main(args)
        except SystemExit as exc:
            if exc.code not in (None, 0):
                result["error"] = str(exc.code)
        except BaseException as exc:  # noqa: BLE001
            result["error"] = last_line(exc)
        for line in buf.getvalue().splitlines():
            mod, sep, rest = line.partition(": Failed to import, skipping")
            if sep:
                result["failed"].append([mod.strip(), rest.replace(" with error: ", "", 1).strip()])
        for line in err.getvalue().splitlines():
            head, sep, mod = line.partition("Stub generation failed for ")
            if not sep or head.strip():
                sys.stderr.write(line + "\\n")
                continue
            result["failed"].append([mod.strip(), why_not_generated(mod.strip(), cfg["inspect"])])
    result["done"] = True
    save()


if __name__ == "__main__":  # not in the worker processes mypy spawns (they import this file)
    main()
'''


@dataclass(frozen=True)
class StubgenResult:
    """What one stubgen run produced: ``files`` (sorted ``(posix path, bytes)`` rooted at the
    import package), the skips it caused, and a ``source`` label for provenance."""

    files: tuple[tuple[str, bytes], ...]
    skips: tuple[SkipReport, ...]
    source: str
    timed_out: bool = False
    returncode: int | None = None


def stubgen_label() -> str:
    """``stubgen (mypy X.Y)`` for the mypy installed here."""
    try:
        version = importlib.metadata.version("mypy")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return f"stubgen (mypy {version})"


def _member_target(name: str) -> PurePosixPath | None:
    """Where a wheel member lands in a flat site folder (``*.data/purelib|platlib`` lifted)."""
    path = PurePosixPath(name)
    parts = path.parts
    if not parts or name.endswith("/") or path.is_absolute() or ".." in parts:
        return None
    if parts[0].endswith(".data") and len(parts) > 2:
        if parts[1] not in ("purelib", "platlib"):
            return None
        parts = parts[2:]
    return PurePosixPath(*parts)


def unpack_wheel(wheel: Path, site: Path) -> None:
    """Unzip ``wheel`` into ``site`` so it imports from there (a plain copy, no scripts)."""
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            target = _member_target(info.filename)
            if target is None:
                continue
            dest = site.joinpath(*target.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out)


def _fixed_layout() -> list[str]:
    """A prefix that runs the child with address-space randomisation off, where util-linux's
    ``setarch`` exists. Inspect-mode stubgen lists a class's members in ``__dict__`` order, and
    packages that add methods in a loop over a set of objects (scipy.sparse over numpy ufuncs,
    hashed by address) would otherwise give a different member order on every run."""
    setarch = shutil.which("setarch")
    if setarch is None or sys.platform != "linux":
        return []
    prefix = [setarch, platform.machine(), "-R"]
    return prefix if _works(tuple(prefix)) else []


@functools.cache
def _works(prefix: tuple[str, ...]) -> bool:
    """Whether ``prefix`` can start a program here (a sandbox may forbid changing the
    personality): checked once per process."""
    from wasmtool.errors import ExternalToolError
    from wasmtool.tools import run_tool

    try:
        return run_tool("setarch", [*prefix, "true"], timeout=10, check=False).returncode == 0
    except ExternalToolError:
        return False


def _scrubbed_env(python: str, *, home: Path, paths: Sequence[Path], netlog: Path) -> dict[str, str]:
    """A fresh environment: nothing inherited (no proxies, PIP_*, UV_*, tokens)."""
    return {
        "PATH": os.pathsep.join([str(Path(python).parent), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONIOENCODING": "utf-8",
        "MYPY_CACHE_DIR": str(home / ".mypy_cache"),
        "NO_COLOR": "1",
        "WASMTOOL_NETGUARD_LOG": str(netlog),
        "WASMTOOL_SANDBOX_PARENT": str(os.getpid()),  # the sandbox's processes die with their parent
    }


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# -- throwaway folders: owned, and swept once their owner is gone ------------------------------

def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or ``None``."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return text.rsplit(")", 1)[-1].split()


def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, Linux), which tells a pid reused by
    another process apart; ``None`` where ``/proc`` does not say."""
    fields = _proc_stat(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None


def _owner_alive(pid: int, start: str | None) -> bool:
    """Whether the process ``pid`` (started at ``start``, when known) still runs."""
    if pid <= 0:
        return False
    fields = _proc_stat(pid)
    if fields is not None:
        if fields[0] in ("Z", "X"):  # killed, not yet reaped: it writes nothing any more
            return False
        return start is None or fields[19:20] == [start]
    try:  # no /proc: ask the kernel whether the pid exists
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: someone else's live process
        return True
    return True


def _claim(folder: Path) -> None:
    """Write the owner marker: this process's pid and start time."""
    pid = os.getpid()
    marker = folder / OWNER_FILE
    marker.write_text(json.dumps({"pid": pid, "start": _start_time(pid)}), encoding="utf-8")


def _abandoned(folder: Path, *, now: float) -> bool:
    """Whether ``folder``'s creator is gone (see :func:`sweep_stubgen_temps`)."""
    data = _read_json(folder / OWNER_FILE)
    pid, start = data.get("pid"), data.get("start")
    if isinstance(pid, int) and (start is None or isinstance(start, str)):
        return not _owner_alive(pid, start)
    # no marker yet (the creator is between mkdtemp and _claim) or none at all (an older
    # wasmtool's folder): the pid in the name, else the age, decides
    head = folder.name[len(TEMP_PREFIX):].split("-", 1)[0]
    if head.isdigit() and not _owner_alive(int(head), None):
        return True
    try:
        return now - folder.stat().st_mtime > UNOWNED_MAX_AGE
    except OSError:
        return False


def sweep_stubgen_temps(temp_dir: Path | None = None) -> int:
    """Remove the ``wasmtool-stubgen-*`` folders in ``temp_dir`` (default: the system temp
    dir) whose creator is gone: the process named by the folder's ``owner.json`` (pid and
    start time) no longer runs. A folder without a marker goes when the pid in its name is
    dead, or after :data:`UNOWNED_MAX_AGE`. A live wasmtool's folder is never touched.
    Returns how many were removed; never raises."""
    root = Path(temp_dir) if temp_dir is not None else Path(tempfile.gettempdir())
    now = time.time()
    removed = 0
    try:
        candidates = sorted(root.glob(f"{TEMP_PREFIX}*"))
    except OSError:
        return 0
    for folder in candidates:
        try:
            if folder.is_symlink() or not folder.is_dir() or not _abandoned(folder, now=now):
                continue
        except OSError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += not folder.exists()
    return removed


@contextlib.contextmanager
def _owned_temp_dir() -> Iterator[Path]:
    """A fresh throwaway folder marked with its owner, removed afterwards (or, if this process
    is killed first, by the next run's :func:`sweep_stubgen_temps`)."""
    with contextlib.suppress(OSError):
        sweep_stubgen_temps()
    folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))
    try:
        _claim(folder)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_stubgen(
    wheels: Sequence[Path],
    *,
    packages: Sequence[str] = (),
    modules: Sequence[str] = (),
    inspect: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    python: str | None = None,
) -> StubgenResult:
    """Generate stubs for import ``packages`` (whole trees) and single ``modules`` of the
    unpacked ``wheels`` (the package's own wheel first, then its dependencies).

    ``inspect`` selects stubgen's ``--inspect-mode`` (for compiled packages). Never raises
    for what the package does: failures come back as skips.
    """
    label = stubgen_label()
    targets = [*packages, *modules]
    if not targets:
        return StubgenResult((), (), label)
    python = python or sys.executable
    with _owned_temp_dir() as work:
        site, guard, home, out = work / "site", work / "guard", work / "home", work / "out"
        for folder in (site, guard, home, out):
            folder.mkdir()
        skips: list[SkipReport] = []
        for wheel in wheels:
            try:
                unpack_wheel(Path(wheel), site)
            except (OSError, zipfile.BadZipFile) as exc:
                skips.append(SkipReport(Path(wheel).name, SkipReason.SkipImportTimeError,
                                        f"cannot unpack wheel: {exc}"))
        (guard / "_wasmtool_netguard.py").write_text(_GUARD, encoding="utf-8")
        (guard / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
        driver = guard / "_wasmtool_stubgen_driver.py"
        driver.write_text(_DRIVER, encoding="utf-8")
        netlog, result_file, config = work / "netlog.txt", work / "result.json", work / "config.json"
        config.write_text(json.dumps({"packages": list(packages), "modules": list(modules), "out": str(out),
                                      "inspect": inspect, "result": str(result_file), "parent": os.getpid()}),
                          encoding="utf-8")
        env = _scrubbed_env(python, home=home, paths=[guard, site], netlog=netlog)
        timed_out = False
        returncode: int | None = None
        stderr_path = work / "stderr.txt"
        try:
            with (work / "stdout.txt").open("wb") as so, stderr_path.open("wb") as se:
                proc = subprocess.Popen([*_fixed_layout(), python, str(driver), str(config)], cwd=work, env=env,
                                        stdin=subprocess.DEVNULL, stdout=so, stderr=se, start_new_session=True)
                try:
                    returncode = proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    _kill_group(proc.pid)
                    returncode = proc.wait()
                finally:
                    _kill_group(proc.pid)  # whatever the package left running
        except OSError as exc:
            skips.extend(SkipReport(t, SkipReason.SkipImportTimeError, f"cannot start stubgen: {exc}")
                         for t in targets)
            return StubgenResult((), tuple(sorted(skips)), label, False, None)
        result = _read_json(result_file)
        stderr = stderr_path.read_text(encoding="utf-8", errors="replace")
        try:
            net_attempts = [ln for ln in netlog.read_text(encoding="utf-8").splitlines() if ln]
        except OSError:
            net_attempts = []
        files = tuple(sorted((p.relative_to(out).as_posix(), p.read_bytes())
                             for p in out.rglob("*.pyi") if p.is_file()))
    skips.extend(_skips_for(targets, result, files, timed_out=timed_out, timeout=timeout,
                            returncode=returncode, stderr=stderr, net_attempts=net_attempts))
    return StubgenResult(files, tuple(sorted(set(skips))), label, timed_out, returncode)


def _produced(files: Sequence[tuple[str, bytes]], target: str) -> bool:
    stem = target.replace(".", "/")
    return any(path == f"{stem}.pyi" or path.startswith(f"{stem}/") for path, _ in files)


def _skips_for(targets: Sequence[str], result: dict[str, Any], files: Sequence[tuple[str, bytes]], *,
               timed_out: bool, timeout: float, returncode: int | None, stderr: str,
               net_attempts: Sequence[str]) -> list[SkipReport]:
    """Translate the driver's report (possibly missing) into skips, one reason per target."""
    skips: list[SkipReport] = []
    imports: dict[str, Any] = result.get("imports") or {}
    for target in targets:
        seen = imports.get(target) or {}
        network = list(seen.get("network") or [])
        if network:
            skips.append(SkipReport(target, SkipReason.SkipImportTimeNetwork,
                                    f"import opened a network connection: {network[0]}"))
        elif seen.get("error"):
            skips.append(SkipReport(target, SkipReason.SkipImportTimeError, str(seen["error"])))
        elif _produced(files, target):
            if result.get("error"):  # stubgen stopped part-way: what it wrote is not the whole package
                skips.append(SkipReport(target, SkipReason.SkipImportTimeError,
                                        f"stubgen stopped part-way, its stubs are partial: {result['error']}"))
            continue
        elif timed_out:
            skips.append(SkipReport(target, SkipReason.SkipImportTimeError,
                                    f"stubgen timed out after {timeout:g} s; its process group was killed"))
        elif net_attempts and not seen:
            skips.append(SkipReport(target, SkipReason.SkipImportTimeNetwork,
                                    f"import opened a network connection: {net_attempts[0]}"))
        elif result.get("error") or (returncode not in (0, None)):
            detail = str(result.get("error") or _last_line(stderr) or f"exit status {returncode}")
            skips.append(SkipReport(target, SkipReason.SkipImportTimeError, detail))
        else:
            skips.append(SkipReport(target, SkipReason.SkipImportTimeError, "stubgen produced no stubs"))
    for mod, message in result.get("failed") or []:
        skips.append(SkipReport(str(mod), SkipReason.SkipImportTimeError, str(message) or "failed to import"))
    return skips
