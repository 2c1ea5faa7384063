"""Process isolation: the watchdog kills what no limit reaches; errors cross intact."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sandbox_corpus import (
    FD_READ,
    FD_WRITE,
    PATH_OPEN,
    SLEEP_FOREVER,
    exit_with,
    wasi_command,
)

import wasmbridge
from wasmbridge import Limits
from wasmbridge.runtime.sandbox.isolate import WATCHDOG_GRACE_S
from wasmbridge.runtime.sandbox.wire import decode_error, encode_error

TRAPS = wasi_command("unreachable")
# Opens /in/fifo read-only (rights: fd_read), which blocks in the host until a writer
# comes (none does), then reads it.
READ_FIFO = wasi_command(
    "(drop (call $open (i32.const 3) (i32.const 1) (i32.const 100) (i32.const 4) (i32.const 0)"
    " (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 48)))"
    "(call $exit"
    " (call $read (i32.load (i32.const 48)) (i32.const 0) (i32.const 1) (i32.const 56)))",
    data='(data (i32.const 0) "\\10\\00\\00\\00\\05\\00\\00\\00") (data (i32.const 100) "fifo")',
    imports=PATH_OPEN + FD_READ,
)


def test_watchdog_kills_a_guest_blocked_on_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")  # nobody ever writes to it
    start = time.monotonic()
    with pytest.raises(wasmbridge.TimeLimitExceeded) as info:
        wasmbridge.run(
            READ_FIFO, dirs={"/in": str(tmp_path)}, limits=Limits(timeout_s=0.3),
            name="fifo.wasm",
        )  # fmt: skip
    elapsed = time.monotonic() - start
    assert str(info.value).startswith(
        "`_start()` in fifo.wasm ran past its 0.3 s time limit while blocked in a host call; "
        "the watchdog killed its process after "
    )
    assert info.value.hint is not None and "--timeout" in info.value.hint
    assert elapsed < 0.3 * 1.1 + WATCHDOG_GRACE_S + 3.0  # + the child's start


def test_limits_inside_the_child_give_their_precise_error() -> None:
    with pytest.raises(
        wasmbridge.TimeLimitExceeded, match="(?m)while sleeping in WASI poll_oneoff$"
    ):
        wasmbridge.run(SLEEP_FOREVER, limits=Limits(timeout_s=0.2), name="sleep.wasm")


def test_errors_cross_the_process_boundary_with_their_attributes() -> None:
    with pytest.raises(wasmbridge.Trap) as info:
        wasmbridge.run(TRAPS, name="trap.wasm")
    assert info.value.kind == "unreachable"
    assert str(info.value).startswith("`_start()` in trap.wasm: unreachable instruction executed")
    assert len(info.value.frames) > 0  # a tuple again, as raised in the child
    assert wasmbridge.run(exit_with(201), name="exit.wasm").exit_code == 201


def test_error_encoding_round_trips() -> None:
    original = wasmbridge.GuestExit("x exited with code 3", code=3, hint="h")
    copy = decode_error(encode_error(original))
    assert isinstance(copy, wasmbridge.GuestExit)
    assert (type(copy), str(copy), copy.hint, copy.code) == (
        wasmbridge.GuestExit,
        str(original),
        "h",
        3,
    )
    unknown = decode_error({"type": "NotOurs", "message": "m", "hint": None})
    assert type(unknown) is wasmbridge.GuestError


def test_inherited_stdin_and_stdout_are_the_parents_descriptors(tmp_path: Path) -> None:
    # A parent that only runs commands in a child never imports wasmtime itself.
    script = (
        "import sys, wasmbridge\n"
        "r = wasmbridge.run(sys.argv[1], stdin='inherit')\n"
        "print('wasmtime' in sys.modules, r.exit_code, file=sys.stderr)\n"
    )
    cat = wasi_command(  # copy 5 bytes of stdin to stdout
        "(drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))"
        "(drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))",
        data='(data (i32.const 0) "\\10\\00\\00\\00\\05\\00\\00\\00")',
        imports=FD_READ + FD_WRITE,
    )
    module = tmp_path / "cat.wasm"
    module.write_bytes(cat)
    proc = subprocess.run(
        [sys.executable, "-c", script, str(module)], input=b"hello world", capture_output=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"hello", b"False 0\n")
