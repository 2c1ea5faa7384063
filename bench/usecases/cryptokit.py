"""examples/cryptokit timed against the same Rust natively, hashlib, PyJWT, pure Python
and plain JavaScript.

    python bench/usecases/cryptokit.py [--quick]

Workloads: SHA-256 of 1 MiB and of 64 KiB, HMAC-SHA256 of 1 KiB under a 32-byte key,
and an HS256 token signed then verified (small claims). Rows: the .wasm (``wasmbridge
build --profile speed``) through wasmbridge; examples/cryptokit/native, the same
src/kernels.rs built by rustup's cargo for the host, through ctypes, twice: with the
portable code wasm runs (sha2's ``force-soft``) and with sha2's run-time choice, which
takes the SHA-NI instructions when the CPU has them; hashlib / hmac (OpenSSL) and PyJWT;
SHA-256 and HMAC in pure Python (below); and in Node (bench/usecases/cryptokit.mjs) the
same .wasm through its generated glue and SHA-256 / HMAC in plain JavaScript
(cryptokit_plain.mjs). Every implementation's answer is checked against hashlib first.

Targets: wasm <= 1.5x the same Rust native (portable code); wasm >= 50x faster than
pure Python; the .wasm in Node faster than plain JS.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import hashlib
import hmac
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _timing import REPEATS, TARGET_S, Report, Row, Timing, measure, verdict  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CRATE = REPO / "examples" / "cryptokit"
NATIVE = CRATE / "native"
NODE_BENCH = Path(__file__).with_name("cryptokit.mjs")
# Kept between runs, one directory per build, so a rerun only relinks.
TARGET_DIR = Path(tempfile.gettempdir()) / "wasmbridge-bench-cryptokit"

KEY = b"k" * 32
CLAIMS = '{"sub":"1234567890","name":"Ada Lovelace","admin":true,"iat":1516239022}'
NATIVE_TARGET, PYTHON_TARGET = 1.5, 50.0


def pattern(size: int) -> bytes:
    """Bytes (i * 31 + 7) mod 256, as cryptokit.mjs makes them."""
    return bytes((i * 31 + 7) & 255 for i in range(256)) * (size // 256) + bytes(
        (i * 31 + 7) & 255 for i in range(size % 256)
    )


# -- SHA-256 and HMAC in pure Python ------------------------------------------

_K = (
    0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
    0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
    0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
    0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
    0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
    0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
    0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
    0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
)  # fmt: skip
_H0 = (
    0x6A09E667,
    0xBB67AE85,
    0x3C6EF372,
    0xA54FF53A,
    0x510E527F,
    0x9B05688C,
    0x1F83D9AB,
    0x5BE0CD19,
)
_M = 0xFFFFFFFF


def py_sha256(data: bytes) -> bytes:
    """SHA-256 (FIPS 180-4) in plain Python: ints masked to 32 bits, locals for speed."""
    padded = data + b"\x80" + b"\0" * ((55 - len(data)) % 64) + (len(data) * 8).to_bytes(8, "big")
    h = list(_H0)
    for offset in range(0, len(padded), 64):
        w = [int.from_bytes(padded[offset + i : offset + i + 4], "big") for i in range(0, 64, 4)]
        for i in range(16, 64):
            x, y = w[i - 15], w[i - 2]
            s0 = ((x >> 7) | (x << 25)) ^ ((x >> 18) | (x << 14)) ^ (x >> 3)
            s1 = ((y >> 17) | (y << 15)) ^ ((y >> 19) | (y << 13)) ^ (y >> 10)
            w.append((w[i - 16] + s0 + w[i - 7] + s1) & _M)
        a, b, c, d, e, f, g, hh = h
        for i in range(64):
            s1 = ((e >> 6) | (e << 26)) ^ ((e >> 11) | (e << 21)) ^ ((e >> 25) | (e << 7))
            t1 = (hh + (s1 & _M) + ((e & f) ^ (~e & g)) + _K[i] + w[i]) & _M
            s0 = ((a >> 2) | (a << 30)) ^ ((a >> 13) | (a << 19)) ^ ((a >> 22) | (a << 10))
            t2 = ((s0 & _M) + ((a & b) ^ (a & c) ^ (b & c))) & _M
            a, b, c, d, e, f, g, hh = (t1 + t2) & _M, a, b, c, (d + t1) & _M, e, f, g
        h = [(v + x) & _M for v, x in zip(h, (a, b, c, d, e, f, g, hh), strict=True)]
    return b"".join(v.to_bytes(4, "big") for v in h)


def py_jwt_sign(claims_json: str, key: bytes) -> str:
    """An HS256 JWT in pure Python: the HMAC above, base64url by the standard library."""
    header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
    signing = f"{header}.{_b64url(claims_json.encode())}"
    return f"{signing}.{_b64url(py_hmac_sha256(key, signing.encode()))}"


def py_jwt_verify(token: str, key: bytes) -> str:
    """The claims of a pure-Python-verified HS256 JWT (ValueError when it is not one)."""
    header, claims, signature = token.split(".")
    if json.loads(_unb64url(header)).get("alg") != "HS256":
        raise ValueError("wrong alg")
    expected = py_hmac_sha256(key, f"{header}.{claims}".encode())
    if not hmac.compare_digest(expected, _unb64url(signature)):
        raise ValueError("bad signature")
    return _unb64url(claims).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def py_hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC (RFC 2104) over py_sha256."""
    block = (py_sha256(key) if len(key) > 64 else key).ljust(64, b"\0")
    inner = py_sha256(bytes(k ^ 0x36 for k in block) + data)
    return py_sha256(bytes(k ^ 0x5C for k in block) + inner)


