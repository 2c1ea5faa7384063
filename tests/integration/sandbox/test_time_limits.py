"""Time limits fire on time at any length: load() calls, run(isolation="inline"), the CLI.

A limit of T seconds must stop a spinning guest no earlier than T and no
later than T + 50 ms + one tick, alone, under load from busy neighbour
processes, from several threads at once, and with a host import in the loop.
The longest case (10 s) runs once, through `wasmbridge run`.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sandbox_corpus import ADD, FD_WRITE, W, wasi_command

import wasmbridge
from wasmbridge import Limits
from wasmbridge.runtime.sandbox.ticker import TICK_S

LATE_S = 0.05 + TICK_S  # the most a limit may fire after its value
SPIN = W(f'(module {ADD} (func (export "spin") (loop br 0)))')
# spin() calls the host's tick() on every turn of its loop.
TICKING = W(
    '(module (import "env" "tick" (func $tick)) '
    f'{ADD} (func (export "spin") (loop call $tick br 0)))'
)
SPIN_COMMAND = wasi_command("(loop br 0)")
# Writes "go\n" to stderr as it starts, then spins: the CLI test times from there.
GO_THEN_SPIN = wasi_command(
    "(drop (call $write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 8))) (loop br 0)",
    data='(data (i32.const 16) "\\20\\00\\00\\00\\03\\00\\00\\00") (data (i32.const 32) "go\\n")',
    imports=FD_WRITE,
)


def timed(
    call: Callable[[], object], error: type[BaseException] = wasmbridge.TimeLimitExceeded
) -> tuple[float, BaseException]:
    """How long ``call()`` ran before raising ``error``."""
    start = time.monotonic()
    with pytest.raises(error) as caught:
        call()
    return time.monotonic() - start, caught.value


def assert_on_time(elapsed: float, timeout: float) -> None:
    assert timeout <= elapsed < timeout + LATE_S, f"{timeout} s limit fired after {elapsed:.4f} s"


@pytest.fixture
def busy_neighbours() -> Iterator[None]:
    """Two processes spinning `while True: pass`, killed afterwards."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        time.sleep(0.2)  # let them get going
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("timeout", [0.05, 1, 1.5, 3])
def test_load_call_stops_within_a_tick_of_its_limit(timeout: float) -> None:
    m = wasmbridge.load(SPIN, name="spin.wasm", limits=Limits(timeout_s=timeout))
    elapsed, error = timed(m.spin)
    assert_on_time(elapsed, timeout)
    assert str(error) == f"`spin()` in spin.wasm ran past its {timeout:g} s time limit"
    assert m.add(2, 3) == 5


@pytest.mark.parametrize("timeout", [0.05, 1, 1.5, 3])
def test_inline_run_stops_within_a_tick_of_its_limit(timeout: float) -> None:
    limits = Limits(timeout_s=timeout)
    elapsed, error = timed(
        lambda: wasmbridge.run(
            SPIN_COMMAND, name="spin.wasm", capture=True, limits=limits, isolation="inline"
        )
    )
    assert_on_time(elapsed, timeout)
    assert str(error) == f"`_start()` in spin.wasm ran past its {timeout:g} s time limit"


def test_a_host_import_in_the_loop_does_not_delay_the_limit() -> None:
    ticks: list[None] = []
    m = wasmbridge.load(
        TICKING,
        name="ticking.wasm",
        imports={"tick": lambda: ticks.append(None)},
        limits=Limits(timeout_s=1.5),
    )
    elapsed, _ = timed(m.spin)
    assert_on_time(elapsed, 1.5)
    assert len(ticks) > 1000
    assert m.add(2, 3) == 5


def test_limits_of_several_threads_each_fire_on_time() -> None:
    # Each thread has its own instance and limit: the ticker serves them all.
    timeouts = [0.05, 0.3, 0.7, 1.0, 1.5]
    spins = [
        wasmbridge.load(SPIN, name="spin.wasm", limits=Limits(timeout_s=t)).spin for t in timeouts
    ]
    results: dict[int, float] = {}
    ready = threading.Barrier(len(timeouts))  # all started: the calls begin together

    def run(index: int) -> None:
        ready.wait()
        start = time.monotonic()
        try:
            spins[index]()
        except wasmbridge.TimeLimitExceeded:
            results[index] = time.monotonic() - start

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(timeouts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == list(range(len(timeouts)))
    for index, timeout in enumerate(timeouts):
        assert_on_time(results[index], timeout)


def test_limits_fire_on_time_next_to_busy_processes(busy_neighbours: None) -> None:
    for timeout in (0.05, 1.5):
        m = wasmbridge.load(SPIN, name="spin.wasm", limits=Limits(timeout_s=timeout))
        elapsed, _ = timed(m.spin)
        assert_on_time(elapsed, timeout)
    limits = Limits(timeout_s=1)
    elapsed, _ = timed(
        lambda: wasmbridge.run(SPIN_COMMAND, capture=True, limits=limits, isolation="inline")
    )
    assert_on_time(elapsed, 1)


def test_wasmbridge_run_timeout_fires_on_time_with_the_limit_s_message(tmp_path: Path) -> None:
    # All five at once, each its own process (its own ticker): the 10 s case
    # bounds the test's length. Timed from the guest's first write on stderr
    # to the error line, so this also counts the child reporting to the CLI.
    (tmp_path / "spin.wasm").write_bytes(GO_THEN_SPIN)
    timeouts = [0.05, 1, 1.5, 3, 10]
    runs = [_CliRun(tmp_path, t) for t in timeouts]
    for run in runs:
        run.thread.join(timeout=60)
    for run, timeout in zip(runs, timeouts, strict=True):
        assert run.lines[1:] == [
            f"error: `_start()` in spin.wasm ran past its {timeout:g} s time limit",
            "  hint:  raise Limits(timeout_s=...) or --timeout",
        ], run.lines
        assert run.returncode == 1
        # Both ends are times this test read a line, each a little late on a
        # busy machine, and the report crosses two processes: 50 ms either way.
        assert timeout - 0.05 <= run.elapsed < timeout + LATE_S + 0.05, (timeout, run.elapsed)


class _CliRun:
    """`wasmbridge run spin.wasm --timeout T` in a thread, stderr lines timed as they come."""

    def __init__(self, cwd: Path, timeout: float) -> None:
        self.cwd, self.timeout = cwd, timeout
        self.lines: list[str] = []
        self.times: list[float] = []
        self.returncode: int | None = None
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        argv = [
            sys.executable,
            "-m",
            "wasmbridge",
            "run",
            "spin.wasm",
            "--timeout",
            f"{self.timeout:g}",
        ]
        with subprocess.Popen(argv, cwd=self.cwd, stderr=subprocess.PIPE, text=True) as proc:
            assert proc.stderr is not None
            for line in proc.stderr:
                self.times.append(time.monotonic())
                self.lines.append(line.rstrip("\n"))
            self.returncode = proc.wait()

    @property
    def elapsed(self) -> float:
        assert self.lines[:1] == ["go"], self.lines
        return self.times[1] - self.times[0]
