"""The corpus pipeline without the CLI: wheel -> stubs (all tiers) -> surface -> workspace files.

Used by the corpus gate (tests/corpus/test_corpus.py) and ``bench/surface.py``. Sibling stub
wheels come from the recorded artefacts (the same files the hermetic index serves).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from filelock import FileLock, Timeout
from packaging.utils import canonicalize_name, parse_wheel_filename

from tests.support.session_cache import SESSION_CACHE_ENV
from wasmtool.fsutil import atomic_write_bytes
from wasmtool.ops.bind import candidate_submodules, map_package, module_finder, public_import_names
from wasmtool.project.manifest import PythonSettings
from wasmtool.resolve.wheelinfo import read_wheel_info
from wasmtool.skips import SkipReport, count_by_reason
from wasmtool.stubs.discover import StubgenPolicy, StubSet, discover, module_stubs
from wasmtool.stubs.model import ModuleStub
from wasmtool.synth.dialect import ffi_split
from wasmtool.synth.workspace import surface_files_by_dialect
from wasmtool.typemap.surface import Function, MappedSurface

ARTEFACTS = Path(__file__).resolve().parent.parent / "data" / "artefacts"
GOLDEN = Path(__file__).resolve().parent / "golden"

#: The seed's corpus: distribution -> alias (the Mochi import alias users would write).
CORPUS: dict[str, str] = {
    "numpy": "np", "pandas": "pd", "scipy": "scipy", "scikit-learn": "sklearn", "requests": "requests",
    "httpx": "httpx", "urllib3": "urllib3", "pillow": "PIL", "pydantic": "pydantic", "attrs": "attrs",
    "click": "click", "typer": "typer", "rich": "rich", "tqdm": "tqdm", "sqlalchemy": "sqlalchemy",
    "fastapi": "fastapi", "starlette": "starlette", "uvicorn": "uvicorn", "aiohttp": "aiohttp",
    "pyyaml": "yaml", "toml": "toml", "tomli": "tomli", "msgpack": "msgpack", "orjson": "orjson",
    "pytest": "pytest",
}


def _wheels() -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for p in sorted(ARTEFACTS.glob("*.whl")):
        name = str(parse_wheel_filename(p.name)[0])
        out.setdefault(name, []).append(p)
    return out


def native_wheel(dist: str) -> Path:
    """The cp312 manylinux wheel if there is one, else the pure wheel (the native profile's choice)."""
    files = _wheels()[str(canonicalize_name(dist))]
    compiled = [p for p in files if "cp312" in p.name or "abi3" in p.name]
    return (compiled or files)[0]


def corpus_venv(venv: Path) -> Path:
    """Create ``venv`` (CPython 3.12) holding the native wheel of every corpus package,
    installed offline from the recorded artefacts; returns its interpreter."""
    from wasmtool.install.interpreter import find_interpreter
    from wasmtool.resolve.uv import find_uv

    uv = find_uv()
    subprocess.run([str(uv), "venv", "-q", "--python", str(find_interpreter("3.12")), str(venv)], check=True,
                   timeout=300)
    python = venv / "bin" / "python"
    subprocess.run([str(uv), "pip", "install", "-q", "--python", str(python), "--offline", "--no-index",
                    "--find-links", str(ARTEFACTS), *(str(native_wheel(d)) for d in sorted(CORPUS))],
                   check=True, timeout=600, env={**os.environ, "UV_NO_CONFIG": "1"})
    return python


def wheel_import_names(wheel: Path) -> tuple[str, ...]:
    return tuple(n for n in read_wheel_info(wheel).import_names if n.isidentifier())


#: The environment the corpus maps for (native profile: CPython 3.12 on x86-64 Linux); requirement
#: markers are evaluated against it, with no extra selected.
MARKER_ENV: dict[str, str] = {
    "python_version": "3.12", "python_full_version": "3.12.0", "implementation_name": "cpython",
    "platform_python_implementation": "CPython", "sys_platform": "linux", "platform_system": "Linux",
    "os_name": "posix", "platform_machine": "x86_64", "extra": "",
}


def dependency_wheels(wheel: Path) -> list[Path]:
    """Wheels of the dependency closure (requirements whose markers hold for :data:`MARKER_ENV`,
    followed transitively) found among the artefacts, for stubgen's imports of the package:
    scipy needs numpy; scikit-learn needs joblib, which needs cloudpickle. Breadth-first, in
    declaration order, so the list is deterministic; each distribution once."""
    wheels = _wheels()
    out: list[Path] = []
    seen = {str(canonicalize_name(parse_wheel_filename(wheel.name)[0]))}
    queue = [wheel]
    while queue:
        current = queue.pop(0)
        for req in read_wheel_info(current).metadata.requires_dist or ():
            if req.marker is not None and not req.marker.evaluate(MARKER_ENV):
                continue
            name = str(canonicalize_name(req.name))
            files = wheels.get(name, [])
            if name in seen or not files:
                continue
            seen.add(name)
            compiled = [p for p in files if "cp312" in p.name or "abi3" in p.name]
            out.append((compiled or files)[0])
            queue.append(out[-1])
    return out


def dependency_modules(wheel: Path) -> list[ModuleStub]:
    """The stub modules of the wheel's dependency closure, as ``bind`` reads them (types from
    dependencies): each dependency's own, sibling or typeshed stubs, never stubgen."""
    out: list[ModuleStub] = []
    for dep in dependency_wheels(wheel):
        name, version, _, _ = parse_wheel_filename(dep.name)
        scan = tuple(n for n in wheel_import_names(dep) if "__mypyc" not in n)
        st = discover(dep, dist=str(name), version=str(version), import_names=scan,
                      find_sibling_stubs=artefact_finder(), typeshed=True, stubgen=StubgenPolicy(fallback=False),
                      python_version="3.12")
        out.extend(module_stubs(st, python_version=(3, 12), platform="linux", skips=[]))
    return out


def artefact_finder() -> Callable[[str], Path | None]:
    wheels = _wheels()

    def find(name: str) -> Path | None:
        files = wheels.get(str(canonicalize_name(name)), [])
        return files[-1] if files else None
    return find


@dataclass(frozen=True)
class CorpusResult:
    stubs: StubSet
    surface: MappedSurface
    files: dict[str, str]                  # the alias folder in the default dialect (0.10)
    mep71_files: dict[str, str]            # the same folder in the mep-71 dialect

    def shim(self, dialect: str) -> tuple[str, str]:
        """(file name, text) of the shim in ``dialect``."""
        files = self.files if dialect == "0.10" else self.mep71_files
        return next((n, t) for n, t in files.items() if n.endswith("_shim.mochi"))

    def golden(self) -> str:
        """The reviewable golden text: see :func:`golden_text`."""
        return golden_text(self)


#: stubgen's time limit in the corpus: scikit-learn's inspect-mode run (400 modules, each
#: failing import restarting mypy's import worker) takes about a minute on a loaded 2-core
#: machine, so the product's 60 s default would make the goldens depend on the load
STUBGEN_TIMEOUT = 300.0


def discover_package(dist: str, *, timeout: float = STUBGEN_TIMEOUT) -> StubSet:
    """Stub discovery for ``dist`` (all tiers; the stub set does not depend on the target)."""
    wheel = native_wheel(dist)
    version = str(parse_wheel_filename(wheel.name)[1])
    scan = tuple(n for n in wheel_import_names(wheel) if "__mypyc" not in n)
    return discover(wheel, dist=dist, version=version, import_names=scan, find_sibling_stubs=artefact_finder(),
                    typeshed=True, stubgen=StubgenPolicy(timeout=timeout), python_version="3.12",
                    dependency_wheels=dependency_wheels(wheel))


def map_surface(dist: str, *, timeout: float = STUBGEN_TIMEOUT, target: str = "native",
                stubs: StubSet | None = None, submodules_on: bool = True) -> tuple[StubSet, MappedSurface]:
    """(stubs, surface) of ``dist``: the pipeline up to the mapped surface, no file rendered;
    ``stubs`` reuses an earlier discovery."""
    wheel = native_wheel(dist)
    version = str(parse_wheel_filename(wheel.name)[1])
    names = wheel_import_names(wheel)
    scan = tuple(n for n in names if "__mypyc" not in n)
    if stubs is None:
        stubs = discover_package(dist, timeout=timeout)
    skips: list[SkipReport] = []
    modules = module_stubs(stubs, python_version=(3, 12), platform="linux", skips=skips)
    foreign = dependency_modules(wheel)
    import_names = public_import_names(scan)
    # the default surface: the top-level modules and their public submodules (native: every
    # submodule imports), with the project settings' defaults
    submodules = candidate_submodules(stubs, import_names, None if submodules_on else False,
                                      explicit_imports=False, package=dist)
    surface = map_package(modules, stubs, dist=dist, version=version, alias=CORPUS[dist],
                          import_names=import_names, submodules=submodules, target=target, callables_cross=None,
                          settings=PythonSettings(), extra_skips=skips, dependencies=foreign)
    return stubs, surface


def run_package(dist: str, *, timeout: float = STUBGEN_TIMEOUT, target: str = "native",
                stubs: StubSet | None = None, submodules_on: bool = True) -> CorpusResult:
    """The pipeline for ``dist``: :func:`map_surface` and the alias folder in both dialects
    (the files that do not depend on the dialect rendered once, shared by the two)."""
    stubs, surface = map_surface(dist, timeout=timeout, target=target, stubs=stubs, submodules_on=submodules_on)
    files = surface_files_by_dialect(surface, ("0.10", "mep-71"))
    return CorpusResult(stubs, surface, files["0.10"], files["mep-71"])


T = TypeVar("T")
_RESULTS: dict[str, CorpusResult] = {}
_STUBS: dict[str, StubSet] = {}


def _pickle_path(key: str) -> Path | None:
    """Where the session keeps ``key``'s result (``None`` outside a test session)."""
    folder = os.environ.get(SESSION_CACHE_ENV)
    return Path(folder) / f"{key}.pickle" if folder else None


def _store(path: Path, value: object) -> None:
    atomic_write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


@contextmanager
def _lock_if_free(path: Path) -> Iterator[bool]:
    """Hold ``path``'s lock for the block if no process holds it (True), else hold nothing
    (False): never waits."""
    lock = FileLock(str(path) + ".lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def _session_cached(key: str, memo: dict[str, T], compute: Callable[[], T]) -> T:
    """``compute()`` once per test session: memoised in this process, and across processes
    pickled into the session folder under a file lock (the first process computes, the others
    load what it wrote)."""
    if key in memo:
        return memo[key]
    path = _pickle_path(key)
    if path is None:
        memo[key] = compute()
        return memo[key]
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        if path.is_file():
            value: T = pickle.loads(path.read_bytes())
        else:
            value = compute()
            _store(path, value)
    memo[key] = value
    return value


def _compute_unclaimed(key: str, memo: dict[str, T], compute: Callable[[], T]) -> bool:
    """:func:`_session_cached` for a result no process has started: computed and written here
    when its lock is free and nothing is on disk (True); False at once otherwise (never waits,
    never loads what another process wrote)."""
    path = _pickle_path(key)
    if path is None or key in memo or path.is_file():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock_if_free(path) as free:
        if not free or path.is_file():
            return False
        memo[key] = compute()
        _store(path, memo[key])
        return True


def _claimed_elsewhere(key: str) -> bool:
    """Another process holds ``key``'s lock (it is computing it)."""
    path = _pickle_path(key)
    if path is None or path.is_file():
        return False
    with _lock_if_free(path) as free:
        return not free


def _while_claimed(key: str, work: Callable[[str], bool]) -> None:
    """While another worker computes ``key``, compute corpus packages nobody has started
    (``work(dist)``: True when it computed one) instead of waiting on the lock: the workers
    then share the 25 packages between them rather than taking turns on each."""
    for other in sorted(CORPUS):
        if not _claimed_elsewhere(key):
            return
        work(other)


def corpus_stubs(dist: str) -> StubSet:
    """:func:`discover_package`, once per package per test session (the native pipeline and
    the WIT test share it: the WIT test never waits for the native mapping)."""
    if dist in _RESULTS:
        return _RESULTS[dist].stubs
    key = f"{dist}.stubs"
    _while_claimed(key, lambda other: _compute_unclaimed(f"{other}.stubs", _STUBS,
                                                         lambda: discover_package(other)))
    return _session_cached(key, _STUBS, lambda: discover_package(dist))


def corpus_result(dist: str) -> CorpusResult:
    """:func:`run_package` for the native target, once per package per test session (the
    golden, minimums, mypy, import and FFI tests share it), on the session's stubs
    (:func:`corpus_stubs`). Across processes the result is pickled into the session folder
    under a file lock."""
    _while_claimed(dist, _steal_result)
    return _session_cached(dist, _RESULTS, lambda: _computed_result(dist))


def _computed_result(dist: str) -> CorpusResult:
    return run_package(dist, stubs=corpus_stubs(dist))


def _steal_result(dist: str) -> bool:
    """Compute ``dist``'s result if no process has started it, nor its stubs (whose lock
    would make this wait)."""
    if dist not in _STUBS and _claimed_elsewhere(f"{dist}.stubs"):
        return False
    return _compute_unclaimed(dist, _RESULTS, lambda: _computed_result(dist))


def bound_paths(surface: MappedSurface) -> set[str]:
    """The Python paths the surface binds: each extern's target ``module:qualname`` as the
    dotted path a user writes (a constructor's target is its class)."""
    return {f.target.replace(":", ".") for f in surface.functions}


def skips_about(surface: MappedSurface, path: str) -> list[str]:
    """The SKIPPED.txt lines of ``path``, of its parameters and members, and of its owners."""
    return [s.tsv_line() for s in surface.skips
            if s.path == path or s.path.startswith(path + ".") or path.startswith(s.path + ".")]


#: Skip reasons that are not a gap in coverage: names never bound by design (private, dunder)
#: and the released Mochi's stateless-FFI limits (the mep-71 surface binds those items).
NOT_A_GAP = frozenset({"SkipPrivateName", "SkipDunder", "SkipStatelessFfi"})
#: Module path parts that mark a test package: never part of a package's surface.
TEST_PARTS = frozenset({"test", "tests", "testing", "conftest"})


@dataclass(frozen=True)
class Coverage:
    """How much of a package's public, non-dunder API is bound: ``bound`` Python items (an item
    is what a user names: a function, method, class, property or constant; its ``_full`` variant
    and its overload externs are the same item) against ``skipped`` items (a skip of a whole item
    for a reason other than :data:`NOT_A_GAP`; a skipped parameter or overload arm of a bound
    item is not a skipped item). Items of test packages, and items whose path goes through a
    private name (:func:`_is_private_path`), are left out: neither is public API."""

    bound: int
    skipped: int

    @property
    def ratio(self) -> float:
        total = self.bound + self.skipped
        return self.bound / total if total else 1.0

    def line(self) -> str:
        return f"{self.bound}\t{self.skipped}\t{self.ratio * 100:.1f}%"


def _in_test_package(path: str) -> bool:
    return any(part in TEST_PARTS for part in path.split("."))


def _is_private_path(path: str) -> bool:
    """A path through a private name (``scipy._lib.doccer.docformat``,
    ``scipy.linalg.cython_blas._CApiDict.caxpy``): not public API, whatever it binds or skips.
    The mapping still reaches such items (a private class a public signature names becomes a
    handle with its members), but they are not what the share of public items counts."""
    return any(part.startswith("_") and not (part.startswith("__") and part.endswith("__"))
               for part in path.split("."))


def _counted(path: str) -> bool:
    return not _in_test_package(path) and not _is_private_path(path)


def _item_path(path: str) -> str:
    """A skip path without an overload-arm suffix (``numpy.zeros#2`` -> ``numpy.zeros``)."""
    return path.split("#", 1)[0]


def coverage(surface: MappedSurface) -> Coverage:
    bound = {p for p in bound_paths(surface) if _counted(p)}
    classes = {f.target.replace(":", ".") for f in surface.functions if f.kind == "constructor"}
    classes |= {f.target.replace(":", ".").rpartition(".")[0] for f in surface.functions
                if f.kind in ("method", "getter")}
    gaps = {_item_path(s.path) for s in surface.skips
            if s.reason.name not in NOT_A_GAP and _counted(s.path)}
    skipped = set()
    for path in gaps - bound:
        parent = path.rpartition(".")[0]
        # a line under a skipped item (its parameter, its member) or under a bound function
        # (a parameter left out of `_full`) is not an item of its own; a member of a bound class is
        if parent in gaps or (parent in bound and parent not in classes):
            continue
        skipped.add(path)
    return Coverage(len(bound), len(skipped))


def public_modules(surface: MappedSurface) -> list[str]:
    """The surface's modules: its import names and every public module an extern calls into
    (a class of a private module is counted under the public module it lies in)."""
    return sorted({m for m in (f.target.partition(":")[0] for f in surface.functions)
                   if not any(part.startswith("_") for part in m.split("."))} | set(surface.import_names))


def module_coverage(surface: MappedSurface) -> list[tuple[str, Coverage]]:
    """:func:`coverage` per surface module (each item counted under the module that exports it);
    externs and skips are sorted into their modules in one pass."""
    modules = public_modules(surface)
    functions: dict[str, list[Function]] = {m: [] for m in modules}
    skips: dict[str, list[SkipReport]] = {m: [] for m in modules}
    module_of = module_finder(modules)
    for f in surface.functions:
        functions.get(module_of(f.target.partition(":")[0]), []).append(f)
    for k in surface.skips:
        skips.get(module_of(k.path), []).append(k)
    return [(m, coverage(replace(surface, functions=tuple(functions[m]), skips=tuple(skips[m])))) for m in modules]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _one_line(block: list[str]) -> str:
    """A record declaration spread over lines as one line: ``type X { a: int, b: string }  // py``."""
    head, _, comment = block[0].partition("//")
    fields = [ln.strip().rstrip(",") for ln in block[1:-1]]
    line = f"{head.strip()} {', '.join(fields)} }}"
    return f"{line}  // {comment.strip()}" if comment.strip() else line


def shim_declarations(shim: str) -> tuple[list[str], list[str]]:
    """(type declarations, extern declarations) of a shim, one line each, sorted; comment-only
    lines (the doc lines above an extern) are left out, the SHA-256 block covers them."""
    types: list[str] = []
    externs: list[str] = []
    lines = shim.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("type ") and line.split("//")[0].rstrip().endswith("{"):
            j = i
            while lines[j] != "}":
                j += 1
            types.append(_one_line(lines[i:j + 1]))
            i = j + 1
            continue
        if line.startswith("type "):
            types.append(line)
        elif line.startswith("extern "):
            externs.append(line)
        i += 1
    return sorted(types), sorted(externs)


_EXTERN_NAME = re.compile(r"^extern (?:python )?fun (?:\w+\.)?(\w+)\(")


def _with_target(line: str, by_name: dict[str, Function]) -> str:
    """An extern line with what it calls: ``...  // -> module:qualname (kind)``."""
    m = _EXTERN_NAME.match(line)
    f = by_name.get(m.group(1)) if m else None
    return f"{line}  // -> {f.target} ({f.kind})" if f is not None else line


#: Skip reasons for names that are never bound by design: listed per parent, names only.
_NAME_ONLY_REASONS = ("SkipPrivateName", "SkipDunder")
_DETAIL_LIMIT = 300


def _cells(line: str) -> list[str]:
    """``[path, reason, detail]`` of a SKIPPED.txt line: the fourth cell (the hint) follows from
    the reason and detail, and a detail over 300 characters (overload lists) is cut there; the
    SHA-256 of SKIPPED.txt covers both."""
    cells = [*line.split("\t"), "", ""][:3]
    if len(cells[2]) > _DETAIL_LIMIT:
        cells[2] = cells[2][:_DETAIL_LIMIT] + f" [... {len(cells[2]) - _DETAIL_LIMIT} more characters]"
    return cells


def skip_sections(mep71_skipped: str, ffi_skipped: str) -> tuple[list[str], list[str], list[str]]:
    """(skips, private and dunder names, 0.10-only skips) of the two SKIPPED.txt files, sorted.

    Private and dunder names (thousands in sqlalchemy, never bound by design) are one line per
    parent and reason: ``parent<TAB>reason<TAB>name name ...``. The 0.10-only skips are the
    dialect's SkipStatelessFfi lines: ``path<TAB>detail``."""
    skips: list[str] = []
    names: dict[tuple[str, str], list[str]] = {}
    mep71 = mep71_skipped.splitlines()[1:]
    for line in mep71:
        path, reason, detail = _cells(line)
        if reason in _NAME_ONLY_REASONS:
            parent, _, name = path.rpartition(".")
            names.setdefault((parent, reason), []).append(name)
        else:
            skips.append(f"{path}\t{reason}\t{detail}")
    grouped = [f"{parent}\t{reason}\t{' '.join(sorted(ns))}" for (parent, reason), ns in sorted(names.items())]
    only = sorted(set(ffi_skipped.splitlines()[1:]) - set(mep71))
    ffi = [f"{c[0]}\t{c[2]}" if c[1] == "SkipStatelessFfi" else "\t".join(c) for c in map(_cells, only)]
    return skips, grouped, ffi


def _declared_module(line: str) -> str:
    """The Python module of a shim declaration line: its ``// -> module:qualname`` target
    (externs) or ``// module:qualname`` (types); '' when it names none (tuple records)."""
    comment = line.rpartition("//")[2].strip()
    comment = comment.removeprefix("-> ")
    return comment.partition(":")[0] if ":" in comment else ""


def _first_cell(line: str) -> str:
    return line.split("\t", 1)[0]


def golden_text(result: CorpusResult) -> str:
    """The corpus golden of one package, as text a reviewer reads in ``git diff``.

    Sections: the package and its stub tiers, counts, every type declaration and extern of the
    mep-71 shim (one line each, with the Python target), the same for the released Mochi's
    stateless FFI (dialect 0.10), the skips ``path<TAB>reason<TAB>detail`` (see
    :func:`skip_sections`), and SHA-256 of every emitted file (byte-level determinism: what
    the sections leave out, such as doc comments and hints, still shows as a changed hash).
    Every list is sorted, so a change is a small diff.
    """
    r, s = result, result.surface
    by_name = {f.extern_name: f for f in s.functions}
    ffi, stateless = ffi_split(s)
    out: list[str] = [
        f"# wasmtool corpus golden: {s.dist} {s.version} (tests/corpus/test_corpus.py)",
        "# written by WASMTOOL_UPDATE_GOLDEN=1, which then fails the run: review the diff, commit it, rerun",
        "", "[package]",
        f"dist\t{s.dist}", f"version\t{s.version}", f"alias\t{s.alias}",
        f"import_names\t{' '.join(s.import_names)}",
        f"tier\t{s.tier}",
        *(f"per_import\t{name}\t{tier}" for name, tier in r.stubs.per_import),
        f"stub_source\t{r.stubs.source}",
        "", "[counts]",
        f"functions\t{len(s.functions)}", f"records\t{len(s.records)}", f"enums\t{len(s.enums)}",
        f"handles\t{len(s.handles)}", f"classes\t{len({f.owner for f in s.functions if f.owner})}",
        f"skips\t{len(s.skips)}",
        *(f"skips\t{reason}\t{n}" for reason, n in sorted(count_by_reason(s.skips).items())),
        f"dialect 0.10\texterns\t{len(ffi)}", f"dialect 0.10\tstateless_ffi_skips\t{len(stateless)}",
        f"dialect mep-71\texterns\t{len(s.functions)}",
        "", "[coverage]  (items bound, items skipped, share bound: public non-dunder items)",
        f"total\t{coverage(s).line()}",
        *(f"module\t{module}\t{c.line()}" for module, c in module_coverage(s)),
    ]
    top = set(s.import_names)
    modules = public_modules(s)
    module_of = module_finder(modules)

    def group(module: str) -> str:
        """The surface module a line belongs to (a top-level module, or a public submodule),
        else the line's own module."""
        found = module_of(module)
        return found if found in modules else module

    subs: dict[str, list[str]] = {}

    def keep(lines: list[str], module_of_line: Callable[[str], str]) -> list[str]:
        """The lines of the top-level modules; a submodule's lines go to its digest."""
        kept = []
        for line in lines:
            g = group(module_of_line(line))
            if g in top or not g:
                kept.append(line)
            else:
                subs.setdefault(g, []).append(line)
        return kept

    for dialect in ("mep-71", "0.10"):
        types, externs = shim_declarations(r.shim(dialect)[1])
        out += ["", f"[types {dialect}]", *keep(types, _declared_module), "", f"[externs {dialect}]",
                *keep([_with_target(line, by_name) for line in externs], _declared_module)]
    skips, names, ffi_only = skip_sections(r.mep71_files["SKIPPED.txt"], r.files["SKIPPED.txt"])
    out += ["", "[skips]", *keep(skips, _first_cell), "", "[skips: private and dunder names]",
            *keep(names, _first_cell), "", "[skips 0.10 only: SkipStatelessFfi]", *keep(ffi_only, _first_cell)]
    # public submodules: one line each (externs, skips, SHA-256 of all their lines above), so a
    # change in one shows here while the golden stays readable
    out += ["", "[submodules]  (module, extern lines, skip lines, sha256 of its lines in the sections above)"]
    for module in sorted(subs):
        lines = subs[module]
        n_ext = sum(1 for ln in lines if ln.startswith("extern "))
        out.append(f"{module}\t{n_ext}\t{len(lines) - n_ext}\t{_sha(chr(10).join(lines))}")
    out += ["", "[sha256]", f"stubs\t{r.stubs.sha256}",
            *(f"0.10/{name}\t{_sha(text)}" for name, text in sorted(r.files.items()) if name != "surface.json"),
            *(f"mep-71/{name}\t{_sha(text)}" for name, text in sorted(r.mep71_files.items())
              if name.endswith(("_shim.mochi", "SKIPPED.txt")))]
    return "\n".join(out) + "\n"


#: Stub-tier outcomes that are failures, not tiers: a golden recording one fails the gate.
FAILED_TIERS = frozenset({"none"})
#: Skip reasons that, on a whole import package, mean its stubs could not be made.
STUB_FAILURE_REASONS = frozenset({"SkipImportTimeError", "SkipImportTimeNetwork", "SkipUntypedPackage"})


def golden_tier_failures(text: str) -> list[str]:
    """What a golden text records as a stub-tier failure: the package's or an import package's
    tier is ``none``, or a whole import package was skipped at stub time (its import raised,
    touched the network, or stubgen stopped part-way through it)."""
    failures: list[str] = []
    section = ""
    imports: set[str] = set()
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        cells = line.split("\t")
        if section == "package":
            if cells[0] == "import_names":
                imports = set(cells[1].split())
            elif cells[0] == "tier" and cells[1] in FAILED_TIERS:
                failures.append(f"stub tier is {cells[1]!r}")
            elif cells[0] == "per_import" and cells[2] in FAILED_TIERS:
                failures.append(f"import package {cells[1]}: stub tier is {cells[2]!r}")
        elif section == "skips" and len(cells) >= 2 and cells[0] in imports and cells[1] in STUB_FAILURE_REASONS:
            failures.append(f"import package {cells[0]}: {cells[1]}: {' '.join(cells[2:])}")
    return failures
