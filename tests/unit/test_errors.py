"""Hints reach the reader: a traceback shows each error's hint once (errors.py)."""

from __future__ import annotations

import pickle
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

import wasmbridge
from build_helpers import CliResult
from wasmbridge.errors import BuildFailed, GuestExit, WasmbridgeError

Cli = Callable[..., CliResult]
LOAD_HINT = "build it first with `wasmbridge build`, or check the path"


def _formatted(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def test_a_traceback_of_a_real_error_shows_its_hint_once(tmp_path: Path) -> None:
    missing = tmp_path / "nope.wasm"
    with pytest.raises(wasmbridge.InvalidModule) as info:
        wasmbridge.load(missing)
    assert info.value.hint == LOAD_HINT
    text = _formatted(info.value)
    assert text.endswith(
        f"wasmbridge.errors.InvalidModule: {missing}: no such file\nhint: {LOAD_HINT}\n"
    )
    assert text.count(LOAD_HINT) == 1


def test_a_multi_line_hint_is_one_note_with_a_label_per_line() -> None:
    error = BuildFailed("cargo build failed", hint="first way out\nsecond way out")
    assert error.__notes__ == ["hint: first way out\nhint: second way out"]
    assert _formatted(error).endswith(
        "BuildFailed: cargo build failed\nhint: first way out\nhint: second way out\n"
    )


def test_an_error_without_a_hint_has_no_note() -> None:
    assert not hasattr(WasmbridgeError("plain"), "__notes__")
    assert not hasattr(GuestExit("exit 3", code=3), "__notes__")


def test_setting_the_hint_again_replaces_its_note() -> None:
    error = WasmbridgeError("x", hint="old")
    error.add_note("someone else's note")
    error.hint = "new"
    assert error.__notes__ == ["someone else's note", "hint: new"]
    error.hint = None
    assert error.__notes__ == ["someone else's note"]


def test_raising_the_same_error_twice_keeps_one_note() -> None:
    error = WasmbridgeError("x", hint="fix")
    for _ in range(2):
        with pytest.raises(WasmbridgeError):
            raise error
    assert error.__notes__ == ["hint: fix"]


def test_a_pickled_error_keeps_one_note() -> None:
    copy = pickle.loads(pickle.dumps(BuildFailed("cargo failed", hint="fix it")))
    assert (str(copy), copy.hint, copy.__notes__) == ("cargo failed", "fix it", ["hint: fix it"])


def test_an_error_rebuilt_from_an_isolated_compiler_keeps_one_note() -> None:
    from wasmbridge.runtime.sandbox.wire import decode_error, encode_error

    copy = decode_error(encode_error(BuildFailed("cargo failed", hint="fix it")))
    assert (type(copy), copy.hint, copy.__notes__) == (BuildFailed, "fix it", ["hint: fix it"])


def test_the_cli_prints_the_hint_once(cli: Cli, tmp_path: Path) -> None:
    result = cli("inspect", str(tmp_path / "nope.wasm"))
    assert result.err == (
        f"error: {tmp_path / 'nope.wasm'} does not exist\n"
        "  hint:  build it with `wasmbridge build`, or check the path\n"
    )


def test_the_cli_prints_the_hint_once_after_the_verbose_traceback(cli: Cli, tmp_path: Path) -> None:
    result = cli("-v", "inspect", str(tmp_path / "nope.wasm"))
    assert result.code == 1
    assert result.err.startswith("Traceback (most recent call last):")
    assert result.err.endswith(
        f"wasmbridge.errors.InvalidModule: {tmp_path / 'nope.wasm'} does not exist\n"
        f"error: {tmp_path / 'nope.wasm'} does not exist\n"
        "  hint:  build it with `wasmbridge build`, or check the path\n"
    )
    assert result.err.count("build it with `wasmbridge build`") == 1
