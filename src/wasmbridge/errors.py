"""Every error wasmbridge raises, in one tree.

    WasmbridgeError                 .hint says how to fix it
      ├ ToolchainError
      │   ├ MissingToolchain        no rustc/cargo/wasm-opt that can do the job
      │   └ BuildFailed             cargo or a build step failed
      ├ ModuleError
      │   ├ InvalidModule           not WebAssembly, truncated, fails validation, too large
      │   ├ InterfaceError          interface section unreadable or from another version
      │   └ LinkError               a missing or wrongly typed import
      ├ GuestError                  raised while guest code ran
      │   ├ Trap                    a WebAssembly trap (kind + wasm backtrace)
      │   ├ GuestPanic              a Rust panic: location and message
      │   ├ ReturnedError           the export returned Err(message)
      │   ├ ProtocolError           the guest broke the ABI (bad pointer, bad UTF-8)
      │   ├ BadResponse             a serve handler's Response HTTP cannot carry (500)
      │   ├ ResponseTooLarge        a serve handler's response over its route's cap (500)
      │   ├ CgiError                a WAGI handler's output is not a CGI response (502)
      │   ├ LimitExceeded           a resource limit was hit
      │   │   ├ TimeLimitExceeded   epoch deadline or watchdog
      │   │   ├ FuelExhausted       deterministic instruction budget
      │   │   ├ MemoryLimitExceeded linear memory or table cap
      │   │   ├ StackLimitExceeded  wasm stack cap (runaway recursion), or a thread too small
      │   │   └ OutputLimitExceeded a WASI program's stdout/stderr over its cap
      │   └ GuestExit               a WASI program called exit(code)
      ├ HandleError                 a class object used after close(), after it was moved into
      │                             a call, with another instance, or as another class
      ├ SandboxError                a grant cannot be honoured (a missing preopened directory)
      ├ CacheError                  the compile cache cannot be used
      ├ ManifestError               a bad wasmbridge.toml or spin.toml
      ├ ListenError                 `wasmbridge serve` cannot listen where asked
      ├ StoreError                  a serve key-value store failed (backend down, bad value)
      └ OutboundError               a handler's outbound HTTP request refused or failed

    CacheWarning (a UserWarning)    the compile cache is unsafe or unwritable:
                                    loading goes on without it, warned once

Caller mistakes (wrong argument count, type or range) stay TypeError,
ValueError and OverflowError, and name the function and parameter.
"""

from __future__ import annotations

__all__ = [
    "BadResponse",
    "BuildFailed",
    "CacheError",
    "CacheWarning",
    "CgiError",
    "FuelExhausted",
    "GuestError",
    "GuestExit",
    "GuestPanic",
    "HandleError",
    "InterfaceError",
    "InvalidModule",
    "LimitExceeded",
    "LinkError",
    "ListenError",
    "ManifestError",
    "MemoryLimitExceeded",
    "MissingToolchain",
    "ModuleError",
    "OutboundError",
    "OutputLimitExceeded",
    "ProtocolError",
    "ResponseTooLarge",
    "ReturnedError",
    "SandboxError",
    "StackLimitExceeded",
    "StoreError",
    "TimeLimitExceeded",
    "ToolchainError",
    "Trap",
    "WasmbridgeError",
]


class WasmbridgeError(Exception):
    """Base of every error wasmbridge raises; ``hint`` says how to fix it.

    The hint is also an exception note (``hint: ...``), so a traceback shows
    it under the message; setting ``hint`` again replaces that note.

        >>> WasmbridgeError("x.wasm does not exist", hint="check the path").__notes__
        ['hint: check the path']
    """

    _hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    @property
    def hint(self) -> str | None:
        """How to fix it, or None; the CLI prints it as ``hint:`` lines."""
        return self._hint

    @hint.setter
    def hint(self, value: str | None) -> None:
        # One note per exception object: code that rebuilds an error (an
        # isolated compiler's, say) sets the hint after construction.
        notes = getattr(self, "__notes__", None)
        old = hint_note(self._hint) if self._hint else None
        if notes is not None and old in notes:
            notes.remove(old)
        self._hint = value
        if value:
            self.add_note(hint_note(value))


def hint_note(hint: str) -> str:
    """The exception note that shows ``hint`` in a traceback: ``hint: ...`` per line."""
    return "\n".join(f"hint: {line}" for line in hint.splitlines())


class ToolchainError(WasmbridgeError):
    """A build tool is missing or failed."""


