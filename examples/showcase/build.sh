#!/bin/sh
# Build what the showcase serves: the four kernels for the web into pkg/NAME/
# (the /pkg/ route), and the API handler crate (api/pkg/, which `wasmbridge serve`
# would otherwise build at start).
#   examples/showcase/build.sh && wasmbridge serve examples/showcase/wasmbridge.toml
# $WASMBRIDGE names the wasmbridge to run (default: the one on PATH).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
wasmbridge="${WASMBRIDGE:-wasmbridge}"
for name in imagekit videofx cryptokit physics; do
    "$wasmbridge" build "$here/../$name" --profile speed --target web --out-dir "$here/pkg/$name"
done
# The default (size) profile, as `wasmbridge serve` builds it, so its build at start is a no-op.
"$wasmbridge" build "$here/api"
