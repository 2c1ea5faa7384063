"""``Limits.untrusted()``: every resource bounded, the default of ``wasmbridge run``."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox_helpers import wat
from wasmbridge import Limits
from wasmbridge.cli import _run_limits, build_parser
from wasmbridge.runtime.sandbox.limits import MIB

# A WASI command whose memory starts at 3,000 pages (187.5 MiB), over the preset's 128 MiB.
BIG_MEMORY = wat('(module (memory (export "memory") 3000) (func (export "_start")))')


def test_untrusted_bounds_every_resource() -> None:
    preset = Limits.untrusted()
    assert preset == Limits(
        memory_mb=128,
        table_elements=100_000,
        timeout_s=10.0,
        stack_kb=512,
        max_module_bytes=32 * MIB,
        max_output_bytes=16 * MIB,
    )
    seconds, memory = preset.compile_budget(1 * MIB)  # compiling is bounded by default
    assert (seconds, memory) == (9.0, 640 * MIB)
    assert preset.fuel is None  # the time limit covers what fuel would (fuel costs speed)


def test_run_flags_replace_single_fields_of_the_preset() -> None:
    args = build_parser().parse_args(
        ["run", "m.wasm", "--max-memory", "256", "--timeout", "none", "--compile-timeout", "5"]
    )
    assert _run_limits(args) == dataclasses.replace(
        Limits.untrusted(), memory_mb=256.0, timeout_s=None, compile_s=5.0
    )
    assert _run_limits(build_parser().parse_args(["run", "m.wasm"])) == Limits.untrusted()


def test_wasmbridge_run_applies_the_preset_unless_a_flag_widens_it(tmp_path: Path) -> None:
    (tmp_path / "big.wasm").write_bytes(BIG_MEMORY)

    def run(*flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "wasmbridge", "run", "big.wasm", *flags],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            check=False,
        )

    refused = run()
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "error: big.wasm cannot be instantiated: it declares 3,000 pages (187.5 MiB) of linear "
        "memory, over its 128 MiB memory limit",
        "  hint:  raise Limits(memory_mb=...) or --max-memory",
    ]
    assert run("--max-memory", "256").returncode == 0


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--max-table", "none"), ("--max-stack", "none"), ("--compile-timeout", "none")],
)
def test_limits_whose_absence_means_a_default_cannot_be_lifted(flag: str, value: str) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "m.wasm", flag, value])
