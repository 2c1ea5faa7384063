// esbuild copies the .wasm only when something imports it: `--loader:.wasm=file` turns
// this import into the copy's URL, which init() then loads.
import init from "types";
import wasmUrl from "types/types.wasm";
import { show } from "./show.js";

await show(() => init(wasmUrl));
