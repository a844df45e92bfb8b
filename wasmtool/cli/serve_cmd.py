"""``wasmtool serve``: serve the installed bundle folder on 127.0.0.1 for a browser.

``wasmtool [-C DIR] serve [--target T] [--port N] [--open]`` serves ``.mochi/<target>/`` (the
folder ``wasmtool install --target=T`` wrote; without ``--target``, the one installed bundle
there) at ``http://127.0.0.1:<port>/`` -- port 0 or none: a free port -- and prints one line,
``Serving <folder> at http://127.0.0.1:<port>/``, on stdout once it listens. ``--open`` opens
that URL in the default browser. Ctrl-C (SIGINT) or SIGTERM stop it: exit 0. No bundle
installed: ``WT865``; the port cannot be bound: ``WT866``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

__all__ = ["serve_command"]


@click.command("serve")
@click.option("--target", "target", default=None,
              help="Target profile whose bundle to serve (default: the one bundle installed under .mochi).")
@click.option("--port", type=int, default=0, show_default=True, help="Port on 127.0.0.1 (0: a free port).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default web browser.")
@click.option("--log", "log_all", is_flag=True, help="Log every request on stderr (default: failures only).")
@click.pass_obj
def serve_command(opts: Any, target: str | None, port: int, open_browser: bool, log_all: bool) -> None:
    """Serve the installed browser bundle on 127.0.0.1 until Ctrl-C."""
    from wasmtool.bundle.serve import find_bundle, open_server, serve_until_stopped, serving_line

    name = None
    if target is not None:
        from wasmtool.targets.profile import load_profile

        name = load_profile(target).name
    root = Path(opts.project)
    hint = f"wasmtool install --target={name or 'TARGET'}"
    if root.resolve() != Path.cwd().resolve():
        hint = f"wasmtool -C {root} install --target={name or 'TARGET'}"
    folder = find_bundle(root / ".mochi", name, install_hint=hint).resolve()
    server = open_server(folder, port, log_all=log_all)
    bound_port = int(server.server_address[1])
    url = f"http://127.0.0.1:{bound_port}/"

    def ready() -> None:
        click.echo(serving_line(folder, bound_port))
        sys.stdout.flush()
        if open_browser:
            import webbrowser

            if not webbrowser.open(url):
                click.echo(f"could not open a browser; open {url} yourself", err=True)

    serve_until_stopped(server, ready)
    click.echo("stopped", err=True)
