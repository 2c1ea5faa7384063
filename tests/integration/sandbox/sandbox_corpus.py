"""The hostile corpus: WAT modules (and bytes) that try to break out, hang or crash.

Each ``Case`` does one hostile thing through the public API and names the
error it must end in (or, for WASI permission denials, the errno the guest
must see: the guest exits with it). ``timeout`` is the time limit used for
cases that need one; the stability test passes a short one.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import wasmtime

import wasmbridge
from wasmbridge import Limits


def W(text: str) -> bytes:  # noqa: N802 - reads like a literal prefix in the table below
    return bytes(wasmtime.wat2wasm(text))


WASI = "wasi_snapshot_preview1"

# -- plain modules ------------------------------------------------------------------------

ADD = '(func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)'
LOOP = W(f'(module {ADD} (func (export "spin") (loop br 0)))')
START_LOOP = W("(module (func $s (loop br 0)) (start $s))")
RECURSE = W(
    f"(module {ADD} "
    '(func $r (export "recurse") (param i32) (result i32) '
    "local.get 0 i32.const 1 i32.add call $r))"
)
UNREACHABLE = W('(module (func (export "boom") unreachable))')
OUT_OF_BOUNDS = W(
    '(module (memory (export "memory") 1)'
    ' (func (export "load") (result i32) i32.const 70000 i32.load)'
    ' (func (export "store") i32.const -4 i32.const 1 i32.store))'
)
GROW = W(
    '(module (memory (export "memory") 1)'
    ' (func (export "grow_until_refused") (result i32) (local $n i32)'
    "  (block $done (loop $more"
    "    (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))"
    "    (local.set $n (i32.add (local.get $n) (i32.const 1))) (br $more)))"
    "  local.get $n)"
    ' (func (export "grow_forever")'
    "  (loop $more (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))"
    "  unreachable))"
)
HUGE_MEMORY = W("(module (memory 65536))")
HUGE_TABLE = W("(module (table 100000000 funcref))")
V128_EXPORT = W(
    f'(module {ADD} (func (export "splat") (param i32) (result v128) local.get 0 i32x4.splat))'
)
UNKNOWN_IMPORT = W('(module (import "env" "missing" (func (param i32))))')
V128_IMPORT = W('(module (import "env" "f" (func (param v128))))')
WRONG_WASI_TYPE = W(
    f'(module (import "{WASI}" "fd_write" (func (param i32) (result i32)))'
    ' (memory (export "memory") 1) (func (export "_start")))'
)
GARBAGE = bytes(range(256)) * 4
TEXT = (
    b'(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))'
)

# -- WASI commands ----------------------------------------------------------------------------


def wasi_command(body: str, data: str = "", imports: str = "") -> bytes:
    """A WASI command whose ``_start`` runs ``body`` (proc_exit imported as $exit)."""
    return W(
        f'(module (import "{WASI}" "proc_exit" (func $exit (param i32))) {imports}'
        f' (memory (export "memory") 1) {data} (func (export "_start") {body}))'
    )


def wasi_import(name: str, alias: str, params: int) -> str:
    """``(import "wasi_snapshot_preview1" name (func $alias (param i32 ...) (result i32)))``."""
    return f'(import "{WASI}" "{name}" (func ${alias} (param{" i32" * params}) (result i32)))'


FD_WRITE = wasi_import("fd_write", "write", 4)
FD_READ = wasi_import("fd_read", "read", 4)
FLOOD = wasi_command(
    # iovec at 0: 4096 bytes at 16; errors ignored, as a hostile guest would
    "(loop $l"
    " (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))) (br $l))",
    data='(data (i32.const 0) "\\10\\00\\00\\00\\00\\10\\00\\00")',
    imports=FD_WRITE,
)
SLEEP_FOREVER = wasi_command(
    # one clock subscription: monotonic, relative, timeout 2^62 ns (146 years)
    "(call $exit (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 96)))",
    data='(data (i32.const 16) "\\01\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\40")',
    imports=f'(import "{WASI}" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))',
)
PATH_OPEN = (
    f'(import "{WASI}" "path_open" '
    "(func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))"
)
O_CREAT, O_TRUNC = 1, 8
ERRNO = {"EBADF": 8, "ENOTDIR": 54, "EPERM": 63}


def open_path(path: str, oflags: int = 0) -> bytes:
    """A command that opens ``path`` under preopen fd 3 and exits with the errno."""
    raw = path.encode()
    return wasi_command(
        f"(call $exit (call $open (i32.const 3) (i32.const 1) (i32.const 100) "
        f"(i32.const {len(raw)}) (i32.const {oflags}) (i64.const 0x1fffffff) "
        "(i64.const 0x1fffffff) (i32.const 0) (i32.const 48)))",
        data=f'(data (i32.const 100) "{path}")',
        imports=PATH_OPEN,
    )


def exit_with(code: int) -> bytes:
    return wasi_command(f"(call $exit (i32.const {code}))")


# -- the cases --------------------------------------------------------------------------------


@dataclass
class Sandbox:
    """A granted directory with a way out planted in it, and the time limit to use."""

    root: Path
    timeout: float = 0.2

    @classmethod
    def create(cls, base: Path, timeout: float = 0.2) -> Sandbox:
        root = base / "granted"
        (root / "sub").mkdir(parents=True, exist_ok=True)
        (root / "in.txt").write_text("granted\n")
        (base / "outside.txt").write_text("secret\n")
        for name, target in (("link", "../outside.txt"), ("abslink", str(base / "outside.txt"))):
            if not (root / name).is_symlink():
                (root / name).symlink_to(target)
        return cls(root, timeout)

    def limits(self, **extra: Any) -> Limits:
        return Limits(timeout_s=self.timeout, **extra)

    def run(
        self,
        module: bytes,
        *,
        mode: str = "rw",
        grant: bool = True,
        limits: Limits | None = None,
        **kw: Any,
    ) -> int:
        """Run a WASI command inline with /in granted; its exit code."""
        dirs = {"/in": (str(self.root), mode)} if grant else {}
        limits = limits or self.limits()
        result = wasmbridge.run(
            module, dirs=dirs, limits=limits, isolation="inline", name="hostile.wasm", **kw
        )
        return result.exit_code


@dataclass(frozen=True)
class Case:
    """One hostile module: what it does, the error it must raise, or the errno it must see."""

    id: str
    act: Callable[[Sandbox], object]
    error: type[BaseException] | None
    message: str = ""  # a regex the error's text must match from its start
    exit_code: int | None = None
    timed: bool = False  # stops at the time limit (then: within it plus a margin)


def _load(data: bytes, **kw: Any) -> wasmbridge.Instance:
    return wasmbridge.load(data, name="hostile.wasm", cache=False, **kw)


def _in_small_thread(act: Callable[[], object]) -> object:
    """Run ``act`` on a thread with a 256 KiB stack; re-raise what it raised."""
    box: list[object] = []

    def target() -> None:
        try:
            box.append(act())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box.append(exc)

    previous = threading.stack_size(256 * 1024)
    try:
        thread = threading.Thread(target=target)
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def _flood_into_unread_pipe(box: Sandbox) -> object:
    read_end, write_end = os.pipe()
    try:
        return box.run(FLOOD, stdout=write_end)
    finally:
        os.close(read_end)
        os.close(write_end)


T = "hostile.wasm"
CASES = [
    Case(
        "garbage",
        lambda b: _load(GARBAGE),
        wasmbridge.InvalidModule,
        rf"{T} is not WebAssembly \(starts 00 01 02 03",
    ),
    Case(
        "truncated",
        lambda b: _load(LOOP[:-7]),
        wasmbridge.InvalidModule,
        rf"{T} truncated",
    ),
    Case(
        "text_not_binary",
        lambda b: _load(TEXT),
        wasmbridge.InvalidModule,
        rf"{T} is not WebAssembly \(starts 28 6d 6f 64: WebAssembly text; compile "
        rf"it with wat2wasm first\)$",
    ),
    Case(
        "oversized_file",
        lambda b: _load(LOOP, limits=Limits(max_module_bytes=16)),
        wasmbridge.InvalidModule,
        rf"{T} is {len(LOOP)} bytes, over the 16-byte module limit",
    ),
    Case(
        "huge_declared_memory",
        lambda b: _load(HUGE_MEMORY, limits=Limits(memory_mb=64)),
        wasmbridge.MemoryLimitExceeded,
        rf"{T} cannot be instantiated: it declares 65,536 pages \(4,096 MiB\) of "
        rf"linear memory, over its 64 MiB memory limit",
    ),
    Case(
        "huge_declared_table",
        lambda b: _load(HUGE_TABLE, limits=Limits(table_elements=10_000)),
        wasmbridge.MemoryLimitExceeded,
        rf"{T} cannot be instantiated: it declares a table of 100,000,000 "
        rf"elements, over its 10,000-element table limit",
    ),
    Case(
        "infinite_loop",
        lambda b: _load(LOOP, limits=b.limits()).spin(),
        wasmbridge.TimeLimitExceeded,
        rf"`spin\(\)` in {T} ran past its [\d.]+ s time limit$",
        timed=True,
    ),
    Case(
        "infinite_loop_fuel",
        lambda b: _load(LOOP, limits=Limits(fuel=100_000)).spin(),
        wasmbridge.FuelExhausted,
        rf"`spin\(\)` in {T} ran out of fuel \(100,000 units\)$",
    ),
    Case(
        "infinite_loop_in_start",
        lambda b: _load(START_LOOP, limits=b.limits()),
        wasmbridge.TimeLimitExceeded,
        rf"the start function in {T} ran past its [\d.]+ s time limit$",
        timed=True,
    ),
    Case(
        "deep_recursion",
        lambda b: _load(RECURSE, limits=b.limits()).recurse(0),
        wasmbridge.StackLimitExceeded,
        rf"`recurse\(0\)` in {T} exhausted the wasm stack \(512 KiB; runaway recursion\?\)$",
    ),
    Case(
        "deep_recursion_small_thread",
        lambda b: _in_small_thread(lambda: _load(RECURSE, limits=Limits(stack_kb=64)).recurse(0)),
        wasmbridge.StackLimitExceeded,
        rf"`recurse\(0\)` in {T} exhausted the wasm stack \(64 KiB; runaway recursion\?\)$",
    ),
    Case(
        "small_thread_refused",
        lambda b: _in_small_thread(lambda: _load(RECURSE)),
        wasmbridge.StackLimitExceeded,
        rf"{T}: not run on this thread: its stack is 256 KiB, too small for the "
        rf"512 KiB wasm stack limit",
    ),
    Case(
        "unreachable",
        lambda b: _load(UNREACHABLE, limits=b.limits()).boom(),
        wasmbridge.Trap,
        rf"`boom\(\)` in {T}: unreachable instruction executed\n",
    ),
    Case(
        "out_of_bounds_load",
        lambda b: _load(OUT_OF_BOUNDS).load(),
        wasmbridge.Trap,
        rf"`load\(\)` in {T}: out of bounds memory access\n",
    ),
    Case(
        "out_of_bounds_store",
        lambda b: _load(OUT_OF_BOUNDS).store(),
        wasmbridge.Trap,
        rf"`store\(\)` in {T}: out of bounds memory access\n",
    ),
    Case(
        "unknown_import",
        lambda b: _load(UNKNOWN_IMPORT),
        wasmbridge.LinkError,
        rf"{T} needs host function `env.missing` \(i32\) -> \(\) \(imports "
        rf"supplied: nothing\)",
    ),
    Case(
        "v128_import",
        lambda b: _load(V128_IMPORT, imports={"f": print}),
        wasmbridge.LinkError,
        rf"{T}: import `env.f` cannot be a Python function: its signature \(v128\) "
        rf"-> \(\) uses v128",
    ),
    Case(
        "wrongly_typed_wasi_import",
        lambda b: _load(WRONG_WASI_TYPE),
        wasmbridge.LinkError,
        rf"{T}: incompatible import type for `wasi_snapshot_preview1::fd_write`",
    ),
    Case(
        "memory_growth_refused",
        lambda b: _load(GROW, limits=Limits(memory_mb=1)).grow_until_refused(),
        None,
        exit_code=15,
    ),
    Case(
        "unbounded_memory_growth",
        lambda b: _load(GROW, limits=Limits(memory_mb=1)).grow_forever(),
        wasmbridge.MemoryLimitExceeded,
        rf"`grow_forever\(\)` in {T} trapped \(unreachable instruction executed\) "
        rf"with its memory at 1 MiB of its 1 MiB limit: memory.grow fails past it$",
    ),
    Case(
        "v128_export",
        lambda b: _load(V128_EXPORT).splat(1),
        wasmbridge.InterfaceError,
        rf"{T}: export `splat` cannot be called from Python: its signature \(i32\) "
        rf"-> \(v128\) uses v128",
    ),
    Case(
        "stdout_flood_captured",
        lambda b: b.run(FLOOD, capture=True, limits=b.limits(max_output_bytes=64 << 10)),
        wasmbridge.OutputLimitExceeded,
        rf"`_start\(\)` in {T} wrote more than its 64 KiB stdout limit$",
    ),  # stopped at the cap (the next tick), not at its time limit
    Case(
        "stdout_flood_unread_pipe",
        _flood_into_unread_pipe,
        wasmbridge.TimeLimitExceeded,
        rf"`_start\(\)` in {T} ran past its [\d.]+ s time limit while blocked "
        rf"writing its stdout$",
        timed=True,
    ),
    Case(
        "sleep_forever",
        lambda b: b.run(SLEEP_FOREVER),
        wasmbridge.TimeLimitExceeded,
        rf"`_start\(\)` in {T} ran past its [\d.]+ s time limit while sleeping in "
        rf"WASI poll_oneoff$",
        timed=True,
    ),
    Case(
        "granted_file_readable",
        lambda b: b.run(open_path("in.txt")),
        None,
        exit_code=0,
    ),
    Case(
        "escape_dotdot",
        lambda b: b.run(open_path("../outside.txt")),
        None,
        exit_code=ERRNO["EPERM"],
    ),
    Case(
        "escape_dotdot_nested",
        lambda b: b.run(open_path("sub/../../outside.txt")),
        None,
        exit_code=ERRNO["EPERM"],
    ),
    Case(
        "escape_absolute_path",
        lambda b: b.run(open_path("/etc/passwd")),
        None,
        exit_code=ERRNO["EPERM"],
    ),
    Case(
        "escape_symlink_relative",
        lambda b: b.run(open_path("link")),
        None,
        exit_code=ERRNO["EPERM"],
    ),
    Case(
        "escape_symlink_absolute",
        lambda b: b.run(open_path("abslink")),
        None,
        exit_code=ERRNO["EPERM"],
    ),
    Case(
        "trailing_slash_on_file",
        lambda b: b.run(open_path("in.txt/")),
        None,
        exit_code=ERRNO["ENOTDIR"],
    ),
    Case(
        "escape_trailing_slash_dotdot",
        lambda b: b.run(open_path("sub/../../")),
        None,
        exit_code=ERRNO["EPERM"],
    ),
    Case(
        "write_readonly_create",
        lambda b: b.run(open_path("new.txt", O_CREAT), mode="ro"),
        None,
        exit_code=ERRNO["EPERM"],
    ),
    Case(
        "write_readonly_truncate",
        lambda b: b.run(open_path("in.txt", O_TRUNC), mode="ro"),
        None,
        exit_code=ERRNO["EPERM"],
    ),
    Case(
        "read_never_granted",
        lambda b: b.run(open_path("in.txt"), grant=False),
        None,
        exit_code=ERRNO["EBADF"],
    ),
    Case(
        "exit_code_over_125",
        lambda b: b.run(exit_with(200)),
        None,
        exit_code=200,
    ),
]


def run_case(case: Case, box: Sandbox, *, exact: bool = True) -> float:
    """Run one case and check its outcome; returns the seconds it took.

    With ``exact=False`` (repeated runs that watch resources, not wording), a
    timed case may also end at its time limit before it reached the state its
    message describes: on a machine loaded past its cores, a flood may not
    fill its pipe or reach its output limit within a short limit."""
    start = time.monotonic()
    try:
        outcome = case.act(box)
    except BaseException as exc:  # noqa: BLE001 - compared with what the case expects
        elapsed = time.monotonic() - start
        if not exact and case.timed and isinstance(exc, wasmbridge.TimeLimitExceeded):
            return elapsed
        if case.error is None or not isinstance(exc, case.error):
            raise AssertionError(f"{case.id}: unexpected {type(exc).__name__}: {exc}") from exc
        assert re.match(case.message, str(exc)), f"{case.id}: {str(exc)!r} !~ {case.message!r}"
        assert exc.hint if isinstance(exc, wasmbridge.LimitExceeded) else True, case.id
        return elapsed
    elapsed = time.monotonic() - start
    assert case.error is None, f"{case.id}: expected {case.error.__name__}, got {outcome!r}"
    assert outcome == case.exit_code, f"{case.id}: {outcome!r} != {case.exit_code}"
    return elapsed
