"""The use-case kernels of bench/kernels.py, one module each: ``run(report, quick)`` adds
its rows (wasm through wasmbridge, native, pure Python, the reference library, plain JS
and the same .wasm in Node)."""