# -- builds -------------------------------------------------------------------


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build_wasm() -> Path:
    """``wasmbridge build --profile speed --target all``: the pkg/ directory."""
    from wasmbridge import cli

    out = TARGET_DIR / "pkg"
    err = io.StringIO()
    started = time.perf_counter()
    with (
        _environment(CARGO_TARGET_DIR=str(TARGET_DIR / "wasm")),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(err),
    ):
        code = cli.main(
            ["build", str(CRATE), "--profile", "speed", "--target", "all", "--out-dir", str(out)]
        )
    if code != 0:
        sys.exit(f"building {CRATE} failed:\n{err.getvalue()}")
    size = (out / "cryptokit.wasm").stat().st_size
    print(f"  cryptokit.wasm: {size:,} B in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return out


@dataclass
class Native:
    """examples/cryptokit/native through ctypes, writing into buffers made once."""

    lib: ctypes.CDLL

    def __post_init__(self) -> None:
        self.digest = ctypes.create_string_buffer(32)
        self.token = ctypes.create_string_buffer(4096)
        self.claims = ctypes.create_string_buffer(4096)
        for name, args, result in (
            ("cryptokit_sha256", [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p], None),
            ("cryptokit_hmac_sha256", [ctypes.c_char_p, ctypes.c_size_t] * 2 + [ctypes.c_void_p],
             None),
            ("cryptokit_jwt_sign_hs256",
             [ctypes.c_char_p, ctypes.c_size_t] * 2 + [ctypes.c_void_p, ctypes.c_size_t],
             ctypes.c_ssize_t),
            ("cryptokit_jwt_verify_hs256",
             [ctypes.c_char_p, ctypes.c_size_t] * 2 + [ctypes.c_void_p, ctypes.c_size_t],
             ctypes.c_ssize_t),
        ):  # fmt: skip
            getattr(self.lib, name).argtypes = args
            getattr(self.lib, name).restype = result

    def sha256(self, data: bytes) -> bytes:
        self.lib.cryptokit_sha256(data, len(data), self.digest)
        return self.digest.raw

    def hmac_sha256(self, key: bytes, data: bytes) -> bytes:
        self.lib.cryptokit_hmac_sha256(key, len(key), data, len(data), self.digest)
        return self.digest.raw

    def sign_verify(self, claims: bytes, key: bytes) -> bytes:
        lib = self.lib
        n = lib.cryptokit_jwt_sign_hs256(claims, len(claims), key, len(key), self.token, 4096)
        m = lib.cryptokit_jwt_verify_hs256(self.token, n, key, len(key), self.claims, 4096)
        return self.claims.raw[:m] if m >= 0 else b""


def native_cargo() -> Path:
    cargo = Path.home() / ".cargo/bin/cargo"
    found = cargo if cargo.exists() else shutil.which("cargo")
    if found is None:
        sys.exit("no cargo for the native build: install Rust with rustup (https://rustup.rs)")
    return Path(found)


def build_native(soft: bool) -> Native:
    """The native crate, release (opt-level 3, LTO), from its own directory so
    examples/cryptokit/.cargo/config.toml (Debian's crate sources) applies."""
    key = "native-soft" if soft else "native"
    env = {k: v for k, v in os.environ.items() if k not in ("RUSTC", "RUSTFLAGS")}
    env["CARGO_TARGET_DIR"] = str(TARGET_DIR / key)
    argv = [str(native_cargo()), "build", "--release", "--quiet", *(["--features", "soft"] * soft)]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=NATIVE, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"building {NATIVE} ({key}) failed:\n{done.stderr}")
    print(f"  {key}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    name = {"darwin": "libcryptokit_native.dylib", "win32": "cryptokit_native.dll"}.get(
        sys.platform, "libcryptokit_native.so"
    )
    return Native(ctypes.CDLL(str(TARGET_DIR / key / "release" / name)))


