"""PEP 561 stub discovery: which stub files describe a distribution, and from which tier.

Precedence (contradictions.md C3), decided per import package and per module:

1. ``stubs-package`` -- ``<import>-stubs/`` in a stub-only distribution (``types-<dist>``,
   ``<dist>-stubs``, ``types-<import>``, ``<import>-stubs``) or in the wheel itself;
2. ``py.typed`` -- inline, the package's ``.pyi`` files and ``.py`` sources (bodies are
   ignored by the parser); ``py.typed`` holding ``partial`` gives ``py.typed-partial`` and
   the modules it does not cover (e.g. compiled modules without ``.pyi``) fall through;
3. ``typeshed`` -- the pinned snapshot (:mod:`wasmtool.stubs.typeshed`);
4. ``stubgen`` -- generated in a sandboxed child (:mod:`wasmtool.stubs.stubgen`).

A partial tier (``partial`` in ``py.typed`` of a stubs folder, inline package or typeshed's
``partial_stub``) leaves the modules it lacks to the next tiers. The choice
(:func:`choose_stubs`) is pure over in-memory listings (archive path -> bytes); IO sits at
the edges: :func:`wheel_listing` reads a wheel, sibling stub wheels come from a callable
(:func:`index_stub_finder` builds one over the index and the artefact cache), and
:func:`discover` runs stubgen only for what no tier covered.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from wasmtool.errors import StubError
from wasmtool.resolve.wheelinfo import import_names_from
from wasmtool.skips import SkipReason, SkipReport
from wasmtool.stubs.model import ModuleStub
from wasmtool.stubs.pyi import decode_stub, parse_stub
from wasmtool.stubs.stubgen import DEFAULT_TIMEOUT, StubgenResult, run_stubgen
from wasmtool.stubs.typeshed import TypeshedDir, TypeshedSource, bundled_typeshed

if TYPE_CHECKING:
    from wasmtool.cache.store import ArtifactCache
    from wasmtool.index.client import IndexClient
    from wasmtool.index.models import IndexFile

__all__ = [
    "PROVENANCE_TOKENS",
    "Choice",
    "StubSet",
    "StubgenPolicy",
    "StubsPackage",
    "choose_stubs",
    "discover",
    "index_stub_finder",
    "module_imports",
    "module_name",
    "module_stubs",
    "public_submodules",
    "sibling_stub_names",
    "stdlib_blocker",
    "stub_sha256",
    "unimportable_modules",
    "wheel_listing",
]

#: formats.md §2 ``stub-provenance`` values, strongest first.
PROVENANCE_TOKENS = ("stubs-package", "py.typed", "py.typed-partial", "typeshed", "stubgen", "none")

Listing = Mapping[str, bytes]
_EXT_SUFFIXES = (".so", ".pyd")
_LISTED_SUFFIXES = (".py", ".pyi", "/py.typed", ".dist-info/top_level.txt")


# ---------------------------------------------------------------------------------------------
# values


def stub_sha256(files: Iterable[tuple[str, bytes]]) -> str:
    """formats.md §2 ``stub-sha256``: SHA-256 over the sorted (path + NUL + bytes) concatenation."""
    h = hashlib.sha256()
    for path, data in sorted(files):
        h.update(path.encode("utf-8") + b"\0" + data)
    return h.hexdigest()


@dataclass(frozen=True)
class StubSet:
    """The stub files chosen for one distribution.

    ``files`` are sorted ``(posix path rooted at the import package, bytes)``; ``per_import``
    gives each import package's tier; ``provenance`` is the weakest of those (a lock must not
    overstate how complete the surface is); ``siblings_tried`` the stub distributions asked for.
    """

    dist: str
    version: str
    provenance: str
    source: str
    import_names: tuple[str, ...]
    files: tuple[tuple[str, bytes], ...]
    sha256: str
    skips: tuple[SkipReport, ...] = ()
    per_import: tuple[tuple[str, str], ...] = ()
    siblings_tried: tuple[str, ...] = ()

    def file_map(self) -> dict[str, bytes]:
        """``files`` as a dict."""
        return dict(self.files)


@dataclass(frozen=True)
class StubsPackage:
    """A distribution that may hold ``<import>-stubs/`` folders: its label and listing."""

    source: str
    listing: Listing = field(hash=False)


@dataclass(frozen=True)
class StubgenPolicy:
    """formats.md §1.2 ``[python].stubgen``: ``fallback`` (run it at all), ``inspect_mode``
    (``--inspect-mode`` for compiled packages), plus the child's ``timeout`` and interpreter."""

    fallback: bool = True
    inspect_mode: bool = True
    timeout: float = DEFAULT_TIMEOUT
    python: str | None = None

    @classmethod
    def from_config(cls, value: Mapping[str, Any] | bool | str | None) -> StubgenPolicy:
        """From the ``stubgen`` table (``fallback`` bool/``"allow"``/``"deny"``, ``inspect-mode``
        alias ``inspect``) or a bare bool/string."""
        if value is None:
            return cls()
        if not isinstance(value, Mapping):
            value = {"fallback": value}
        fallback = value.get("fallback", True)
        if isinstance(fallback, str):
            fallback = fallback.strip().lower() != "deny"
        inspect = value.get("inspect-mode", value.get("inspect", True))
        return cls(fallback=bool(fallback), inspect_mode=bool(inspect))


