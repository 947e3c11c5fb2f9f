/** What the peer benchmark needs from each expression library: Mien, face-api.js, Human. */
import { type Label, labelIndex, LABELS } from "../../shared/labels.ts";
import type { Box, Frame } from "../../shared/preprocess.ts";
import { BUNDLED_MODEL_URL } from "../../shared/bundled_models.ts";

/** A face an entrant found in a frame: its box (the library's own convention) and top label. */
export interface PeerFace {
  box: Box;
  label: Label;
}

/** One library under test, driven the way its own code drives its models. */
export interface Peer {
  /** Short id: mien, mien-haar, face-api, human, human-video. */
  id: string;
  /** Library and version, as the table prints it. */
  library: string;
  /** The expression model's files (model.json/manifest + weights), for bytes on disk. */
  modelFiles: URL[];
  /** Detector + expression model files of the frame pipeline. */
  pipelineFiles: URL[];
  /** Load the expression model alone (its first inference included: cold load). */
  loadModel(): Promise<void>;
  /** Probabilities in Mien's LABELS order for face crops, preprocessed as the library does. */
  classify(faces: Frame[]): Promise<Float32Array[]>;
  /** Mean ms per face of `iterations` forward passes of a batch at the model's own input size. */
  timeForward(batch: number, iterations: number): Promise<number>;
  /** Load the detector + expression pipeline (its first frame included: cold load). */
  loadPipeline(warmFrame: Frame): Promise<void>;
  /** Detect and classify every face of one RGBA frame (frames of a video in order, for video modes). */
  analyze(frame: Frame): Promise<PeerFace[]>;
}

/**
 * For a library's label order, the index of each of its labels in Mien's LABELS order; throws when
 * the names are not exactly our seven classes.
 */
export function labelPermutation(peerLabels: readonly string[]): number[] {
  const order = peerLabels.map((name) => labelIndex(name));
  if (order.length !== LABELS.length || new Set(order).size !== LABELS.length || order.includes(-1)) {
    throw new Error(`labels ${peerLabels.join(", ")} are not a permutation of ${LABELS.join(", ")}`);
  }
  return order;
}

/** Our label for one of a library's label names (throws on a name outside our seven classes). */
export function ourLabel(name: string): Label {
  const i = labelIndex(name);
  if (i < 0) throw new Error(`unknown expression label "${name}"`);
  return LABELS[i];
}

/** A library's probabilities (its own label order) rearranged into Mien's LABELS order. */
export function toOurOrder(probs: ArrayLike<number>, permutation: number[]): Float32Array {
  const out = new Float32Array(LABELS.length);
  permutation.forEach((ours, i) => (out[ours] = probs[i]));
  return out;
}

/** Total bytes of files on disk. */
export async function fileBytes(files: URL[]): Promise<number> {
  let bytes = 0;
  for (const file of files) bytes += (await Deno.stat(file)).size;
  return bytes;
}

/** A graph model's model.json and the weight files it lists. */
export async function graphModelFiles(modelJson: URL): Promise<URL[]> {
  const json = JSON.parse(await Deno.readTextFile(modelJson));
  return [
    modelJson,
    ...json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => new URL(p, modelJson))),
  ];
}

/** The tfjs wasm binaries folder (tfjs-backend-wasm 4.22.0, the version both peers bundle). */
export const WASM_DIR = new URL("../../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url);

/**
 * Import a peer's ESM bundle (which carries its own copy of tfjs) so that it runs in Deno: its tfjs
 * takes the browser platform (fetch, TextEncoder) rather than the Node one, whose `util` the bundle
 * stubs out; emscripten's Node branch gets the __dirname it reads (the wasm file itself is fetched).
 */
export async function importBundle<T>(url: URL): Promise<T> {
  const scope = globalThis as { WorkerGlobalScope?: unknown; __dirname?: string };
  scope.WorkerGlobalScope = class {};
  try {
    return await import(url.href) as T;
  } finally {
    delete scope.WorkerGlobalScope;
    scope.__dirname ??= WASM_DIR.pathname;
  }
}

/** A frame as tfjs's PixelData (RGBA bytes in a Uint8Array), what tf.browser.fromPixels takes outside a DOM. */
export function rgbaPixels(frame: Frame): { data: Uint8Array; width: number; height: number } {
  const channels = frame.channels ?? 4;
  const n = frame.width * frame.height;
  if (channels === 4) {
    return {
      data: new Uint8Array(frame.data.buffer, frame.data.byteOffset, n * 4),
      width: frame.width,
      height: frame.height,
    };
  }
  const data = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    data[i * 4] = frame.data[s];
    data[i * 4 + 1] = frame.data[channels === 1 ? s : s + 1];
    data[i * 4 + 2] = frame.data[channels === 1 ? s : s + 2];
    data[i * 4 + 3] = 255;
  }
  return { data, width: frame.width, height: frame.height };
}

/** A tensor as any tfjs copy has it (the peers bundle their own tfjs). */
interface AnyTensor {
  data(): Promise<unknown>;
  dispose(): void;
}

/** Mean ms per item of running `forward` `iterations` times on `input`, a batch of `batch`; frees `input`. */
export async function timeForwardPasses(
  input: AnyTensor,
  forward: () => AnyTensor,
  batch: number,
  iterations: number,
): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const y = forward();
    await y.data();
    y.dispose();
  }
  const ms = (performance.now() - start) / iterations / batch;
  input.dispose();
  return ms;
}

/** "<name> <version>" of a bundled model (the small one unless `url`), read from its model.json. */
export async function bundledModelName(url: URL = BUNDLED_MODEL_URL): Promise<string> {
  const json = JSON.parse(await Deno.readTextFile(url));
  return `${json.userDefinedMetadata.name} ${json.userDefinedMetadata.version}`;
}