def node_rows(pkg: Path, quick: bool) -> tuple[dict[str, Any], str]:
    """cryptokit.mjs's timings by row name, and Node's version (empty without Node)."""
    node = shutil.which("node")
    if node is None:
        return {}, ""
    target, repeats = ("0.05", "3") if quick else (str(TARGET_S), str(REPEATS))
    done = subprocess.run(
        [node, str(NODE_BENCH), str(pkg / "cryptokit.js"), target, repeats],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        sys.exit(f"node {NODE_BENCH.name} failed:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout)
    return result["rows"], result["node"]


# -- the rows -----------------------------------------------------------------


def _check(label: str, got: object, expected: object) -> None:
    if got != expected:
        sys.exit(f"{label} gave {got!r}, expected {expected!r}: not timing a wrong answer")


def _rate(size: int, timing: Timing) -> str:
    rate = size / timing.min_s / 1e6
    return "" if not size else f"{rate:,.0f} MB/s" if rate >= 10 else f"{rate:.2f} MB/s"


@dataclass
class Contenders:
    """Everything timed, built and loaded once; one method per workload adds its rows."""

    report: Report
    quick: bool
    kit: Any  # the .wasm through wasmbridge
    soft: Native  # the same Rust natively, portable code
    shani: Native  # the same Rust natively, SHA-NI when the CPU has it
    node: dict[str, Any]  # cryptokit.mjs's rows
    node_version: str

    def timed(self, func: Callable[[], object]) -> Timing:
        return measure(func, repeats=3, target_s=0.05) if self.quick else measure(func)

    def sha256(self, size: int, label: str) -> None:
        data, small = pattern(size), pattern(4096 if self.quick else 16384)
        digest = hashlib.sha256(data).digest()
        _check("sha256 wasm", self.kit.sha256(data), digest)
        _check("sha256 native", self.soft.sha256(data), digest)
        _check("sha256 SHA-NI", self.shani.sha256(data), digest)
        _check("sha256 pure Python", py_sha256(small), hashlib.sha256(small).digest())
        title = f"SHA-256 {label}"
        wasm = self.timed(lambda: self.kit.sha256(data))
        native = self.timed(lambda: self.soft.sha256(data))
        per_byte = self.timed(lambda: py_sha256(small))
        scale = size / len(small)
        pure = per_byte.scaled(scale)
        for row_label, timing, note in (
            ("wasm via wasmbridge", wasm, "speed profile, rustc 1.63"),
            ("native, same Rust (portable code)", native, "sha2 force-soft: the code wasm runs"),
            ("native, same Rust (SHA-NI)", self.timed(lambda: self.shani.sha256(data)),
             "sha2 picks the CPU's SHA extensions"),
            ("hashlib (OpenSSL)", self.timed(lambda: hashlib.sha256(data).digest()), ""),
            ("pure Python", pure, f"timed on {len(small) // 1024} KiB, scaled per byte"),
        ):  # fmt: skip
            self.report.add(
                Row(f"{title}: {row_label}", timing, note=_join(_rate(size, timing), note))
            )
        self.node_rows(title, f"sha256 {label}", digest.hex(), size)
        self.targets(title, wasm, native, pure, "min / min")
        self.js_ratio(title, f"sha256 {label}")

    def hmac_sha256(self) -> None:
        message = pattern(1024)
        mac = hmac.new(KEY, message, hashlib.sha256).digest()
        _check("hmac wasm", self.kit.hmac_sha256(KEY, message), mac)
        _check("hmac native", self.soft.hmac_sha256(KEY, message), mac)
        _check("hmac pure Python", py_hmac_sha256(KEY, message), mac)
        title = "HMAC-SHA256 1 KiB"
        wasm = self.timed(lambda: self.kit.hmac_sha256(KEY, message))
        native = self.timed(lambda: self.soft.hmac_sha256(KEY, message))
        pure = self.timed(lambda: py_hmac_sha256(KEY, message))
        for row_label, timing in (
            ("wasm via wasmbridge", wasm),
            ("native, same Rust (portable code)", native),
            ("native, same Rust (SHA-NI)",
             self.timed(lambda: self.shani.hmac_sha256(KEY, message))),
            ("hmac.new (OpenSSL)", self.timed(lambda: hmac.new(KEY, message, "sha256").digest())),
            ("hmac.digest (OpenSSL, one call)",
             self.timed(lambda: hmac.digest(KEY, message, "sha256"))),
            ("pure Python", pure),
        ):  # fmt: skip
            self.report.add(Row(f"{title}: {row_label}", timing))
        self.node_rows(title, "hmac 1 KiB", mac.hex(), 0)
        self.targets(title, wasm, native, pure, "a short call: the bridge's fixed cost counts")
        self.js_ratio(title, "hmac 1 KiB")

    def jwt(self) -> None:
        import jwt

        kit, soft = self.kit, self.soft
        claims = json.loads(CLAIMS)
        _check("jwt wasm", kit.jwt_verify_hs256(kit.jwt_sign_hs256(CLAIMS, KEY), KEY), CLAIMS)
        _check("jwt native", soft.sign_verify(CLAIMS.encode(), KEY), CLAIMS.encode())
        _check("jwt PyJWT", jwt.decode(jwt.encode(claims, KEY), KEY, algorithms=["HS256"]), claims)
        _check("jwt pure Python", py_jwt_verify(py_jwt_sign(CLAIMS, KEY), KEY), CLAIMS)
        title = "JWT HS256 sign + verify"
        wasm = self.timed(lambda: kit.jwt_verify_hs256(kit.jwt_sign_hs256(CLAIMS, KEY), KEY))
        native = self.timed(lambda: soft.sign_verify(CLAIMS.encode(), KEY))
        pyjwt = self.timed(lambda: jwt.decode(jwt.encode(claims, KEY), KEY, algorithms=["HS256"]))
        pure = self.timed(lambda: py_jwt_verify(py_jwt_sign(CLAIMS, KEY), KEY))
        for row_label, timing, note in (
            ("wasm via wasmbridge", wasm, "two calls"),
            ("native, same Rust (portable code)", native, "two calls"),
            ("PyJWT", pyjwt, f"PyJWT {jwt.__version__}: JSON in Python, HMAC in OpenSSL"),
            ("pure Python", pure, "base64 and the HMAC of this file in Python"),
        ):
            self.report.add(Row(f"{title}: {row_label}", timing, note=note))
        self.node_rows(title, "jwt sign+verify", CLAIMS, 0)
        self.targets(title, wasm, native, pure, "two short calls: the bridge's fixed cost counts")
        self.js_ratio(title, "jwt sign+verify")

    def targets(
        self, title: str, wasm: Timing, native: Timing, pure: Timing | None, note: str
    ) -> None:
        ratio = wasm.min_s / native.min_s
        self.report.add(
            Row(f"{title}: wasm / native (portable)", value=f"{ratio:.2f}×",
                target=f"≤ {NATIVE_TARGET}×", verdict=verdict(ratio <= NATIVE_TARGET), note=note)
        )  # fmt: skip
        if pure is not None:
            ratio = pure.min_s / wasm.min_s
            self.report.add(
                Row(f"{title}: pure Python / wasm", value=f"{ratio:,.0f}×",
                    target=f"≥ {PYTHON_TARGET:.0f}×", verdict=verdict(ratio >= PYTHON_TARGET),
                    note="min / min")
            )  # fmt: skip

    def node_rows(self, title: str, key: str, answer: str, size: int) -> None:
        for suffix, label in ((", wasm", "same .wasm in Node"), (", plain JS", "plain JS in Node")):
            row = self.node.get(key + suffix)
            if row is None:
                continue
            _check(f"node {key}{suffix}", row["digest"], answer)
            timing = Timing(row["min_s"], row["median_s"], row["loops"])
            note = _join(_rate(size, timing), f"Node {self.node_version}")
            self.report.add(Row(f"{title}: {label}", timing, note=note))

    def js_ratio(self, title: str, key: str) -> None:
        name = f"{title}: plain JS / wasm in Node"
        wasm, plain = self.node.get(key + ", wasm"), self.node.get(key + ", plain JS")
        if wasm is None or plain is None:
            self.report.add(Row(name, value="no node", verdict="skipped"))
            return
        ratio = plain["min_s"] / wasm["min_s"]
        self.report.add(
            Row(name, value=f"{ratio:.2f}×", target="> 1×", verdict=verdict(ratio > 1),
                note="min / min")
        )  # fmt: skip


def run(report: Report, quick: bool) -> None:
    """Build, check every implementation against hashlib, then add the rows."""
    import wasmbridge

    pkg = build_wasm()
    node, node_version = node_rows(pkg, quick)
    contenders = Contenders(
        report,
        quick,
        wasmbridge.load(pkg / "cryptokit.wasm"),
        build_native(soft=True),
        build_native(soft=False),
        node,
        node_version,
    )
    contenders.sha256(1 << 20, "1 MiB")
    contenders.sha256(1 << 16, "64 KiB")
    contenders.hmac_sha256()
    contenders.jwt()
    report.notes.append(
        "cryptokit: pure Python SHA-256, HMAC and JWT are written in bench/usecases/cryptokit.py; "
        "plain JS in bench/usecases/cryptokit_plain.mjs. The SHA-NI "
        "rows show what the CPU's SHA extensions give native code; wasm has no such "
        "instructions."
    )


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def main(argv: list[str] | None = None) -> int:
    quick = "--quick" in (sys.argv[1:] if argv is None else argv)
    report = Report("cryptokit: SHA-256, HMAC and HS256 JWT")
    run(report, quick)
    print(report.markdown())
    if not quick:
        print(f"saved {report.save('usecases-cryptokit')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
