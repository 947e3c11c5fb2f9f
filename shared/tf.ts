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

/** Start tfjs on the wasm backend once; later calls share the same promise. */
export function initTf(options: BackendOptions = {}): Promise<typeof tf> {
  ready ??= (async () => {
    if (options.noThreads) tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    if (options.wasmPaths) setWasmPaths(options.wasmPaths);
    if (!(await tf.setBackend("wasm"))) throw new Error("tfjs wasm backend failed to start");
    await tf.ready();
    return tf;
  })();
  return ready;
}

export { tf };
