"""Building pinned sdists into wheels, once (the operations of :mod:`wasmtool.build`).

::

    builder_for(ctx) -> SdistBuilder
    SdistBuilder.build(name, version, filename, url, sha256) -> BuiltWheel      (lock: build or reuse)
    SdistBuilder.check_target(built, profile)                                  (wasm targets: pure only)
    rebuild_locked(ctx, package) -> CachedArtifact                             (install on a cold cache)

The sdist and the build dependencies come through the verified cache (their SHA-256 from the
index); the build runs in :func:`wasmtool.build.sandbox.run_build`. The built wheel enters the
artefact cache under its own SHA-256, and ``<cache>/builds/<inputs-sha256>.json`` maps the
build inputs (:class:`~wasmtool.build.model.BuildInputs`) to it, so the same sdist with the
same backend, build-dependency pins and Python is built once per cache.
"""

from __future__ import annotations

import io
import json
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from wasmtool.build.model import (
    BuildInputs,
    BuildSystem,
    BuiltWheel,
    compiled_sources,
    parse_build_system,
    skipped_in_folder,
    tree_sha256,
)
from wasmtool.resolve.errors import (
    BuildDisabledError,
    BuildMismatchError,
    CompiledBuildRefusedError,
    CompiledForTargetError,
    SdistBuildError,
    SdistUnreadableError,
    UvFailedError,
    UvTimeoutError,
)

if TYPE_CHECKING:
    import httpx

    from wasmtool.cache import ArtifactCache, CachedArtifact
    from wasmtool.index.config import IndexUrls
    from wasmtool.lock.model import LockedPackage
    from wasmtool.project.model import Project
    from wasmtool.targets.profile import TargetProfile


class Context(Protocol):
    """What a build needs of :class:`wasmtool.context.Context` (which sits above this module)."""

    project: Project
    progress: bool | None
    build_override: str | None

    @property
    def index(self) -> IndexUrls: ...
    @property
    def cache(self) -> ArtifactCache: ...
    @property
    def http(self) -> httpx.Client: ...
    @property
    def lock_path(self) -> Path: ...

__all__ = ["SdistBuilder", "SdistFacts", "build_policy", "builder_for", "read_sdist", "rebuild_locked"]

_NO_BUILD_HINT = 'drop --no-build, or set [python] build = "pure" (the default) to build pure-Python sdists'
_COMPILED_HINT = ('set [python] build = "all" to build compiled sdists for the native target (it runs the '
                  "package's build code and a compiler)")


def build_policy(ctx: Context) -> str:
    """``--no-build`` wins over ``[python] build``."""
    return str(ctx.build_override or ctx.project.manifest.python.build)


@dataclass(frozen=True)
class SdistFacts:
    build_system: BuildSystem
    compiled: tuple[str, ...]     # compiled-code sources it holds (a few)


def read_sdist(path: Path, *, package: str) -> SdistFacts:
    """Its ``[build-system]`` and whether it holds compiled-code sources (nothing is extracted)."""
    try:
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                members = zf.namelist()
                top = [m for m in members if m.count("/") == 1 and m.endswith("/pyproject.toml")]
                text = zf.read(top[0]).decode() if top else None
        else:
            with tarfile.open(path, "r:*") as tf:
                infos = tf.getmembers()
                members = [m.name for m in infos]
                top_info = [m for m in infos if m.name.count("/") == 1 and m.name.endswith("/pyproject.toml")
                            and m.isfile()]
                fh = tf.extractfile(top_info[0]) if top_info else None
                text = io.TextIOWrapper(fh, encoding="utf-8").read() if fh is not None else None
        system = parse_build_system(text)
    except (OSError, tarfile.TarError, zipfile.BadZipFile, UnicodeDecodeError, ValueError) as exc:
        raise SdistUnreadableError(f"{path.name} is not a readable source distribution: {exc}",
                                   package=package) from None
    return SdistFacts(system, tuple(compiled_sources(members)))