@dataclass(frozen=True)
class Choice:
    """What :func:`choose_stubs` decided before stubgen: chosen files per module, per-import
    tiers (``None`` = nothing yet), the sources used, and what is left for stubgen."""

    files: dict[str, bytes]
    per_import: dict[str, str | None]
    sources: dict[str, str]                     # tier token -> source label (first wins)
    stubgen_packages: tuple[str, ...]           # whole import packages nothing covered
    stubgen_modules: tuple[str, ...]            # single modules a partial tier left open
    skips: tuple[SkipReport, ...]
    has_extension: bool


# ---------------------------------------------------------------------------------------------
# pure helpers


def module_name(path: str) -> str:
    """``yaml/__init__.pyi`` -> ``yaml``; ``yaml/nodes.py`` -> ``yaml.nodes``;
    ``pkg/_x.cpython-312-x86_64-linux-gnu.so`` -> ``pkg._x``."""
    p = PurePosixPath(path)
    stem = p.name.split(".", 1)[0]
    parts = [*p.parts[:-1], stem]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _norm_member(name: str) -> str | None:
    """Archive member -> site-packages relative path (``*.data/purelib|platlib`` lifted)."""
    p = PurePosixPath(name)
    parts = p.parts
    if not parts or name.endswith("/") or p.is_absolute() or ".." in parts:
        return None
    if parts[0].endswith(".data") and len(parts) > 2:
        if parts[1] not in ("purelib", "platlib"):
            return None
        parts = parts[2:]
    return "/".join(parts)


def sibling_stub_names(dist: str, import_names: Sequence[str]) -> tuple[str, ...]:
    """Stub-only distributions to look for, in order: ``types-<dist>``, ``<dist>-stubs``, then
    ``types-<import>`` / ``<import>-stubs`` for import names that differ, then ``<dist>-types``
    (a community spelling: msgpack-types ships ``msgpack-stubs/``), all normalised. A candidate
    is only used for the ``<import>-stubs/`` folders it really ships (:func:`discover`)."""
    names = [f"types-{dist}", f"{dist}-stubs"]
    for imp in import_names:
        names += [f"types-{imp}", f"{imp}-stubs"]
    names.append(f"{dist}-types")
    return tuple(dict.fromkeys(str(canonicalize_name(n)) for n in names))


def _marker_partial(data: bytes) -> bool:
    return any(line.strip() == b"partial" for line in data.splitlines())


def _top_level(listing: Listing) -> str | None:
    for path in sorted(listing):
        parts = path.split("/")
        if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "top_level.txt":
            return listing[path].decode("utf-8", "replace")
    return None


