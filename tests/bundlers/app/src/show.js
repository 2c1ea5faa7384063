import { add, echo_str } from "types";

// Loads the module with `load`, calls two exports and puts what came out on the page.
export async function show(load) {
  try {
    await load();
    window.result = { sum: add(5, 7), echoed: echo_str("héllo, wörld ✓") };
  } catch (error) {
    window.result = { error: String(error) };
  }
  document.getElementById("output").textContent = JSON.stringify(window.result);
}
