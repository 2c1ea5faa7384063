"""Rules an interface must follow on its own, whatever module carries it.

These are the refusals of docs/abi-compound.md ("Refused everywhere"): the
SDK macros enforce them at compile time, so a section that breaks one was
not written by the SDK and hosts would have no way to carry its values.
``interface_problems`` lists each broken rule once, naming the function,
type or field. Walks over the records are iterative and bounded, so a
hostile section cannot exhaust the stack.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from .layout import MAX_NESTING, is_list
from .types import (
    RESULTS,
    ClassDef,
    Function,
    Interface,
    Kind,
    Method,
    Receiver,
    RecordDef,
    Type,
    shown,
    shown_type,
)


def interface_problems(iface: Interface) -> list[str]:
    """Every rule of docs/abi-compound.md that ``iface`` breaks (empty when none).

    >>> interface_problems(decode(section))
    ['record `Node`, field `next`: the record contains itself (Node -> Node); ...']
    """
    return [
        *_duplicate_names(iface),
        *_records(iface),
        *_enums(iface),
        *_classes(iface),
        *_functions(iface),
        *_cycles_and_depth(iface),
    ]


_CYCLE_TAIL = "WIT has no recursive types; use a class for recursive data"


def _duplicate_names(iface: Interface) -> Iterator[str]:
    kinds: dict[str, list[str]] = {}
    for group, what in ((iface.records, "record"), (iface.enums, "enum"), (iface.classes, "class")):
        for item in group:
            kinds.setdefault(item.name, []).append(what)
    for name, found in kinds.items():
        if len(found) > 1:
            yield f"type `{shown(name)}` is defined {len(found)} times ({', '.join(found)})"
    for func in iface.exports:
        if func.name in kinds:
            yield (
                f"export `{shown(func.name)}` has the name of the {kinds[func.name][0]} "
                f"`{shown(func.name)}`; hosts show both under one name"
            )


def _records(iface: Interface) -> Iterator[str]:
    for record in iface.records:
        where = f"record `{shown(record.name)}`"
        if not record.fields:
            yield f"{where} has no fields"
        yield from _twice(where, "fields", (f.name for f in record.fields))
        for item in record.fields:
            problem = _nested_problem(item.type, iface, whole=False)
            if problem is not None:
                yield f"{where}, field `{shown(item.name)}`: {problem}"


def _enums(iface: Interface) -> Iterator[str]:
    for enum in iface.enums:
        where = f"enum `{shown(enum.name)}`"
        if not enum.cases:
            yield f"{where} has no cases"
        yield from _twice(where, "cases", (c.name for c in enum.cases))
        values = Counter(c.value for c in enum.cases)
        for value, count in values.items():
            if count > 1:
                yield f"{where} has {count} cases with the discriminant {value}"


def _classes(iface: Interface) -> Iterator[str]:
    for cls in iface.classes:
        where = f"class `{shown(cls.name)}`"
        yield from _twice(where, "members", (m.member for m in cls.methods))
        for method in cls.methods:
            yield from _method(cls, method, iface)


def _method(cls: ClassDef, method: Method, iface: Interface) -> Iterator[str]:
    func = method.function
    label = f"method `{shown(cls.name)}.{shown(method.member)}`"
    expected = f"{cls.name}.{method.member}"
    if func.name != expected:
        yield f"{label} is exported as `{shown(func.name)}`, not `{shown(expected)}`"
    if method.receiver is Receiver.CONSTRUCTOR and func.result != Type(Kind.NAMED, name=cls.name):
        yield (
            f"{label} is a constructor but returns `{shown_type(func.result)}`, "
            f"not `{shown(cls.name)}`"
        )
    yield from _signature_problems(label, func, iface, imported=False)


def _functions(iface: Interface) -> Iterator[str]:
    for func in iface.exports:
        yield from _signature_problems(f"export `{shown(func.name)}`", func, iface, imported=False)
    for func in iface.imports:
        label = f"import `{shown(func.module)}.{shown(func.name)}`"
        yield from _signature_problems(label, func, iface, imported=True)


def _signature_problems(
    label: str, func: Function, iface: Interface, *, imported: bool
) -> Iterator[str]:
    for param in func.params:
        problem = _whole_problem(param.type, iface, imported=imported)
        if problem is not None:
            yield f"{label}, parameter `{shown(param.name)}`: {problem}"
    problem = _whole_problem(func.result, iface, imported=imported)
    if problem is not None:
        yield f"{label}, result: {problem}"


def _whole_problem(t: Type, iface: Interface, *, imported: bool) -> str | None:
    """What is wrong with a whole parameter or result type (placement aside)."""
    if t.kind is Kind.CALLBACK:  # where a callback may be is placement: section.type_problem
        return None if imported else _callback_problem(t, iface)
    if imported:
        compound = _import_problem(t)
        if compound is not None:
            return compound
    if t.kind in (Kind.NAMED, Kind.BORROW):
        return _undefined(t.name) if iface.type_def(t.name) is None else None
    if t.kind is Kind.RESULT_VALUE and isinstance(iface.type_def(t.name), ClassDef):
        return (
            f"the error type of `{shown_type(t)}` is the class `{shown(t.name)}`; "
            "errors cross by value, so use a record or enum"
        )
    if t.kind in RESULTS and t.inner is not None:
        return _whole_problem(t.inner, iface, imported=imported)  # Ok may be a class
    return _nested_problem(t, iface, whole=True)


def _callback_problem(t: Type, iface: Interface) -> str | None:
    """Undefined names and classes among a callback's argument and result types
    (the type model refuses the rest, docs/abi-compound.md "Callbacks")."""
    stack = list(_children(t))
    while stack:
        part = stack.pop()
        if part.kind is Kind.NAMED:
            found = iface.type_def(part.name)
            if found is None:
                return _undefined(part.name)
            if isinstance(found, ClassDef):
                return (
                    f"the class `{shown(part.name)}` cannot cross in the callback "
                    f"`{shown_type(t)}`; callbacks take and return values (records, enums, "
                    "tuples, lists, text, numbers), not objects"
                )
        stack.extend(_children(part))
    return None


def _import_problem(t: Type) -> str | None:
    """Imports take and return the types of abi.md plus char (docs/abi-compound.md)."""
    stack = [t]
    while stack:
        part = stack.pop()
        if part.kind in _NOT_IMPORTED or is_list(part):
            return (
                f"an imported function cannot take or return `{shown_type(part)}`: imports "
                "use the types of abi.md and char (no records, enums, classes, tuples or lists)"
            )
        stack.extend(_children(part))
    return None


_NOT_IMPORTED = frozenset({Kind.NAMED, Kind.BORROW, Kind.TUPLE, Kind.RESULT_VALUE})


def _nested_problem(t: Type, iface: Interface, *, whole: bool) -> str | None:
    """What is wrong inside ``t``: undefined names, classes and borrows nested in
    it. ``whole`` is true for a whole parameter or result, whose own kind
    ``_whole_problem`` judged."""
    stack = [(child, t) for child in _children(t)] if whole else [(t, t)]
    while stack:
        part, outer = stack.pop()
        if part.kind is Kind.BORROW:
            return f"the borrowed `{shown_type(part)}` can only be a whole parameter"
        if part.kind in RESULTS:
            return f"`{shown_type(part)}` can only be a whole export result"
        if part.kind is Kind.MUT_SLICE and not whole:
            return f"`{shown_type(part)}` can only be a parameter, not part of a record"
        if part.kind is Kind.UNIT:
            return "`()` cannot be a record field"
        if part.kind is Kind.CALLBACK:
            return (
                f"the callback `{shown_type(part)}` can only be a whole parameter of an "
                "exported function or method"
            )
        if part.kind is Kind.NAMED:
            found = iface.type_def(part.name)
            if found is None:
                return _undefined(part.name)
            if isinstance(found, ClassDef):
                inside = "a record field" if part is outer else f"inside `{shown_type(outer)}`"
                return (
                    f"the class `{shown(part.name)}` cannot be {inside}; "
                    "a class crosses only as a whole parameter or result"
                )
        stack.extend((child, outer) for child in _children(part))
    return None


def _children(t: Type) -> tuple[Type, ...]:
    return t.items if t.inner is None else (t.inner, *t.items)


def _undefined(name: str) -> str:
    return f"no record, enum or class named `{shown(name)}` is defined"


def _twice(where: str, what: str, names: Iterable[str]) -> Iterator[str]:
    for name, count in Counter(names).items():
        if count > 1:
            yield f"{where} has {count} {what} named `{shown(name)}`"


def _cycles_and_depth(iface: Interface) -> list[str]:
    """Records that contain themselves, then types nested past MAX_NESTING."""
    records = {r.name: r for r in reversed(iface.records)}  # the first definition wins
    depths: dict[str, int] = {}
    problems: list[str] = []
    for root in iface.records:
        if root.name in depths:
            continue
        cycle = _settle(root, records, depths)
        if cycle is not None:
            return [f"record `{shown(cycle[0])}` contains itself ({_path(cycle)}); {_CYCLE_TAIL}"]
    deep = [r.name for r in iface.records if depths.get(r.name, 0) > MAX_NESTING]
    if deep:
        more = f" (and {len(deep) - 1:,} more records)" if len(deep) > 1 else ""
        problems.append(_too_deep(f"record `{shown(deep[0])}`") + more)
    for label, func in _all_functions(iface):
        for t in (*(p.type for p in func.params), func.result):
            if _depth(t, depths) > MAX_NESTING:
                problems.append(_too_deep(f"{label}, `{shown_type(t)}`"))
                break
    return problems


def _path(cycle: list[str]) -> str:
    """``A -> B -> A``; a long cycle shows its ends and how many records it has."""
    names = [shown(name, 40) for name in cycle]
    if len(names) <= 8:
        return " -> ".join(names)
    head, tail = " -> ".join(names[:4]), " -> ".join(names[-2:])
    return f"{head} -> ... -> {tail}: {len(cycle) - 1:,} records"


def _too_deep(where: str) -> str:
    return f"{where} nests deeper than {MAX_NESTING} levels (counting through records)"


def _settle(
    root: RecordDef, records: dict[str, RecordDef], depths: dict[str, int]
) -> list[str] | None:
    """Fill ``depths`` for ``root`` and every record it reaches (an iterative
    depth-first walk), or return a cycle as a list of record names."""
    on_path: dict[str, int] = {}
    path: list[str] = []
    stack: list[tuple[str, Iterator[str]]] = []

    def enter(name: str) -> None:
        on_path[name] = len(path)
        path.append(name)
        stack.append((name, iter(_record_refs(records[name], records))))

    enter(root.name)
    while stack:
        name, refs = stack[-1]
        child = next(refs, None)
        if child is None:
            stack.pop()
            path.pop()
            del on_path[name]
            depths[name] = max((_depth(f.type, depths) for f in records[name].fields), default=0)
            continue
        if child in on_path:
            return [*path[on_path[child] :], child]
        if child not in depths:
            enter(child)
    return None


def _record_refs(record: RecordDef, records: dict[str, RecordDef]) -> Iterator[str]:
    """Names of the records a record's fields reach, directly or inside other types."""
    for item in record.fields:
        stack = [item.type]
        while stack:
            part = stack.pop()
            if part.kind is Kind.NAMED and part.name in records:
                yield part.name
            stack.extend(_children(part))


def _depth(t: Type, depths: dict[str, int]) -> int:
    """Levels of ``t``, a record counting one more than its deepest field."""
    below = max((_depth(child, depths) for child in _children(t)), default=0)
    if t.kind in (Kind.NAMED, Kind.BORROW):
        below = depths.get(t.name, 0)
    return 1 + below


def _all_functions(iface: Interface) -> Iterator[tuple[str, Function]]:
    for func in iface.exports:
        yield f"export `{shown(func.name)}`", func
    for cls in iface.classes:
        for method in cls.methods:
            yield f"method `{shown(method.function.name)}`", method.function
