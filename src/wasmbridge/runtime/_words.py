"""Wording helpers for messages."""

from __future__ import annotations

from collections.abc import Sequence


def listing(items: Sequence[str], limit: int = 5, separator: str = ", ") -> str:
    """``a, b, c and 4 more``: a list short enough for one message line."""
    if not items:
        return "nothing"
    shown = separator.join(items[:limit])
    rest = len(items) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown
