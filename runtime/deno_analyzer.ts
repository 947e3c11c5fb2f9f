import * as tfconv from "@tensorflow/tfjs-converter";
import { type AnalyzerOptions, createAnalyzer } from "../shared/analyzer.ts";
import { BLAZEFACE_DIR, BLAZEFACE_FILES, createBlazeFaceDetector } from "../shared/detect_blazeface.ts";
import { createHaarDetector, HAAR_CASCADE_URL } from "../shared/detect_haar.ts";
import { DETECTOR_NAMES, type FaceDetector } from "../shared/detector.ts";
import { loadModel } from "../shared/model.ts";
import { loadOpenCv } from "../shared/opencv.ts";
import { initDenoTf } from "./deno_tf.ts";

/** Face detectors the analyzer can use; the first is the default. */
export const DETECTORS = DETECTOR_NAMES;

/** Load one of the shipped face detectors. */
export async function loadDetector(name: typeof DETECTORS[number] = "blazeface"): Promise<FaceDetector> {
  await initDenoTf();
  if (name === "haar") {
    const { cv } = await loadOpenCv();
    return createHaarDetector(cv, await Deno.readFile(HAAR_CASCADE_URL));
  }
  return createBlazeFaceDetector(
    await tfconv.loadGraphModel(new URL(BLAZEFACE_FILES[name], BLAZEFACE_DIR).href),
  );
}

/** The analyzer in Deno: tfjs wasm, the bundled (or given) model and a shipped detector. */
export async function createDenoAnalyzer(
  options: Partial<Omit<AnalyzerOptions, "model" | "detector">> & {
    modelUrl?: string | URL;
    detector?: typeof DETECTORS[number];
  } = {},
) {
  await initDenoTf();
  const model = await loadModel(options.modelUrl);
  const detector = await loadDetector(options.detector);
  const analyzer = createAnalyzer({ ...options, model, detector });
  return {
    ...analyzer,
    model,
    detector,
    /** Free the model and the detector. */
    dispose() {
      model.dispose();
      detector.dispose();
    },
  };
}
