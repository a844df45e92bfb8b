"""The remote cache tier: an OCI registry shared by a team or a CI fleet (docs/remote-cache.md).

``[cache] remote = "oci://host:port/namespace/wasmtool-cache"`` in ``mochi.toml``, or
``WASMTOOL_CACHE_REMOTE`` (which wins; ``off`` disables). Reads go local, then remote, then
the index (or a local build); whatever was fetched from the index or built locally is pushed.

Every cache entry is one OCI manifest in that repository, tagged from its cache key::

    wheel-<sha256>                     a wheel; its one layer is the wheel, digest = the lock's SHA-256
    component-<input-hash>             a built WASI component folder (a tar of component.wasm, wit/,
                                       src/, plan.json, build.json, modules.json)
    cwasm-<input-hash>-<engine-key>    its precompiled form for one wasmtime version + engine config
                                       (the ``.cwasm`` file)
    stubs-<key>                        a stub set ``bind`` found for a wheel (``<cache>/stubs/<key>.json``)
    surface-<key>                      a rendered binding: its body (the files' texts) and its head
                                       (their digests), ``<cache>/surfaces/<key>[.files].json``

A manifest's config (``application/vnd.wasmtool.cache.config.v1+json``) records the kind and
the key; blobs are pushed first and the manifest last, so a push cut short leaves nothing a
reader can see. What comes back is checked before use: every blob against its descriptor's
SHA-256; a wheel's descriptor must be the lock's SHA-256 (then the cache checks it again, and
the wheel rules); a component's archive must unpack safely and its ``build.json`` name the
input hash it was asked for. A registry that is down, slow or refuses access, or a blob that
hashes wrong, is a warning and the local path, never a failure; after the first network
failure the tier stays off for the rest of the command (one warning, not one timeout per
artefact).

The tier is registered per cache root (:func:`attach`); :class:`~wasmtool.cache.store.ArtifactCache`
and :mod:`wasmtool.wit.build` reach it with :func:`tier_for`. :func:`fetch_through` is the
wheel hook, :func:`restore_component` / :func:`publish_component` the component hooks (the
builders' lookup and publish), :func:`restore_cwasm` / :func:`publish_cwasm` the precompiled
form's (before and after wasmtime compiles a component), :func:`restore_derived` /
:func:`publish_derived` those of what ``bind`` derives (stub sets ``stubs-<key>``, rendered
bindings ``surface-<key>``, keyed as in the local cache). A ``.cwasm`` is native code that
wasmtime loads unchecked: the remote's writers are trusted (docs/remote-cache.md).
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from wasmtool.cache.errors import (
    RemoteCacheError,
    RemoteConfigError,
    RemoteDigestError,
    RemoteNotFoundError,
    RemoteProtocolError,
    RemoteUnavailableError,
)

if TYPE_CHECKING:  # wasmtool.cache.oci imports httpx: only loaded once a remote is configured
    from wasmtool.cache.oci import OciClient, OciRef

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_REMOTE",
    "ENV_TIMEOUT",
    "RemoteStats",
    "RemoteTier",
    "attach",
    "attach_from_settings",
    "fetch_through",
    "publish_component",
    "publish_cwasm",
    "publish_derived",
    "remote_stats",
    "resolve_remote",
    "restore_component",
    "restore_cwasm",
    "restore_derived",
    "tier_for",
]

log = logging.getLogger("wasmtool.cache.remote")

ENV_REMOTE = "WASMTOOL_CACHE_REMOTE"
ENV_TIMEOUT = "WASMTOOL_CACHE_REMOTE_TIMEOUT"
#: Seconds to connect, and for each read, before the remote counts as down.
DEFAULT_TIMEOUT = 5.0
CONFIG_MEDIA_TYPE = "application/vnd.wasmtool.cache.config.v1+json"
BLOB_MEDIA_TYPE = "application/vnd.wasmtool.cache.blob.v1"
TAR_MEDIA_TYPE = "application/vnd.wasmtool.cache.component.v1.tar"
TITLE = "org.opencontainers.image.title"
_T = TypeVar("_T")


class Artefact(Protocol):
    """What this module reads of a :class:`~wasmtool.cache.store.CachedArtifact` (the store
    calls this module, so it is named structurally here, not imported)."""

    @property
    def path(self) -> Path: ...
    @property
    def filename(self) -> str: ...
    @property
    def sha256(self) -> str: ...


_A = TypeVar("_A", bound=Artefact)


class Cache(Protocol):
    """What this module uses of an :class:`~wasmtool.cache.store.ArtifactCache`."""

    @property
    def root(self) -> Path: ...
    def ref_path(self, sha256: str) -> Path: ...
    def add_file(self, path: Path, *, package: str, expected_sha256: str | None = None) -> Any: ...


@dataclass
class RemoteStats:
    """Process-wide counters (tests and the benchmark read these, never timings)."""

    fetched: int = 0
    pushed: int = 0
    refused: int = 0
    warnings: list[str] = field(default_factory=list)


_STATS = RemoteStats()
_TIERS: dict[Path, RemoteTier] = {}


def remote_stats() -> RemoteStats:
    return _STATS


def resolve_remote(manifest_remote: str, manifest_timeout: float | None,
                   env: Mapping[str, str] | None = None) -> tuple[OciRef, float] | None:
    """The remote and its timeout from the environment (first) or ``[cache]`` (pure given ``env``)."""
    environ = os.environ if env is None else env
    raw = environ.get(ENV_REMOTE, "").strip() or manifest_remote.strip()
    if not raw or raw.lower() in ("off", "none"):
        return None
    where = ENV_REMOTE if environ.get(ENV_REMOTE, "").strip() else "cache.remote"
    from wasmtool.cache.oci import parse_ref

    ref = parse_ref(raw, what=where)
    if ref.tag:
        raise RemoteConfigError(f"{raw!r}: the cache remote is a repository, without a tag", field=where)
    timeout = manifest_timeout if manifest_timeout is not None else DEFAULT_TIMEOUT
    raw_timeout = environ.get(ENV_TIMEOUT, "").strip()
    if raw_timeout:
        try:
            timeout = float(raw_timeout)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= 3600:
            raise RemoteConfigError(f"{ENV_TIMEOUT}={raw_timeout!r}: expected seconds between 0 and 3600",
                                    field=ENV_TIMEOUT)
    return ref, timeout


def attach(root: Path, tier: RemoteTier | None) -> None:
    """Use ``tier`` for the cache rooted at ``root`` (``None``: no remote)."""
    key = Path(root).resolve()
    if tier is None:
        _TIERS.pop(key, None)
    else:
        _TIERS[key] = tier


def tier_for(root: Path | None) -> RemoteTier | None:
    """The tier attached to the cache at ``root``; ``None`` (or a folder outside any cache, such
    as a project's install folder): the tier of this process, when every attached tier names
    the same remote (else ``None``)."""
    if not _TIERS:
        return None
    if root is not None:
        hit = _TIERS.get(Path(root).resolve())
        if hit is not None:
            return hit
    tiers = list(_TIERS.values())
    return tiers[-1] if len({t.ref for t in tiers}) == 1 else None


class RemoteTier:
    """One remote repository; every public method returns quietly (with a warning) on failure."""

    def __init__(self, ref: OciRef, *, timeout: float = DEFAULT_TIMEOUT, env: Mapping[str, str] | None = None,
                 push: bool = True) -> None:
        self.ref = ref
        self.timeout = timeout
        self.push_enabled = push
        self._env = env
        self._client: OciClient | None = None
        self.down = False

    def __repr__(self) -> str:
        return f"RemoteTier({str(self.ref)!r})"

    @property
    def client(self) -> OciClient:
        if self._client is None:
            from wasmtool.cache.oci import OciClient

            self._client = OciClient(self.ref, timeout=self.timeout, env=self._env)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def warn(self, what: str, exc: RemoteCacheError) -> None:
        text = f"warning: remote cache {self.ref}: {what}: {exc.code} {exc.message}; using the local path"
        _STATS.warnings.append(text)
        log.warning("%s", text)

    def guarded(self, what: str, action: Callable[[], _T]) -> _T | None:
        """``action()``, or ``None`` with a warning when the remote fails (a missing entry is
        quiet); a network failure turns the tier off for the rest of the process."""
        if self.down:
            return None
        try:
            return action()
        except RemoteNotFoundError:
            return None
        except RemoteUnavailableError as exc:
            self.down = True
            self.warn(what, exc)
        except RemoteCacheError as exc:
            if isinstance(exc, RemoteDigestError):
                _STATS.refused += 1
            self.warn(what, exc)
        return None

    # -- entries: blobs first, the manifest last ------------------------------------------

    def put_entry(self, tag: str, layers: list[tuple[Path, str, str]], config: Mapping[str, Any]) -> None:
        """Push ``layers`` (path, media type, title) and then the manifest ``tag`` naming them."""
        from wasmtool.cache.oci import digest_of

        client = self.client
        config_bytes = json.dumps(dict(config), sort_keys=True, separators=(",", ":")).encode("utf-8")
        descriptors = []
        for path, media_type, title in layers:
            digest = "sha256:" + _sha256_file(path)
            client.push_blob(path, digest)
            descriptors.append({"mediaType": media_type, "digest": digest, "size": path.stat().st_size,
                                "annotations": {TITLE: title}})
        config_digest = digest_of(config_bytes)
        client.push_blob(config_bytes, config_digest)
        client.put_manifest(tag, {
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest, "size": len(config_bytes)},
            "layers": descriptors,
        })
        _STATS.pushed += 1

    def get_entry(self, tag: str, dest: Path, *, kind: str, key: str) -> list[Path]:
        """Fetch entry ``tag`` into the folder ``dest``: its config must name ``kind`` and ``key``;
        every layer is checked against its digest. Returns the layer files, in manifest order."""
        client = self.client
        manifest, _ = client.get_manifest(tag)
        config_desc = manifest.get("config")
        if not isinstance(config_desc, dict) or config_desc.get("mediaType") != CONFIG_MEDIA_TYPE:
            raise RemoteProtocolError(f"{tag}: not a wasmtool cache entry", file=str(self.ref.with_tag(tag)))
        config = json.loads(client.fetch_blob_bytes(str(config_desc.get("digest", ""))))
        if not isinstance(config, dict) or config.get("kind") != kind or config.get("key") != key:
            raise RemoteProtocolError(f"{tag}: its config names another entry", file=str(self.ref.with_tag(tag)))
        files = []
        for i, layer in enumerate(manifest["layers"]):
            if not isinstance(layer, dict) or not isinstance(layer.get("digest"), str):
                raise RemoteProtocolError(f"{tag}: layer {i} has no digest", file=str(self.ref.with_tag(tag)))
            target = dest / f"layer-{i}"
            client.fetch_blob(layer["digest"], target, size=layer.get("size") if isinstance(layer.get("size"),
                                                                                             int) else None)
            files.append(target)
        _STATS.fetched += 1
        return files

    # -- wheels ----------------------------------------------------------------------------

    def fetch_wheel(self, cache: Cache, sha: str, *, package: str, filename: str) -> Any:
        from wasmtool.errors import CacheError

        tag = f"wheel-{sha}"
        with _scratch(cache.root) as tmp:
            manifest, _ = self.client.get_manifest(tag)
            layers = manifest.get("layers") or []
            # the lock names the digest: a descriptor that names another one is refused before any download
            if len(layers) != 1 or not isinstance(layers[0], dict) or layers[0].get("digest") != f"sha256:{sha}":
                raise _digest_error(f"{tag}: its layer is not the locked sha256:{sha}", self.ref.with_tag(tag))
            files = self.get_entry(tag, tmp, kind="wheel", key=sha)
            named = tmp / filename
            files[0].rename(named)
            try:
                return cache.add_file(named, package=package, expected_sha256=sha)
            except CacheError as exc:   # wrong bytes (checked again) or a wheel the rules refuse
                raise _digest_error(f"{filename}: refused by the cache ({exc.code})", self.ref.with_tag(tag)) from exc

    def push_wheel(self, art: Artefact, *, package: str) -> None:
        if not self.push_enabled:
            return
        self.put_entry(f"wheel-{art.sha256}", [(art.path, BLOB_MEDIA_TYPE, art.filename)],
                       {"kind": "wheel", "key": art.sha256, "package": package, "filename": art.filename})

    # -- components ------------------------------------------------------------------------

    def fetch_component(self, final: Path) -> bool:
        """Bring ``final`` (``<root>/components/<input-hash>``) from the remote; True when it came."""
        key = final.name
        root = final.parent
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".tmp-remote-{key[:12]}-", dir=root))
        try:
            with _scratch(root) as tmp:
                files = self.get_entry(f"component-{key}", tmp, kind="component", key=key)
                _safe_untar(files[0], work, tag=f"component-{key}", ref=self.ref)
            info = json.loads((work / "build.json").read_text(encoding="utf-8"))
            if info.get("input_hash") != key or not (work / "component.wasm").is_file():
                raise _digest_error(f"component-{key}: its build.json names another build", self.ref)
            try:
                os.replace(work, final)
            except OSError:
                if not (final / "build.json").is_file():
                    raise
            return True
        except (OSError, ValueError, KeyError) as exc:
            raise RemoteProtocolError(f"component-{key}: cannot unpack: {exc}", file=str(self.ref)) from exc
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)

    def fetch_cwasm(self, cwasm: Path, input_hash: str) -> bool:
        """The precompiled form ``cwasm`` (``component-<hash16>-<engine>.cwasm``) of the build
        ``input_hash``, when the remote has it; True when it came."""
        engine = cwasm.stem.rsplit("-", 1)[-1]
        with _scratch(cwasm.parent) as tmp:
            files = self.get_entry(f"cwasm-{input_hash}-{engine}", tmp, kind="cwasm", key=f"{input_hash}-{engine}")
            os.replace(files[0], cwasm)
        return True

    def push_cwasm(self, cwasm: Path, input_hash: str) -> None:
        if not self.push_enabled or not cwasm.is_file():
            return
        engine = cwasm.stem.rsplit("-", 1)[-1]
        tag = f"cwasm-{input_hash}-{engine}"
        try:
            self.client.get_manifest(tag)
            return
        except RemoteNotFoundError:
            pass
        self.put_entry(tag, [(cwasm, BLOB_MEDIA_TYPE, cwasm.name)], {"kind": "cwasm", "key": f"{input_hash}-{engine}"})

    def push_component(self, final: Path) -> None:
        """Push the component folder (``<root>/components/<input-hash>``) unless the remote has it."""
        if not self.push_enabled or not (final / "build.json").is_file():
            return
        key = final.name
        tag = f"component-{key}"
        try:
            self.client.get_manifest(tag)
            return
        except RemoteNotFoundError:
            pass
        with _scratch(final.parent) as tmp:
            archive = tmp / "component.tar"
            _deterministic_tar(final, archive)
            self.put_entry(tag, [(archive, TAR_MEDIA_TYPE, "component.tar")], {"kind": "component", "key": key})


# -- the hooks ---------------------------------------------------------------------------------


def fetch_through(cache: Cache, sha: str, *, package: str, filename: str, fetch: Callable[[], _A]) -> _A:
    """The wheel hook of :meth:`ArtifactCache.fetch`: local, then remote, then ``fetch()`` (the
    index), whose result is pushed. Without a remote for the cache, just ``fetch()``."""
    tier = tier_for(cache.root)
    if tier is None or tier.down or cache.ref_path(sha).exists():
        return fetch()
    got = tier.guarded(f"fetching {filename}",
                       lambda: tier.fetch_wheel(cache, sha, package=package, filename=filename))
    if got is not None:
        return got  # type: ignore[no-any-return]  # ArtifactCache.add_file returns what fetch returns
    art = fetch()
    tier.guarded(f"pushing {filename}", lambda: tier.push_wheel(art, package=package))
    return art


def restore_component(final: Path, engine: str = "") -> None:
    """The lookup hook of the component builders (:func:`wasmtool.wit.build.build_component`,
    :func:`wasmtool.wit.project.build_project_component`): when ``final`` is not in the local
    cache, bring it from the remote if it has it. (``engine`` is accepted for the callers'
    sake; the precompiled form is fetched when it is needed, by :func:`restore_cwasm`.)"""
    tier = tier_for(final.parent.parent)
    if tier is None or tier.down or (final / "build.json").is_file():
        return
    tier.guarded(f"fetching component {final.name[:12]}", lambda: tier.fetch_component(final))


def publish_component(final: Path) -> None:
    """The publish hook (after a build): push the component unless the remote has it."""
    tier = tier_for(final.parent.parent)
    if tier is None or tier.down:
        return
    tier.guarded(f"pushing component {final.name[:12]}", lambda: tier.push_component(final))


def restore_cwasm(cwasm: Path, input_hash: str) -> None:
    """Before compiling a component: bring its precompiled form from the remote, if it has it."""
    tier = tier_for(None)
    if tier is None or tier.down or cwasm.is_file():
        return
    tier.guarded(f"fetching {cwasm.name}", lambda: tier.fetch_cwasm(cwasm, input_hash))


def publish_cwasm(cwasm: Path, input_hash: str) -> None:
    """After a component was compiled: push its precompiled form unless the remote has it."""
    tier = tier_for(None)
    if tier is None or tier.down:
        return
    tier.guarded(f"pushing {cwasm.name}", lambda: tier.push_cwasm(cwasm, input_hash))


def restore_derived(cache_root: Path, kind: str, key: str, dests: Sequence[Path],
                    check: Callable[[Sequence[Path]], str | None]) -> bool:
    """The lookup hook of what ``bind`` derives (``stubs``: a stub set; ``surface``: a rendered
    binding, head and body): when ``dests`` (files of the local cache, in the entry's layer
    order) are missing, fetch entry ``<kind>-<key>`` from the remote. Every layer is checked
    against its digest, then ``check(files)`` (what the entry must hold, e.g. texts that hash
    to the digests it records) must return ``None``, else the entry is refused (a warning,
    ``WT976``). The files are moved into place in order, so the last one (the head a reader
    looks for) comes last. True when it came; without a remote, or when it fails, False."""
    tier = tier_for(cache_root)
    if tier is None or tier.down or all(d.is_file() for d in dests):
        return False

    def fetch() -> bool:
        with _scratch(cache_root / kind) as tmp:
            files = tier.get_entry(f"{kind}-{key}", tmp, kind=kind, key=key)
            if len(files) != len(dests):
                raise RemoteProtocolError(f"{kind}-{key}: {len(files)} layers, expected {len(dests)}",
                                          file=str(tier.ref))
            problem = check(files)
            if problem is not None:
                raise _digest_error(f"{kind}-{key}: {problem}; refused", tier.ref)
            for src, dest in zip(files, dests, strict=True):
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dest)
        return True

    return bool(tier.guarded(f"fetching {kind} {key[:12]}", fetch))


def publish_derived(cache_root: Path, kind: str, key: str, files: Sequence[Path]) -> None:
    """The publish hook of what ``bind`` derived (after it was computed and written locally):
    push ``files`` as entry ``<kind>-<key>`` unless the remote has it. No remote: nothing."""
    tier = tier_for(cache_root)
    if tier is None or tier.down or not tier.push_enabled or not all(f.is_file() for f in files):
        return

    def push() -> None:
        tag = f"{kind}-{key}"
        try:
            tier.client.get_manifest(tag)
            return
        except RemoteNotFoundError:
            pass
        tier.put_entry(tag, [(f, BLOB_MEDIA_TYPE, f.name) for f in files], {"kind": kind, "key": key})

    tier.guarded(f"pushing {kind} {key[:12]}", push)


# -- helpers -------------------------------------------------------------------------------------


def _digest_error(message: str, ref: OciRef) -> RemoteCacheError:
    return RemoteDigestError(message, file=str(ref))


def _sha256_file(path: Path) -> str:
    from wasmtool.fsutil import sha256_file

    return sha256_file(path)


@contextmanager
def _scratch(near: Path) -> Iterator[Path]:
    near.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-remote-", dir=near))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


_KEPT = ("component.wasm", "build.json", "plan.json", "modules.json", "wit", "src")


def _deterministic_tar(folder: Path, dest: Path) -> None:
    """The component folder (without its ``.cwasm`` and scratch files) as a tar whose bytes
    depend only on the files: sorted names, zero times and owners, fixed modes."""
    members = []
    for name in _KEPT:
        path = folder / name
        if path.is_file():
            members.append(path)
        elif path.is_dir():
            members.extend(p for p in sorted(path.rglob("*")) if p.is_file() and not p.is_symlink())
    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(members, key=lambda p: p.relative_to(folder).as_posix()):
            info = tarfile.TarInfo(path.relative_to(folder).as_posix())
            data = path.read_bytes()
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))


def _safe_untar(archive: Path, dest: Path, *, tag: str, ref: OciRef) -> None:
    """Unpack regular files only, each inside ``dest`` (the ``data`` filter refuses the rest)."""
    with tarfile.open(archive, "r:") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                raise RemoteProtocolError(f"{tag}: the archive holds a non-file member {member.name!r}",
                                          file=str(ref))
        try:
            tar.extractall(dest, filter="data")
        except tarfile.FilterError as exc:
            raise RemoteProtocolError(f"{tag}: unsafe archive member: {exc}", file=str(ref)) from exc


def attach_from_settings(root: Path, manifest: Any) -> RemoteTier | None:
    """Attach the remote ``manifest`` (its ``cache_remote`` / ``cache_remote_timeout``) or the
    environment names to the cache at ``root``. A malformed setting is a
    :class:`RemoteConfigError` (a typo must not quietly turn the shared cache off)."""
    resolved = resolve_remote(getattr(manifest, "cache_remote", ""), getattr(manifest, "cache_remote_timeout", None))
    if resolved is None:
        attach(root, None)
        return None
    existing = tier_for(root)
    if existing is not None and existing.ref == resolved[0]:
        return existing
    tier = RemoteTier(resolved[0], timeout=resolved[1])
    attach(root, tier)
    return tier