def private_typed_packages(listing: Listing, public: Sequence[str]) -> tuple[str, ...]:
    """Private top-level packages of a wheel that carry a complete inline ``py.typed`` marker
    (pytest's ``_pytest``), other than ``public`` (pure).

    Users never bind them, but the public package re-exports what they define
    (``pytest.fixture`` is ``_pytest.fixtures.fixture``): their sources join the stub set so
    those names resolve inside the distribution. Only complete ``py.typed`` packages: a
    private package without it would need stubgen for names nobody binds directly."""
    out = []
    for path, data in sorted(listing.items()):
        head, sep, rest = path.partition("/")
        if (sep and rest == "py.typed" and head.startswith("_") and head.isidentifier()
                and head not in public and not _marker_partial(data)):
            out.append(head)
    return tuple(out)


def listing_import_names(listing: Listing) -> tuple[str, ...]:
    """Import packages of a wheel listing (C2: ``top_level.txt``, else the file list)."""
    return import_names_from(sorted(listing), _top_level(listing))


def _under(listing: Listing, folder: str, rename: str, suffixes: tuple[str, ...]) -> dict[str, str]:
    """Module -> archive path of files under ``folder/`` (or ``folder.<suffix>``), ``.pyi``
    preferred over ``.py``; module names use ``rename`` as the top package."""
    out: dict[str, str] = {}
    for path in sorted(listing):
        if not path.endswith(suffixes):
            continue
        head, sep, rest = path.partition("/")
        if sep and head == folder:
            rel = f"{rename}/{rest}"
        elif not sep and path.split(".", 1)[0] == folder:
            rel = rename + path[len(folder):]
        else:
            continue
        mod = module_name(rel)
        if mod in out and out[mod].endswith(".pyi"):
            continue
        out[mod] = path
    return out


def _runtime_modules(listing: Listing, imp: str) -> tuple[set[str], set[str]]:
    """(all modules, compiled modules) the wheel provides under import package ``imp``."""
    found = _under(listing, imp, imp, (".py", ".pyi", *_EXT_SUFFIXES))
    compiled = {m for m, p in found.items() if p.endswith(_EXT_SUFFIXES)}
    return set(found), compiled


def _rel_path(mod: str, archive_path: str, top_folder: str, imp: str) -> str:
    head, sep, rest = archive_path.partition("/")
    if sep and head == top_folder:
        return f"{imp}/{rest}"
    return imp + archive_path[len(top_folder):]


def _is_public(mod: str) -> bool:
    return not any(part.startswith("_") and not part.startswith("__") for part in mod.split("."))


class _Taker:
    """Accumulates one import package's modules across tiers (first tier to offer a module wins)."""

    def __init__(self, files: dict[str, bytes], sources: dict[str, str]) -> None:
        self.files = files
        self.sources = sources
        self.taken: dict[str, str] = {}         # module -> rel path
        self.token: str | None = None

    def take(self, tier_token: str, source: str, mods: Mapping[str, tuple[str, bytes]]) -> None:
        added = False
        for mod in sorted(mods):
            if mod not in self.taken:
                rel, data = mods[mod]
                self.taken[mod] = rel
                self.files[rel] = data
                added = True
        if added:
            self.token = self.token or tier_token
            self.sources.setdefault(tier_token, source)


