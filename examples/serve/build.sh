#!/bin/sh
# Build the one module the manifest beside this script cannot build itself: the C
# WAGI handler (serve-wagi-c/hello.wasm). The two Rust handlers are crate folders,
# which `wasmbridge serve` builds at start.
set -eu
"$(dirname "$0")/../serve-wagi-c/build.sh"
