"""The package's public names: `__all__`, `dir()` and the lazily imported runtime."""

from __future__ import annotations

import subprocess
import sys

import wasmbridge

LAZY = ["CompileCache", "GuestArray", "Limits", "Module", "RunResult", "load", "run"]


def test_dir_lists_the_lazy_names_before_their_first_use() -> None:
    # A fresh interpreter: in this one an earlier test may have imported them.
    code = (
        "import sys, wasmbridge; names = dir(wasmbridge); "
        "print(sorted(set(wasmbridge.__all__) - set(names)), 'wasmbridge.runtime' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout == "[] False\n"


def test_dir_lists_each_lazy_name_once() -> None:
    names = dir(wasmbridge)
    assert names == sorted(names)
    assert [n for n in names if n in LAZY] == LAZY


def test_all_is_sorted_and_names_the_lazy_api() -> None:
    assert wasmbridge.__all__ == sorted(wasmbridge.__all__)
    assert set(LAZY) <= set(wasmbridge.__all__)