def choose_stubs(
    *,
    dist: str,
    version: str,
    import_names: Sequence[str],
    wheel: Listing,
    stubs_packages: Sequence[StubsPackage] = (),
    typeshed: TypeshedSource | None = None,
    python_version: tuple[int, int] = (3, 12),
) -> Choice:
    """Pick stub files tier by tier (pure). ``stubs_packages`` are tried in order (the wheel
    itself may be one of them); ``typeshed`` answers lookups; stubgen is left to the caller
    through ``stubgen_packages``/``stubgen_modules``."""
    files: dict[str, bytes] = {}
    per_import: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    gen_packages: list[str] = []
    gen_modules: list[str] = []
    skips: list[SkipReport] = []
    any_ext = False
    for imp in sorted(dict.fromkeys(import_names)):
        taker = _Taker(files, sources)
        taken = taker.taken
        complete = False
        runtime, compiled = _runtime_modules(wheel, imp)
        any_ext = any_ext or bool(compiled)

        # 1. <imp>-stubs/ in a stub-only distribution (the first one that has it)
        for pkg in stubs_packages:
            found = _under(pkg.listing, f"{imp}-stubs", imp, (".pyi",))
            if not found:
                continue
            marker = pkg.listing.get(f"{imp}-stubs/py.typed")
            taker.take("stubs-package", pkg.source,
                 {m: (_rel_path(m, p, f"{imp}-stubs", imp), pkg.listing[p]) for m, p in found.items()})
            complete = not (marker is not None and _marker_partial(marker))
            break
        # 2. inline py.typed (top-level marker only, PEP 561)
        if not complete and f"{imp}/py.typed" in wheel:
            partial = _marker_partial(wheel[f"{imp}/py.typed"])
            found = _under(wheel, imp, imp, (".py", ".pyi"))
            taker.take("py.typed-partial" if partial else "py.typed", f"{dist} {version} (inline)",
                 {m: (_rel_path(m, p, imp, imp), wheel[p]) for m, p in found.items()})
            if not partial:
                complete = True
                missing_c = sorted(m for m in compiled - set(taken) if _is_public(m))
                skips.extend(SkipReport(m, SkipReason.SkipCFunctionWithoutStubs,
                                        "compiled module without a .pyi in a py.typed package") for m in missing_c)
        # 3. typeshed
        if not complete and typeshed is not None:
            hit = typeshed.lookup(dist, imp, python_version)
            if hit is not None:
                taker.take("typeshed", hit.source, {module_name(rel): (rel, data) for rel, data in hit.files.items()})
                complete = not hit.partial
        per_import[imp] = taker.token
        # 4. what is left goes to stubgen
        if complete:
            continue
        if not taken:
            gen_packages.append(imp)
        else:
            gen_modules.extend(sorted(runtime - set(taken)))
    return Choice(files, per_import, sources, tuple(gen_packages), tuple(gen_modules), tuple(skips), any_ext)


def _weakest(tokens: Iterable[str]) -> str:
    present = [t for t in tokens if t != "none"]
    if not present:
        return "none"
    return max(present, key=PROVENANCE_TOKENS.index)


def finish(
    choice: Choice,
    *,
    dist: str,
    version: str,
    import_names: Sequence[str],
    generated: StubgenResult | None = None,
    stubgen_denied: bool = False,
    siblings_tried: Sequence[str] = (),
) -> StubSet:
    """Merge stubgen output (if any) into ``choice`` and build the deterministic StubSet (pure)."""
    files = dict(choice.files)
    taken = {module_name(p) for p in files}
    per_import = dict(choice.per_import)
    sources = dict(choice.sources)
    skips = list(choice.skips)
    if generated is not None:
        skips.extend(generated.skips)
        for rel, data in generated.files:
            mod = module_name(rel)
            if mod in taken:
                continue
            top = mod.split(".")[0]
            if top not in per_import:
                continue
            files[rel] = data
            taken.add(mod)
            if per_import[top] is None:
                per_import[top] = "stubgen"
            sources.setdefault("stubgen", generated.source)
    for imp in sorted(per_import):
        if per_import[imp] is None:
            per_import[imp] = "none"
            if stubgen_denied:
                skips.append(SkipReport(imp, SkipReason.SkipUntypedPackage,
                                        "no stubs package, py.typed or typeshed stubs; stubgen fallback is off",
                                        "add a types-/-stubs distribution, or set [python].stubgen.fallback"))
            elif generated is None or not any(s.path == imp or s.path.startswith(imp + ".")
                                              for s in generated.skips):
                skips.append(SkipReport(imp, SkipReason.SkipUntypedPackage, "no stubs found in any tier"))
    if stubgen_denied:
        skips.extend(SkipReport(m, SkipReason.SkipUntypedPackage,
                                "module not covered by a partial stub source; stubgen fallback is off")
                     for m in choice.stubgen_modules if _is_public(m))
    ordered = tuple(sorted(files.items()))
    tokens = [per_import[i] or "none" for i in sorted(per_import)]
    provenance = _weakest(tokens)
    source = "; ".join(sources[t] for t in PROVENANCE_TOKENS if t in sources) or "none"
    return StubSet(
        dist=dist, version=version, provenance=provenance, source=source,
        import_names=tuple(import_names), files=ordered, sha256=stub_sha256(ordered),
        skips=tuple(sorted(set(skips))), per_import=tuple((i, per_import[i] or "none") for i in sorted(per_import)),
        siblings_tried=tuple(siblings_tried),
    )


