"""Errors across a process boundary: the child's error rebuilt in the parent.

The child of ``run(isolation="process")`` (isolate.py) and the bounded
compiler (compile_guard.py) send their failure as JSON; the parent raises
the same error class with the same message, hint and attributes.
"""

from __future__ import annotations

from typing import Any

from ... import errors
from ...errors import WasmbridgeError


def encode_error(exc: WasmbridgeError) -> dict[str, Any]:
    attrs = {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in vars(exc).items()
        if key not in ("message", "hint")
        and isinstance(value, (str, int, float, tuple, type(None)))
    }
    return {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint, "attrs": attrs}


def decode_error(data: dict[str, Any]) -> WasmbridgeError:
    """The same error class, message, hint and attributes as in the child."""
    cls = getattr(errors, str(data.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, WasmbridgeError)):
        cls = errors.GuestError
    exc = cls.__new__(cls)
    Exception.__init__(exc, data["message"])
    exc.message = data["message"]
    exc.hint = data.get("hint")
    for key, value in data.get("attrs", {}).items():
        setattr(exc, key, tuple(value) if isinstance(value, list) else value)
    return exc
