"""Progress bar: on a terminal (or forced) only; total from Content-Length."""

from __future__ import annotations

import io

import httpx
import pytest

from wasmtool.cache import ArtifactCache
from wasmtool.cache._progress import progress_reporter
from wasmtool.cache._source import open_url

from .conftest import Artefact, ArtefactServer


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def _fetch(cache: ArtifactCache, url: str, demo: Artefact, progress: bool | None) -> None:
    with httpx.Client() as client:
        cache.fetch(
            url,
            package=demo.package,
            filename=demo.filename,
            expected_sha256=demo.sha256,
            opener=client,
            progress=progress,
        )


@pytest.mark.parametrize("progress", [None, False])
def test_silent_when_not_a_terminal(
    cache: ArtifactCache,
    server: ArtefactServer,
    demo: Artefact,
    capsys: pytest.CaptureFixture[str],
    progress: bool | None,
) -> None:
    _fetch(cache, server.add(demo), demo, progress)
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_forced_bar_is_drawn_on_stderr(
    cache: ArtifactCache, server: ArtefactServer, demo: Artefact, capsys: pytest.CaptureFixture[str]
) -> None:
    _fetch(cache, server.add(demo), demo, True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert demo.filename in captured.err


@pytest.mark.parametrize(("enabled", "drawn"), [(None, True), (False, False), (True, True)])
def test_reporter_on_a_terminal(enabled: bool | None, drawn: bool) -> None:
    stream = FakeTTY()
    with progress_reporter(enabled=enabled, description="pkg.whl", total=100, stream=stream) as advance:
        advance(60)
        advance(40)
    assert ("pkg.whl" in stream.getvalue()) is drawn


def test_content_length_is_the_total(server: ArtefactServer, demo: Artefact) -> None:
    url = server.add(demo)
    with (
        httpx.Client() as client,
        open_url(url, client, package="demo", filename=demo.filename) as source,
    ):
        assert source.total == len(demo.data)
        assert b"".join(source.chunks) == demo.data
