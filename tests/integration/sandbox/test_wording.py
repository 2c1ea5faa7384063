"""Messages and docs read right: no doubled words ("its its stdout limit")."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_corpus import FD_WRITE, wasi_command

import wasmbridge
from wasmbridge import Limits, OutputLimitExceeded

ROOT = Path(__file__).resolve().parents[3]
# A word repeated after spaces or one line break (a blank line ends a paragraph or heading).
DOUBLED = re.compile(r"\b([A-Za-z]{2,}|a)(?:[ \t]+|[ \t]*\n[ \t]*)\1\b", re.IGNORECASE)
# Writes 4 KiB blocks to stdout until a write fails, then returns.
WRITE_UNTIL_REFUSED = wasi_command(
    "(block $refused (loop $more"
    " (br_if $refused (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))"
    " (br $more)))",
    data='(data (i32.const 0) "\\10\\00\\00\\00\\00\\10\\00\\00")',
    imports=FD_WRITE,
)


def test_output_limit_without_a_size_names_the_stream_once() -> None:
    # Captured output without max_output_bytes stops at the capture default.
    with pytest.raises(OutputLimitExceeded) as info:
        wasmbridge.run(
            WRITE_UNTIL_REFUSED,
            name="flood.wasm",
            capture=True,
            limits=Limits(timeout_s=60),
            isolation="inline",
        )
    message = str(info.value)
    assert "`_start()` in flood.wasm wrote more than its stdout limit" in message
    assert DOUBLED.search(message) is None, message


def _prose(markdown: str) -> str:
    """Markdown without fenced blocks and inline code (tables of names repeat words)."""
    return re.sub(r"`[^`\n]*`", "``", re.sub(r"```.*?```", "", markdown, flags=re.DOTALL))


def _doubled_in_docs() -> Iterator[str]:
    pages = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "examples").rglob("*.md")]
    for page in pages:
        text = _prose(page.read_text(encoding="utf-8"))
        for match in DOUBLED.finditer(text):
            yield f"{page.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: {match[0]!r}"


def _doubled_in_messages() -> Iterator[str]:
    for source in sorted((ROOT / "src" / "wasmbridge").rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for match in DOUBLED.finditer(node.value):
                    yield f"{source.relative_to(ROOT)}:{node.lineno}: {match[0]!r}"


def test_docs_and_message_text_have_no_doubled_words() -> None:
    assert list(_doubled_in_docs()) == []
    assert list(_doubled_in_messages()) == []
