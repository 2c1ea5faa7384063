"""`wasmbridge build --profile size|speed`, and the user's own release settings.

Real builds of tests/fixtures/crates/blur (a 3x3 box blur and a byte sum,
loops LLVM vectorizes with simd128), checked with wasm2wat, wasm-opt,
wasmtime (wasmbridge.load) and Node (the generated glue).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from build_helpers import REPO, CliResult, require, run_cli

pytestmark = pytest.mark.toolchain

KERNEL = REPO / "tests" / "fixtures" / "crates" / "blur"
SDK_PATH = '"../../../../guest/rust/wasmbridge"'
SIMD_OP = re.compile(r"\b(?:v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\.[a-z_0-9]+|\bv128\b")
SIZES = re.compile(r"\(wasm-opt (?P<before>[\d,]+) → (?P<size>[\d,]+) B, (?P<profile>[^)]+)\)")
# Images of odd widths (vector loops leave remainders) and sums of every length class.
IMAGES = [(37, 23), (64, 9), (3, 3), (16, 1), (5, 0)]
LENGTHS = [0, 1, 15, 16, 17, 255, 4096, 65537]


@dataclass(frozen=True)
class Built:
    result: CliResult
    wasm: Path

    @property
    def compiling(self) -> str:
        """Our Compiling step (cargo prints its own `Compiling blur v0.1.0 (...)`)."""
        return next(line for line in self.result.err_lines if line.startswith("Compiling blur ("))


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def _build(crate: Path, target: Path, out: Path, *flags: str, **env: str) -> Built:
    with _environment(CARGO_TARGET_DIR=str(target), **env):
        result = run_cli("build", str(crate), "--out-dir", str(out), *flags)
    assert result.code == 0, result.err
    return Built(result, out / "blur.wasm")


@pytest.fixture(scope="session")
def cargo_target(sdk_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("profiles-target")


@pytest.fixture(scope="session")
def kernel(cargo_target: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """The fixture built three ways: default (size), speed, speed without simd128."""
    flags = {
        "size": ("-v",),
        "speed": ("-v", "--profile", "speed"),
        "no-simd": ("-v", "--profile", "speed", "--no-simd"),
    }
    return {
        name: _build(KERNEL, cargo_target, tmp_path_factory.mktemp(f"pkg-{name}"), *argv)
        for name, argv in flags.items()
    }


def _copy(tmp_path: Path, release_profile: str = "") -> Path:
    """The kernel crate in ``tmp_path``, with a ``[profile.release]`` table when given."""
    crate = tmp_path / "blur"
    shutil.copytree(KERNEL, crate, ignore=shutil.ignore_patterns("pkg", "target"))
    manifest = crate / "Cargo.toml"
    sdk = f'"{REPO / "guest" / "rust" / "wasmbridge"}"'
    text = manifest.read_text(encoding="utf-8").replace(SDK_PATH, sdk)
    if release_profile:
        text += f"\n[profile.release]\n{release_profile}\n"
    manifest.write_text(text, encoding="utf-8")
    return crate


def _simd_ops(wasm: Path) -> list[str]:
    require(
        None if shutil.which("wasm2wat") else "wasm2wat is not installed (apt-get install wabt)"
    )
    wat = subprocess.run(["wasm2wat", str(wasm)], capture_output=True, text=True, check=True)
    return SIMD_OP.findall(wat.stdout)


# -- what each profile does -------------------------------------------------------------


def test_the_default_build_is_the_size_profile_and_the_last_line_says_so(
    kernel: dict[str, Built],
) -> None:
    built = kernel["size"]
    assert built.compiling == "Compiling blur (release, size profile)"
    assert "Optimizing wasm-opt -Oz" in built.result.err_lines
    match = SIZES.search(built.result.err_lines[-1])
    assert match and match["profile"] == "size profile", built.result.err_lines[-1]
    assert int(match["size"].replace(",", "")) == built.wasm.stat().st_size


@pytest.mark.parametrize(
    ("name", "described"),
    [("speed", "speed profile, simd128"), ("no-simd", "speed profile, no simd128")],
    ids=["simd128", "no-simd"],
)
def test_the_speed_profile_names_itself_and_runs_wasm_opt_O3(
    kernel: dict[str, Built], name: str, described: str
) -> None:
    built = kernel[name]
    assert built.compiling == f"Compiling blur (release, {described})"
    assert "Optimizing wasm-opt -O3" in built.result.err_lines
    assert re.fullmatch(
        rf"Finished \S+blur\.wasm [\d,]+ B \(wasm-opt [\d,]+ → [\d,]+ B, {described}\) "
        r"in \d+\.\d s",
        built.result.err_lines[-1],
    ), built.result.err_lines[-1]


def test_only_the_speed_build_has_simd_instructions(kernel: dict[str, Built]) -> None:
    ops = {name: _simd_ops(built.wasm) for name, built in kernel.items()}
    assert ops["size"] == [] and ops["no-simd"] == []
    # the byte loops came out as 128-bit vector loads and lane-wise arithmetic
    assert "v128.load" in ops["speed"] and "i32x4.add" in ops["speed"], sorted(set(ops["speed"]))


def test_wasm_opt_validates_the_speed_module_with_simd_enabled(kernel: dict[str, Built]) -> None:
    wasm_opt = shutil.which("wasm-opt")
    require(None if wasm_opt else "wasm-opt is not installed (apt-get install binaryen)")
    assert wasm_opt is not None
    wasm = str(kernel["speed"].wasm)
    features = ["--enable-mutable-globals", "--enable-simd"]
    checked = subprocess.run([wasm_opt, *features, wasm], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    without_simd = subprocess.run([wasm_opt, features[0], wasm], capture_output=True, text=True)
    assert without_simd.returncode != 0  # the module really needs the simd feature


# -- same results from every build, in Python and in Node -------------------------------


def _image(width: int, height: int) -> bytes:
    return random.Random(width * 1000 + height).randbytes(width * height)


def _blur_reference(pixels: bytes, width: int) -> bytes:
    """The kernel in Python: interior pixels become the mean of their 3x3 block."""
    out = bytearray(pixels)
    height = len(pixels) // width if width else 0
    for y in range(1, height - 1):
        for x in range(1, width - 1):
            block = [pixels[(y + dy) * width + x + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
            out[y * width + x] = sum(block) // 9
    return bytes(out)


def _python_results(wasm: Path) -> dict[str, object]:
    import wasmbridge

    module = wasmbridge.load(wasm)
    return {
        "blur": [module.blur(_image(w, h), w).hex() for w, h in IMAGES],
        "checksum": [module.checksum(_image(n, 1)) for n in LENGTHS],
    }


def test_every_build_gives_the_reference_results_in_python(kernel: dict[str, Built]) -> None:
    expected = {
        "blur": [_blur_reference(_image(w, h), w).hex() for w, h in IMAGES],
        "checksum": [sum(_image(n, 1)) for n in LENGTHS],
    }
    for name, built in kernel.items():
        assert _python_results(built.wasm) == expected, name


NODE_SCRIPT = """\
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [pkg, inputs] = process.argv.slice(2);
const { images, lengths } = JSON.parse(readFileSync(inputs, "utf-8"));
const glue = await import(pathToFileURL(`${pkg}/blur.js`));
await glue.default();
const bytes = (hex) => Uint8Array.from(Buffer.from(hex, "hex"));
console.log(JSON.stringify({
  blur: images.map(([hex, width]) => Buffer.from(glue.blur(bytes(hex), width)).toString("hex")),
  checksum: lengths.map((hex) => glue.checksum(bytes(hex))),
}));
"""


def test_every_build_gives_the_same_results_in_node_as_in_python(
    node: None, kernel: dict[str, Built], tmp_path: Path
) -> None:
    script, inputs = tmp_path / "run.mjs", tmp_path / "inputs.json"
    script.write_text(NODE_SCRIPT, encoding="utf-8")
    images = [[_image(w, h).hex(), w] for w, h in IMAGES]
    inputs.write_text(
        json.dumps({"images": images, "lengths": [_image(n, 1).hex() for n in LENGTHS]})
    )
    python = _python_results(kernel["size"].wasm)
    for name, built in kernel.items():
        argv = ["node", str(script), str(built.wasm.parent), str(inputs)]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{name}: {proc.stderr}"
        assert json.loads(proc.stdout) == python, name


# -- the user's [profile.release] and CARGO_PROFILE_RELEASE_* ----------------------------


def test_an_opt_level_from_cargo_toml_or_the_environment_is_used_and_reported(
    kernel: dict[str, Built], cargo_target: Path, tmp_path: Path
) -> None:
    from_toml = _build(_copy(tmp_path / "a", "opt-level = 3"), cargo_target, tmp_path / "pkg-a")
    assert (
        from_toml.compiling
        == "Compiling blur (release, size profile; opt-level = 3 from Cargo.toml)"
    )
    from_env = _build(
        _copy(tmp_path / "b"), cargo_target, tmp_path / "pkg-b", CARGO_PROFILE_RELEASE_OPT_LEVEL="3"
    )
    assert from_env.compiling == (
        "Compiling blur (release, size profile; opt-level = 3 from CARGO_PROFILE_RELEASE_OPT_LEVEL)"
    )
    # Both compiled at opt-level 3: the same module, not the size profile's.
    assert from_toml.wasm.read_bytes() == from_env.wasm.read_bytes()
    assert from_toml.wasm.read_bytes() != kernel["size"].wasm.read_bytes()
    assert _python_results(from_toml.wasm) == _python_results(kernel["size"].wasm)


def test_a_named_profile_overrides_the_users_opt_level_and_says_so(
    kernel: dict[str, Built], cargo_target: Path, tmp_path: Path
) -> None:
    crate = _copy(tmp_path, 'opt-level = "s"\nlto = true')
    built = _build(crate, cargo_target, tmp_path / "pkg", "--profile", "speed")
    assert built.compiling == (
        "Compiling blur (release, speed profile, simd128; "
        'opt-level = "s" from Cargo.toml overridden by --profile speed)'
    )
    assert built.wasm.read_bytes() == kernel["speed"].wasm.read_bytes()


def test_the_users_other_settings_win_over_the_named_profile(
    kernel: dict[str, Built], cargo_target: Path, tmp_path: Path
) -> None:
    crate = _copy(tmp_path, "strip = false")
    built = _build(crate, cargo_target, tmp_path / "pkg", "--profile", "size", "-v")
    assert (
        built.compiling == "Compiling blur (release, size profile; strip = false from Cargo.toml)"
    )
    cargo_environment = next(
        line for line in built.result.err_lines if line.startswith("cargo environment: ")
    )
    assert "CARGO_PROFILE_RELEASE_STRIP" not in cargo_environment
    assert "CARGO_PROFILE_RELEASE_OPT_LEVEL=z" in cargo_environment
    cargo_wrote = re.compile(r"cargo wrote .*blur\.wasm \(([\d,]+) B\)")
    unstripped = next(m for line in built.result.err_lines if (m := cargo_wrote.match(line)))
    stripped = next(m for line in kernel["size"].result.err_lines if (m := cargo_wrote.match(line)))
    # without strip, cargo's module keeps its name section (wasm-opt -Oz drops it again)
    assert int(unstripped[1].replace(",", "")) > int(stripped[1].replace(",", ""))