def module_stubs(
    stubset: StubSet,
    *,
    python_version: str | tuple[int, int],
    platform: str = "linux",
    skips: list[SkipReport] | None = None,
) -> list[ModuleStub]:
    """Parse every file of ``stubset`` for the target (module names from the paths).

    With ``skips`` given, a file that does not decode/parse is reported there instead of raising.
    """
    if isinstance(python_version, str):
        major, _, minor = python_version.partition(".")
        version = (int(major), int(minor.split(".")[0] or 0))
    else:
        version = python_version
    # the parse is a function of the files, the version and the platform: a dependency's stubs
    # (numpy's, for every bound package that depends on numpy) are parsed once per process
    files = hashlib.sha256()
    for path, data in stubset.files:   # in order: the modules come back in the files' order
        files.update(hashlib.sha256(path.encode("utf-8") + b"\0" + data).digest())
    key = (files.hexdigest(), version, platform)
    hit = _PARSED.get(key)
    if hit is None:
        found: list[SkipReport] = []
        hit = (tuple(_parse_files(stubset, version, platform, found)), tuple(found))
        _PARSED[key] = hit
        while len(_PARSED) > _PARSED_MAX:
            del _PARSED[next(iter(_PARSED))]
    modules, failed = hit
    if failed and skips is None:
        _parse_files(stubset, version, platform, None)   # raises the first failure's StubError
    if skips is not None:
        skips.extend(failed)
    return list(modules)


#: Parsed stub sets of this process (:func:`module_stubs`), oldest first; the modules are immutable.
_PARSED: dict[tuple[str, tuple[int, int], str], tuple[tuple[ModuleStub, ...], tuple[SkipReport, ...]]] = {}
_PARSED_MAX = 32


def _parse_files(stubset: StubSet, version: tuple[int, int], platform: str,
                 skips: list[SkipReport] | None) -> list[ModuleStub]:
    out: list[ModuleStub] = []
    for path, data in stubset.files:
        mod = module_name(path)
        try:
            text = decode_stub(data, file=path)
            out.append(parse_stub(text, module=mod, file=path, python_version=version, platform=platform))
        except StubError as exc:
            if skips is None:
                raise
            skips.append(SkipReport(mod, SkipReason.SkipUnknown, f"{path}: {exc.message}",
                                    "the stub file does not parse for this target"))
    return out


# ---------------------------------------------------------------------------------------------
# submodules: which modules of a distribution are its public surface, and which of them can
# be imported on a target (pure: decided from the stub files' imports)

#: Path parts that mark a test package (never part of the default surface).
TEST_PARTS = frozenset({"test", "tests", "testing", "conftest"})

#: An import statement that starts a line (column 0): a module-level import that runs whenever
#: the module is imported. Indented ones (under ``try``, ``if TYPE_CHECKING``, in functions)
#: are conditional and not counted.
_IMPORT_STMT = re.compile(
    r"^(?:import[ \t]+(?P<names>[^#;\n]+)|from[ \t]+(?P<mod>\.*[\w.]*)[ \t]+import[ \t]+"
    r"(?P<what>\([^)]*\)|[^#;\n]+))", re.MULTILINE)


