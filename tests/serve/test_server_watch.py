"""--watch's poller (serve/watch.py) on real files, with a stand-in app that records reloads."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from wasmbridge.serve.watch import Watcher, changed, snapshot


class App:
    """What the watcher needs of a ServeApp: the paths to watch, and reload()."""

    def __init__(self, paths: list[Path], failures: int = 0) -> None:
        self.paths = paths
        self.reloads = 0
        self.failures = failures

    def watched_paths(self) -> list[Path]:
        return self.paths

    def reload(self) -> None:
        self.reloads += 1
        if self.failures:
            self.failures -= 1
            raise ValueError("the new version does not load")


def touch(path: Path, text: str) -> None:
    path.write_text(text)
    later = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(later, later))  # a change even on a coarse-grained file system


@pytest.fixture
def crate(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text("fn a() {}")
    (tmp_path / "Cargo.toml").write_text("[package]")
    for build_output in ("target", "pkg", ".git"):
        (tmp_path / build_output).mkdir()
        (tmp_path / build_output / "out").write_text("x")
    return tmp_path


def test_a_watched_folder_means_its_sources_not_its_build_output(crate: Path) -> None:
    assert sorted(snapshot([crate])) == [str(crate / "Cargo.toml"), str(crate / "src" / "lib.rs")]


def test_changed_lists_added_removed_and_modified_files() -> None:
    before = {"a": (1, 1), "b": (1, 1), "c": (1, 1)}
    after = {"a": (1, 1), "b": (2, 1), "d": (1, 1)}
    assert changed(before, after) == ["b", "c", "d"]


def test_a_missing_file_is_watched_until_it_appears(tmp_path: Path) -> None:
    module = tmp_path / "handler.wasm"
    app = App([module])
    watcher = Watcher(app, interval=0.001)
    assert not watcher.poll()
    module.write_bytes(b"\0asm")
    assert watcher.poll()
    assert app.reloads == 1


def test_a_change_reloads_once(crate: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = App([crate])
    watcher = Watcher(app, interval=0.001)
    assert not watcher.poll()
    touch(crate / "src" / "lib.rs", "fn b() {}")
    touch(crate / "target" / "out", "y")
    with caplog.at_level(logging.INFO, "wasmbridge.serve"):
        assert watcher.poll()
    assert not watcher.poll()
    assert app.reloads == 1
    assert [r.getMessage() for r in caplog.records] == [
        f"reloaded after a change to {crate / 'src' / 'lib.rs'}"
    ]


def test_a_failing_reload_is_logged_and_not_retried_until_the_next_change(
    crate: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = App([crate], failures=1)
    seen: list[tuple[list[str], BaseException | None]] = []
    watcher = Watcher(
        app, interval=0.001, on_reload=lambda files, error: seen.append((files, error))
    )
    touch(crate / "Cargo.toml", "[package] broken")
    with caplog.at_level(logging.INFO, "wasmbridge.serve"):
        assert watcher.poll()
    assert not watcher.poll()
    assert app.reloads == 1
    assert caplog.records[0].levelname == "ERROR"
    assert caplog.records[0].getMessage() == (
        f"reload after a change to {crate / 'Cargo.toml'} failed; "
        "still serving the previous version: the new version does not load"
    )
    touch(crate / "Cargo.toml", "[package] fixed")
    assert watcher.poll()
    assert app.reloads == 2
    assert [error is None for _, error in seen] == [False, True]


def test_the_thread_stops(crate: Path) -> None:
    watcher = Watcher(App([crate]), interval=0.001)
    watcher.start()
    watcher.stop()
    assert watcher._thread is None
