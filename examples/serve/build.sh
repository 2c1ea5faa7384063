#!/bin/sh
# Build the two WAGI handlers the manifest beside this script names. The bridge
# handler (serve-counter) is a crate folder: `wasmbridge serve` builds it at start.
set -eu
here="$(dirname "$0")"
"$here/../serve-wagi-rust/build.sh"
"$here/../serve-wagi-c/build.sh"
