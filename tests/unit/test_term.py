"""The terminal: colour decisions, verbosity, the error shape (_term.py)."""

from __future__ import annotations

import io

import pytest

from wasmbridge._term import ColorChoice, Terminal, use_color


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "choice", "env", "expected"),
    [
        (True, "auto", {}, True),
        (False, "auto", {}, False),
        (True, "auto", {"NO_COLOR": "1"}, False),
        (False, "auto", {"FORCE_COLOR": "1"}, True),
        (True, "auto", {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        (True, "auto", {"TERM": "dumb"}, False),
        (True, "auto", {"NO_COLOR": ""}, True),
        (False, "always", {"NO_COLOR": "1"}, True),
        (True, "never", {"FORCE_COLOR": "1"}, False),
    ],
    ids=[
        "tty",
        "pipe",
        "no-color",
        "force-color",
        "no-color-wins",
        "dumb",
        "empty-no-color",
        "always",
        "never",
    ],
)
def test_use_color(tty: bool, choice: ColorChoice, env: dict[str, str], expected: bool) -> None:
    stream = Tty() if tty else io.StringIO()
    assert use_color(stream, choice, env) is expected


def _term(verbosity: int = 0, *, color: bool = False) -> tuple[Terminal, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return (
        Terminal(verbosity=verbosity, color_out=color, color_err=color, out=out, err=err),
        out,
        err,
    )


def test_steps_are_right_aligned_like_cargo() -> None:
    term, out, err = _term()
    term.step("Compiling", "hello (release, size profile)")
    term.step("Finished", "pkg/hello.wasm 100 B")
    assert (
        err.getvalue()
        == "   Compiling hello (release, size profile)\n    Finished pkg/hello.wasm 100 B\n"
    )
    assert out.getvalue() == ""


def test_steps_are_coloured_only_when_asked() -> None:
    term, _, err = _term(color=True)
    term.step("Writing", "pkg/")
    assert err.getvalue() == "\x1b[1;32m     Writing\x1b[0m pkg/\n"


def test_error_shape_with_where_and_hints() -> None:
    term, _, err = _term(verbosity=-2)
    term.error(
        "no rustc can build wasm32-unknown-unknown",
        where="~/.cargo/bin/rustc 1.95.0",
        hints=["first fix\nsecond fix"],
    )
    assert err.getvalue() == (
        "error: no rustc can build wasm32-unknown-unknown\n"
        "  where: ~/.cargo/bin/rustc 1.95.0\n"
        "  hint:  first fix\n"
        "  hint:  second fix\n"
    )


def test_continuation_lines_of_a_message_are_indented() -> None:
    term, _, err = _term()
    term.warn("wasm-opt failed\nwhere: x.wasm", hints=["install it"])
    assert err.getvalue() == "warning: wasm-opt failed\n  where: x.wasm\n  hint:  install it\n"


@pytest.mark.parametrize(
    ("verbosity", "shown"),
    [
        (-2, ["error"]),
        (-1, ["warn", "error"]),
        (0, ["step", "warn", "error"]),
        (1, ["step", "info", "warn", "error"]),
    ],
    ids=["-qq", "-q", "default", "-v"],
)
def test_verbosity_filters_stderr(verbosity: int, shown: list[str]) -> None:
    term, out, err = _term(verbosity)
    term.step("Step")
    term.info("info")
    term.warn("warn")
    term.error("error")
    term.result("result")
    lines = err.getvalue()
    assert [k for k in ["Step", "info", "warn", "error"] if k in lines] == [
        "Step" if k == "step" else k for k in shown
    ]
    assert out.getvalue() == "result\n"


def test_symbols_fall_back_to_ascii() -> None:
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    term = Terminal(out=out)
    assert [term.symbol(v) for v in (True, False, None)] == ["ok", "XX", "--"]
    utf8 = Terminal(out=io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    assert [utf8.symbol(v) for v in (True, False, None)] == ["✓", "✗", "–"]
