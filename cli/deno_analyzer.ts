import { type AnalyzerOptions, createAnalyzer } from "../shared/analyzer.ts";
import { createHaarDetector, HAAR_CASCADE_URL } from "../shared/detect_haar.ts";
import { loadModel } from "../shared/model.ts";
import { loadOpenCv } from "../shared/opencv.ts";
import { initDenoTf } from "./deno_tf.ts";

/** The analyzer in Deno: tfjs wasm, the bundled (or given) model, the Haar detector. */
export async function createDenoAnalyzer(
  options: Partial<Omit<AnalyzerOptions, "model" | "detector">> & { modelUrl?: string | URL } = {},
) {
  await initDenoTf();
  const model = await loadModel(options.modelUrl);
  const { cv } = await loadOpenCv();
  const detector = createHaarDetector(cv, await Deno.readFile(HAAR_CASCADE_URL));
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