def public_submodules(modules: Iterable[str], tops: Iterable[str]) -> tuple[str, ...]:
    """The modules strictly below one of ``tops`` whose dotted path has no part starting with
    ``_`` and no test part (``tests``, ``testing``, ``conftest``, ``test``), sorted."""
    roots = set(tops)
    out = set()
    for mod in modules:
        parts = mod.split(".")
        if len(parts) < 2 or parts[0] not in roots:
            continue
        if any(p.startswith("_") or p in TEST_PARTS for p in parts):
            continue
        out.add(mod)
    return tuple(sorted(out))


def module_imports(text: str, *, module: str, is_package: bool) -> tuple[str, ...]:
    """The modules that ``module``'s source (``text``) imports unconditionally, absolute and
    dotted: ``import a.b`` gives ``a.b``; ``from a import b`` gives ``a`` and ``a.b`` (``b``
    may be a submodule); relative imports are resolved against ``module``."""
    out: list[str] = []
    package = module if is_package else module.rpartition(".")[0]
    for m in _IMPORT_STMT.finditer(text):
        if m.group("names") is not None:
            for item in m.group("names").split(","):
                name = item.strip().split(" ")[0].strip()
                if name:
                    out.append(name)
            continue
        mod = m.group("mod") or ""
        dots = len(mod) - len(mod.lstrip("."))
        base = mod[dots:]
        if dots:
            parts = package.split(".") if package else []
            if dots - 1 > len(parts):
                continue
            anchor = ".".join(parts[: len(parts) - (dots - 1)])
            base = f"{anchor}.{base}" if base and anchor else (base or anchor)
        if not base:
            continue
        out.append(base)
        for item in m.group("what").strip("()").replace("\\", " ").split(","):
            name = item.strip().split(" ")[0].strip()
            if name.isidentifier():
                out.append(f"{base}.{name}")
    return tuple(dict.fromkeys(out))


def unimportable_modules(
    files: Iterable[tuple[str, bytes]],
    modules: Iterable[str],
    *,
    stdlib_blocker: Callable[[str], str | None],
) -> dict[str, str]:
    """Which of ``modules`` cannot be imported on a target, with why (pure).

    Importing ``a.b.c`` runs ``a``, ``a.b`` and ``a.b.c``, and everything they import at
    module level (:func:`module_imports`) inside the distribution (``files``: the stub files,
    paths rooted at the import package). ``stdlib_blocker(name)`` says why a module outside
    the distribution cannot be imported on the target, naming the chain from ``name`` on
    (``"ssl -> _ssl: not in ..."``, see :func:`stdlib_blocker`), or ``None`` (a standard-library
    module the target has, or a module of another distribution, which the lock provides).
    The answer names the whole chain: ``pkg.net -> ssl -> _ssl: not in ...``."""
    sources: dict[str, tuple[bool, str]] = {}
    for path, data in files:
        mod = module_name(path)
        is_pkg = PurePosixPath(path).name.split(".", 1)[0] == "__init__"
        if mod not in sources or path.endswith(".pyi"):
            sources[mod] = (is_pkg, data.decode("utf-8", "replace"))
    tops = {m.split(".")[0] for m in sources}
    memo: dict[str, str | None] = {}

    def why(mod: str) -> str | None:
        if mod in memo:
            return memo[mod]
        memo[mod] = None                      # a module of an import cycle imports fine
        result: str | None = None
        parent = mod.rpartition(".")[0]
        if parent in sources:
            inner = why(parent)
            result = f"{parent} -> {inner}" if inner is not None else None
        if result is None:
            is_pkg, text = sources[mod]
            for imp in module_imports(text, module=mod, is_package=is_pkg):
                if imp in sources:
                    inner = why(imp)
                    if inner is not None:
                        result = f"{imp} -> {inner}"
                        break
                elif imp.split(".")[0] not in tops:
                    blocked = stdlib_blocker(imp)
                    if blocked is not None:
                        result = blocked
                        break
        memo[mod] = result
        return result

    out: dict[str, str] = {}
    for mod in modules:
        if mod in sources:
            found = why(mod)
            if found is not None:
                out[mod] = found
    return out


