#!/bin/sh
# Build target/wasm32-wasi/release/serve_wagi_rust.wasm (a WASI command) with a
# rustc that has the wasm32-wasi standard library: Debian's
# (sudo apt-get install rustc cargo libstd-rust-dev-wasm32 lld) or rustup's
# (rustup target add wasm32-wasi). RUSTC and CARGO pick another one.
set -eu
cd "$(dirname "$0")"
if [ -z "${RUSTC:-}" ]; then
    RUSTC=rustc
    libdir=$(rustc --print target-libdir --target wasm32-wasi 2>/dev/null || true)
    if ! ls "$libdir"/libstd-* >/dev/null 2>&1 && [ -x /usr/bin/rustc ]; then
        RUSTC=/usr/bin/rustc CARGO=${CARGO:-/usr/bin/cargo}
    fi
fi
export RUSTC
${CARGO:-cargo} build --quiet --release --target wasm32-wasi
echo "built $(pwd)/target/wasm32-wasi/release/serve_wagi_rust.wasm"
