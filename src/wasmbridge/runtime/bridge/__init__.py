"""Values crossing between Python and the guest.

- ``arrays.py``: ``GuestArray``, typed arrays living in linear memory
  (zero-copy arguments).

The rest of the bridge (``calls.py``, ``marshal.py``, ``memory.py``,
``imports.py``, ``values.py``, ``records.py``, ``classes.py``) still sits
in ``runtime/`` and moves here next (docs/architecture.md).
"""
