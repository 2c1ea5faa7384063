"""The terminal: the only module of wasmbridge that prints.

Results (artifact paths, ``inspect`` output, JSON) go to stdout; progress
steps, warnings and errors go to stderr, so ``wasmbridge build > paths.txt``
keeps only the paths. Colour is decided per stream: ``--color always|never``
wins, otherwise ``NO_COLOR`` turns it off, ``FORCE_COLOR`` turns it on, and
a terminal (not ``TERM=dumb``) gets colour.

Verbosity is ``-v`` count minus ``-q`` count: steps show at 0 and above,
details (``info``) at 1 and above, warnings at -1 and above; errors always.

    term = Terminal.from_env(verbosity=0, color="auto")
    term.step("Compiling", "hello (release, size profile)")
    term.result("pkg/hello.wasm")
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, TextIO

from .errors import WasmbridgeError, hint_note

ColorChoice = Literal["auto", "always", "never"]
COLOR_CHOICES: tuple[ColorChoice, ...] = ("auto", "always", "never")

_RESET = "\x1b[0m"
_STYLES = {
    "step": "\x1b[1;32m",  # bold green, as cargo's own steps
    "error": "\x1b[1;31m",
    "warn": "\x1b[1;33m",
    "hint": "\x1b[1;36m",
    "dim": "\x1b[2m",
    "bold": "\x1b[1m",
    "ok": "\x1b[32m",
    "bad": "\x1b[31m",
}
STEP_WIDTH = 12  # cargo right-aligns its verbs in 12 columns; ours line up with them


def use_color(
    stream: TextIO, choice: ColorChoice, environ: Mapping[str, str] | None = None
) -> bool:
    """Whether to colour ``stream`` under ``--color choice`` and the environment."""
    env = os.environ if environ is None else environ
    if choice != "auto":
        return choice == "always"
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and env.get("TERM") != "dumb"


class Terminal:
    """Writes results to stdout and progress/diagnostics to stderr.

    The streams are looked up on every write (``sys.stdout`` by default),
    so redirections made after construction, as pytest's, are honoured.
    """

    def __init__(
        self,
        *,
        verbosity: int = 0,
        color_out: bool = False,
        color_err: bool = False,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.verbosity = verbosity
        self.color_out = color_out
        self.color_err = color_err
        self._out = out
        self._err = err

    @classmethod
    def from_env(
        cls,
        *,
        verbosity: int = 0,
        color: ColorChoice = "auto",
        environ: Mapping[str, str] | None = None,
    ) -> Terminal:
        """A terminal on sys.stdout/sys.stderr, colouring each as ``color`` says."""
        return cls(
            verbosity=verbosity,
            color_out=use_color(sys.stdout, color, environ),
            color_err=use_color(sys.stderr, color, environ),
        )

    @property
    def out(self) -> TextIO:
        return self._out if self._out is not None else sys.stdout

    @property
    def err(self) -> TextIO:
        return self._err if self._err is not None else sys.stderr

    @property
    def quiet(self) -> bool:
        """True under ``-q``: no progress steps (tools are asked to be quiet too)."""
        return self.verbosity < 0

    def style(self, text: str, name: str, *, stream: Literal["out", "err"] = "err") -> str:
        """``text`` wrapped in the named style when that stream is coloured."""
        enabled = self.color_err if stream == "err" else self.color_out
        return f"{_STYLES[name]}{text}{_RESET}" if enabled else text

    def symbol(self, ok: bool | None) -> str:
        """✓, ✗ or – (for stdout), with ASCII stand-ins when it cannot encode them."""
        mark = {True: "✓", False: "✗", None: "–"}[ok]
        encoding = getattr(self.out, "encoding", None) or "utf-8"  # StringIO: any text
        try:
            mark.encode(encoding)
        except (UnicodeEncodeError, LookupError):
            mark = {True: "ok", False: "XX", None: "--"}[ok]
        name = {True: "ok", False: "bad", None: "dim"}[ok]
        return self.style(mark, name, stream="out")

    # -- stderr ---------------------------------------------------------------

    def step(self, name: str, detail: str = "") -> None:
        """A named progress step: ``   Compiling hello (release, size profile)``."""
        if self.verbosity >= 0:
            label = self.style(name.rjust(STEP_WIDTH), "step")
            self._write_err(f"{label} {detail}".rstrip())

    def info(self, message: str) -> None:
        """A detail shown with ``-v``."""
        if self.verbosity >= 1:
            for line in message.splitlines():
                self._write_err(f"{' ' * (STEP_WIDTH + 1)}{self.style(line, 'dim')}")

    def warn(self, message: str, *, hints: Iterable[str] = ()) -> None:
        """``warning: ...`` plus ``hint:`` lines; hidden by ``-qq``."""
        if self.verbosity >= -1:
            self._diagnostic("warning", "warn", message, None, hints)

    def error(self, message: str, *, where: str | None = None, hints: Iterable[str] = ()) -> None:
        """``error: ...`` plus ``where:`` and ``hint:`` lines; always shown.

        Lines of ``message`` after the first are printed indented beneath it,
        so an error may carry its own ``where:`` lines.
        """
        self._diagnostic("error", "error", message, where, hints)

    def tool_output(self, text: str) -> None:
        """Output of a tool (cargo) that could not write to our stderr itself."""
        self.err.write(text)
        self.err.flush()

    def traceback(self, text: str) -> None:
        """A formatted traceback of the error being handled, before its ``error:`` line.

        The error's hint note is left out: the ``hint:`` lines that follow
        show it, and once is enough.
        """
        exc = sys.exception()
        if isinstance(exc, WasmbridgeError) and exc.hint:
            note = hint_note(exc.hint) + "\n"
            head, found, tail = text.rpartition(note)
            text = head + tail if found else text
        self.tool_output(text if text.endswith("\n") else text + "\n")

    # -- stdout ---------------------------------------------------------------

    def result(self, line: str = "") -> None:
        """One line of the command's result on stdout (paths, reports, JSON)."""
        self.out.write(line + "\n")
        self.out.flush()

    def results(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.result(line)

    # -- internals ------------------------------------------------------------

    def _diagnostic(
        self,
        label: str,
        style: str,
        message: str,
        where: str | None,
        hints: Iterable[str],
    ) -> None:
        first, *rest = message.splitlines() or [""]
        self._write_err(f"{self.style(label + ':', style)} {first}")
        for line in rest:
            self._write_err(f"  {line}")
        if where:
            self._write_err(f"  {self.style('where:', 'bold')} {where}")
        for hint in hints:
            for line in hint.splitlines():
                self._write_err(f"  {self.style('hint:', 'hint')}  {line}")

    def _write_err(self, line: str) -> None:
        self.err.write(line + "\n")
        self.err.flush()
