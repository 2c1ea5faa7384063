"""Guest log lines: into the ``wasmbridge.serve`` logger, tagged and made safe.

A line is cut at ``MAX_LINE`` characters and every control character
(newlines included) is escaped, so a guest can neither flood the log nor
forge lines that look like the server's own. The record carries the route
and request id as ``extra`` fields (``record.route``, ``record.request_id``)
for structured handlers.
"""

from __future__ import annotations

import logging
import re

__all__ = ["LEVELS", "LOGGER", "MAX_LINE", "escape", "guest_log"]

LOGGER = logging.getLogger("wasmbridge.serve")
MAX_LINE = 4096  # characters of one guest line kept
# The SDK's levels (log::debug .. log::error); other numbers log as errors.
LEVELS = {0: logging.DEBUG, 1: logging.INFO, 2: logging.WARNING, 3: logging.ERROR}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape(message: str, limit: int = MAX_LINE) -> str:
    """``message`` cut to ``limit`` characters, with control characters as ``\\xNN``."""
    cut = len(message) - limit
    text = message[:limit] if cut > 0 else message
    text = _CONTROL.sub(_escaped, text)
    return f"{text}... ({cut:,} more characters)" if cut > 0 else text


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"


def guest_log(
    logger: logging.Logger, route: str, request_id: str, level: int, message: str
) -> None:
    """Log one guest line at the SDK's ``level``."""
    python_level = LEVELS.get(level, logging.ERROR)
    if not logger.isEnabledFor(python_level):
        return
    logger.log(
        python_level,
        "guest %s (request %s): %s",
        route,
        request_id,
        escape(message),
        extra={"route": route, "request_id": request_id, "guest": True},
    )
