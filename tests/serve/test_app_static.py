"""Static routes: files, index.html, MIME types, HEAD, ETag and no way out of the folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import MakeApp, get

from wasmbridge.serve.config import Route
from wasmbridge.serve.http import HttpRequest


@pytest.fixture
def site(tmp_path: Path) -> Path:
    web = tmp_path / "web"
    (web / "pkg").mkdir(parents=True)
    (web / "docs").mkdir()
    (web / "index.html").write_text("<h1>home</h1>")
    (web / "docs" / "index.html").write_text("<h1>docs</h1>")
    (web / "pkg" / "app.js").write_text("export {}")
    (web / "pkg" / "app.mjs").write_text("export {}")
    (web / "pkg" / "app.wasm").write_bytes(b"\0asm\1\0\0\0")
    (web / "style.css").write_text("p {}")
    (web / "data.json").write_text("{}")
    (web / "blob.bin").write_bytes(b"\1\2")
    (tmp_path / "secret.txt").write_text("secret")
    (web / "link-out").symlink_to(tmp_path / "secret.txt")
    (web / "dir-out").symlink_to(tmp_path)
    (web / "link-in.css").symlink_to(web / "style.css")
    return web


@pytest.fixture
def app(make_app: MakeApp, site: Path) -> object:
    return make_app([Route(path="/site/...", kind="static", module=None, static=site)])


@pytest.mark.parametrize(
    ("url", "content_type", "body"),
    [
        ("/site", "text/html; charset=utf-8", b"<h1>home</h1>"),
        ("/site/", "text/html; charset=utf-8", b"<h1>home</h1>"),
        ("/site/index.html", "text/html; charset=utf-8", b"<h1>home</h1>"),
        ("/site/docs/", "text/html; charset=utf-8", b"<h1>docs</h1>"),
        ("/site/pkg/app.js", "text/javascript; charset=utf-8", b"export {}"),
        ("/site/pkg/app.mjs", "text/javascript; charset=utf-8", b"export {}"),
        ("/site/pkg/app.wasm", "application/wasm", b"\0asm\1\0\0\0"),
        ("/site/style.css", "text/css; charset=utf-8", b"p {}"),
        ("/site/link-in.css", "text/css; charset=utf-8", b"p {}"),
        ("/site/data.json", "application/json", b"{}"),
        ("/site/blob.bin", "application/octet-stream", b"\1\2"),
    ],
)
def test_files_with_their_types(app: object, url: str, content_type: str, body: bytes) -> None:
    response = get(app, url)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == body


@pytest.mark.parametrize(
    "raw",
    [
        "/site/../secret.txt",
        "/site/docs/../../secret.txt",
        "/site/%2e%2e/secret.txt",
        "/site/..%2fsecret.txt",
        "/site/..%2Fsecret.txt",
        "/site/%2e%2e%2fsecret.txt",
        "/site/..%5csecret.txt",
        "/site/..\\secret.txt",
        "/site/index.html%00.css",
        "/site/link-out",
        "/site/dir-out/secret.txt",
        "/site/missing.html",
        "/site/%ff%fe",
        "/site/style.css/",  # a file named as a folder
        "/site/pkg/app.js/",
    ],
)
def test_nothing_outside_the_folder(app: object, raw: str) -> None:
    response = app.respond(HttpRequest("GET", raw))  # type: ignore[attr-defined]
    assert response.status == 404


def test_head_etag_and_304(app: object) -> None:
    head = get(app, "/site/style.css", "HEAD")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "4")
    etag = head.headers["etag"]
    assert get(app, "/site/style.css", headers={"if-none-match": etag}).status_code == 304
    since = head.headers["last-modified"]
    assert get(app, "/site/style.css", headers={"if-modified-since": since}).status_code == 304
    assert get(app, "/site/style.css", headers={"if-none-match": '"other"'}).status_code == 200


def test_only_get_and_head(app: object) -> None:
    response = get(app, "/site/style.css", "POST")
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD")