def stdlib_blocker(
    *,
    target: str,
    available: frozenset[str],
    universe: frozenset[str],
    source: Callable[[str], tuple[bool, str] | None],
) -> Callable[[str], str | None]:
    """Why a standard-library module cannot be imported on ``target``, or ``None`` (pure).

    ``available`` are the target's top-level standard-library modules (its
    ``sys.stdlib_module_names``); ``universe`` every name that is a standard-library module
    of some CPython (a name in neither is another distribution's: ``None``). ``source(name)``
    gives a module's ``(is_package, text)`` on the target, or ``None`` (a C module, or no
    sources known): a module whose source imports a missing one at module level cannot be
    imported either (``ssl -> _ssl: not in wasi-p2's standard library``)."""
    memo: dict[str, str | None] = {}
    lacking = f"not in {target}'s standard library"

    def blocked(name: str) -> str | None:
        top = name.split(".")[0]
        if top not in available:
            return f"{top}: {lacking}" if top in universe else None
        if name in memo:
            return memo[name]
        memo[name] = None                     # a module of an import cycle imports fine
        result: str | None = None
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            mod = ".".join(parts[:i])
            found = source(mod)
            if found is None:
                continue
            for imp in module_imports(found[1], module=mod, is_package=found[0]):
                if imp == mod or (imp.startswith(mod + ".") and source(imp) is None):
                    continue
                inner = blocked(imp)
                if inner is not None:
                    result = f"{mod} -> {inner}"
                    break
            if result is not None:
                break
        memo[name] = result
        return result

    return blocked


# ---------------------------------------------------------------------------------------------
# IO edges


def wheel_listing(path: Path) -> dict[str, bytes]:
    """A wheel's members as site-packages paths: bytes of ``.py``/``.pyi``/``py.typed``/
    ``top_level.txt``; other files (extension modules, data) listed with empty bytes."""
    out: dict[str, bytes] = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            rel = _norm_member(info.filename)
            if rel is None:
                continue
            out[rel] = zf.read(info) if rel.endswith(_LISTED_SUFFIXES) else b""
    return out


def _wheel_label(path: Path) -> str:
    try:
        name, version, _, _ = parse_wheel_filename(path.name)
    except (InvalidWheelFilename, InvalidVersion):
        return path.name
    return f"{name} {version}"


def _resolve_typeshed(typeshed: TypeshedSource | Path | bool | None) -> TypeshedSource | None:
    if typeshed is True:
        return bundled_typeshed()
    if typeshed is False or typeshed is None:
        return None
    if isinstance(typeshed, Path):
        return TypeshedDir(typeshed)
    return typeshed


