"""A small client of the OCI distribution API: blobs and manifests, with Docker-config credentials.

Why not the ``oras`` Python SDK: its requests carry no timeout and its retry decorator sleeps
about two minutes (2+1, 2+3, 2+9, 2+27, 2+81 s) before giving up on a registry that is down,
while the remote cache tier must fall back to the local path within seconds; it reads only
``~/.docker/config.json`` (not ``$DOCKER_CONFIG``), runs credential helpers through its own
subprocess calls, and brings ``requests`` and ``jsonschema`` next to the ``httpx`` wasmtool
already uses. So this module speaks the handful of distribution-spec endpoints itself with
``httpx``; it is a client only (no registry code):

    GET  /v2/                                   ping (and learn the auth challenge)
    HEAD /v2/<name>/blobs/<digest>              does a blob exist
    GET  /v2/<name>/blobs/<digest>              a blob, streamed, SHA-256 checked
    POST /v2/<name>/blobs/uploads/ + PUT ?digest=  a monolithic blob upload
    GET/PUT /v2/<name>/manifests/<reference>    a manifest

References are ``oci://host[:port]/repository[:tag]`` (``oci+http://`` forces plain HTTP; a
loopback host is plain HTTP too, as Docker treats ``localhost`` registries). Credentials:
``auths.<host:port>.auth`` (base64 ``user:password``) or ``username``/``password`` of
``$DOCKER_CONFIG/config.json`` (else ``~/.docker/config.json``), used on a ``Basic``
challenge or to obtain a ``Bearer`` token; never printed (errors name the host only).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from wasmtool.cache.errors import (
    RemoteAuthError,
    RemoteConfigError,
    RemoteDigestError,
    RemoteNotFoundError,
    RemoteProtocolError,
    RemoteUnavailableError,
)

__all__ = ["MANIFEST_MEDIA_TYPE", "OciClient", "OciRef", "digest_of", "docker_config_path", "parse_ref"]

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
_CHUNK = 1 << 16
#: distribution-spec: repository name components and tags
_NAME = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_HOST = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]{1,5})?|\[[0-9A-Fa-f:]+\](?::[0-9]{1,5})?")
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


@dataclass(frozen=True)
class OciRef:
    """``host`` (with port), ``repository`` and an optional ``tag``; ``scheme`` is http or https."""

    host: str
    repository: str
    tag: str = ""
    scheme: str = "https"

    def __str__(self) -> str:
        prefix = "oci+http" if self.scheme == "http" and not self.loopback else "oci"
        return f"{prefix}://{self.host}/{self.repository}" + (f":{self.tag}" if self.tag else "")

    @property
    def loopback(self) -> bool:
        return self.host.rsplit(":", 1)[0] in _LOOPBACK or self.host.startswith("[::1]")

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def with_tag(self, tag: str) -> OciRef:
        return OciRef(self.host, self.repository, tag, self.scheme)


def parse_ref(text: str, *, what: str, need_tag: bool = False) -> OciRef:
    """``oci://host[:port]/repository[:tag]`` (pure). ``what`` names the setting in errors."""
    raw = text.strip()
    scheme = "https"
    if raw.startswith("oci+http://"):
        scheme, rest = "http", raw[len("oci+http://"):]
    elif raw.startswith("oci://"):
        rest = raw[len("oci://"):]
    else:
        raise RemoteConfigError(f"{raw!r}: expected oci://host[:port]/repository[:tag]", field=what)
    host, _, path = rest.partition("/")
    tag = ""
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, _, tag = path.rpartition(":")
    if not _HOST.fullmatch(host) or not path or not _NAME.fullmatch(path):
        raise RemoteConfigError(f"{raw!r}: expected oci://host[:port]/repository[:tag] (a lower-case "
                                "repository path)", field=what)
    if tag and not _TAG.fullmatch(tag):
        raise RemoteConfigError(f"{raw!r}: {tag!r} is not a valid tag", field=what)
    if need_tag and not tag:
        raise RemoteConfigError(f"{raw!r}: name a tag (oci://host/repository:tag)", field=what)
    ref = OciRef(host=host, repository=path, tag=tag, scheme=scheme)
    if ref.loopback:
        ref = OciRef(host=host, repository=path, tag=tag, scheme="http")
    return ref


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def docker_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json`` (the Docker CLI's rule)."""
    environ = os.environ if env is None else env
    folder = environ.get("DOCKER_CONFIG", "")
    if folder:
        return Path(os.path.expanduser(folder)) / "config.json"
    return Path(os.path.expanduser("~")) / ".docker" / "config.json"


def _credentials(host: str, env: Mapping[str, str] | None) -> tuple[str, str] | None:
    """The ``(user, password)`` the Docker config holds for ``host``; ``None`` when none."""
    try:
        data = json.loads(docker_config_path(env).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    auths = data.get("auths") if isinstance(data, dict) else None
    if not isinstance(auths, dict):
        return None
    for key in (host, f"http://{host}", f"https://{host}"):
        entry = auths.get(key)
        if not isinstance(entry, dict):
            continue
        encoded = entry.get("auth")
        if isinstance(encoded, str) and encoded:
            try:
                user, sep, password = base64.b64decode(encoded).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                continue
            if sep:
                return user, password
        name, secret = entry.get("username"), entry.get("password")
        if isinstance(name, str) and isinstance(secret, str):
            return name, secret
    return None


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'([A-Za-z]+)="([^"]*)"', rest))
    return scheme.lower(), params


