"""``wasmtool exec [--target native] -- CMD [ARGS...]``: run a command in the project's environment.

The documented way to run a Mochi program (``wasmtool exec -- mochi run main.mochi``), like
``uv run``. The released Mochi calls the first ``python3`` on ``PATH`` and imports
``python_wrap.<alias>.<pkg>_externs``, so the command runs with
(:func:`wasmtool.run.environment.project_environment`):

* the project venv's ``bin`` (``[python].venv``, default ``.mochi/venv``) first on ``PATH``
  and ``VIRTUAL_ENV`` set to it;
* the bindings workspace ``.mochi/python_workspace`` first on ``PYTHONPATH``;
* ``PYTHONHOME`` removed.

``CMD`` is looked up on that ``PATH`` and REPLACES the wasmtool process (``execve``): its
exit status, signals and standard streams are the command's own. The working directory is
not changed (``-C DIR`` only names the project).

Errors: a target other than a native one is a usage error (``WT002``, exit 2); no venv
interpreter ``WT704`` / no workspace ``WT703`` (both with the hint "run `wasmtool
install`"); ``CMD`` not found on the new ``PATH`` ``WT004`` (exit 127, as a shell), found
but not executable ``WT004`` (exit 126).

The command takes the ``Options`` object of :mod:`wasmtool.cli.main` through
``click.pass_obj`` (only ``.context()`` is used), so this module does not import the CLI group.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import click

from wasmtool.errors import CommandNotFoundError
from wasmtool.targets.profile import DEFAULT_TARGET

if TYPE_CHECKING:
    from wasmtool.context import Context

__all__ = ["CommandNotFoundError", "ExecPlan", "exec_command", "plan_exec"]



class OptionsLike(Protocol):
    """What the command needs from ``wasmtool.cli.main.Options``."""

    def context(self) -> Context: ...


@dataclass(frozen=True)
class ExecPlan:
    """What :func:`run_plan` executes: the resolved program, its argv and environment."""

    program: str
    argv: tuple[str, ...]
    env: dict[str, str]


def plan_exec(ctx: Context, target: str, command: Sequence[str],
              base_env: Mapping[str, str] | None = None) -> ExecPlan:
    """Check the target and the installed project, build the environment, find ``command[0]``
    (the target's backend says whether it has an environment to run commands in)."""
    from wasmtool.run.environment import venv_bin
    from wasmtool.targets.backend import backend_named

    env = backend_named(target).exec_environment(ctx, os.environ if base_env is None else base_env)
    venv: Path = ctx.venv_path
    name = command[0]
    program = shutil.which(name, path=env["PATH"])
    if program is None and os.path.dirname(name):  # a path, as a shell: not searched on PATH
        if os.path.exists(name):
            raise CommandNotFoundError(f"{name}: not an executable file", command=name, exit_code=126)
        raise CommandNotFoundError(f"{name}: no such file", command=name)
    if program is None:
        raise CommandNotFoundError(f"command not found: {name}", command=name,
                                   hint=f"looked in {venv_bin(venv)} and then the inherited PATH")
    return ExecPlan(program, tuple(command), env)


def run_plan(plan: ExecPlan) -> NoReturn:
    """Replace this process with ``plan.program`` (only returns by raising)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    # Python ignores SIGPIPE and SIGXFSZ; ignored signals survive exec, so give the command
    # the default dispositions a shell would (subprocess's restore_signals does the same).
    saved: dict[int, Any] = {}
    for name in ("SIGPIPE", "SIGXFSZ"):
        signum = getattr(signal, name, None)
        if signum is not None:
            saved[signum] = signal.signal(signum, signal.SIG_DFL)
    try:
        os.execvpe(plan.program, list(plan.argv), plan.env)
    except OSError as exc:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        raise CommandNotFoundError(f"cannot run {plan.argv[0]} ({plan.program}): {exc.strerror or exc}",
                                   command=plan.argv[0], exit_code=126) from exc


@click.command("exec", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--target", default=DEFAULT_TARGET, show_default=True,
              help="Target profile whose environment to use (only native targets today).")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- CMD [ARGS]...")
@click.pass_obj
def exec_command(opts: OptionsLike, target: str, command: tuple[str, ...]) -> None:
    """Run CMD with the project venv first on PATH and the bindings on PYTHONPATH
    (e.g. `wasmtool exec -- mochi run main.mochi`). CMD replaces wasmtool: its exit status
    and signals are the command's own."""
    with opts.context() as ctx:
        plan = plan_exec(ctx, target, command)
    run_plan(plan)
