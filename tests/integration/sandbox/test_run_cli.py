"""`wasmbridge run`: grants and limits from the command line, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sandbox_corpus import FD_WRITE, LOOP, SLEEP_FOREVER, exit_with, wasi_command, wasi_import

from build_helpers import CliResult, Golden
from wasmbridge.runtime.sandbox.grants import parse_dir, parse_env

Cli = Callable[..., CliResult]
PRINT_ARGS = wasi_command(  # writes "ok\n" when it gets exactly one argument besides argv[0]
    "(drop (call $sizes (i32.const 0) (i32.const 4)))"
    "(if (i32.eq (i32.load (i32.const 0)) (i32.const 2)) (then"
    " (drop (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))))",
    data='(data (i32.const 16) "\\20\\00\\00\\00\\03\\00\\00\\00") (data (i32.const 32) "ok\\n")',
    imports=wasi_import("args_sizes_get", "sizes", 2) + FD_WRITE,
)


def wasmbridge_run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real command, in its own process: the guest writes to real descriptors."""
    return subprocess.run(
        [sys.executable, "-m", "wasmbridge", "run", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )


@pytest.fixture
def modules(tmp_path: Path) -> Path:
    for name, data in {
        "args.wasm": PRINT_ARGS,
        "exit42.wasm": exit_with(42),
        "exit300.wasm": exit_with(300),
        "sleep.wasm": SLEEP_FOREVER,
        "library.wasm": LOOP,
    }.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "in").mkdir()
    return tmp_path


def test_help_text(cli: Cli, golden: Golden, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = cli("run", "--help")
    assert (result.code, result.err) == (0, "")
    golden.check("cli/help-run.txt", result.out)


def test_program_output_and_exit_codes_pass_through(modules: Path) -> None:
    ok = wasmbridge_run(
        "args.wasm", "--dir", "in::/in:ro", "--env", "MODE=fast", "--timeout", "5",
        "--max-memory", "64", "--", "--not-an-option", cwd=modules,
    )  # fmt: skip
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "ok\n", "")
    assert wasmbridge_run("exit42.wasm", cwd=modules).returncode == 42
    assert wasmbridge_run("exit300.wasm", cwd=modules).returncode == 255


def test_a_limit_hit_is_one_error_line_and_a_hint(modules: Path) -> None:
    result = wasmbridge_run("sleep.wasm", "--timeout", "0.2", cwd=modules)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: `_start()` in sleep.wasm ran past its 0.2 s time limit while sleeping in WASI "
        "poll_oneoff",
        "  hint:  raise Limits(timeout_s=...) or --timeout",
    ]
    verbose = subprocess.run(
        [sys.executable, "-m", "wasmbridge", "-v", "run", "sleep.wasm", "--timeout", "0.2"],
        capture_output=True, text=True, timeout=60, cwd=modules, check=False,
    )  # fmt: skip
    assert verbose.returncode == 1 and "Traceback (most recent call last)" in verbose.stderr


def test_host_side_errors_exit_1_and_usage_errors_2(cli: Cli, modules: Path) -> None:
    missing = wasmbridge_run("args.wasm", "--dir", "nope::/in", cwd=modules)
    assert (missing.returncode, missing.stderr.splitlines()[0]) == (
        1,
        "error: cannot grant nope as /in: it does not exist",
    )
    library = wasmbridge_run("library.wasm", cwd=modules)
    assert library.returncode == 1
    assert library.stderr.startswith("error: library.wasm is not a WASI command")
    assert "Traceback" not in missing.stderr + library.stderr
    bad_dir = cli("run", "x.wasm", "--dir", "::")
    assert bad_dir.code == 2
    assert bad_dir.err.splitlines()[-1] == (
        "wasmbridge run: error: argument --dir: expected HOST::GUEST[:ro|:rw], got '::'"
    )
    assert cli("run", "x.wasm", "--timeout", "0").code == 2
    assert cli("run", "x.wasm", "--env", "NOVALUE").code == 2


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("./in::/in:ro", ("/in", ("./in", "ro"))),
        ("./out::/out", ("/out", ("./out", "rw"))),
        ("data::/data:rw", ("/data", ("data", "rw"))),
        ("data", ("data", ("data", "rw"))),
        ("data:ro", ("data", ("data", "ro"))),
        ("C::/c::/x", ("/c::/x", ("C", "rw"))),
    ],
)
def test_dir_spellings(text: str, parsed: tuple[str, tuple[str, str]]) -> None:
    assert parse_dir(text) == parsed


def test_env_spellings() -> None:
    assert parse_env("A=1") == ("A", "1")
    assert parse_env("A=") == ("A", "")
    assert parse_env("A=b=c") == ("A", "b=c")
    with pytest.raises(ValueError, match="expected NAME=VALUE, got '=x'"):
        parse_env("=x")
