"""Randomized differential tests: real crates, thousands of calls, Python and Node.

The diffcrate fixture wraps base64, miniz_oxide, sha2, hmac, crc32fast and
adler (Debian's packaged crate sources) in exports that use every interface
type. Each seed is a reproducible sequence of calls on ONE instance
(tests/differential_helpers.py), each result checked against an independent
reference: Python's zlib/base64/hashlib/hmac/str here, Node's own
zlib/crypto/Buffer in tests/node/differential.mjs; the two hosts must also
agree call by call. A failure names the seed and step to replay.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import wasmbridge
from build_helpers import require
from differential_helpers import BOUNDARIES, MIB, OPS, Tally, generate, run_sequence, write_cases
from wasmbridge.build.toolchain import diagnose
from wasmbridge.interface import Type
from wasmbridge.interface.types import Kind
from web_helpers import run_node_tests, tap_failures, tap_summary

# Not imported from conftest: with several conftest.py files under tests/, the
# module named `conftest` is whichever pytest imported last.
FIXTURE_CRATES = Path(__file__).resolve().parents[2] / "fixtures" / "crates"
BuildFixture = Callable[..., Path]

pytestmark = pytest.mark.toolchain

SEEDS = (1, 2, 3)
STEPS = 1500
NODE_SEEDS = (1, 2)  # the first NODE_STEPS calls of the Python sequences
NODE_STEPS = 600
REGISTRY = Path("/usr/share/cargo/registry")
CRATES = ("base64", "miniz_oxide", "sha2", "hmac", "crc32fast", "adler")
ERROR_OPS = {"b64_decode", "zlib_decompress", "utf8_chars", "parse_u64", "checked_div"}


@pytest.fixture(scope="module")
def diff_wasm(build_fixture: BuildFixture) -> Path:
    missing = [c for c in CRATES if not any(REGISTRY.glob(f"{c}-[0-9]*"))]
    require(
        f"Debian crate sources missing in {REGISTRY}: {', '.join(missing)} "
        "(scripts/setup --test installs the librust-*-dev packages)"
        if missing
        else None
    )
    return build_fixture("diffcrate", "--target", "all")


def assert_covered(tally: Tally, steps: int) -> None:
    """The run really crossed every export, size boundary and error path."""
    assert tally.calls == steps
    assert tally.ops == set(OPS)
    assert tally.boundaries == set(BOUNDARIES)
    assert tally.erring_ops == ERROR_OPS


def test_the_fixture_uses_every_interface_type_and_each_export_is_drawn(diff_wasm: Path) -> None:
    m = wasmbridge.load(diff_wasm)
    assert m.interface is not None
    kinds: set[Kind] = set()

    def visit(t: Type) -> None:
        kinds.add(t.kind)
        if t.inner is not None:
            visit(t.inner)

    for func in m.interface.exports:
        for param in func.params:
            visit(param.type)
        visit(func.result)
    assert kinds == {k for k in Kind if k < Kind.CHAR}  # abi.md's; the geo fixture has the rest
    assert {f.name for f in m.interface.exports} == set(OPS)


def test_the_crates_come_from_debian_through_the_crates_own_cargo_config(
    diff_wasm: Path, tmp_path: Path
) -> None:
    """With an empty CARGO_HOME, only the crate's .cargo/config.toml can point cargo there."""
    toolchain = diagnose().require()
    crate = FIXTURE_CRATES / "diffcrate"
    env = {**os.environ, "CARGO_HOME": str(tmp_path), "CARGO_TARGET_DIR": str(tmp_path / "t")}
    argv = [str(toolchain.cargo), "metadata", "--format-version", "1", "--offline"]
    done = subprocess.run(argv, cwd=crate, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    sources = {
        p["name"]: Path(p["manifest_path"]).parent.parent
        for p in json.loads(done.stdout)["packages"]
        if p["source"] is not None
    }
    assert set(CRATES) <= set(sources)
    assert set(sources.values()) == {REGISTRY}


def test_sequences_are_reproducible(tmp_path: Path) -> None:
    def stored(seed: int, name: str) -> bytes:
        write_cases(generate(seed, 200), tmp_path, name)
        files = (tmp_path / f"{name}.json", tmp_path / f"{name}.bin")
        return hashlib.sha256(b"".join(f.read_bytes() for f in files)).digest()

    assert stored(7, "a") == stored(7, "b")
    assert stored(7, "a") != stored(8, "c")


@pytest.mark.parametrize("seed", SEEDS)
def test_sequence_matches_python_references(diff_wasm: Path, seed: int) -> None:
    m = wasmbridge.load(diff_wasm)
    assert_covered(run_sequence(m, seed, STEPS), STEPS)


LIMITS = {
    "memory-and-time": wasmbridge.Limits(memory_mb=256, timeout_s=60),
    "fuel": wasmbridge.Limits(fuel=10**11),
}


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_sequence_matches_python_references_under_limits(diff_wasm: Path, name: str) -> None:
    m = wasmbridge.load(diff_wasm, limits=LIMITS[name])
    assert_covered(run_sequence(m, 12, 600, big_budget=16 * MIB), 600)


def test_four_threads_share_one_instance(diff_wasm: Path) -> None:
    m = wasmbridge.load(diff_wasm)

    def run(seed: int) -> Tally:
        return run_sequence(m, seed, 500, big_budget=16 * MIB)

    with ThreadPoolExecutor(4) as pool:
        tallies = list(pool.map(run, (21, 22, 23, 24)))
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    assert_covered(total, 2000)


def test_memory_stays_flat_when_a_sequence_repeats(diff_wasm: Path) -> None:
    """Arguments and results are freed: the third run of a sequence needs no new pages."""
    m = wasmbridge.load(diff_wasm)
    pages = []
    for _ in range(3):
        run_sequence(m, 31, 200, big_budget=8 * MIB)
        pages.append(len(m.memory_view()) // 65536)
    assert pages[2] == pages[1], pages


@pytest.mark.node
def test_node_runs_the_same_sequences_and_agrees_with_python(
    node: None, web_pkg: Callable[[str], Path], diff_wasm: Path, tmp_path: Path
) -> None:
    pkg = web_pkg("diffcrate")
    names = [f"seed-{seed}" for seed in NODE_SEEDS]
    for seed, name in zip(NODE_SEEDS, names, strict=True):
        write_cases(generate(seed, NODE_STEPS), tmp_path, name)
    proc = run_node_tests(
        "differential.mjs",
        pkg,
        WASMBRIDGE_DIFF_DIR=str(tmp_path),
        WASMBRIDGE_DIFF_NAMES=",".join(names),
    )
    assert proc.returncode == 0, tap_failures(proc.stdout) + proc.stderr
    assert tap_summary(proc.stdout).get("pass") == len(names), proc.stdout[-2000:]
    for seed, name in zip(NODE_SEEDS, names, strict=True):
        in_node: list[str] = json.loads((tmp_path / f"{name}.out.json").read_text())
        in_python: list[str] = []
        run_sequence(
            wasmbridge.load(pkg / "diffcrate.wasm"), seed, NODE_STEPS, fingerprints=in_python
        )
        differing = [i for i, (a, b) in enumerate(zip(in_node, in_python, strict=True)) if a != b]
        assert differing == [], f"seed {seed}: Node and Python differ at steps {differing[:20]}"
