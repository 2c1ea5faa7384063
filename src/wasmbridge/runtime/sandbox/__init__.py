"""Limits, grants and WASI around every call; running a WASI command.

- ``limits.py``: ``Limits`` (memory, time, fuel, stack) and the presets;
  ``guard.py`` arms them for each call; ``ticker.py`` advances epoch
  deadlines; ``interrupt.py``: Ctrl-C in guest code and generated callers.
- ``grants.py``: what a WASI module may use (directories, env, stdio);
  ``wasi.py`` (with ``wasi_poll.py``, ``wasi_sinks.py``, ``wasi_symlink.py``):
  WASI preview1 for one instance.
- ``compile_guard.py``: compiling untrusted code in a bounded child process.
- ``traps.py``: traps, panics and limit hits as errors a user can act on.
- ``run.py``: ``wasmbridge.run()``, which picks the isolation.
- ``command.py``: ``run_inline`` (the command in this thread) and ``RunResult``.
- ``isolate.py``: the child process and its watchdog.
- ``wire.py``: errors across a process boundary (also used by compile_guard.py).
"""
