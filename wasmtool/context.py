"""What every operation needs, built once per command: project, index, cache, HTTP.

Below the target backends and the operations that both use it (``wasmtool.ops.context``
re-exports it). :func:`verified_artefact` is the one way a locked wheel is taken from the
cache (or fetched) and checked against the lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from wasmtool.errors import HashMismatchError
from wasmtool.index.config import IndexUrls, resolve_index_urls
from wasmtool.project.model import Project, load_project

if TYPE_CHECKING:
    import httpx

    from wasmtool.cache import ArtifactCache, CachedArtifact
    from wasmtool.lock.model import LockedPackage

__all__ = ["Context", "verified_artefact"]


@dataclass
class Context:
    root: Path
    project: Project
    #: The project's indexes; ``None`` until first used (:attr:`index`).
    index_urls: IndexUrls | None = None
    cache_dir: Path | None = None
    progress: bool | None = None
    #: ``--index-url``: overrides the manifest and the environment.
    index_url_override: str | None = None
    #: ``--no-build``: ``"none"`` overrides ``[python] build`` (wasmtool.build.service.build_policy).
    build_override: str | None = None
    _http: httpx.Client | None = field(default=None, repr=False)
    _cache: ArtifactCache | None = field(default=None, repr=False)

    @classmethod
    def open(cls, root: Path, *, cache_dir: Path | None = None, progress: bool | None = None,
             index_url: str | None = None) -> Context:
        return cls(root=root, project=load_project(root), cache_dir=cache_dir, progress=progress,
                   index_url_override=index_url)

    @property
    def index(self) -> IndexUrls:
        """The indexes, resolved on first use: when neither the manifest nor the environment
        names one, that reads pip's configuration (a pip run), which commands that never reach
        an index (``exec``, ``call``, ``export``) should not pay for."""
        if self.index_urls is None:
            settings = self.project.manifest.python
            self.index_urls = resolve_index_urls(
                manifest_url=self.index_url_override or settings.index_url,
                manifest_extra=tuple(i.url for i in settings.indexes),
            )
        return self.index_urls

    # The cache and the HTTP client are created on first use: their imports (httpx, rich)
    # cost more than a resolution's start-up, so `lock` starts uv before touching them.
    @property
    def cache(self) -> ArtifactCache:
        if self._cache is None:
            from wasmtool.cache import ArtifactCache, default_cache_dir

            # every wheel is validated once, when it enters (wasmtool.cache.wheel_check)
            self._cache = ArtifactCache(self.cache_dir or default_cache_dir(), check_wheels=True)
            from wasmtool.cache.sweep import sweep_stale

            sweep_stale(self._cache)  # what a killed run left in tmp/ (never a live writer's file)
            from wasmtool.cache.remote import attach_from_settings

            attach_from_settings(self._cache.root, self.project.manifest)  # [cache] remote (docs/remote-cache.md)
        return self._cache

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            import httpx

            self._http = httpx.Client(
                timeout=httpx.Timeout(60.0, connect=15.0), follow_redirects=True,
                limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
                headers={"User-Agent": "wasmtool"},
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> Context:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def lock_path(self) -> Path:
        return self.root / "mochi.lock"

    @property
    def venv_path(self) -> Path:
        return self.root / self.project.manifest.python.venv


def verified_artefact(ctx: Context, pkg: LockedPackage) -> CachedArtifact:
    """``pkg``'s wheel from the cache (fetched when missing), its SHA-256 checked by the cache
    and its BLAKE3 against the lock. A cached copy that no longer hashes right (a flipped
    byte on disk) is evicted and fetched again once from the lock's URL; if those bytes are
    wrong too, the fetch's :class:`HashMismatchError`."""
    from wasmtool.cache.errors import CachedArtifactMissingError, CacheRefError

    try:
        art = ctx.cache.lookup(pkg.wheel_sha256, verify=True, evict=True)
    except (HashMismatchError, CacheRefError, CachedArtifactMissingError):
        art = None  # the bad entry was evicted: fetch it again, once (a second mismatch raises)
    if pkg.build_inputs_sha256 and not pkg.wheel_url:
        from wasmtool.build.service import rebuild_locked

        art = rebuild_locked(ctx, pkg, art)  # built from a locked sdist or folder: checked, rebuilt when missing
    if art is None:
        art = ctx.cache.fetch(pkg.wheel_url, package=pkg.name, filename=pkg.wheel_filename,
                              expected_sha256=pkg.wheel_sha256, opener=ctx.http, progress=ctx.progress)
    if pkg.wheel_blake3 and art.blake3 != pkg.wheel_blake3:
        raise HashMismatchError(package=pkg.name, filename=pkg.wheel_filename, algorithm="blake3",
                                expected=pkg.wheel_blake3, actual=art.blake3, file=str(ctx.lock_path))
    return art
