import { initTf } from "../shared/tf.ts";

/** Start tfjs on wasm in Deno, loading the .wasm files from node_modules. */
export function initDenoTf() {
  const wasmDir = new URL("../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url);
  return initTf({ wasmPaths: wasmDir.pathname });
}
