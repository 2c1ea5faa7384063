// The app every bundler builds: the `types` fixture's package, installed with npm.
import init from "types";
import { show } from "./show.js";

await show(() => init());
