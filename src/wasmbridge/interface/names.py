"""The names hosts show for what a module names (one rule per host language).

A name read from a module is data: hosts use it as given where the host
language can spell it, and fall back to a name they invent otherwise. The
Python runtime and the Python stub must agree on these names, so both take
them from here.
"""

from __future__ import annotations

import keyword
import unicodedata

from .types import Function


def python_param_names(func: Function) -> list[str]:
    """The parameter names a Python caller sees and may pass as keywords.

    A name from the module is used as given when Python source could spell
    it (an identifier, in NFKC form since the parser folds identifiers so,
    and not a keyword); otherwise it becomes ``p<index>``. Duplicates get
    the index too, with ``_`` appended until the name is free.

    >>> python_param_names(Function("f", (Param("from", I32), Param("x", I32))))
    ['p0', 'x']
    """
    names: list[str] = []
    for index, param in enumerate(func.params):
        name = unicodedata.normalize("NFKC", param.name)
        if not name.isidentifier() or keyword.iskeyword(name) or name in names:
            name = f"p{index}"
            while name in names:
                name += "_"
        names.append(name)
    return names
