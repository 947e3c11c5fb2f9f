import { initTf } from "../shared/tf.ts";

/**
 * Start tfjs on wasm in Deno, loading the .wasm files from tfjs-backend-wasm's folder in node_modules
 * (wherever it is installed: this repository, or a project that installed the npm package).
 */
export function initDenoTf() {
  const wasmDir = new URL("./", import.meta.resolve("@tensorflow/tfjs-backend-wasm"));
  return initTf({ wasmPaths: wasmDir.pathname });
}
