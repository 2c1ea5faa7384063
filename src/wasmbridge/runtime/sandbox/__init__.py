"""Running a WASI command, in this process or in a watched child process.

- ``run.py``: ``wasmbridge.run()``, which picks the isolation.
- ``command.py``: ``run_inline`` (the command in this thread) and ``RunResult``.
- ``isolate.py``: the child process and its watchdog.
- ``wire.py``: errors across a process boundary (also used by compile_guard.py).

The limits, grants and WASI host calls (``limits.py``, ``guard.py``,
``ticker.py``, ``interrupt.py``, ``grants.py``, ``wasi*.py``,
``compile_guard.py``, ``traps.py``) still sit in ``runtime/`` and move
here next (docs/architecture.md).
"""
