#!/bin/sh
# Build hello.wasm (a WASI command) from hello.c with clang and Debian's wasi-libc:
#   sudo apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32
set -eu
cd "$(dirname "$0")"
${CC:-clang} --target=wasm32-wasi -O2 -Wall -Wextra -o hello.wasm hello.c
echo "built $(pwd)/hello.wasm"
