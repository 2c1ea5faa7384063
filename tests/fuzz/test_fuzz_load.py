"""Fuzz ``wasmbridge.load()`` end to end, then call every export with random arguments.

Property: whatever the module, ``load()`` returns a module or raises a
wasmbridge error; a call with well-typed arguments returns or raises a
wasmbridge error; a call with wrong arguments may also raise the
documented TypeError/ValueError/OverflowError (never a UnicodeError, never
an empty message). Hangs end the run (conftest's watchdog); a crash ends
the process. Every load runs under ``Limits(memory_mb=16, timeout_s=1)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from fuzz_guests import JUNK, Guest, guest_wasm, guests, values
from fuzz_interfaces import lying_interfaces, without_custom_section
from fuzz_support import (
    NAMES,
    budget,
    is_caller_error,
    is_ours,
    mutations,
    name_field,
    section,
)
from hypothesis import given
from hypothesis import strategies as st

import wasmbridge
from wasmbridge.interface import Function, Interface, Type, parse, read_interface
from wasmbridge.interface.section import encode
from wasmbridge.interface.types import Kind

LIMITS = wasmbridge.Limits(memory_mb=16, timeout_s=1)
HOW = st.sampled_from(("typed", "typed", "typed", "junk", "count", "keywords"))


class HostBoom(Exception):
    """Raised by a fuzzed host function: it must come back out unchanged."""


def load_or_refuse(data: bytes, imports: Mapping[str, Any] | None = None) -> Any:
    """The loaded module, or None when load() refused it with one of our errors."""
    try:
        return wasmbridge.load(data, limits=LIMITS, cache=False, imports=imports, name="fuzz.wasm")
    except Exception as exc:
        if is_ours(exc):
            return None
        raise AssertionError(f"load() raised {type(exc).__name__}: {exc!r}") from exc


def exercise(module: Any, data: st.DataObject, calls: int = 2, host_mistakes: bool = False) -> None:
    """Touch the module as a user would, then call each export ``calls`` times.
    ``host_mistakes``: a host function returns junk, so caller errors are expected."""
    repr(module)
    dir(module)
    interface = module.interface
    for name in _described(interface):
        getattr(module, name, None)
    for name in list(module.exports):
        try:
            function = module.exports[name]
        except Exception as exc:
            if not is_ours(exc):
                raise AssertionError(f"building `{name}` raised {exc!r}") from exc
            continue
        str(inspect.signature(function))
        described = getattr(function, "__wasmbridge_function__", None)
        for _ in range(calls):
            call(function, described, data, host_mistakes)


def call(
    function: Callable[..., Any],
    described: Function | None,
    data: st.DataObject,
    host_mistakes: bool,
) -> None:
    params = [p.type for p in described.params] if described is not None else []
    how = data.draw(HOW)
    args: list[Any] = [data.draw(values(t)) for t in params]
    kwargs: dict[str, Any] = {}
    if how == "junk" and args:
        args[data.draw(st.integers(0, len(args) - 1))] = data.draw(st.sampled_from(JUNK))
    elif how == "count":
        args = args[:-1] if args and data.draw(st.booleans()) else [*args, 1]
    elif how == "keywords":
        kwargs = {data.draw(NAMES): 1}
    try:
        function(*args, **kwargs)
    except HostBoom:
        pass
    except Exception as exc:
        caller = (how != "typed" or host_mistakes) and is_caller_error(exc)
        if not (is_ours(exc) or caller):
            raise AssertionError(
                f"{how} call of {getattr(function, '__name__', '?')!r} with {args!r} "
                f"{kwargs!r} raised {type(exc).__name__}: {exc!r}"
            ) from exc


def _described(interface: Interface | None) -> list[str]:
    return [f.name for f in interface.exports] if interface is not None else []


def host_functions(interface: Interface, data: st.DataObject) -> tuple[dict[str, Any], bool]:
    """A Python function for each described import (returning a well-typed value or
    junk, or raising HostBoom), and whether any returns junk: a caller mistake."""
    hosts: dict[str, dict[str, Any]] = {}
    junk_returned = False
    for func in interface.imports:
        behaviour = data.draw(st.sampled_from(("value", "value", "junk", "raise")))
        result = _result_value(func.result, data) if behaviour == "value" else None
        junk = data.draw(st.sampled_from(JUNK))
        hosts.setdefault(func.module, {})[func.name] = _host(behaviour, result, junk)
        junk_returned |= behaviour == "junk"
    return hosts, junk_returned


def _result_value(t: Type, data: st.DataObject) -> Any:
    if t.kind is Kind.UNIT:
        return None
    return data.draw(values(t))


def _host(behaviour: str, result: Any, junk: Any) -> Callable[..., Any]:
    def host(*args: Any) -> Any:
        if behaviour == "raise":
            raise HostBoom("host function failed on purpose")
        return result if behaviour == "value" else junk

    return host


@budget(120)
@given(guests(), st.data())
def test_sdk_shaped_modules_with_hostile_names_and_guest_code(
    guest: Guest, data: st.DataObject
) -> None:
    hosts, host_mistakes = host_functions(guest.interface, data)
    module = load_or_refuse(guest_wasm(guest), hosts)
    if module is not None:
        exercise(module, data, host_mistakes=host_mistakes)


@budget(120)
@given(st.data())
def test_mutated_small_modules(wat_modules: dict[str, bytes], data: st.DataObject) -> None:
    original = wat_modules[data.draw(st.sampled_from(sorted(wat_modules)))]
    module = load_or_refuse(data.draw(mutations(original)), {"env": {"ext": lambda x: x}})
    if module is not None:
        exercise(module, data)


@budget(60)
@given(guests(), st.data())
def test_a_hostile_interface_spliced_into_a_real_module(
    wat_modules: dict[str, bytes], guest: Guest, data: st.DataObject
) -> None:
    """The interface of one module on the code of another: types disagree."""
    payload = name_field(b"wasmbridge") + encode(guest.interface)
    spliced = wat_modules["sdk-bare"] + section(0, payload)
    hosts, host_mistakes = host_functions(guest.interface, data)
    module = load_or_refuse(spliced, hosts)
    if module is not None:
        exercise(module, data, host_mistakes=host_mistakes)


@pytest.mark.toolchain
@pytest.mark.parametrize(("crate", "examples"), [("hello", 60), ("types", 4)])
def test_a_real_module_whose_interface_lies_within_its_lowering(
    sdk_modules: dict[str, bytes], crate: str, examples: int
) -> None:
    """Real SDK code, described with hostile names and other types of the same wasm
    lowering (a `&str` parameter described as `&mut [f64]`, a `String` result as
    `Result<Option<Vec<u16>>, E>`): no signature check can see the lie."""
    real = sdk_modules[crate]
    core = without_custom_section(real, "wasmbridge")
    interface = read_interface(parse(real))
    assert interface is not None

    @budget(examples)
    @given(lying_interfaces(interface), st.data())
    def lie(lying: Interface, data: st.DataObject) -> None:
        hosts, host_mistakes = host_functions(lying, data)
        spliced = core + section(0, name_field(b"wasmbridge") + encode(lying))
        module = load_or_refuse(spliced, hosts)
        if module is not None:
            exercise(module, data, calls=1, host_mistakes=host_mistakes)

    lie()


@pytest.mark.toolchain
@budget(40)
@given(st.data())
def test_mutated_sdk_module(sdk_modules: dict[str, bytes], data: st.DataObject) -> None:
    # Most edits are refused before compiling; the few that compile cost ~1 s each.
    module = load_or_refuse(data.draw(mutations(sdk_modules["types"], max_edits=3)))
    if module is not None:
        exercise(module, data, calls=1)


def test_an_initialize_export_with_parameters_is_not_called() -> None:
    """Found by this fuzzer: load() called any `_initialize` with no arguments."""
    import wasmtime

    data = wasmtime.wat2wasm(
        '(module (func (export "_initialize") (param i32) (result i32) local.get 0))'
    )
    module = wasmbridge.load(data, limits=LIMITS, cache=False)
    assert module.exports["_initialize"](41) == 41


def test_a_panic_import_of_another_type_is_refused() -> None:
    """Found by this fuzzer: a v128 `wasmbridge.panic` import made load() raise KeyError."""
    import wasmtime

    data = wasmtime.wat2wasm('(module (import "wasmbridge" "panic" (func (param v128))))')
    # A LinkError while linking, or an InterfaceError once load() runs interface.validate.
    with pytest.raises(wasmbridge.ModuleError, match=r"wasmbridge\.panic"):
        wasmbridge.load(data, limits=LIMITS, cache=False)
