"""Helpers for the web tests (tests/node, tests/browser): Node, signatures, outcomes.

The JS harness (tests/node/vectors.mjs) decodes vector values by interface
type and encodes what each call did; ``python_outcomes`` runs the same
cases through the Python runtime and encodes them the same way, so the
hosts' results can be compared as JSON.
"""

from __future__ import annotations

import array
import json
import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from vector_values import decode
from wasmbridge.interface import Function, Interface, Type, parse, read_interface
from wasmbridge.interface.types import Kind

NODE_TESTS = Path(__file__).parent / "node"
LARGE = 4096  # as in vectors.mjs: longer values are compared by size and checksum
CHROMIUM = Path("/usr/bin/chromium")
ARRAY_KINDS = {
    "b": "i8", "B": "u8", "h": "i16", "H": "u16", "i": "i32",
    "I": "u32", "q": "i64", "Q": "u64", "f": "f32", "d": "f64",
}  # fmt: skip


def node_problem() -> str | None:
    return None if shutil.which("node") else "node is not installed (apt-get install nodejs)"


def browser_problem() -> str | None:
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright)"
    return None


# -- the module's interface, for the harness ------------------------------------------


def interface_of(wasm: Path) -> Interface:
    interface = read_interface(parse(wasm.read_bytes()))
    assert interface is not None, f"{wasm} has no interface section"
    return interface


def type_json(t: Type) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": t.kind.name.lower()}
    if t.inner is not None:
        out["inner"] = type_json(t.inner)
    return out


def write_signatures(wasm: Path) -> Path:
    """``signatures.json`` beside ``wasm``: each export's parameter and result types."""
    signatures = {
        f.name: {"params": [type_json(p.type) for p in f.params], "result": type_json(f.result)}
        for f in interface_of(wasm).exports
    }
    path = wasm.with_name("signatures.json")
    path.write_text(json.dumps(signatures, indent=1), encoding="utf-8")
    return path


# -- running node ---------------------------------------------------------------------


def run_node_tests(test_file: str, pkg: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``node --test tests/node/TEST_FILE`` with WASMBRIDGE_PKG=pkg; TAP on stdout."""
    return subprocess.run(
        ["node", "--test", "--test-reporter=tap", str(NODE_TESTS / test_file)],
        capture_output=True,
        text=True,
        env={**os.environ, "WASMBRIDGE_PKG": str(pkg), **env},
        timeout=600,
        check=False,
    )


def tap_summary(tap: str) -> dict[str, int]:
    """The ``# tests N``, ``# pass N``, ``# fail N`` counts of a TAP report."""
    counts = {}
    for line in tap.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "#" and parts[2].isdigit():
            counts[parts[1]] = int(parts[2])
    return counts


def tap_failures(tap: str) -> str:
    """The failed tests' blocks, for the assertion message."""
    blocks, keep = [], False
    for line in tap.splitlines():
        if line.startswith(("ok ", "not ok ")):
            keep = line.startswith("not ok ")
        if keep:
            blocks.append(line)
    return "\n".join(blocks[:200])


# -- outcomes in the hosts' common form -----------------------------------------------


def _fnv1a(data: bytes) -> str:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}"


def _large(kind: str, data: bytes) -> dict[str, Any]:
    return {"large": kind, "size": len(data), "fnv1a": _fnv1a(data)}


def encode_value(value: Any, t: Type) -> Any:
    """A Python call's result as vectors.mjs encodes the JS one."""
    if value is None:
        return None
    if t.kind in (Kind.OPTION, Kind.RESULT):
        assert t.inner is not None
        return encode_value(value, t.inner)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {"int": str(value)} if t.kind in (Kind.I64, Kind.U64) else value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        if len(value.encode("utf-16-le")) // 2 > LARGE:
            return _large("text", value.encode())
        return value
    if isinstance(value, (bytes, bytearray)):
        return _large("bytes", bytes(value)) if len(value) > LARGE else {"bytes": value.hex()}
    if isinstance(value, array.array):
        kind = ARRAY_KINDS[value.typecode]
        element = Type(Kind[kind.upper()])
        return {"array": kind, "values": [encode_value(v, element) for v in value]}
    raise TypeError(f"cannot encode {value!r}")


def _float(value: float) -> Any:
    if math.isnan(value):
        return {"float": "nan"}
    if math.isinf(value):
        return {"float": "inf" if value > 0 else "-inf"}
    if value == 0 and math.copysign(1, value) < 0:
        return {"float": "-0"}
    return value


def python_outcome(module: Any, func: Function, case: dict[str, Any]) -> dict[str, Any]:
    """What the Python runtime does with one vector case, encoded."""
    import wasmbridge

    args = [decode(a) for a in case["args"]]
    try:
        result = module.exports[case["call"]](*args)
    except wasmbridge.ReturnedError as exc:
        return {"error": "ReturnedError", "message": exc.error}
    except wasmbridge.GuestPanic as exc:
        return {"error": "GuestPanic", "message": exc.panic_message, "file": exc.file}
    except wasmbridge.Trap as exc:
        return {"error": "Trap", "kind": exc.kind}
    outcome = {"value": encode_value(result, func.result)}
    if "after" in case:
        index = case["after"][0]
        outcome["after"] = encode_value(args[index], func.params[index].type)
    return outcome


def python_outcomes(wasm: Path, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import wasmbridge

    module = wasmbridge.load(wasm)
    interface = interface_of(wasm)
    outcomes = []
    for case in cases:
        func = interface.export(case["call"])
        assert func is not None, case["call"]
        outcomes.append(python_outcome(module, func, case))
    return outcomes


def differences(ours: list[Any], theirs: list[Any], cases: list[dict[str, Any]]) -> list[str]:
    """One line per case whose outcomes differ (JSON numbers compare as numbers)."""
    lines = []
    for index, (case, a, b) in enumerate(zip(cases, ours, theirs, strict=True)):
        if a != b:
            lines.append(f"case {index} {case['call']}: {json.dumps(a)} != {json.dumps(b)}")
    return lines
