"""spin.toml: the Wagi subset becomes wagi routes; everything else is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasmbridge.errors import ManifestError
from wasmbridge.serve.config import FileMount, KvStoreConfig
from wasmbridge.serve.manifest import load_manifest

CASES = Path(__file__).parents[2] / "fixtures" / "serve" / "manifests"

WAGI_APP = """\
spin_manifest_version = 2

[application]
name = "cgi"

[[trigger.http]]
route = "/..."
component = "site"
executor = {{ type = "wagi" }}

[component.site]
source = "site.wasm"
{extra}
"""


def write_app(folder: Path, extra: str = "", name: str = "spin.toml") -> Path:
    (folder / "site.wasm").write_bytes(b"\0asm\1\0\0\0")
    manifest = folder / name
    manifest.write_text(WAGI_APP.format(extra=extra))
    return manifest


def message_of(folder: Path, extra: str, monkeypatch: pytest.MonkeyPatch) -> str:
    write_app(folder, extra)
    monkeypatch.chdir(folder)
    with pytest.raises(ManifestError) as caught:
        load_manifest("spin.toml")
    return str(caught.value).splitlines()[0]


def test_spin_example_becomes_wagi_routes() -> None:
    app = load_manifest(CASES / "good-spin" / "spin.toml")
    hello, env = app.routes
    assert app.name == "spin-wagi"
    assert (hello.kind, env.kind) == ("wagi", "wagi")
    assert hello.module == (CASES / "_assets" / "hello.wasm").resolve()
    assert hello.files == (
        FileMount(host=(CASES / "good-spin" / "assets").resolve(), guest="/assets", writable=False),
        FileMount(host=(CASES / "_assets" / "web").resolve(), guest="/www", writable=False),
    )
    assert hello.env == (("GREETING", "hi"),)
    assert env.argv == "${SCRIPT_NAME} ${ARGS} extra"
    assert app.kv == (
        KvStoreConfig(
            "default", "sqlite", (CASES / "good-spin" / ".wasmbridge" / "kv.sqlite").resolve()
        ),
    )


def test_a_minimal_wagi_app_needs_no_stores(tmp_path: Path) -> None:
    app = load_manifest(write_app(tmp_path))
    (route,) = app.routes
    assert (route.path, route.argv, route.entrypoint) == (
        "/...",
        "${SCRIPT_NAME} ${ARGS}",
        "_start",
    )
    assert app.kv == ()


def test_spin_format_is_read_by_content_whatever_the_file_name(tmp_path: Path) -> None:
    assert load_manifest(write_app(tmp_path, name="app.toml")).name == "cgi"


def test_a_file_named_spin_toml_without_a_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("spin.toml").write_text('[application]\nname = "x"\n')
    with pytest.raises(ManifestError) as caught:
        load_manifest("spin.toml")
    assert (
        str(caught.value).splitlines()[0]
        == 'spin.toml:1:1: missing "spin_manifest_version" at the top level'
    )
    assert caught.value.hint == "start the file with spin_manifest_version = 2"


def test_version_one_by_its_old_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("spin.toml").write_text('spin_version = "1"\nname = "x"\n')
    with pytest.raises(ManifestError) as caught:
        load_manifest("spin.toml")
    assert (
        str(caught.value).splitlines()[0]
        == "spin.toml:1:16: spin.toml manifest version 1 is not supported"
    )


@pytest.mark.parametrize(
    ("extra", "first_line"),
    [
        (
            'exclude_files = ["a"]',
            'spin.toml:13:1: "exclude_files" in [component.site] is not supported',
        ),
        (
            'allowed_http_hosts = ["example.com"]',
            'spin.toml:13:1: "allowed_http_hosts" in [component.site] is not supported',
        ),
        (
            'sqlite_databases = ["default"]',
            'spin.toml:13:1: "sqlite_databases" in [component.site] is not supported',
        ),
        (
            "[component.site.dependencies]",
            'spin.toml:13:17: "dependencies" in [component.site] is not supported',
        ),
        (
            "[component.site.variables]",
            'spin.toml:13:17: "variables" in [component.site] is not supported',
        ),
        (
            'souce = "x"',
            'spin.toml:13:1: unknown key "souce" in [component.site] (did you mean "source"?)',
        ),
        ('files = ["missing"]', 'spin.toml:13:10: files folder "missing" not found'),
        (
            'files = [{ source = ".", destination = "data" }]',
            'spin.toml:13:40: guest path "data" must be absolute',
        ),
        (
            "environment = { N = 1 }",
            'spin.toml:13:21: environment variable "N" must be a string, got an integer (1)',
        ),
        (
            'allowed_outbound_hosts = ["example.com:443"]',
            'spin.toml:13:27: outbound host "example.com:443" has no scheme',
        ),
        (
            '[application.trigger.http]\nbase = "/"',
            'spin.toml:13:14: "trigger" in [application] is not supported',
        ),
    ],
    ids=lambda v: v.split("\n")[0][:40],
)
def test_unsupported_parts_are_refused_by_name(
    extra: str, first_line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert message_of(tmp_path, extra, monkeypatch) == first_line


def test_private_routes_and_inline_components_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = WAGI_APP.format(extra="").replace('route = "/..."', "route = { private = true }")
    Path("spin.toml").write_text(text)
    with pytest.raises(ManifestError, match="private routes"):
        load_manifest("spin.toml")
    text = WAGI_APP.format(extra="").replace(
        'component = "site"', 'component = { source = "site.wasm" }'
    )
    Path("spin.toml").write_text(text)
    with pytest.raises(ManifestError) as caught:
        load_manifest("spin.toml")
    assert (
        str(caught.value).splitlines()[0]
        == "spin.toml:8:13: inline component tables are not supported"
    )
