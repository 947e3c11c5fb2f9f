import * as tfconv from "@tensorflow/tfjs-converter";
import { type AnalyzerOptions, createAnalyzer } from "./analyzer.ts";
import { BLAZEFACE_FILES, createBlazeFaceDetector } from "./detect_blazeface.ts";
import type { FaceDetector } from "./detector.ts";
import { type ExpressionModel, loadModel } from "./model.ts";
import { faceInput, type Frame } from "./preprocess.ts";
import { initTf } from "./tf.ts";
import { createVideoAnalyzer, type VideoAnalyzerOptions } from "./video_analyzer.ts";

/** Where a browser page finds the files that Mien needs (each a URL or path ending in "/"). */
export interface WebAssets {
  /** Folder holding tfjs-backend-wasm's .wasm files. */
  wasm: string;
  /** Folder holding the expression model's model.json. */
  model: string;
  /** Folder holding the BlazeFace models (BLAZEFACE_FILES). */
  blazeface: string;
}

/** Options for createWebAnalyzer: the analyzer's, plus which BlazeFace to run. */
export interface WebAnalyzerOptions extends Partial<Omit<AnalyzerOptions, "model" | "detector">> {
  /** "blazeface" (full range, 256x256, default) or "blazeface-short" (faces near the camera, ~4x faster). */
  detector?: keyof typeof BLAZEFACE_FILES;
}

/**
 * The analyzer in a browser page or extension page: tfjs on wasm (threads off, which every page
 * allows), the expression model and BlazeFace fetched from `assets`; nothing leaves the page.
 */
export async function createWebAnalyzer(
  assets: WebAssets,
  { detector: detectorName = "blazeface", ...options }: WebAnalyzerOptions = {},
) {
  await initTf({ wasmPaths: assets.wasm, noThreads: true });
  const model = await loadModel(`${assets.model}model.json`);
  const detector = createBlazeFaceDetector(
    await tfconv.loadGraphModel(`${assets.blazeface}${BLAZEFACE_FILES[detectorName]}`),
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

/**
 * Run the expression model and each detector once on a blank frame, so that their start-up (a second or so
 * on a busy machine) is spent before a video plays, not on its first frames.
 */
export async function warmUp(model: ExpressionModel, detectors: FaceDetector[]) {
  const blank: Frame = { data: new Uint8ClampedArray(64 * 64 * 4).fill(128), width: 64, height: 64 };
  for (const detector of detectors) detector.detect(blank);
  await model.classify([faceInput(blank, model.info.inputSize)]);
}

/**
 * The video verb in a browser page: the expression model, full-range BlazeFace to find faces and
 * short-range BlazeFace to follow them, all from `assets` (warmed up: see warmUp).
 */
export async function createWebVideoAnalyzer(
  assets: WebAssets,
  options: Omit<VideoAnalyzerOptions, "model" | "detector" | "regionDetector"> = {},
) {
  await initTf({ wasmPaths: assets.wasm, noThreads: true });
  const load = async (name: keyof typeof BLAZEFACE_FILES) =>
    createBlazeFaceDetector(await tfconv.loadGraphModel(`${assets.blazeface}${BLAZEFACE_FILES[name]}`));
  const [model, detector, regionDetector] = await Promise.all([
    loadModel(`${assets.model}model.json`),
    load("blazeface"),
    load("blazeface-short"),
  ]);
  await warmUp(model, [detector, regionDetector]);
  return {
    ...createVideoAnalyzer({ ...options, model, detector, regionDetector }),
    /** The expression model and the full-range detector (for a face's feature maps). */
    model,
    detector,
    /** Free the model and the detectors. */
    dispose() {
      model.dispose();
      detector.dispose();
      regionDetector.dispose();
    },
  };
}
