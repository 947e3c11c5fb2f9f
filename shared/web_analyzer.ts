import * as tfconv from "@tensorflow/tfjs-converter";
import { type AnalyzerOptions, createAnalyzer } from "./analyzer.ts";
import { createBlazeFaceDetector } from "./detect_blazeface.ts";
import { loadModel } from "./model.ts";
import { initTf } from "./tf.ts";

/** Where a browser page finds the files that Mien needs (each a URL or path ending in "/"). */
export interface WebAssets {
  /** Folder holding tfjs-backend-wasm's .wasm files. */
  wasm: string;
  /** Folder holding the expression model's model.json. */
  model: string;
  /** Folder holding BlazeFace's blazeface.json. */
  blazeface: string;
}

/**
 * The analyzer in a browser page or extension page: tfjs on wasm (threads off, which every page
 * allows), the expression model and BlazeFace fetched from `assets`; nothing leaves the page.
 */
export async function createWebAnalyzer(
  assets: WebAssets,
  options: Partial<Omit<AnalyzerOptions, "model" | "detector">> = {},
) {
  await initTf({ wasmPaths: assets.wasm, noThreads: true });
  const model = await loadModel(`${assets.model}model.json`);
  const detector = createBlazeFaceDetector(
    await tfconv.loadGraphModel(`${assets.blazeface}blazeface.json`),
  );
  return {
    ...createAnalyzer({ ...options, model, detector }),
    model,
    detector,
    /** Free the model and the detector. */
    dispose() {
      model.dispose();
      detector.dispose();
    },
  };
}
