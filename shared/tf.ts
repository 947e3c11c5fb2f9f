import * as tf from "@tensorflow/tfjs-core";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

/** Options for starting TensorFlow.js. */
export interface BackendOptions {
  /** Folder (path or URL ending in "/") holding tfjs-backend-wasm's .wasm files. */
  wasmPaths?: string;
  /** Disable wasm threads (needed in extension pages, whose CSP blocks the worker). */
  noThreads?: boolean;
}

let ready: Promise<typeof tf> | undefined;
let pathsSet = false;

/**
 * Start tfjs on the wasm backend once; later calls share the same promise. A failed start (the .wasm
 * files could not be fetched) is forgotten, so the next call tries again.
 */
export function initTf(options: BackendOptions = {}): Promise<typeof tf> {
  ready ??= (async () => {
    if (options.noThreads) tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    // tfjs refuses new paths after a failed start; the first ones stay.
    if (options.wasmPaths && !pathsSet) {
      setWasmPaths(options.wasmPaths);
      pathsSet = true;
    }
    if (!(await tf.setBackend("wasm"))) throw new Error("tfjs wasm backend failed to start");
    await tf.ready();
    return tf;
  })().catch((error) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

export { tf };