def _parse_pyver(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    return int(major), int(minor.split(".")[0] or 0)


def discover(
    wheel: Path,
    *,
    dist: str,
    version: str,
    import_names: Sequence[str] | None = None,
    find_sibling_stubs: Callable[[str], Path | None] | None = None,
    typeshed: TypeshedSource | Path | bool | None = True,
    stubgen: StubgenPolicy | None = None,
    python_version: str = "3.12",
    dependency_wheels: Sequence[Path] = (),
) -> StubSet:
    """The stub set of ``dist`` ``version`` whose wheel is ``wheel``.

    ``import_names`` default to the wheel's (``top_level.txt``/RECORD). ``find_sibling_stubs``
    maps a distribution name (see :func:`sibling_stub_names`) to a downloaded wheel or
    ``None``. ``typeshed``: ``True`` = the bundled snapshot (``typeshed_client``), a folder,
    a :class:`~wasmtool.stubs.typeshed.TypeshedSource`, or ``False``/``None`` = off.
    ``dependency_wheels`` are unpacked next to the wheel for stubgen's imports.
    """
    policy = stubgen or StubgenPolicy()
    listing = wheel_listing(wheel)
    # vendored-library folders (``numpy.libs``) are no import packages
    names = tuple(import_names) if import_names else tuple(n for n in listing_import_names(listing)
                                                           if n.isidentifier())
    tops = tuple(dict.fromkeys(n.split(".")[0] for n in names))
    packages: list[StubsPackage] = []
    tried: list[str] = []
    if any(p.split("/", 1)[0].endswith("-stubs") for p in listing):
        packages.append(StubsPackage(f"{dist} {version}", listing))
    if find_sibling_stubs is not None:
        uncovered = set(tops)
        for candidate in sibling_stub_names(dist, tops):
            if not uncovered:
                break
            tried.append(candidate)
            found = find_sibling_stubs(candidate)
            if found is None:
                continue
            sibling = wheel_listing(found)
            provides = {t for t in uncovered if any(p.startswith(f"{t}-stubs/") for p in sibling)}
            if provides:
                packages.append(StubsPackage(_wheel_label(found), sibling))
                uncovered -= provides
    # private packages only resolve names: they get no sibling stubs and no stubgen of their own
    resolved_tops = (*tops, *private_typed_packages(listing, tops))
    choice = choose_stubs(dist=dist, version=version, import_names=resolved_tops, wheel=listing,
                          stubs_packages=packages,
                          typeshed=_resolve_typeshed(typeshed), python_version=_parse_pyver(python_version))
    generated: StubgenResult | None = None
    wanted = bool(choice.stubgen_packages or choice.stubgen_modules)
    if wanted and policy.fallback:
        generated = run_stubgen([wheel, *dependency_wheels], packages=choice.stubgen_packages,
                                modules=choice.stubgen_modules, inspect=policy.inspect_mode and choice.has_extension,
                                timeout=policy.timeout, python=policy.python)
    return finish(choice, dist=dist, version=version, import_names=names, generated=generated,
                  stubgen_denied=wanted and not policy.fallback, siblings_tried=tried)


def _pick_stub_file(client: IndexClient, name: str, runtime_version: str | None) -> IndexFile | None:
    """The newest pure wheel of stub distribution ``name``, preferring releases whose
    ``major.minor`` matches ``runtime_version`` (types-X versions follow X's)."""
    from wasmtool.index.errors import ProjectNotFoundError

    try:
        page = client.get_project(name)
    except ProjectNotFoundError:
        return None
    wheels: list[tuple[Version, IndexFile]] = []
    for f in client.select_files(page):
        if not f.is_wheel:
            continue
        try:
            _, ver, _, tags = parse_wheel_filename(f.filename)
        except (InvalidWheelFilename, InvalidVersion):
            continue
        if any(t.abi == "none" and t.platform == "any" for t in tags):
            wheels.append((ver, f))
    if not wheels:
        return None
    if runtime_version:
        try:
            want = Version(runtime_version).release[:2]
        except InvalidVersion:
            want = ()
        matching = [w for w in wheels if want and w[0].release[:2] == want]
        if matching:
            wheels = matching
    return max(wheels, key=lambda w: w[0])[1]


def index_stub_finder(
    client: IndexClient,
    cache: ArtifactCache,
    *,
    runtime_version: str | None = None,
    progress: bool | None = False,
) -> Callable[[str], Path | None]:
    """A ``find_sibling_stubs`` callable over an index and the verified artefact cache."""

    def find(name: str) -> Path | None:
        chosen = _pick_stub_file(client, name, runtime_version)
        if chosen is None:
            return None
        @contextmanager
        def opener(url: str) -> Iterator[Iterable[bytes]]:
            with client.open_stream(url, project=name) as resp:
                yield resp.iter_bytes()

        hit = cache.lookup(chosen.sha256)
        if hit is None:
            hit = cache.fetch(chosen.url, package=str(canonicalize_name(name)), filename=chosen.filename,
                              expected_sha256=chosen.sha256, opener=opener, progress=progress)
        return hit.path

    return find
