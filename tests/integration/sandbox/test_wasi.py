"""WASI programs and libraries built by Rust for wasm32-wasi, run in the sandbox."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import wasmbridge
from sandbox_helpers import wat
from wasmbridge import Limits

MODES = ["inline", "process"]
REACTOR = wat(
    "(module (global $ready (mut i32) (i32.const 0))"
    ' (func (export "_initialize") (global.set $ready (i32.add (global.get $ready) (i32.const 1))))'
    ' (func (export "ready") (result i32) global.get $ready))'
)


def test_a_reactor_is_initialized_once_at_load() -> None:
    m = wasmbridge.load(REACTOR, name="reactor.wasm")
    assert m.ready() == 1
    assert "_initialize" not in m.exports


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    outbox.mkdir()
    (inbox / "a.txt").write_text("one\ntwo\n")
    (inbox / "b.txt").write_text("three")
    (tmp_path / "secret.txt").write_text("never granted")
    return inbox, outbox


@pytest.mark.toolchain
@pytest.mark.parametrize("isolation", MODES)
def test_tool_reads_a_granted_dir_and_writes_a_result(
    wasi_tool: Path, dirs: tuple[Path, Path], isolation: str
) -> None:
    inbox, outbox = dirs
    result = wasmbridge.run(
        wasi_tool,
        ["summarize", "/in", "/out"],
        dirs={"/in": (str(inbox), "ro"), "/out": str(outbox)},
        env={"MODE": "fast"},
        stdin=b"hello",
        capture=True,
        limits=Limits(timeout_s=10, memory_mb=64),
        isolation=isolation,  # type: ignore[arg-type]
    )
    assert result == wasmbridge.RunResult(0, b"summarized 2 files\n", b"wasi_tool: done\n")
    assert (outbox / "summary.txt").read_text() == (
        "mode=fast stdin=5\na.txt: 8 bytes, 2 lines\nb.txt: 5 bytes, 0 lines\n"
    )


@pytest.mark.toolchain
@pytest.mark.parametrize("isolation", MODES)
def test_argv_env_and_exit_codes_are_exactly_as_given(wasi_tool: Path, isolation: str) -> None:
    def run(*args: str, **kw: object) -> wasmbridge.RunResult:
        return wasmbridge.run(wasi_tool, list(args), capture=True, isolation=isolation, **kw)  # type: ignore[arg-type]

    assert run("args", "x", "y z").stdout == b"wasi_tool.wasm\nargs\nx\ny z\n"
    assert run("env").stdout == b""  # no host environment leaks in
    assert run("env", env={"MODE": "fast", "EMPTY": ""}).stdout == b"EMPTY=\nMODE=fast\n"
    assert run("cat").stdout == b""  # stdin is empty unless given
    assert run("cat", stdin=b"\x00bytes\xff").stdout == b"\x00bytes\xff"
    for code in (0, 3, 125, 126, 200, 255):
        assert run("exit", str(code)).exit_code == code
    big = run("exit", "300")
    assert (big.exit_code, big.exit_status) == (300, 255)


@pytest.mark.toolchain
def test_output_to_files_and_descriptors(wasi_tool: Path, tmp_path: Path) -> None:
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    result = wasmbridge.run(wasi_tool, ["args", "1"], stdout=out, stderr=err, isolation="inline")
    assert (result.stdout, out.read_bytes()) == (None, b"wasi_tool.wasm\nargs\n1\n")
    with err.open("wb") as handle:
        wasmbridge.run(wasi_tool, ["nope"], stderr=handle.fileno(), isolation="process")
    assert err.read_bytes().startswith(b"usage: wasi_tool")


@pytest.mark.toolchain
@pytest.mark.parametrize("isolation", MODES)
def test_permission_denials_reach_the_guest_as_errno(
    wasi_tool: Path, dirs: tuple[Path, Path], isolation: str
) -> None:
    inbox, _ = dirs
    (inbox / "escape").symlink_to("../secret.txt")

    def probe(*args: str) -> bytes | None:
        result = wasmbridge.run(
            wasi_tool, list(args), dirs={"/in": (str(inbox), "ro")}, capture=True,
            isolation=isolation,  # type: ignore[arg-type]
        )  # fmt: skip
        assert result.exit_code == 0
        return result.stdout

    assert probe("read", "/in/a.txt") == b"ok 8\n"
    assert probe("list", "/in") == b"ok 3\n"
    denied = b"error PermissionDenied 63\n"  # EPERM, inside the guest
    assert probe("read", "/in/../secret.txt") == denied
    assert probe("read", "/in/escape") == denied
    assert probe("write", "/in/new.txt") == denied
    assert probe("write", "/in/a.txt") == denied
    # No preopen covers it: Rust's std cannot even name a directory to ask.
    assert probe("read", "/etc/passwd") == b"error Uncategorized -1\n"
    assert not (inbox / "new.txt").exists() and (inbox / "a.txt").read_text() == "one\ntwo\n"


@pytest.mark.toolchain
def test_limits_stop_a_real_program(wasi_tool: Path) -> None:
    start = time.monotonic()
    with pytest.raises(
        wasmbridge.TimeLimitExceeded, match="(?m)while sleeping in WASI poll_oneoff$"
    ):
        wasmbridge.run(
            wasi_tool, ["sleep", "100000"], limits=Limits(timeout_s=0.3), isolation="inline"
        )
    assert time.monotonic() - start < 1.3
    with pytest.raises(wasmbridge.OutputLimitExceeded, match="wrote more than its 64 KiB stdout"):
        wasmbridge.run(
            wasi_tool, ["flood"], capture=True, limits=Limits(timeout_s=5, max_output_bytes=65536),
            isolation="inline",
        )  # fmt: skip
    with pytest.raises(
        wasmbridge.MemoryLimitExceeded, match=r"with its memory at [\d.]+ MiB of its 16 MiB limit"
    ):
        wasmbridge.run(
            wasi_tool,
            ["alloc", "100"],
            capture=True,
            limits=Limits(memory_mb=16),
            isolation="inline",
        )
    assert (
        wasmbridge.run(
            wasi_tool, ["alloc", "4"], capture=True, limits=Limits(memory_mb=16), isolation="inline"
        ).stdout
        == b"allocated 4 MiB\n"
    )


@pytest.mark.toolchain
def test_a_wasi_library_loads_with_nothing_granted(wasi_lib: Path) -> None:
    m = wasmbridge.load(wasi_lib, limits=Limits(timeout_s=0.3))
    assert m.add(2, 3) == 5
    assert m.env_count() == 0
    assert m.read_passwd() != 0
    m.sleep_ms(20)
    start = time.monotonic()
    with pytest.raises(
        wasmbridge.TimeLimitExceeded,
        match=r"(?m)^`sleep_ms\(100000\)` in wasi_lib\.wasm ran past its 0.3 s time limit "
        r"while sleeping in WASI poll_oneoff$",
    ):
        m.sleep_ms(100_000)
    assert time.monotonic() - start < 1.3
    assert m.add(1, 1) == 2


@pytest.mark.toolchain
def test_run_refuses_a_library_and_missing_grants(wasi_lib: Path, tmp_path: Path) -> None:
    with pytest.raises(
        wasmbridge.ModuleError,
        match=r"(?m)^wasi_lib\.wasm is not a WASI command: it exports no `_start` function, not `_start: \(\) -> \(\)`$",
    ):
        wasmbridge.run(wasi_lib, isolation="inline")
    with pytest.raises(
        wasmbridge.SandboxError, match=r"(?m)^cannot grant .*nope as /in: it does not exist$"
    ):
        wasmbridge.run(wasi_lib, dirs={"/in": str(tmp_path / "nope")})
    with pytest.raises(ValueError, match=r"mode 'rx' for '/in' is not 'ro' or 'rw'"):
        wasmbridge.run(wasi_lib, dirs={"/in": (str(tmp_path), "rx")})
    with pytest.raises(TypeError, match=r"expected a list of str, got a single string"):
        wasmbridge.run(wasi_lib, "summarize")
    with pytest.raises(ValueError, match=r"'A=B' is not a variable name"):
        wasmbridge.run(wasi_lib, env={"A=B": "x"})
    with pytest.raises(ValueError, match=r"expected 'process' or 'inline', got 'thread'"):
        wasmbridge.run(wasi_lib, isolation="thread")  # type: ignore[arg-type]
