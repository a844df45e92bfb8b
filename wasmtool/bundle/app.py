"""The app's own static files in a Pyodide bundle: ``[browser] app = "web"`` in mochi.toml.

``wasmtool install --target=pyodide-*`` copies every file of the app folder into the bundle
folder, next to the files the bundle ships, so that serving the bundle serves the app: an
``index.html`` in the app folder replaces the generated test page. The copy happens inside
:func:`wasmtool.bundle.pyodide.build_bundle`'s temporary folder, so the bundle is still
replaced in one rename.

Rules (checked before anything is copied, every problem reported at once):

- the folder must exist and be a folder;
- dotfiles, dot-folders and ``__pycache__`` are left out;
- a symbolic link is refused (its target could be anywhere);
- a path the bundle owns is refused: ``bundle.json``, ``pyodide-lock.json``, ``loader.mjs``,
  ``bindings.mjs``, ``bindings.d.mts``, ``loader.d.mts``, ``bindings.d.ts``, ``snapshot.mjs``,
  ``snapshot.json``, ``snapshot.bin``, anything under
  ``wheels/`` or ``pyodide/``, and any other file the bundle already wrote (an alias's
  ``.d.ts``, ...). ``index.html`` is the one bundle file an app may replace.

Files are copied byte for byte in sorted order with mode 0644 (folders 0755), so the same
app folder gives the same bundle.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from wasmtool.bundle.errors import AppFolderError as AppFolderError  # re-exported

__all__ = ["APP_SETTING", "REPLACEABLE", "RESERVED_DIRS", "RESERVED_FILES", "AppFile", "AppFolderError",
           "check_app_files", "copy_app", "scan_app"]

#: How the setting is named in messages.
APP_SETTING = "[browser] app"
#: Files of the bundle an app cannot replace (whether or not this bundle has them).
RESERVED_FILES = frozenset({"bundle.json", "pyodide-lock.json", "loader.mjs", "bindings.mjs", "bindings.d.ts",
                            "bindings.d.mts", "loader.d.mts", "snapshot.mjs", "snapshot.json", "snapshot.bin"})
#: Folders of the bundle an app cannot write into.
RESERVED_DIRS = ("wheels", "pyodide")
#: Bundle files the app's own file replaces.
REPLACEABLE = frozenset({"index.html"})


@dataclass(frozen=True)
class AppFile:
    """One entry found in the app folder: its ``/``-separated path and whether it is a symlink."""

    rel: str
    symlink: bool = False


def _skipped(part: str) -> bool:
    return part.startswith(".") or part == "__pycache__"


def check_app_files(entries: Iterable[AppFile], *, bundle_files: Collection[str] = (),
                    folder: str = "", setting: str = APP_SETTING) -> list[str]:
    """The app paths to copy, sorted; raises :class:`AppFolderError` listing every path that is
    a symlink or belongs to the bundle (``bundle_files``: what the bundle already holds). Pure."""
    problems: list[str] = []
    keep: list[str] = []
    owned = (RESERVED_FILES | frozenset(bundle_files)) - REPLACEABLE
    for entry in sorted(entries, key=lambda e: e.rel):
        parts = entry.rel.split("/")
        if any(_skipped(p) for p in parts):
            continue
        if entry.symlink:
            problems.append(f"{entry.rel}: a symbolic link (copy the file into the folder instead)")
        elif entry.rel in owned or (parts[0] in RESERVED_DIRS and len(parts) > 1):
            problems.append(f"{entry.rel}: the bundle writes this path itself (rename the app's file)")
        else:
            keep.append(entry.rel)
    if problems:
        where = f"{folder}: " if folder else ""
        raise AppFolderError(f"{where}{'; '.join(problems)}", file=folder or None, field=setting,
                             hint="an app folder holds the page and its static files; the bundle owns "
                                  f"{', '.join(sorted(RESERVED_FILES))}, {'/, '.join(RESERVED_DIRS)}/")
    return keep


def scan_app(app_dir: Path, *, setting: str = APP_SETTING) -> list[AppFile]:
    """Every file (and symlink) under ``app_dir``, not following links, sorted."""
    try:
        mode = os.stat(app_dir).st_mode
    except OSError:
        raise AppFolderError(f"{app_dir}: the app folder does not exist", file=str(app_dir), field=setting,
                             hint=f"create it, or fix or remove {setting} in mochi.toml") from None
    if not stat.S_ISDIR(mode):
        raise AppFolderError(f"{app_dir}: not a folder", file=str(app_dir), field=setting,
                             hint=f"{setting} names a folder holding the app's page (index.html) and files")
    found: list[AppFile] = []
    for current, dirs, files in os.walk(app_dir, followlinks=False):
        base = Path(current)
        for name in sorted(dirs):
            if (base / name).is_symlink():
                found.append(AppFile((base / name).relative_to(app_dir).as_posix(), symlink=True))
        dirs[:] = sorted(d for d in dirs if not (base / d).is_symlink() and not _skipped(d))
        for name in sorted(files):
            path = base / name
            found.append(AppFile(path.relative_to(app_dir).as_posix(), symlink=path.is_symlink()))
    return sorted(found, key=lambda e: e.rel)


def _bundle_files(dest: Path) -> set[str]:
    return {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}


def copy_app(app_dir: Path, dest: Path, *, setting: str = APP_SETTING) -> tuple[str, ...]:
    """Copy the app folder's files into the bundle being built at ``dest`` (its temporary
    folder, holding the bundle's own files already); the copied paths, sorted."""
    keep = check_app_files(scan_app(app_dir, setting=setting), bundle_files=_bundle_files(dest),
                           folder=str(app_dir), setting=setting)
    contents: Mapping[str, bytes] = {rel: (app_dir / rel).read_bytes() for rel in keep}
    for rel, data in contents.items():
        target = dest.joinpath(*rel.split("/"))
        for parent in reversed(target.relative_to(dest).parents[:-1]):
            folder = dest / parent
            if not folder.is_dir():
                folder.mkdir()
                os.chmod(folder, 0o755)
        target.write_bytes(data)
        os.chmod(target, 0o644)
    return tuple(keep)
