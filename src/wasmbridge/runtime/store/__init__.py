"""From compiled code to a running instance: what ``Module.instantiate()`` does.

- ``exports.py``: which exports become callables (planned once per module)
  and ``LazyFunctions``, one instance's callables made on first use.
- ``linking.py``: the imports, planned once per module, defined once per
  engine in a linker that pre-instantiates the module; host functions find
  their instance by store (``LIVE``).
- ``live.py``: ``LiveInstance``, one store with its memory, allocator,
  call token and ``close()``.
- ``failures.py``: instantiation failures as errors a user can act on.
"""
