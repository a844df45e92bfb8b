"""``wasmtool audit``: what compiled wheels link, which ABI they use, whether the target loads them.

- ``wasmtool audit --wheel FILE [--target T ...] [--json]``: one wheel file on disk. Without
  ``--target``, the first target whose platform tags name one of the wheel's (else the default
  target). A WebAssembly wheel is checked against that target's pinned runtime.
- ``wasmtool audit [--target T ...] [--json]``: every locked file with compiled code, per target
  (:func:`wasmtool.ops.audit.audit_lock`).

Output: per wheel and per compiled member, the verdict and each finding (member, library or
symbol, rule, code). Exit 1 with the error of the first finding (its own ``WT95x`` code) when
any wheel has findings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from wasmtool.audit.model import WheelAudit

__all__ = ["audit_command", "render_audits", "wheel_targets"]


def wheel_targets(path: Path) -> tuple[str, ...]:
    """The target of a wheel given no ``--target``: the first profile (by name) whose platform
    tags include one of the wheel's, else the default target."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    from wasmtool.targets.profile import DEFAULT_TARGET, list_profiles, load_profile

    try:
        platforms = {t.platform for t in parse_wheel_filename(path.name)[3]}
    except InvalidWheelFilename:
        return (DEFAULT_TARGET,)
    for name in list_profiles():
        profile = load_profile(name)
        if platforms & {*profile.platform_tags, *profile.read_only_platforms}:
            return (profile.name,)
    return (DEFAULT_TARGET,)


def audit_file(project: Path, path: Path, targets: Sequence[str]) -> list[WheelAudit]:
    from wasmtool.audit.service import audit_wheel
    from wasmtool.ops.audit_runtime import runtime_facts
    from wasmtool.targets.profile import load_profile

    out: list[WheelAudit] = []
    for name in targets or wheel_targets(path):
        profile = load_profile(name)
        out.append(audit_wheel(path, target=profile.name, runtime=runtime_facts(project.resolve(), profile)))
    return out


def render_audits(audits: Sequence[WheelAudit], as_json: bool) -> None:
    """Print the audits (JSON on stdout, or one block per wheel); no exit status decided here."""
    if as_json:
        doc: dict[str, Any] = {"audits": [a.to_dict() for a in audits],
                               "ok": all(a.verdict != "findings" for a in audits)}
        click.echo(json.dumps(doc, indent=1, sort_keys=True))
        return
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    style = {"ok": "green", "findings": "red", "skipped": "yellow"}
    for a in audits:
        n = len(a.findings)
        what = f"{n} finding{'s' if n != 1 else ''}" if n else a.verdict
        why = f" ({escape(a.reason)})" if a.reason else ""
        checks = f"; checks: {', '.join(a.checks)}" if a.checks else ""
        console.print(f"[bold]{escape(a.filename)}[/bold] {escape(f'[{a.target}]')}: "
                      f"[{style[a.verdict]}]{what}[/{style[a.verdict]}]{why}{escape(checks)}")
        for m in a.modules:
            console.print(f"  {escape(m.member)} ({m.format}): [{style[m.verdict]}]{m.verdict}[/{style[m.verdict]}]")
            for f in m.findings:
                console.print(f"    {f.code} {f.rule}: [bold]{escape(f.subject)}[/bold]: {escape(f.detail)}")


@click.command("audit")
@click.option("--wheel", "wheel", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Audit this wheel file instead of the locked files.")
@click.option("--target", "targets", multiple=True, help="Audit for these targets (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def audit_command(opts: Any, wheel: Path | None, targets: tuple[str, ...], as_json: bool) -> None:
    """Audit compiled wheels: linked libraries, symbol versions, abi3, WebAssembly imports."""
    from wasmtool.audit.errors import first_error

    if wheel is None:
        from wasmtool.ops.audit import audit_lock

        with opts.context() as ctx:
            audits = audit_lock(ctx, targets)
    else:
        audits = audit_file(opts.project, wheel, targets)
    render_audits(audits, as_json)
    for a in audits:
        error = first_error(a)
        if error is not None:
            raise error       # the first finding, with its own code (every one is listed above)
