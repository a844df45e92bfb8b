"""``wasmtool install``: put exactly the locked, verified wheels into the target's place.

Native: every wheel is taken from the cache (or fetched) and its SHA-256 *and* BLAKE3 are
checked against mochi.lock before anything touches the environment; then uv creates
the environment if needed and syncs it to exactly those files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from wasmtool.cache import CachedArtifact
from wasmtool.errors import HashMismatchError
from wasmtool.install.interpreter import find_interpreter
from wasmtool.lock.errors import LockDriftError
from wasmtool.lock.io import read_lock
from wasmtool.lock.model import LockedPackage, MochiLock
from wasmtool.ops.context import Context
from wasmtool.resolve.uv import create_venv, sync_wheels


@dataclass(frozen=True)
class InstallOutcome:
    target: str
    location: Path
    packages: tuple[str, ...]


def verified_artefact(ctx: Context, pkg: LockedPackage) -> CachedArtifact:
    art = ctx.cache.lookup(pkg.wheel_sha256, verify=True)
    if art is None:
        art = ctx.cache.fetch(pkg.wheel_url, package=pkg.name, filename=pkg.wheel_filename,
                              expected_sha256=pkg.wheel_sha256, opener=ctx.http, progress=ctx.progress)
    if pkg.wheel_blake3 and art.blake3 != pkg.wheel_blake3:
        raise HashMismatchError(package=pkg.name, filename=pkg.wheel_filename, algorithm="blake3",
                                expected=pkg.wheel_blake3, actual=art.blake3, file=str(ctx.lock_path))
    return art


def locked_for_target(ctx: Context, target: str) -> list[LockedPackage]:
    """The lock's entries for ``target``; a typed error (naming the lock) when there are none."""
    from wasmtool.errors import TargetError

    entries = list(read_lock(ctx.lock_path).for_target(target))
    if not entries:
        raise TargetError(f"mochi.lock has no entries for target {target}", file=str(ctx.lock_path),
                          hint=f"run `wasmtool lock --target={target}`")
    return entries


def check_inputs_current(ctx: Context, lock: MochiLock, target: str) -> None:
    inputs = lock.inputs_for(target)
    wanted = set(ctx.project.to_pep508())
    have = set(inputs.requirements) if inputs else set()
    if wanted != have:
        lines = [f"[{target}] requirement added: {r}" for r in sorted(wanted - have)]
        lines += [f"[{target}] requirement removed: {r}" for r in sorted(have - wanted)]
        raise LockDriftError(lines, file=str(ctx.lock_path))


def install_native(ctx: Context, target: str = "native") -> InstallOutcome:
    lock = read_lock(ctx.lock_path)
    check_inputs_current(ctx, lock, target)
    inputs = lock.inputs_for(target)
    packages = lock.for_target(target)
    # verify every artefact first: nothing is installed unless all of them are right
    wheels = [verified_artefact(ctx, p).path for p in packages]
    venv = ctx.venv_path
    venv.parent.mkdir(parents=True, exist_ok=True)
    # one writer per environment at a time (concurrent installs of one project)
    with FileLock(str(venv) + ".lock"):
        if not (venv / "bin" / "python").exists():
            python = find_interpreter(inputs.python_version if inputs else "3.12")
            create_venv(venv, python=python)
        sync_wheels(venv, wheels)
    return InstallOutcome(target, venv, tuple(f"{p.name}=={p.version}" for p in packages))
