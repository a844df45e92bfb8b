"""``wasmtool push`` and ``wasmtool pull``: share installed components and bundles through an
OCI registry (docs/remote-cache.md).

- ``wasmtool [-C DIR] push --target T [--per-package] REF``: what ``install --target=T`` made,
  as an OCI artifact (a Wasm component, or a bundle); REF is ``oci://host[:port]/repo:tag``.
- ``wasmtool pull REF -o DIR``: fetch either kind, every blob checked against its digest.

Credentials come from the Docker config (``$DOCKER_CONFIG/config.json`` or
``~/.docker/config.json``) and are never printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

__all__ = ["pull_command", "push_command"]

_TIMEOUT_HELP = "Seconds to connect to the registry and for each read (default 60)."


@click.command("push")
@click.option("--target", "target", required=True, help="The target whose install to publish (e.g. a WASI "
              "or Pyodide profile).")
@click.option("--per-package", is_flag=True, help="One artifact per package component, tagged <tag>-<alias>.")
@click.option("--timeout", type=float, default=60.0, show_default=True, help=_TIMEOUT_HELP)
@click.argument("ref")
@click.pass_obj
def push_command(opts: Any, target: str, per_package: bool, timeout: float, ref: str) -> None:
    """Publish the project's installed component (or bundle) for TARGET to REF (oci://host/repo:tag)."""
    from wasmtool.ops.oci import push
    from wasmtool.targets.profile import load_profile

    name = load_profile(target).name
    with opts.context() as ctx:
        result = push(ctx, name, ref, per_package=per_package, timeout=timeout)
    for line in result.lines():
        click.echo(line)


@click.command("pull")
@click.option("-o", "--output", "output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the component (component.wasm) or the bundle's files into.")
@click.option("--timeout", type=float, default=60.0, show_default=True, help=_TIMEOUT_HELP)
@click.argument("ref")
def pull_command(output: Path, timeout: float, ref: str) -> None:
    """Fetch a component or bundle artifact from REF (oci://host/repo:tag), checking every digest."""
    from wasmtool.ops.oci import pull

    result = pull(ref, output, timeout=timeout)
    for line in result.lines():
        click.echo(line)