class MissingToolchain(ToolchainError):
    """No installed tool can do the job (e.g. no rustc with the wasm32 target)."""


class BuildFailed(ToolchainError):
    """cargo or another build step failed; its own output was already shown."""


class ModuleError(WasmbridgeError):
    """The WebAssembly module itself cannot be used."""


class InvalidModule(ModuleError):
    """The bytes are not a valid WebAssembly module (or are too large)."""


class InterfaceError(ModuleError):
    """The module's interface section is unreadable or from another version."""


class LinkError(ModuleError):
    """An import is missing, unknown, or has the wrong type."""


class GuestError(WasmbridgeError):
    """Something went wrong while guest code ran."""


class Trap(GuestError):
    """A WebAssembly trap: ``kind`` names it, ``frames`` is the wasm backtrace."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "trap",
        frames: tuple[str, ...] = (),
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.kind = kind
        self.frames = frames

    def __str__(self) -> str:
        if not self.frames:
            return self.message
        lines = "\n".join(f"  {i}: {frame}" for i, frame in enumerate(self.frames))
        return f"{self.message}\nwasm backtrace:\n{lines}"


class GuestPanic(GuestError):
    """A Rust panic in the guest: ``file``, ``line``, ``column`` and ``panic_message``."""

    def __init__(
        self,
        message: str,
        *,
        panic_message: str,
        file: str,
        line: int,
        column: int,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.panic_message = panic_message
        self.file = file
        self.line = line
        self.column = column


class ReturnedError(GuestError):
    """The export returned ``Err(e)``: ``error`` holds ``e.to_string()``, or the repr of
    ``value`` when the error crossed as a record or enum (``Result<T, GeoError>``)."""

    def __init__(
        self, message: str, *, error: str, value: object = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.error = error
        self.value = value


class ProtocolError(GuestError):
    """The guest broke the ABI: a pointer outside its memory, text that is not UTF-8."""


class LimitExceeded(GuestError):
    """A resource limit was hit; ``limit`` names it."""

    limit = "resource"


class TimeLimitExceeded(LimitExceeded):
    """The call ran past its time limit (epoch deadline or watchdog)."""

    limit = "time"


class FuelExhausted(LimitExceeded):
    """The call used up its fuel (deterministic instruction budget)."""

    limit = "fuel"


class MemoryLimitExceeded(LimitExceeded):
    """The module needs more linear memory (or table space) than allowed."""

    limit = "memory"


class StackLimitExceeded(LimitExceeded):
    """The guest exhausted its WebAssembly stack (e.g. runaway recursion).

    Also raised, before the call starts, when the calling thread's own stack
    is too small to hold the wasm stack limit safely.
    """

    limit = "stack"


class OutputLimitExceeded(LimitExceeded):
    """A WASI program wrote more to stdout or stderr than its cap allows."""

    limit = "output"


class GuestExit(GuestError):
    """A WASI program called ``exit(code)``; ``run()`` turns it into the exit code."""

    def __init__(self, message: str, *, code: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class BadResponse(GuestError):
    """A serve bridge handler returned a Response HTTP cannot carry (status, header): 500."""


class ResponseTooLarge(GuestError):
    """A serve handler's response body (or a WAGI handler's stdout) over the route's cap: 500."""


class CgiError(GuestError):
    """A WAGI handler's output is not a CGI response (no header block, no Content-Type): 502."""


class HandleError(WasmbridgeError):
    """A class object cannot be used: closed, moved into a call, busy, or not this
    instance's (or not this class's) object."""


class SandboxError(WasmbridgeError):
    """A grant for a WASI program cannot be honoured (e.g. a preopened directory is missing)."""


class CacheError(WasmbridgeError):
    """The compile cache cannot be used (e.g. an unwritable directory)."""


class CacheWarning(UserWarning):
    """The compile cache cannot be used safely, or written: loading goes on without it."""


class ManifestError(WasmbridgeError):
    """A ``wasmbridge.toml`` is invalid: file, line, column and what to change."""


class ListenError(WasmbridgeError):
    """``wasmbridge serve`` cannot listen where it was asked to (address in use, not ours)."""


class StoreError(WasmbridgeError):
    """A serve key-value store failed: unreachable backend, bad value for ``increment``."""


class OutboundError(WasmbridgeError):
    """A handler's outbound HTTP request was refused or failed; the guest gets ``kind``
    (``serve.services.outbound.OutboundFailure``) and the message."""

    def __init__(self, kind: int, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.kind = kind
