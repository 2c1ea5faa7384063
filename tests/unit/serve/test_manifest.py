"""load_manifest on wasmbridge.toml and spin.toml fixtures: whole messages, whole configs.

Each folder in tests/fixtures/serve/manifests/ holds one manifest and either
error.txt (the exact ManifestError text, then its ``hint:`` lines) or
expect.txt (the AppConfig as JSON, paths relative to the folder).
``UPDATE_GOLDEN=1`` rewrites both from the current behaviour.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from wasmbridge.errors import ManifestError
from wasmbridge.serve.config import AppConfig, KvStoreConfig, Route, RouteLimits
from wasmbridge.serve.manifest import load_manifest

CASES = Path(__file__).parents[2] / "fixtures" / "serve" / "manifests"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def case_names(*, good: bool) -> list[str]:
    """Folders named good-* load; every other folder (but _assets) fails."""
    return sorted(
        d.name
        for d in CASES.iterdir()
        if d.is_dir() and not d.name.startswith("_") and d.name.startswith("good-") == good
    )


def manifest_in(case: Path) -> str:
    return next(n for n in ("wasmbridge.toml", "spin.toml") if (case / n).is_file())


def error_text(exc: ManifestError) -> str:
    hints = [f"hint: {line}" for line in (exc.hint or "").splitlines()]
    return "\n".join([str(exc), *hints]) + "\n"


def config_text(app: AppConfig, case: Path) -> str:
    """The AppConfig as stable JSON: paths relative to the case folder."""

    def plain(value: object) -> object:
        if isinstance(value, Path):
            return os.path.relpath(value, case)
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return json.dumps(plain(dataclasses.asdict(app)), indent=2) + "\n"


def check_text(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual)
    assert actual == path.read_text()


@pytest.mark.parametrize("name", case_names(good=False))
def test_bad_manifest_message(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES / name
    monkeypatch.chdir(case)
    with pytest.raises(ManifestError) as caught:
        load_manifest(manifest_in(case))
    check_text(case / "error.txt", error_text(caught.value))


@pytest.mark.parametrize("name", case_names(good=True))
def test_good_manifest_config(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES / name
    monkeypatch.chdir(case)
    app = load_manifest(manifest_in(case))
    check_text(case / "expect.txt", config_text(app, case))


def test_fixture_set_covers_both_formats() -> None:
    errors = case_names(good=False)
    assert any(n.startswith("spin-") for n in errors)
    assert len(errors) >= 25
    assert len(case_names(good=True)) >= 3


def test_full_example_as_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES / "good-full")
    app = load_manifest("wasmbridge.toml")
    assets = (CASES / "_assets").resolve()
    cart, cgi, site = app.routes
    assert cart.kind == "bridge" and cart.module == assets / "crate"
    assert cart.limits == RouteLimits(memory_mb=32, timeout_ms=500, max_body_kb=16)
    assert [m.writable for m in cart.files] == [False, True]
    assert cgi.kind == "wagi" and cgi.entrypoint == "main"
    assert cgi.limits == RouteLimits(max_response_kb=64)
    assert site == Route(
        path="/...", kind="static", module=None, static=assets / "web", where="wasmbridge.toml:21:1"
    )
    assert app.store("default") == KvStoreConfig(
        "default", "sqlite", path=CASES.resolve() / "good-full" / ".wasmbridge" / "kv.sqlite"
    )
    assert app.store("sessions").url == "redis://127.0.0.1:6379/1"
    with pytest.raises(KeyError):
        app.store("unused")  # declared, but no route names it


def test_route_where_is_relative_to_the_working_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    app = load_manifest((CASES / "good-minimal" / "wasmbridge.toml").resolve())
    assert app.routes[0].where == "good-minimal/wasmbridge.toml:3:1"
    assert app.manifest == (CASES / "good-minimal" / "wasmbridge.toml").resolve()


def test_a_folder_stands_for_its_manifest() -> None:
    assert load_manifest(CASES / "good-minimal").name == "site"
    assert load_manifest(CASES / "good-spin").name == "spin-wagi"


def test_missing_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ManifestError) as caught:
        load_manifest("wasmbridge.toml")
    assert str(caught.value) == "wasmbridge.toml: no such file"
    assert caught.value.hint == (
        "create a wasmbridge.toml (docs/serve.md shows one), or pass the manifest's path"
    )
    with pytest.raises(ManifestError) as caught:
        load_manifest(".")
    assert str(caught.value) == ".: no wasmbridge.toml or spin.toml in this folder"


def test_manifest_that_is_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("wasmbridge.toml").write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(ManifestError) as caught:
        load_manifest("wasmbridge.toml")
    assert str(caught.value) == "wasmbridge.toml: not UTF-8 text (byte 11)"


def test_syntax_error_at_end_of_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("wasmbridge.toml").write_text('name = "x"\nlist = [1,\n')
    with pytest.raises(ManifestError) as caught:
        load_manifest("wasmbridge.toml")
    assert str(caught.value) == (
        "wasmbridge.toml:3:1: invalid TOML: invalid value\n  |\n3 | \n  | ^"
    )


def test_caret_sits_under_the_column_after_tabs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("wasmbridge.toml").write_text('name = "x"\n[[route]]\n\tpath = "/"\n\tstatc = "web"\n')
    with pytest.raises(ManifestError) as caught:
        load_manifest("wasmbridge.toml")
    assert str(caught.value) == (
        'wasmbridge.toml:4:2: unknown key "statc" in [[route]] (did you mean "static"?)\n'
        "  |\n"
        '4 |  statc = "web"\n'
        "  |  ^"
    )


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("http://127.0.0.1:9000", None),
        ("https://*.example.com", None),
        ("*://*:*", None),
        ("http://[::1]:8080", None),
        ("*://cache.internal:6379", None),
        ("*://cache.internal", "needs a port"),
        ("redis://cache.internal:6379", 'has the scheme "redis"; guests make HTTP requests only'),
        ("ftp://h:21", 'has the scheme "ftp"; guests make HTTP requests only'),
        ("HTTP://example.com", 'has a bad scheme "HTTP"'),
        ("http://", "has a bad host"),
        ("http://user@example.com", "must be scheme://host[:port] only"),
        ("http://example.com:0", 'has a bad port "0"'),
        ("http://example.com:8000-8999", None),
        ("http://127.0.0.1:²", 'has a bad port "²"'),
        ("http://127.0.0.1:٣", 'has a bad port "٣"'),
        (
            "http://example.com:9-8",
            "cannot be read ('http://example.com:9-8': port '9-8' is outside 1-65535)",
        ),
        ("http://example.com:1-", 'has a bad port "1-"'),
        ("http://[::1", "cannot be read ('http://[::1': an IPv6 address needs its closing ']')"),
        (
            "http://[1.2.3.4]:80",
            "cannot be read ('http://[1.2.3.4]:80': [1.2.3.4] is not an IPv6 address)",
        ),
    ],
    ids=str,
)
def test_outbound_host_forms(entry: str, problem: str | None) -> None:
    from wasmbridge.serve.manifest_checks import outbound_problem

    found = outbound_problem(entry)
    assert (found[0] if found else None) == problem


def test_every_outbound_host_the_manifest_takes_the_server_reads() -> None:
    """The start-up check and the server's parser must agree: an entry passing the
    check once crashed the server at its first request."""
    from itertools import product

    from wasmbridge.serve.manifest_checks import outbound_problem
    from wasmbridge.serve.services.outbound import parse_allowed

    schemes = ["http://", "https://", "*://", "HTTP://", ""]
    hosts = ["h", "a_b.com", "héllo.com", "*", "*.x.com", "x*.com", "1.2.3.4", "1.2.3.4.5",
             "[::1", "[::1]", "[::1]]", "[1.2.3.4]", "[fe80::1%eth0]", "[::ffff:1.2.3.4]", ""]  # fmt: skip
    tails = ["", ":", ":80", ":*", ":5-5", ":0", ":65536", ":x", "x", "]", "/", ":80/", "@h"]
    taken = 0
    for scheme, host, tail in product(schemes, hosts, tails):
        entry = scheme + host + tail
        if outbound_problem(entry) is None:
            parse_allowed(entry)  # raises if the server could not read it
            taken += 1
    assert taken > 20


def test_byte_order_mark_is_not_part_of_the_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    web = tmp_path / "web"
    web.mkdir()
    Path("wasmbridge.toml").write_bytes(
        b'\xef\xbb\xbfname = "site"\n[[route]]\npath = "/"\nstatic = "web"\n'
    )
    app = load_manifest("wasmbridge.toml")
    assert app.name == "site"
    assert app.routes[0].where == "wasmbridge.toml:2:1"


def test_toml_error_text_is_kept_on_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some tomllib versions print the character they refuse as it is."""
    import tomllib

    def loads(text: str) -> dict[str, object]:
        raise tomllib.TOMLDecodeError("Illegal character '\n'\u202e (at line 1, column 10)")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tomllib, "loads", loads)
    Path("wasmbridge.toml").write_text('name = "a\nb"\n')
    with pytest.raises(ManifestError) as caught:
        load_manifest("wasmbridge.toml")
    assert str(caught.value) == (
        "wasmbridge.toml:1:10: invalid TOML: illegal character '\\n'\\u202e\n"
        '  |\n1 | name = "a\n  |          ^'
    )


