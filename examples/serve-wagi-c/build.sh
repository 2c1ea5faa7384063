#!/bin/sh
# Build hello.wasm (a WASI command) from hello.c with clang and Debian's wasi-libc:
#   sudo apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32
set -eu
cd "$(dirname "$0")"
if ! command -v "${CC:-clang}" >/dev/null; then
  echo "error: no ${CC:-clang} to build hello.c for wasm32-wasi" >&2
  echo "  hint: sudo apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32" >&2
  exit 1
fi
${CC:-clang} --target=wasm32-wasi -O2 -Wall -Wextra -o hello.wasm hello.c
echo "built $(pwd)/hello.wasm"