def read_folder(folder: Path, *, package: str) -> tuple[dict[str, bytes], SdistFacts]:
    """A local folder's files (what its build sees, :func:`~wasmtool.build.model.skipped_in_folder`
    left out) and what they say: ``[build-system]``, compiled-code sources."""
    if not (folder / "pyproject.toml").is_file() and not (folder / "setup.py").is_file():
        raise SdistUnreadableError(f"{folder} holds no pyproject.toml or setup.py: it is not a Python project "
                                   "folder", package=package, hint="point the dependency's path at the folder of "
                                   "its pyproject.toml")
    files: dict[str, bytes] = {}
    try:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if path.is_file() and not path.is_symlink() and not skipped_in_folder(rel.parts):
                files[rel.as_posix()] = path.read_bytes()
        text = files.get("pyproject.toml")
        system = parse_build_system(text.decode("utf-8") if text is not None else None)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SdistUnreadableError(f"cannot read the project folder {folder}: {exc}", package=package) from None
    return files, SdistFacts(system, tuple(compiled_sources(files)))


@dataclass
class SdistBuilder:
    ctx: Context
    policy: str
    _built: dict[str, BuiltWheel] = field(default_factory=dict)
    _pins: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[Path, ...]]] = field(default_factory=dict)

    # -- lock --------------------------------------------------------------------------------

    def build(self, name: str, version: str, filename: str, url: str, sha256: str) -> BuiltWheel:
        """The wheel built from this sdist (from the build cache when it was built before with
        the same inputs). Refused before anything runs when building is off, or, under
        ``build = "pure"``, when the sdist holds compiled-code sources; refused after the build
        when the result is not a pure wheel and the policy is ``pure``."""
        name = str(canonicalize_name(name))
        if self.policy == "none":
            raise BuildDisabledError(
                f"{name} {version} is published only as source ({filename}) and building is off "
                "(--no-build or [python] build = \"none\")", package=name, hint=_NO_BUILD_HINT)
        hit = self._built.get(sha256)
        if hit is None:
            hit = self._build(name, version, filename, url, sha256)
            self._built[sha256] = hit
        if self.policy == "pure" and not hit.pure:
            raise CompiledBuildRefusedError(
                f"{name} {version} builds only as a compiled extension for {hit.platform} "
                f"({hit.wheel_filename}); [python] build = \"pure\" refuses compiled builds",
                package=name, hint=_COMPILED_HINT)
        return hit

    def build_folder(self, name: str, folder: Path, rel: str) -> BuiltWheel:
        """The wheel built from a local project folder (a ``path`` dependency), keyed by the hash
        of its files: built again only when they change."""
        name = str(canonicalize_name(name))
        if self.policy == "none":
            raise BuildDisabledError(f"{name} is a local folder ({rel}) and building is off (--no-build or "
                                     "[python] build = \"none\")", package=name, hint=_NO_BUILD_HINT)
        files, facts = read_folder(folder, package=name)
        if self.policy == "pure" and facts.compiled:
            raise CompiledBuildRefusedError(
                f"{name} ({rel}) is a compiled extension: it holds {', '.join(facts.compiled)}; "
                "[python] build = \"pure\" does not run compilers", package=name, hint=_COMPILED_HINT)
        pins, wheels = self._build_requirements(facts.build_system.requires, package=name)
        inputs = BuildInputs(tree_sha256(files), facts.build_system.backend, pins, _host_python())
        built = self._cached(name, "", "", "", inputs)
        if built is None:
            art = self._run(name, folder, inputs, wheels)
            built = self._record(name, "", "", "", inputs, art)
        from dataclasses import replace

        version = str(parse_wheel_filename(built.wheel_filename)[1])
        built = replace(built, version=version, path=rel)
        if self.policy == "pure" and not built.pure:
            raise CompiledBuildRefusedError(
                f"{name} ({rel}) builds only as a compiled extension for {built.platform} ({built.wheel_filename}); "
                "[python] build = \"pure\" refuses compiled builds", package=name, hint=_COMPILED_HINT)
        return built

    def check_target(self, built: BuiltWheel, profile: TargetProfile) -> None:
        """A target whose platforms the built wheel's tags do not name cannot use it (a wheel
        compiled here is for this machine's platform only)."""
        if built.pure:
            return
        platforms = {t.platform for t in profile.supported_tags()}
        _, _, _, tags = parse_wheel_filename(built.wheel_filename)
        if any(t.platform in platforms for t in tags):
            return
        hint = profile.messages.get("build-hint") or f"{profile.name} needs a build made for its own platform"
        raise CompiledForTargetError(
            f"{built.name} {built.version} has no wheel for {profile.name}, only a source distribution, and it "
            f"builds only as a compiled extension for {built.platform}; {hint}",
            package=built.name, hint="use a pure-Python alternative, or a package with a build for the target")

    def _build(self, name: str, version: str, filename: str, url: str, sha256: str) -> BuiltWheel:
        ctx = self.ctx
        sdist = ctx.cache.fetch(url, package=name, filename=filename, expected_sha256=sha256, opener=ctx.http,
                                progress=ctx.progress)
        facts = read_sdist(sdist.path, package=name)
        if self.policy == "pure" and facts.compiled:
            raise CompiledBuildRefusedError(
                f"{name} {version} is a compiled extension: its sdist {filename} holds "
                f"{', '.join(facts.compiled)}; [python] build = \"pure\" does not run compilers",
                package=name, hint=_COMPILED_HINT)
        pins, wheels = self._build_requirements(facts.build_system.requires, package=name)
        inputs = BuildInputs(sha256, facts.build_system.backend, pins, _host_python())
        built = self._cached(name, version, filename, url, inputs)
        if built is not None:
            return built
        art = self._run(name, sdist.path, inputs, wheels)
        return self._record(name, version, filename, url, inputs, art)

    def _build_requirements(self, requires: tuple[str, ...], *, package: str
                            ) -> tuple[tuple[str, ...], tuple[Path, ...]]:
        """``name==version --hash=sha256:...`` pins of the build dependencies, resolved with uv
        from the configured index (wheels only, for this interpreter), and their wheels from the
        verified cache."""
        known = self._pins.get(requires)
        if known is not None:
            return known
        from wasmtool.resolve.uv import CompileRequest, pip_compile
        from wasmtool.targets.profile import DEFAULT_TARGET, load_profile
        from wasmtool.targets.tags import best_wheel

        ctx = self.ctx
        host = load_profile(DEFAULT_TARGET)
        pyver = _host_python()
        try:
            pylock = pip_compile(CompileRequest(requirements=requires, python_version=pyver,
                                                python_platform=host.uv_python_platform or "linux",
                                                index_url=ctx.index.primary, extra_index_urls=tuple(ctx.index.extra)))
        except (UvFailedError, UvTimeoutError) as exc:
            raise SdistBuildError(f"the build dependencies of {package} ({', '.join(requires)}) cannot be "
                                  f"resolved from the index: {exc.message}", package=package,
                                  details=exc.details) from None
        chosen: list[_Pin] = []
        for pkg in pylock.get("packages", []):
            files = {w["url"].rsplit("/", 1)[-1].split("#", 1)[0]: w for w in pkg.get("wheels", [])}
            best = best_wheel(sorted(files), host, pyver)
            if best is None:
                raise SdistBuildError(f"build dependency {pkg['name']} {pkg['version']} of {package} has no wheel "
                                      "for this interpreter", package=package)
            w = files[best]
            chosen.append(_Pin(str(canonicalize_name(pkg["name"])), pkg["version"], best, w["url"],
                               w["hashes"]["sha256"]))
        pins = tuple(sorted(f"{c.name}=={c.version} --hash=sha256:{c.sha256}" for c in chosen))
        paths = tuple(self._fetch(c) for c in chosen)
        self._pins[requires] = (pins, paths)
        return pins, paths

    def _record_path(self, inputs: BuildInputs) -> Path:
        return self.ctx.cache.root / "builds" / f"{inputs.sha256()}.json"

    def _cached(self, name: str, version: str, filename: str, url: str, inputs: BuildInputs) -> BuiltWheel | None:
        path = self._record_path(inputs)
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
            wheel_sha = str(rec["wheel-sha256"])
            wheel_name = str(rec["wheel-filename"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if self.ctx.cache.lookup(wheel_sha, verify=True, evict=True) is None:
            return None
        return BuiltWheel(name, version, filename, url, inputs.sdist_sha256, wheel_name, wheel_sha, inputs)

    def _run(self, name: str, sdist: Path, inputs: BuildInputs, wheels: tuple[Path, ...]) -> CachedArtifact:
        from wasmtool.build.sandbox import run_build
        from wasmtool.resolve.uv import find_uv

        with tempfile.TemporaryDirectory(prefix="wasmtool-built-") as keep:
            result = run_build(uv=find_uv(), sdist=sdist, build_wheels=wheels, pins=inputs.requires, package=name,
                               backend=inputs.backend, keep=Path(keep))
            wname, _, _, _ = parse_wheel_filename(result.wheel.name)
            if wname != name:
                raise SdistBuildError(f"building {sdist.name} made {result.wheel.name}, a wheel of another project "
                                      f"than {name}", package=name)
            return self.ctx.cache.add_file(result.wheel, package=name)

    def _record(self, name: str, version: str, filename: str, url: str, inputs: BuildInputs,
                art: CachedArtifact) -> BuiltWheel:
        from wasmtool.fsutil import atomic_write_text

        path = self._record_path(inputs)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps({"wheel-filename": art.filename, "wheel-sha256": art.sha256,
                                            "sdist-sha256": inputs.sdist_sha256, "backend": inputs.backend,
                                            "requires": list(inputs.requires), "python": inputs.python_version},
                                           indent=1, sort_keys=True) + "\n")
        return BuiltWheel(name, version, filename, url, inputs.sdist_sha256, art.filename, art.sha256, inputs)

    # -- install -----------------------------------------------------------------------------

    def rebuild(self, pkg: LockedPackage, *, accept_other_bytes: bool) -> CachedArtifact:
        """Rebuild ``pkg``'s wheel from its pinned sdist with its locked build inputs and check the
        result against the locked wheel hash (:class:`BuildMismatchError` unless accepted)."""
        name = pkg.name
        if self.policy == "none":
            raise BuildDisabledError(
                f"{name} {pkg.version} is locked as a wheel built from {pkg.sdist_filename}, which is not in the "
                "cache, and building is off (--no-build or [python] build = \"none\")", package=name,
                hint=_NO_BUILD_HINT)
        ctx = self.ctx
        if pkg.path:
            folder = Path(ctx.project.root) / pkg.path
            files, facts = read_folder(folder, package=name)
            source, what = folder, pkg.path
            tree = tree_sha256(files)
            if tree != pkg.sdist_sha256:
                raise BuildMismatchError(f"the folder {pkg.path} changed since mochi.lock was written",
                                         package=name, file=str(ctx.lock_path),
                                         hint="run `wasmtool lock --upgrade` to build and pin it again")
        else:
            sdist = ctx.cache.fetch(pkg.sdist_url, package=name, filename=pkg.sdist_filename,
                                    expected_sha256=pkg.sdist_sha256, opener=ctx.http, progress=ctx.progress)
            facts = read_sdist(sdist.path, package=name)
            source, what, tree = sdist.path, pkg.sdist_filename, pkg.sdist_sha256
        pins, wheels = self._locked_build_requirements(pkg)
        inputs = BuildInputs(tree, facts.build_system.backend, pins, _host_python())
        if inputs.sha256() != pkg.build_inputs_sha256 and not accept_other_bytes:
            raise BuildMismatchError(
                f"{name} {pkg.version}: the lock's wheel was built from {what} with other build "
                f"inputs than this machine has (build inputs {inputs.sha256()[:12]}..., locked "
                f"{pkg.build_inputs_sha256[:12]}...; building Python {inputs.python_version})",
                package=name, file=str(ctx.lock_path),
                hint="run `wasmtool lock --upgrade` here, or set [python] accept-unreproducible-builds = true")
        cached = self._cached(name, pkg.version, pkg.sdist_filename, pkg.sdist_url, inputs)
        art = (ctx.cache.lookup(cached.wheel_sha256) if cached is not None else None) or self._run(
            name, source, inputs, wheels)
        if cached is None:
            self._record(name, pkg.version, pkg.sdist_filename, pkg.sdist_url, inputs, art)
        if art.sha256 != pkg.wheel_sha256 and not accept_other_bytes:
            raise BuildMismatchError(
                f"{name} {pkg.version}: rebuilding {what} made other bytes than the lock records "
                f"(sha256 {art.sha256}, locked {pkg.wheel_sha256}): the build is not reproducible",
                package=name, file=str(ctx.lock_path),
                hint="set [python] accept-unreproducible-builds = true to install the rebuilt wheel anyway")
        return art

    def _locked_build_requirements(self, pkg: LockedPackage) -> tuple[tuple[str, ...], tuple[Path, ...]]:
        """The lock's build-dependency pins and their wheels (from the cache, else found on the
        index by their hash and fetched)."""
        paths: list[Path] = []
        client = None
        try:
            for pin in sorted(pkg.build_requires):
                spec, _, digest = pin.partition(" --hash=sha256:")
                dname, _, dver = spec.partition("==")
                hit = self.ctx.cache.lookup(digest)
                if hit is not None:
                    paths.append(hit.path)
                    continue
                if client is None:
                    from wasmtool.index.client import IndexClient

                    client = IndexClient(self.ctx.index)
                match = [f for f in client.get_project(dname).files if f.sha256 == digest]
                if not match:
                    raise SdistBuildError(f"build dependency {dname} {dver} (sha256 {digest}) of {pkg.name} is not "
                                          "on the index any more", package=pkg.name, file=str(self.ctx.lock_path))
                paths.append(self._fetch(_Pin(dname, dver, match[0].filename, match[0].url, digest)))
        finally:
            if client is not None:
                client.close()
        return tuple(sorted(pkg.build_requires)), tuple(paths)

    def _fetch(self, pin: _Pin) -> Path:
        """A build dependency's wheel through the verified cache (its sha256 from the index)."""
        ctx = self.ctx
        return ctx.cache.fetch(pin.url, package=pin.name, filename=pin.filename, expected_sha256=pin.sha256,
                               opener=ctx.http, progress=ctx.progress).path


@dataclass(frozen=True)
class _Pin:
    name: str
    version: str
    filename: str
    url: str
    sha256: str


def _host_python() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


_BUILDERS: dict[int, SdistBuilder] = {}


def builder_for(ctx: Context) -> SdistBuilder:
    """One builder per context (its memo of builds and build-dependency pins is shared by the
    targets one command locks)."""
    b = _BUILDERS.get(id(ctx))
    if b is None or b.ctx is not ctx:
        b = SdistBuilder(ctx, build_policy(ctx))
        _BUILDERS.clear()
        _BUILDERS[id(ctx)] = b
    return b


def rebuild_locked(ctx: Context, pkg: LockedPackage, cached: CachedArtifact | None) -> CachedArtifact:
    """Install's way to a wheel the lock records as built here: a project folder must still hold
    what was built (else :class:`BuildMismatchError`); the cached wheel is used when there is
    one, else it is rebuilt and compared with the lock."""
    if pkg.path:
        files, _ = read_folder(Path(ctx.project.root) / pkg.path, package=pkg.name)
        if tree_sha256(files) != pkg.sdist_sha256:
            raise BuildMismatchError(f"the folder {pkg.path} changed since mochi.lock was written", package=pkg.name,
                                     file=str(ctx.lock_path), hint="run `wasmtool lock --upgrade` to build and pin "
                                     "it again")
    if cached is not None:
        return cached
    return builder_for(ctx).rebuild(pkg, accept_other_bytes=ctx.project.manifest.python.accept_unreproducible_builds)


def sdist_version(filename: str) -> str:
    return str(parse_sdist_filename(filename)[1])
