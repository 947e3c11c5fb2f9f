import * as tfconv from "@tensorflow/tfjs-converter";
import { initTf, tf } from "./tf.ts";
import { LABELS } from "./labels.ts";
import { mirror } from "./preprocess.ts";
import { BUNDLED_MODEL_URL } from "./bundled_models.ts";

/** What model.json's userDefinedMetadata says about the expression model. */
export interface ModelInfo {
  name: string;
  version: string;
  labels: string[];
  inputSize: number;
  input: string;
  output: string;
  logits: string;
  features: string[];
  parameters: number;
  /** Whether the model was trained on faces turned so that the eyes are level (crops must be too). */
  align?: boolean;
  /** Crop margin per side the model wants beyond the detector's, as a fraction of the box (default 0). */
  extraMargin?: number;
  [key: string]: unknown;
}

/** A loaded expression model: batched probabilities for preprocessed faces. */
export interface ExpressionModel {
  info: ModelInfo;
  graph: tfconv.GraphModel;
  /**
   * Probabilities [n][7] for n faces, each size*size grey values in [0,1]; with `flip`, the mean of
   * each face and its mirror image (twice the work, a little more accurate).
   */
  classify(faces: Float32Array[], options?: { flip?: boolean }): Promise<Float32Array[]>;
  /** Free the model's weights. */
  dispose(): void;
}

export { BUNDLED_MODEL_URL, BUNDLED_MODELS, MODEL_CHOICES, type ModelChoice } from "./bundled_models.ts";

/** Load a Mien graph model from a URL of its model.json (file:, http(s):, or extension URLs). */
export async function loadModel(
  url: string | URL = BUNDLED_MODEL_URL,
  fetchFn: typeof fetch = (input, init) => fetch(input, init), // unbound window.fetch throws in browsers
): Promise<ExpressionModel> {
  await initTf();
  const graph = await tfconv.loadGraphModel(String(url), { fetchFunc: fetchFn });
  const info = graph.metadata as ModelInfo | undefined;
  if (!info || info.labels?.join() !== LABELS.join()) {
    graph.dispose();
    throw new Error(`${url} is not a Mien expression model (labels must be ${LABELS.join(", ")})`);
  }
  const size = info.inputSize;
  return {
    info,
    graph,
    async classify(faces: Float32Array[], options: { flip?: boolean } = {}): Promise<Float32Array[]> {
      if (faces.length === 0) return [];
      faces.forEach((face, i) => {
        if (face.length !== size * size) {
          throw new RangeError(`face ${i} has ${face.length} values; expected ${size * size}`);
        }
      });
      const inputs = options.flip ? [...faces, ...faces.map((face) => mirror(face, size))] : faces;
      const batch = new Float32Array(inputs.length * size * size);
      inputs.forEach((face, i) => batch.set(face, i * size * size));
      const probs = tf.tidy(() => {
        const x = tf.tensor4d(batch, [inputs.length, size, size, 1]);
        return graph.execute(x, info.output) as tf.Tensor2D;
      });
      const flat = await probs.data() as Float32Array;
      probs.dispose();
      const k = LABELS.length;
      return faces.map((_, i) => {
        const p = flat.slice(i * k, (i + 1) * k);
        if (options.flip) {
          const m = (i + faces.length) * k;
          for (let j = 0; j < k; j++) p[j] = (p[j] + flat[m + j]) / 2;
        }
        return p;
      });
    },
    dispose: () => graph.dispose(),
  };
}
