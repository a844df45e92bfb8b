"""The ``wasmtool`` command line. It parses options and calls the library; one place
(:func:`main`) maps errors to messages and exit codes. Verbs mirror ``mochi pkg``."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from wasmtool.cli.audit_cmd import audit_command
from wasmtool.cli.call_cmd import call_command, run_command
from wasmtool.cli.exec_cmd import exec_command
from wasmtool.cli.oci_cmd import pull_command, push_command
from wasmtool.cli.serve_cmd import serve_command
from wasmtool.cli.verify_cmd import attestation_options, verify_command
from wasmtool.errors import UsageError, WasmtoolError

if TYPE_CHECKING:
    from wasmtool.cache import ArtifactCache
    from wasmtool.context import Context
    from wasmtool.ops.attest import AttestOptions
    from wasmtool.targets.base import BindResult

EXIT_USAGE = 2


class Options:
    """The group's options, and ``verbose`` (set by a command's ``-v``; :func:`main` reads it
    to print an error's long form)."""

    def __init__(self, project: Path = Path("."), cache_dir: Path | None = None, index_url: str | None = None,
                 progress: bool | None = None) -> None:
        self.project = project
        self.cache_dir = cache_dir
        self.index_url = index_url
        self.progress = progress
        self.verbose = False
        self.no_build = False   # --no-build (lock, install)

    def context(self) -> Context:
        from wasmtool.context import Context

        ctx = Context.open(self.project, cache_dir=self.cache_dir, progress=self.progress,
                           index_url=self.index_url)
        if self.no_build:
            ctx.build_override = "none"
        return ctx


pass_options = click.make_pass_decorator(Options)


def _echo_err(text: str) -> None:
    click.echo(text, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "--project", "project", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="The Mochi project folder (holds mochi.toml).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Artefact cache (default: $WASMTOOL_CACHE_DIR, $XDG_CACHE_HOME/wasmtool, ~/.cache/wasmtool).")
@click.option("--index-url", default=None, help="Primary simple index (overrides mochi.toml and the environment).")
@click.option("--progress/--no-progress", default=None, help="Progress bars (default: only on a terminal).")
@click.version_option(package_name="wasmtool")
@click.pass_context
def cli(ctx: click.Context, project: Path, cache_dir: Path | None, index_url: str | None,
        progress: bool | None) -> None:
    """wasmtool: use Python packages from Mochi, on native, Pyodide and WASI targets."""
    opts = ctx.ensure_object(Options)
    opts.project, opts.cache_dir, opts.index_url, opts.progress = project.resolve(), cache_dir, index_url, progress


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(Options).verbose = True
    return value


_verbose_option = click.option(
    "-v", "--verbose", is_flag=True, expose_value=False, callback=_set_verbose,
    help="On failure, also print the long form of the error (a resolver's whole search).")


