"""``[browser] app``: the app folder's files copied into a Pyodide bundle (wasmtool/bundle/app.py)
and the manifest setting (wasmtool/project/manifest.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from wasmtool.bundle.app import AppFile, AppFolderError, check_app_files, copy_app, scan_app
from wasmtool.project.errors import ManifestError
from wasmtool.project.manifest import parse_manifest


def test_check_keeps_app_files_sorted_and_skips_dotfiles_and_pycache() -> None:
    entries = [AppFile("web.css"), AppFile("index.html"), AppFile(".DS_Store"), AppFile("img/logo.svg"),
               AppFile(".git/config"), AppFile("__pycache__/x.pyc"), AppFile("lib/.hidden/a.js")]
    assert check_app_files(entries, bundle_files={"index.html", "bundle.json"}) == \
        ["img/logo.svg", "index.html", "web.css"]


def test_check_refuses_every_bundle_path_and_symlink_at_once() -> None:
    entries = [AppFile("bundle.json"), AppFile("wheels/x.whl"), AppFile("pyodide/pyodide.mjs"),
               AppFile("pyd.d.ts"), AppFile("bindings.mjs"), AppFile("link.js", symlink=True), AppFile("ok.js")]
    with pytest.raises(AppFolderError) as info:
        check_app_files(entries, bundle_files={"pyd.d.ts"}, folder="/p/web")
    err = info.value
    assert err.code == "WT869" and err.field == "[browser] app" and err.file == "/p/web"
    for path in ("bundle.json", "wheels/x.whl", "pyodide/pyodide.mjs", "pyd.d.ts", "bindings.mjs", "link.js"):
        assert f"{path}: " in err.message, path
    assert "ok.js" not in err.message


def test_the_bundles_type_files_are_reserved_even_when_this_bundle_lacks_them() -> None:
    entries = [AppFile("bindings.d.mts"), AppFile("loader.d.mts"), AppFile("app.d.mts")]
    with pytest.raises(AppFolderError) as info:
        check_app_files(entries, bundle_files=(), folder="/p/web")
    assert "bindings.d.mts: " in info.value.message and "loader.d.mts: " in info.value.message
    assert "app.d.mts" not in info.value.message


def test_a_file_named_like_a_reserved_folder_is_allowed() -> None:
    assert check_app_files([AppFile("wheels"), AppFile("pyodide.css")]) == ["pyodide.css", "wheels"]


def test_copy_app_writes_bytes_and_modes_and_replaces_the_page(tmp_path: Path) -> None:
    app = tmp_path / "web"
    (app / "img").mkdir(parents=True)
    (app / "index.html").write_text("<p>app</p>")
    (app / "img" / "logo.svg").write_bytes(b"<svg/>")
    (app / ".env").write_text("SECRET=1")
    dest = tmp_path / "bundle"
    dest.mkdir()
    (dest / "index.html").write_text("generated")
    (dest / "bundle.json").write_text("{}")
    assert copy_app(app, dest) == ("img/logo.svg", "index.html")
    assert (dest / "index.html").read_text() == "<p>app</p>"
    assert (dest / "img" / "logo.svg").read_bytes() == b"<svg/>"
    assert not (dest / ".env").exists()
    assert stat.S_IMODE(os.stat(dest / "img" / "logo.svg").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(dest / "img").st_mode) == 0o755


def test_copy_app_refuses_a_bundle_file_before_copying_anything(tmp_path: Path) -> None:
    app = tmp_path / "web"
    app.mkdir()
    (app / "a.js").write_text("1")
    (app / "loader.mjs").write_text("mine")
    dest = tmp_path / "bundle"
    dest.mkdir()
    (dest / "loader.mjs").write_text("the bundle's")
    with pytest.raises(AppFolderError, match=r"loader\.mjs: the bundle writes this path itself"):
        copy_app(app, dest)
    assert (dest / "loader.mjs").read_text() == "the bundle's" and not (dest / "a.js").exists()


def test_scan_reports_symlinks_and_missing_folders(tmp_path: Path) -> None:
    app = tmp_path / "web"
    app.mkdir()
    (app / "real.js").write_text("1")
    (app / "link.js").symlink_to(app / "real.js")
    (app / "dir").symlink_to(tmp_path)
    assert scan_app(app) == [AppFile("dir", symlink=True), AppFile("link.js", symlink=True), AppFile("real.js")]
    with pytest.raises(AppFolderError, match="does not exist") as info:
        scan_app(tmp_path / "nope")
    assert info.value.code == "WT869" and "[browser] app" in str(info.value.hint)
    with pytest.raises(AppFolderError, match="not a folder"):
        scan_app(app / "real.js")


def test_manifest_reads_browser_app() -> None:
    assert parse_manifest('[browser]\napp = "web"\n', file="mochi.toml").browser_app == "web"
    assert parse_manifest('name = "x"\n', file="mochi.toml").browser_app == ""


@pytest.mark.parametrize(("text", "problem"), [
    ('[browser]\napp = "../web"\n', "browser.app: '../web': expected a folder inside the project"),
    ('[browser]\napp = "/srv/web"\n', "browser.app: '/srv/web': expected a folder inside the project"),
    ('[browser]\napp = ""\n', "browser.app: '': expected a folder inside the project"),
    ("[browser]\napp = 3\n", "browser.app: expected str, got int"),
    ('[browser]\napp = "web"\npage = "x"\n', "browser.page: unknown key"),
    ('browser = "web"\n', "browser: expected a table"),
])
def test_manifest_rejects_bad_browser_settings(text: str, problem: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, file="mochi.toml")
    assert problem in str(info.value)
