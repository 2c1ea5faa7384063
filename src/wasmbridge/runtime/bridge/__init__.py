"""Values crossing between Python and the guest, following each function's call plan.

- ``calls.py``: export callers, made once per module (``caller_template``) and
  bound per instance (``bind``); ``call_source.py`` writes their code from the
  call plan (interface/plan.py).
- ``marshal.py``: one instance's lowering and lifting of text, buffers and
  return-area slots; ``memory.py``: guest memory and the argument arena.
- ``values.py``: encoded values (records, tuples, lists, enums, char);
  ``records.py``: the record classes and IntEnums of an interface.
- ``classes.py``: class objects of one instance and what its callers need
  from it (``InstanceTypes``).
- ``imports.py``: host functions the guest calls (imports, callbacks, panics).
- ``arrays.py``: ``GuestArray``, typed arrays living in linear memory
  (zero-copy arguments).
"""
