import * as tfconv from "@tensorflow/tfjs-converter";
import { initTf, tf } from "./tf.ts";
import { LABELS } from "./labels.ts";

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
  [key: string]: unknown;
}

/** A loaded expression model: batched probabilities for preprocessed faces. */
export interface ExpressionModel {
  info: ModelInfo;
  graph: tfconv.GraphModel;
  /** Probabilities [n][7] for n faces, each size*size grey values in [0,1]. */
  classify(faces: Float32Array[]): Promise<Float32Array[]>;
  /** Free the model's weights. */
  dispose(): void;
}

/** URL of the model bundled in models/ (a file: URL in Deno, resolved against this module). */
export const BUNDLED_MODEL_URL = new URL("../models/mien-fer/model.json", import.meta.url);

/** Load a Mien graph model from a URL of its model.json (file:, http(s):, or extension URLs). */
export async function loadModel(
  url: string | URL = BUNDLED_MODEL_URL,
  fetchFn: typeof fetch = fetch,
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
    async classify(faces: Float32Array[]): Promise<Float32Array[]> {
      if (faces.length === 0) return [];
      const batch = new Float32Array(faces.length * size * size);
      faces.forEach((face, i) => {
        if (face.length !== size * size) {
          throw new RangeError(`face ${i} has ${face.length} values; expected ${size * size}`);
        }
        batch.set(face, i * size * size);
      });
      const probs = tf.tidy(() => {
        const x = tf.tensor4d(batch, [faces.length, size, size, 1]);
        return graph.execute(x, info.output) as tf.Tensor2D;
      });
      const flat = await probs.data() as Float32Array;
      probs.dispose();
      return faces.map((_, i) => flat.slice(i * LABELS.length, (i + 1) * LABELS.length));
    },
    dispose: () => graph.dispose(),
  };
}