class OciClient:
    """Requests against one registry host; ``timeout`` (seconds) bounds connecting and each read."""

    def __init__(self, ref: OciRef, *, timeout: float, env: Mapping[str, str] | None = None) -> None:
        self.ref = ref
        self._env = env
        self._auth_header: str | None = None
        self._http = httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=True,
                                  headers={"User-Agent": "wasmtool"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OciClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.ref.base_url}/v2/{self.ref.repository}/{path}"

    def _authenticate(self, response: httpx.Response) -> bool:
        """Answer a 401 challenge from the Docker config; False when there is nothing to answer with."""
        creds = _credentials(self.ref.host, self._env)
        scheme, params = _challenge(response.headers.get("www-authenticate", ""))
        if creds is None:
            return False
        if scheme == "basic":
            token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode("ascii")
            header = f"Basic {token}"
        elif scheme == "bearer" and params.get("realm"):
            query = {k: v for k, v in params.items() if k in ("service", "scope")}
            try:
                answer = self._http.get(params["realm"], params=query, auth=creds)
            except httpx.HTTPError as exc:
                raise RemoteUnavailableError(f"token request failed: {type(exc).__name__}",
                                             file=str(self.ref)) from exc
            if answer.status_code != 200:
                return False
            try:
                body = answer.json()
                token = body.get("token") or body.get("access_token")
            except ValueError:
                token = None
            if not isinstance(token, str):
                return False
            header = f"Bearer {token}"
        else:
            return False
        if header == self._auth_header:
            return False   # the same credentials were just refused
        self._auth_header = header
        return True

    def _send(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
              content: bytes | Iterator[bytes] | None = None, params: Mapping[str, str] | None = None,
              stream: bool = False) -> httpx.Response:
        for _attempt in range(2):
            all_headers = dict(headers or {})
            if self._auth_header:
                all_headers["Authorization"] = self._auth_header
            try:
                request = self._http.build_request(method, url, headers=all_headers, content=content,
                                                   params=params)
                response = self._http.send(request, stream=stream)
            except httpx.TimeoutException as exc:
                raise RemoteUnavailableError(f"{method} timed out", file=str(self.ref),
                                             hint="raise [cache] remote-timeout, or check the registry") from exc
            except httpx.HTTPError as exc:
                raise RemoteUnavailableError(f"{method} failed: {type(exc).__name__}: {exc}",
                                             file=str(self.ref)) from exc
            if response.status_code not in (401, 403) or _attempt == 1:
                break
            if stream:
                response.close()
            if response.status_code == 403 or not self._authenticate(response):
                break
        if response.status_code in (401, 403):
            if stream:
                response.close()
            has = _credentials(self.ref.host, self._env) is not None
            where = docker_config_path(self._env)
            raise RemoteAuthError(
                f"the registry {self.ref.host} refused access ({response.status_code}): "
                + ("the credentials for it in the Docker config were refused" if has
                   else "no credentials for it in the Docker config"),
                file=str(self.ref),
                hint=f"add an `auths.\"{self.ref.host}\"` entry to {where} (e.g. `docker login {self.ref.host}`), "
                     "or set DOCKER_CONFIG to the folder of a config.json that has one")
        return response

    def _unexpected(self, response: httpx.Response, what: str) -> RemoteProtocolError:
        return RemoteProtocolError(f"{what}: unexpected HTTP {response.status_code}", file=str(self.ref))

    # -- API -----------------------------------------------------------------------------

    def ping(self) -> None:
        response = self._send("GET", f"{self.ref.base_url}/v2/")
        if response.status_code != 200:
            raise self._unexpected(response, "GET /v2/")

    def blob_exists(self, digest: str) -> bool:
        response = self._send("HEAD", self._url(f"blobs/{digest}"))
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise self._unexpected(response, f"HEAD blob {digest}")
        return True

    def push_blob(self, data_or_path: bytes | Path, digest: str) -> None:
        """Upload a blob (monolithic POST + PUT) unless the registry has it already."""
        if self.blob_exists(digest):
            return
        started = self._send("POST", self._url("blobs/uploads/"))
        if started.status_code != 202 or "location" not in started.headers:
            raise self._unexpected(started, "POST blob upload")
        location = str(httpx.URL(self._url("blobs/uploads/")).join(started.headers["location"]))
        if isinstance(data_or_path, Path):
            size = data_or_path.stat().st_size
            path = data_or_path

            def chunks() -> Iterator[bytes]:
                with path.open("rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        yield chunk

            body: bytes | Iterator[bytes] = chunks()
        else:
            size = len(data_or_path)
            body = data_or_path
        # the Location carries the upload's state in its query: add the digest to it, never replace it
        location = str(httpx.URL(location).copy_add_param("digest", digest))
        done = self._send("PUT", location, content=body,
                          headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)})
        if done.status_code != 201:
            raise self._unexpected(done, f"PUT blob {digest}")

    @contextmanager
    def open_blob(self, digest: str) -> Iterator[Iterator[bytes]]:
        """The blob's bytes in chunks; the caller checks the digest (:meth:`fetch_blob` does)."""
        response = self._send("GET", self._url(f"blobs/{digest}"), stream=True)
        try:
            if response.status_code == 404:
                raise RemoteNotFoundError(f"no blob {digest}", file=str(self.ref))
            if response.status_code != 200:
                raise self._unexpected(response, f"GET blob {digest}")

            def chunks() -> Iterator[bytes]:
                try:
                    yield from response.iter_bytes(_CHUNK)
                except httpx.TimeoutException as exc:
                    raise RemoteUnavailableError("a blob read timed out", file=str(self.ref)) from exc
                except httpx.HTTPError as exc:
                    raise RemoteUnavailableError(f"a blob read failed: {type(exc).__name__}",
                                                 file=str(self.ref)) from exc

            yield chunks()
        finally:
            response.close()

    def fetch_blob(self, digest: str, dest: Path, *, size: int | None = None) -> None:
        """Write the blob to ``dest`` (created), its SHA-256 checked against ``digest`` (and its
        size against ``size``); wrong bytes are deleted and :class:`RemoteDigestError`."""
        hasher = hashlib.sha256()
        written = 0
        try:
            with self.open_blob(digest) as chunks, dest.open("wb") as fh:
                for chunk in chunks:
                    hasher.update(chunk)
                    written += len(chunk)
                    fh.write(chunk)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
        actual = "sha256:" + hasher.hexdigest()
        if actual != digest or (size is not None and written != size):
            dest.unlink(missing_ok=True)
            raise RemoteDigestError(f"blob {digest}: the registry sent bytes that hash to {actual} "
                                    f"({written} bytes); refused", file=str(self.ref))

    def fetch_blob_bytes(self, digest: str, *, limit: int = 1 << 20) -> bytes:
        """A small blob (a config), checked against ``digest``."""
        data = bytearray()
        with self.open_blob(digest) as chunks:
            for chunk in chunks:
                data += chunk
                if len(data) > limit:
                    raise RemoteProtocolError(f"blob {digest} is larger than {limit} bytes", file=str(self.ref))
        if digest_of(bytes(data)) != digest:
            raise RemoteDigestError(f"blob {digest}: the registry sent bytes that hash to {digest_of(bytes(data))}; "
                                    "refused", file=str(self.ref))
        return bytes(data)

    def put_manifest(self, reference: str, manifest: Mapping[str, Any]) -> str:
        """PUT ``manifest`` (canonical JSON) under a tag; returns its digest."""
        body = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode("utf-8")
        response = self._send("PUT", self._url(f"manifests/{reference}"), content=body,
                              headers={"Content-Type": MANIFEST_MEDIA_TYPE})
        if response.status_code != 201:
            raise self._unexpected(response, f"PUT manifest {reference}")
        return digest_of(body)

    def get_manifest(self, reference: str) -> tuple[dict[str, Any], str]:
        """The manifest under ``reference`` and its digest (checked when the reference is one)."""
        response = self._send("GET", self._url(f"manifests/{reference}"),
                              headers={"Accept": MANIFEST_MEDIA_TYPE})
        if response.status_code == 404:
            raise RemoteNotFoundError(f"no manifest {reference}", file=str(self.ref.with_tag(reference)))
        if response.status_code != 200:
            raise self._unexpected(response, f"GET manifest {reference}")
        body = response.content
        digest = digest_of(body)
        if reference.startswith("sha256:") and digest != reference:
            raise RemoteDigestError(f"manifest {reference} hashes to {digest}; refused", file=str(self.ref))
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise RemoteProtocolError(f"manifest {reference} is not JSON", file=str(self.ref)) from exc
        if not isinstance(data, dict) or not isinstance(data.get("layers"), list):
            raise RemoteProtocolError(f"manifest {reference} is not an OCI image manifest", file=str(self.ref))
        return data, digest
