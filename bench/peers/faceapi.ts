/**
 * face-api.js (@vladmandic/face-api) as a peer-benchmark entrant: its ESM bundle (own tfjs 4.22.0) on
 * tfjs wasm, TinyFaceDetector (library defaults: inputSize 416, scoreThreshold 0.5) + FaceExpressionNet.
 */
import type { Frame } from "../../shared/preprocess.ts";
import {
  importBundle,
  labelPermutation,
  ourLabel,
  type Peer,
  rgbaPixels,
  toOurOrder,
  WASM_DIR,
} from "./peer.ts";

const ROOT = new URL("../../node_modules/@vladmandic/face-api/", import.meta.url);
const MODELS = new URL("model/", ROOT);

/** face-api's expression labels in its output order (src/faceExpressionNet/FaceExpressions.ts). */
export const FACE_API_LABELS = [
  "neutral",
  "happy",
  "sad",
  "angry",
  "fearful",
  "disgusted",
  "surprised",
] as const;

// deno-lint-ignore no-explicit-any
type FaceApi = any;

/** face-api's expression net (and TinyFaceDetector for frames), driven through its public API. */
export async function createFaceApiPeer(): Promise<Peer> {
  const version = JSON.parse(await Deno.readTextFile(new URL("package.json", ROOT))).version;
  const faceapi = await importBundle<FaceApi>(new URL("dist/face-api.esm.js", ROOT));
  const tf = faceapi.tf;
  const permutation = labelPermutation(FACE_API_LABELS);
  const net = faceapi.nets.faceExpressionNet;
  const files = (
    name: string,
  ) => [new URL(`${name}-weights_manifest.json`, MODELS), new URL(`${name}.bin`, MODELS)];
  const modelFiles = files("face_expression_model");
  const init = async () => {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    tf.setWasmPaths(WASM_DIR.href, true); // fetch the .wasm (file: URL) rather than Node's fs
    if (!(await tf.setBackend("wasm"))) throw new Error("face-api: tfjs wasm backend failed to start");
    await tf.ready();
  };
  const tensor = (frame: Frame) => tf.browser.fromPixels(rgbaPixels(frame), 3);
  /** Probabilities (our order) for face tensors, through FaceExpressionNet.predictExpressions. */
  const predict = async (faces: unknown[]): Promise<Float32Array[]> => {
    const out = await net.predictExpressions(faces);
    const list = Array.isArray(out) ? out : [out];
    return list.map((e: Record<string, number>) => toOurOrder(FACE_API_LABELS.map((l) => e[l]), permutation));
  };
  const options = new faceapi.TinyFaceDetectorOptions();
  const peer: Peer = {
    id: "face-api",
    library: `@vladmandic/face-api ${version}`,
    modelFiles,
    pipelineFiles: [...files("tiny_face_detector_model"), ...modelFiles],
    async loadModel() {
      await init();
      await net.loadFromUri(MODELS.href);
      const x = tf.zeros([112, 112, 3], "int32");
      await predict([x]);
      x.dispose();
    },
    async classify(faces) {
      const tensors = faces.map(tensor);
      try {
        return await predict(tensors);
      } finally {
        tensors.forEach((t: { dispose(): void }) => t.dispose());
      }
    },
    async timeForward(batch, iterations) {
      // face-api classifies a list of face tensors (as withFaceExpressions does), at its 112x112 RGB.
      const faces = Array.from({ length: batch }, () => tf.randomUniform([112, 112, 3], 0, 255));
      const start = performance.now();
      for (let i = 0; i < iterations; i++) {
        const y = await net.forward(faces);
        await y.data();
        y.dispose();
      }
      const ms = (performance.now() - start) / iterations / batch;
      faces.forEach((t: { dispose(): void }) => t.dispose());
      return ms;
    },
    async loadPipeline(warmFrame) {
      await init();
      await faceapi.nets.tinyFaceDetector.loadFromUri(MODELS.href);
      await net.loadFromUri(MODELS.href);
      await peer.analyze(warmFrame);
    },
    async analyze(frame) {
      const x = tensor(frame);
      try {
        const found = await faceapi.detectAllFaces(x, options).withFaceExpressions();
        return found.map((f: FaceApi) => {
          const { x, y, width, height } = f.detection.box;
          const top = FACE_API_LABELS.reduce((a, b) => (f.expressions[b] > f.expressions[a] ? b : a));
          return { box: { x, y, width, height }, label: ourLabel(top) };
        });
      } finally {
        x.dispose();
      }
    },
  };
  return peer;
}
