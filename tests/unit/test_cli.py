"""The command line: parsing, help texts, the error boundary (cli.py)."""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from build_helpers import CliResult, Golden
from wasmbridge import __version__
from wasmbridge._term import Terminal
from wasmbridge.cli import EXIT_BUG, build_parser, cmd_build, run
from wasmbridge.errors import BuildFailed

Cli = Callable[..., CliResult]


@pytest.fixture(autouse=True)
def _fixed_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps help to the terminal width


@pytest.mark.parametrize(
    "command",
    ["", "new", "build", "doctor", "inspect", "run", "serve", "serve-pkg"],
    ids=["main", "new", "build", "doctor", "inspect", "run", "serve", "serve-pkg"],
)
def test_help_text(cli: Cli, golden: Golden, command: str) -> None:
    result = cli(*([command] if command else []), "--help")
    assert (result.code, result.err) == (0, "")
    golden.check(f"cli/help-{command or 'main'}.txt", result.out)


def test_version(cli: Cli) -> None:
    assert cli("--version") == CliResult(0, f"wasmbridge {__version__}\n", "")


def test_no_command_is_a_usage_error(cli: Cli) -> None:
    result = cli()
    assert result.code == 2
    assert result.err.startswith("usage: wasmbridge [-h]")


def test_unknown_option_is_a_usage_error(cli: Cli) -> None:
    result = cli("build", "--bogus")
    assert result.code == 2
    assert result.err.splitlines()[-1] == "wasmbridge: error: unrecognized arguments: --bogus"


def test_build_defaults() -> None:
    args = build_parser().parse_args(["build"])
    assert (args.path, args.dev, args.panic_messages, args.out_dir) == (".", False, False, "pkg")
    assert (args.verbose, args.quiet, args.color) == (0, 0, "auto")
    assert args.handler is cmd_build


@pytest.mark.parametrize(
    "argv",
    [["-v", "--color", "never", "build", "crate"], ["build", "crate", "-v", "--color", "never"]],
    ids=["before-command", "after-command"],
)
def test_output_options_work_before_and_after_the_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.path, args.verbose, args.quiet, args.color) == ("crate", 1, 0, "never")


def test_counts_quiet() -> None:
    args = build_parser().parse_args(["inspect", "x.wasm", "-qq", "--json"])
    assert (args.quiet, args.json, args.top) == (2, True, 20)


def test_a_library_error_is_one_error_line_plus_hints(cli: Cli, tmp_path: Path) -> None:
    result = cli("inspect", str(tmp_path / "nope.wasm"))
    assert result == CliResult(
        1,
        "",
        f"error: {tmp_path / 'nope.wasm'} does not exist\n"
        "  hint:  build it with `wasmbridge build`, or check the path\n",
    )


def test_verbose_adds_the_traceback(cli: Cli, tmp_path: Path) -> None:
    result = cli("-v", "inspect", str(tmp_path / "nope.wasm"))
    assert result.code == 1
    assert result.err.startswith("Traceback (most recent call last):")
    assert "wasmbridge.errors.InvalidModule" in result.err


def _terminal() -> tuple[Terminal, io.StringIO]:
    err = io.StringIO()
    return Terminal(out=io.StringIO(), err=err), err


def test_an_unexpected_exception_is_a_bug_with_exit_70() -> None:
    def broken(args: argparse.Namespace, term: Terminal) -> int:
        raise ZeroDivisionError("boom")

    term, err = _terminal()
    assert run(broken, argparse.Namespace(), term) == EXIT_BUG
    lines = err.getvalue().splitlines()
    assert lines[:2] == [
        "error: wasmbridge crashed; this is a bug, please report it",
        "  hint:  include the command you ran and the traceback below",
    ]
    assert lines[2] == "Traceback (most recent call last):"
    assert lines[-1] == "ZeroDivisionError: boom"


def test_a_build_failure_exits_1_without_traceback() -> None:
    def failing(args: argparse.Namespace, term: Terminal) -> int:
        raise BuildFailed("cargo build failed for x (exit status 101)", hint="fix it")

    term, err = _terminal()
    assert run(failing, argparse.Namespace(), term) == 1
    assert err.getvalue() == (
        "error: cargo build failed for x (exit status 101)\n  hint:  fix it\n"
    )


@pytest.mark.parametrize(
    "command", ["main", "new", "build", "doctor", "inspect", "run", "serve", "serve-pkg"]
)
def test_docs_cli_md_mirrors_the_help_texts(command: str) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    help_text = (Path(__file__).parents[1] / "golden" / "cli" / f"help-{command}.txt").read_text()
    assert f"```\n{help_text}```" in docs, f"docs/cli.md is missing `{command} --help`"