def test_recursion_in_tomllib_is_a_manifest_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nesting the scan did not see as too deep still ends in a ManifestError."""
    import tomllib

    def loads(text: str) -> dict[str, object]:
        raise RecursionError

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tomllib, "loads", loads)
    Path("wasmbridge.toml").write_text("x = [[1]]\n")
    with pytest.raises(ManifestError) as caught:
        load_manifest("wasmbridge.toml")
    assert str(caught.value).splitlines()[0] == (
        "wasmbridge.toml:1:1: invalid TOML: arrays and inline tables nest too deeply "
        "(more than 32 levels)"
    )


def test_deep_nesting_anywhere_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for deep in ("[" * 100_000, "[{a=" * 5000 + "1" + "}]" * 5000, "{ a = [" * 17):
        Path("wasmbridge.toml").write_text(f'name = "x"\n[t]\nv = {deep}\n')
        with pytest.raises(ManifestError, match=r"^wasmbridge\.toml:3:\d+: .* nest too deeply"):
            load_manifest("wasmbridge.toml")


def test_huge_manifest_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("wasmbridge.toml").write_text("# " + "x" * (1024 * 1024) + "\n")
    with pytest.raises(ManifestError) as caught:
        load_manifest("wasmbridge.toml")
    assert str(caught.value) == (
        "wasmbridge.toml: 1,048,579 bytes is too large for a manifest (the limit is 1,048,576)"
    )


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/healthz", "is reserved"),
        ("/metrics", "is reserved"),
        ("/healthz/...", "is reserved"),
        ("/metrics/...", "is reserved"),
        ("/a/*", 'has "*"'),
        ("/*", 'has "*"'),
        ("/a*b/c", 'has "*"'),
        ("/...", None),
        ("/:page", None),
        ("/metrics/:id", None),
        ("/healthz2", None),
        ("/api/metrics", None),
    ],
    ids=str,
)
def test_reserved_and_star_route_paths(path: str, problem: str | None) -> None:
    from wasmbridge.serve.manifest_checks import TableReader, check_route_path
    from wasmbridge.serve.toml_locate import ManifestSource

    source = ManifestSource("m.toml", f'path = "{path}"\n', Path("m.toml"))
    reader = TableReader(source, {"path": path}, (), "here", ("path",))
    if problem is None:
        assert check_route_path(reader, "path", path) == path
        return
    with pytest.raises(ManifestError) as caught:
        check_route_path(reader, "path", path)
    assert problem in str(caught.value).splitlines()[0]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis://127.0.0.1:6379/0", None),
        ("redis://", None),  # the Redis client's localhost:6379, database 0
        ("redis://:secret@/1", None),
        ("redis://[::1]:6379/2", None),
        ("rediss://user:p%40ss@cache:6380/0?ssl_cert_reqs=none", None),
        ("unix:///run/redis.sock?db=2", None),
        ("redis://h:0/0", "has a bad port (a number from 1 to 65535)"),
        ("redis://h:٣/0", "has a bad port (a number from 1 to 65535)"),
        ("redis://h/²", 'has a bad database "²" (a number, e.g. /0)'),
        ("redis://[::1/0", "cannot be read (Invalid IPv6 URL)"),
        ("http://h/0", "is not a Redis URL"),
    ],
    ids=str,
)
def test_redis_url_forms(url: str, problem: str | None) -> None:
    from wasmbridge.serve.manifest_checks import redis_url_problem

    assert redis_url_problem(url) == problem


def test_a_redis_password_never_shows_in_messages() -> None:
    from wasmbridge.serve.services.kv_redis import redacted

    assert redacted("redis://u:pw@h:1/0") == "redis://u:***@h:1/0"
    assert redacted("redis://h:1/0?password=TopSecret&db=2") == "redis://h:1/0?password=***&db=2"
    assert "TopSecret" not in redacted("redis://[::1/0?password=TopSecret")
