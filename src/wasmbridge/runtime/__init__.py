"""The Python host on wasmtime."""