def _set_no_build(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(Options).no_build = True
    return value


_no_build_option = click.option(
    "--no-build", is_flag=True, expose_value=False, callback=_set_no_build,
    help="Never build a package from its source distribution (docs/builds.md); one published only as "
         "source is an error.")


@cli.command()
@click.option("--target", "targets", multiple=True, help="Target profile(s) to lock (repeatable).")
@click.option("--check", is_flag=True, help="Exit non-zero, with a diff, if the lock is not up to date.")
@click.option("--upgrade", is_flag=True, help="Re-resolve even when the lock already matches the project.")
@click.option("--smoke", is_flag=True,
              help="Import every locked package on each wasm target before writing (Pyodide under Node; "
                   "wasi-p2: a probe component's self-check).")
@_no_build_option
@click.option("--accept-capabilities", is_flag=True,
              help="Record [python.capabilities] grants beyond what mochi.lock records (a capability growth).")
@click.option("--budget", is_flag=True,
              help="With --check: measure the installed Pyodide bundles' cold start again against "
                   "[python.budget.<target>] (docs/budget.md).")
@_verbose_option
@pass_options
@attestation_options
def lock(opts: Options, targets: tuple[str, ...], check: bool, upgrade: bool, smoke: bool,
         accept_capabilities: bool, budget: bool, attest: AttestOptions) -> None:
    """Resolve the project's Python dependencies and write mochi.lock + pylock.toml.

    Each target is resolved, then versions are joined: a package gets one version on every
    target where the targets allow it; where they do not, the summary says which package
    differs, the versions, and why."""
    from wasmtool.ops.lock import run_check, run_lock

    with opts.context() as ctx:
        if budget and not check:
            raise UsageError("--budget measures the installed bundles for --check; `wasmtool install --smoke` "
                             "measures and records them", field="--budget")
        if check:
            existing = run_check(ctx, targets, attest=attest)
            _echo_err(f"mochi.lock is up to date for {', '.join(existing.targets)}")
            if budget:
                from wasmtool.ops.budget import check_budgets

                for line in check_budgets(ctx, existing, targets):
                    _echo_err(line)
            return
        outcome = run_lock(ctx, targets, upgrade=upgrade, smoke=smoke, accept_capabilities=accept_capabilities,
                           attest=attest)
    for line in outcome.summary_lines():
        _echo_err(line)


@cli.command()
@click.option("--target", "target", default=None, help="Target profile to install (default: [python].target).")
@click.option("--no-bind", is_flag=True, help="Install only; do not generate the bindings.")
@click.option("--smoke", is_flag=True, help="Pyodide: load the bundle under Node and import every package.")
@click.option("--locked", is_flag=True,
              help="Fail if mochi.lock is missing or does not match the project, instead of locking first.")
@click.option("--frozen", is_flag=True, help="Install mochi.lock as it is, without checking it against the project.")
@click.option("--pyodide-url", "pyodide_url", default=None, metavar="URL",
              help="Pyodide targets: load Pyodide from this hosted folder (same version; its files are checked "
                   "against pinned sha256) instead of a copy inside the bundle.")
@click.option("--per-package", "per_package", is_flag=True,
              help="wasi-p2: one component per bound package (for composition) instead of one for the project.")
@click.option("--snapshot", is_flag=True,
              help="Pyodide targets: add a memory snapshot taken after the packages are imported, verified by "
                   "restoring it in Node; the loader restores it instead of starting Pyodide (docs/snapshot.md).")
@_no_build_option
@_verbose_option
@pass_options
@attestation_options
def install(opts: Options, target: str | None, no_bind: bool, smoke: bool, locked: bool, frozen: bool,
            pyodide_url: str | None, per_package: bool, attest: AttestOptions, snapshot: bool = False) -> None:
    """Install the locked packages for a target (verified against mochi.lock) and bind them.

    Like `uv sync`: a missing or stale mochi.lock is locked for the target first (see
    --locked and --frozen)."""
    from wasmtool.ops.install import LockMode
    from wasmtool.ops.install import install as install_op

    if locked and frozen:
        raise UsageError("--locked and --frozen contradict each other: --locked checks the lock against the "
                         "project, --frozen does not", field="--frozen")
    mode: LockMode = "locked" if locked else "frozen" if frozen else "sync"
    with opts.context() as ctx:
        outcome = install_op(ctx, target, smoke=smoke, bind=not no_bind, lock_mode=mode, runtime_url=pyodide_url,
                             attest=attest, per_package=per_package, snapshot=snapshot)
        for line in outcome.lines():
            _echo_err(line)
        if outcome.bindings is not None:
            _report_bind(outcome.bindings)


def _report_bind(outcome: BindResult) -> None:
    for b in outcome.bound:    # the counts the bind kept: a large surface is not read to print them
        _echo_err(f"bound {b.alias}: {b.package.name} {b.package.version} ({b.tier}) -> {b.externs} externs, "
                  f"{b.skipped} skipped")
    _echo_err(f"workspace {outcome.directory} ({len(outcome.changed)} file(s) changed)")


@cli.command()
@click.argument("packages", nargs=-1)
@click.option("--target", "target", default=None, help="Target profile (default: [python].target).")
@click.option("--refresh", is_flag=True, help="Discover stubs again (new stub packages on the index, stubgen).")
@pass_options
def bind(opts: Options, packages: tuple[str, ...], target: str | None, refresh: bool) -> None:
    """Generate the wrapper, .pyi, Mochi shim and SKIPPED.txt of locked packages; record
    stub provenance and stub/wrapper/shim hashes in mochi.lock."""
    from wasmtool.ops.bind import bind as bind_op

    with opts.context() as ctx:
        _report_bind(bind_op(ctx, target=target or ctx.project.manifest.python.target, names=packages,
                             refresh=refresh))


@cli.command()
@click.argument("package")
@click.option("--target", "target", default=None, help="Target profile (default: [python].target).")
@click.option("--json", "as_json", is_flag=True, help="Print the mapped surface as JSON.")
@pass_options
def surface(opts: Options, package: str, target: str | None, as_json: bool) -> None:
    """Print the mapped surface of a locked package and what was skipped, with reasons,
    grouped by Python module, and which functions a Mochi program can call in each shim dialect."""
    from wasmtool.ops.bind import bind as bind_op
    from wasmtool.ops.bind import module_finder, project_dialect, surface_modules
    from wasmtool.skips import count_by_reason
    from wasmtool.synth.dialect import ffi_split
    from wasmtool.synth.shim import mochi_type
    from wasmtool.typemap.surface import widened_items

    with opts.context() as ctx:
        outcome = bind_op(ctx, target=target or ctx.project.manifest.python.target, names=(package,), write=False)
        dialect = project_dialect(ctx)
    b = outcome.bound[0]
    s = b.surface
    ffi_functions, ffi_skips = ffi_split(s)
    grouped = surface_modules(s)
    if as_json:
        data = s.to_dict()
        data["stub-source"] = b.stubs.source
        data["stub-sha256"] = b.stubs.sha256
        data["mochi-dialect"] = dialect
        data["mochi-dialects"] = {
            "0.10": {"externs": [f.extern_name for f in ffi_functions],
                     "skips": [{"path": r.path, "reason": r.reason.token, "detail": r.detail, "hint": r.hint}
                               for r in ffi_skips]},
            "mep-71": {"externs": sorted(f.extern_name for f in s.functions), "skips": []},
        }
        data["modules"] = grouped
        data["widened"] = [w.to_dict() for w in widened_items(s)]
        click.echo(json.dumps(data, indent=1, sort_keys=True))
        return
    from rich.console import Console

    console = Console()
    in_ffi = {f.extern_name for f in ffi_functions}
    shown = (*s.skips, *ffi_skips) if dialect == "0.10" else s.skips
    head = (f"{s.dist} {s.version} as {s.alias}, stubs: {s.tier} ({b.stubs.source}), Mochi dialect {dialect}")
    module_names = list(grouped)
    functions = sorted((fn.target.partition(":")[0], fn.extern_name,
                         "(" + ", ".join(f"{p.mochi_name}: {mochi_type(p.type)}" for p in fn.params) + ")"
                         + (f": {mochi_type(fn.returns)}" if fn.returns is not None else ""),
                         fn.target, "yes" if fn.extern_name in in_ffi else "no") for fn in s.functions)
    module_of_path = module_finder(module_names)
    skipped = sorted((module_of_path(r.path), r.path, r.reason.token, r.detail) for r in shown)
    by_reason = "skips by reason: " + ", ".join(f"{k}={v}" for k, v in count_by_reason(shown).items())
    title = (f"{len(s.functions)} externs ({len(in_ffi)} callable from Mochi 0.10) "
             f"in {sum(1 for g in grouped.values() if g['externs'])} module(s)")
    if not console.is_terminal:  # piped: whole names, one tab-separated row per line, a line per module
        lines = [head, f"# {title}", "\t".join(("extern", "signature", "calls", "Mochi 0.10"))]
        lines += _grouped_lines(functions, "extern(s)")
        lines += [f"# {len(shown)} skipped", "\t".join(("item", "reason", "detail"))]
        lines += _grouped_lines(skipped, "skipped")
        lines.append(by_reason)
        click.echo("\n".join(lines))
        return
    from rich.markup import escape
    from rich.table import Table

    console.print(f"[bold]{escape(s.dist)} {s.version}[/bold] as [bold]{escape(s.alias)}[/bold], stubs: {s.tier} "
                  f"({escape(b.stubs.source)}), Mochi dialect {dialect}")
    table = Table("module", "extern", "signature", "calls", "Mochi 0.10", title=title)
    _grouped_rows(table, functions)
    console.print(table)
    skips = Table("module", "item", "reason", "detail", title=f"{len(shown)} skipped")
    _grouped_rows(skips, skipped)
    console.print(skips)
    console.print(escape(by_reason))


def _grouped_lines(rows: Sequence[tuple[str, ...]], what: str) -> list[str]:
    """Tab-separated rows (without their leading module cell) under a ``## module M (N what)`` line."""
    lines: list[str] = []
    for module in dict.fromkeys(r[0] for r in rows):
        group = [r[1:] for r in rows if r[0] == module]
        lines.append(f"## module {module} ({len(group)} {what})")
        lines += ["\t".join(r) for r in group]
    return lines


def _grouped_rows(table: Any, rows: Sequence[tuple[str, ...]]) -> None:
    """Rows of a rich table, one section per module, the module named on its first row."""
    from rich.markup import escape

    previous = None
    for row in rows:
        if previous is not None and row[0] != previous:
            table.add_section()
        table.add_row(escape(row[0]) if row[0] != previous else "", *(escape(c) for c in row[1:]))
        previous = row[0]


@cli.group()
def add() -> None:
    """Add a dependency to mochi.toml."""


@add.command("python")
@click.argument("spec")
@pass_options
def add_python(opts: Options, spec: str) -> None:
    """Add SPEC (e.g. "pydantic@^2.9", "httpx[http2]@>=0.27") to [python-dependencies]."""
    from wasmtool.project.edit import add_to_manifest_file

    # a symlinked mochi.toml: edit the file it points at (written beside it, mode kept), so
    # the link stays a link
    manifest = (opts.project / "mochi.toml").resolve()
    add_to_manifest_file(manifest, spec)
    _echo_err(f"added {spec} to {opts.project / 'mochi.toml'}")


@cli.group()
def export() -> None:
    """Export the lock in another format."""


@export.command("pylock")
@click.option("--target", default=None, help="Which target's pins (default: [python].target).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of standard output.")
@pass_options
def export_pylock(opts: Options, target: str | None, output: Path | None) -> None:
    """Print (or write) the PEP 751 pylock.toml for one target."""
    from wasmtool.fsutil import atomic_write_text
    from wasmtool.lock.io import read_lock, render_pylock_for
    from wasmtool.project.model import load_project

    project = load_project(opts.project)
    lock_data = read_lock(opts.project / "mochi.lock")
    tname = target or project.manifest.python.target
    text = render_pylock_for(lock_data, tname)
    if output is None:
        click.echo(text, nl=False)
    else:
        atomic_write_text(output, text)


@cli.group()
def cache() -> None:
    """Inspect or clean the artefact cache."""


def _cache(opts: Options) -> ArtifactCache:
    from wasmtool.cache import ArtifactCache, default_cache_dir

    return ArtifactCache(opts.cache_dir or default_cache_dir())


@cache.command("info")
@click.option("--json", "as_json", is_flag=True)
@pass_options
def cache_info(opts: Options, as_json: bool) -> None:
    """Where the cache is and what it holds."""
    import datetime

    store = _cache(opts)
    info, verified = store.info(), store.last_verified()
    data: dict[str, object] = {"root": str(info.root), "artefacts": info.artefacts, "bytes": info.bytes,
                               "tmp_files": info.tmp_files,
                               "verified": None if verified is None else {"time": verified[0],
                                                                          "problems": verified[1]}}
    if as_json:
        click.echo(json.dumps(data, sort_keys=True))
        return
    click.echo(f"{info.root}: {info.artefacts} artefact(s), {info.bytes} bytes, {info.tmp_files} temp file(s)")
    if verified is None:
        click.echo("not verified: run `wasmtool cache verify` to re-hash every entry")
    else:
        when = datetime.datetime.fromtimestamp(verified[0], tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        click.echo(f"last verified {when}: {verified[1]} problem(s) (entries added since are not)")


@cache.command("verify")
@click.option("--fix", is_flag=True, help="Evict the entries found wrong (the next install fetches them again).")
@pass_options
def cache_verify(opts: Options, fix: bool) -> None:
    """Re-hash every cached artefact against its ref; exit 1 if any is wrong."""
    from wasmtool.cache.errors import CacheVerifyError

    store = _cache(opts)
    problems = store.verify_all()
    lines = [f"{p.code} {p.path}: {p.error.message}" for p in problems]
    if fix and problems:
        evicted = store.evict_bad()
        problems = store.verify_all()   # files no ref points at are left to `cache clean`
        if not problems:               # all fixed: say what went, exit 0
            store.record_verified(0)
            for line in lines:
                _echo_err(line)
            _echo_err(f"evicted {len(evicted)} entr{'y' if len(evicted) == 1 else 'ies'}; "
                      "the next install fetches them again")
            return
        lines = [f"{p.code} {p.path}: {p.error.message}" for p in problems]
    store.record_verified(len(problems))
    if lines:
        raise CacheVerifyError(lines, root=store.root)
    _echo_err(f"{store.root}: every entry verified")


@cache.command("clean")
@pass_options
def cache_clean(opts: Options) -> None:
    """Remove every cached artefact and everything derived from them (stubs, surfaces,
    components, verdicts...)."""
    removed = _cache(opts).clean()
    _echo_err(f"removed {removed} file(s)")


cli.add_command(call_command)
cli.add_command(run_command)
cli.add_command(exec_command)
cli.add_command(serve_command)
cli.add_command(verify_command)
cli.add_command(push_command)
cli.add_command(pull_command)
cli.add_command(audit_command)


def main(argv: Sequence[str] | None = None, prog: str = "wasmtool") -> int:
    """Run the CLI; returns the exit code (never raises for expected failures)."""
    opts = Options()
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name=prog, standalone_mode=False, obj=opts)
    except WasmtoolError as exc:
        if isinstance(exc, UsageError) and exc.usage:
            _echo_err(exc.usage)   # the banner click prints for its own usage errors
        _echo_err(f"error: {exc}")
        if exc.details:
            _echo_err(exc.details if opts.verbose else "  (-v shows the details)")
        return exc.exit_code
    except click.exceptions.Abort:
        _echo_err("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code if exc.exit_code else EXIT_USAGE
    except KeyboardInterrupt:
        _echo_err("interrupted")
        return 130
    return 0


def entry() -> None:
    sys.exit(main())
