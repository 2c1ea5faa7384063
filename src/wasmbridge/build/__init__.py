"""Build: toolchain discovery, cargo, wasm-opt, validation, size report."""
