/**
 * Human (@vladmandic/human) as a peer-benchmark entrant: its ESM bundle (own tfjs 4.22.0) on tfjs wasm.
 * Frames go through Human.detect() with the face pipeline reduced to BlazeFace + emotion (mesh, iris,
 * description, antispoof, liveness and every body/hand/object model off; no frame caching). In video mode
 * ("human-video") Human runs as its users run it on a camera: its default frame caching and skipping on
 * (detector re-run every 99 frames / 2.5 s, emotion every 99 frames / 1.5 s, unchanged frames reused) and
 * the face mesh on, which is what moves its boxes between detections. Crops are
 * classified by the same ops as Human's src/gear/emotion.ts predict(): face in [0,1] RGB, bilinear
 * resize to 64x64, grey = 0.2989 R + 0.587 G + 0.114 B, (grey - 0.5) * 2, model output as is.
 */
import type { Frame } from "../../shared/preprocess.ts";
import {
  graphModelFiles,
  importBundle,
  labelPermutation,
  ourLabel,
  type Peer,
  rgbaPixels,
  timeForwardPasses,
  toOurOrder,
  WASM_DIR,
} from "./peer.ts";

const ROOT = new URL("../../node_modules/@vladmandic/human/", import.meta.url);
const MODELS = new URL("models/", ROOT);

/** Human's labels for its grey (oarriaga) emotion model, in output order (src/gear/emotion.ts). */
export const HUMAN_LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"] as const;

// deno-lint-ignore no-explicit-any
type Any = any;

/** Human's configuration for "face pipeline with emotion only" on wasm; `video`: its caching as it ships. */
function humanConfig(video: boolean) {
  const off = { enabled: false };
  const noSkip = video ? {} : { skipFrames: 0, skipTime: 0 };
  return {
    backend: "wasm",
    wasmPath: WASM_DIR.href,
    wasmPlatformFetch: true, // fetch the .wasm (file: URL) rather than Node's fs
    modelBasePath: MODELS.href,
    debug: false,
    warmup: "none",
    ...(video ? {} : { cacheSensitivity: 0 }), // per frame: no result reuse between similar frames
    filter: off,
    face: {
      enabled: true,
      detector: { rotation: false, maxDetected: 10, ...noSkip },
      mesh: video ? { enabled: true } : off,
      iris: off,
      attention: off,
      description: off,
      antispoof: off,
      liveness: off,
      emotion: { enabled: true, ...noSkip },
    },
    body: off,
    hand: off,
    object: off,
    gesture: off,
    segmentation: off,
  };
}

/** Human's emotion model (crops) and face pipeline (frames; `video`: in its video mode). */
export async function createHumanPeer(video = false): Promise<Peer> {
  const version = JSON.parse(await Deno.readTextFile(new URL("package.json", ROOT))).version;
  const H = await importBundle<Any>(new URL("dist/human.esm.js", ROOT));
  const human = new H.Human(humanConfig(video));
  const tf = human.tf;
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  const permutation = labelPermutation(HUMAN_LABELS);
  const emotionUrl = new URL("emotion.json", MODELS);
  const modelFiles = await graphModelFiles(emotionUrl);
  let model: Any;
  /** emotion.ts predict()'s ops, for a batch of faces (each resized on its own, as Human does per face). */
  const run = (faces: Any[]) =>
    tf.tidy(() => {
      const size = model.inputs[0].shape[2];
      const resized = tf.concat(faces.map((f: Any) => tf.image.resizeBilinear(f, [size, size], false)));
      const grey = tf.sum(tf.mul(resized, tf.tensor1d([0.2989, 0.5870, 0.1140])), 3, true);
      return model.execute(tf.mul(tf.sub(grey, 0.5), 2));
    });
  const peer: Peer = {
    id: video ? "human-video" : "human",
    library: `@vladmandic/human ${version}`,
    modelFiles,
    pipelineFiles: [
      ...await graphModelFiles(new URL("blazeface.json", MODELS)),
      ...(video ? await graphModelFiles(new URL("facemesh.json", MODELS)) : []),
      ...modelFiles,
    ],
    async loadModel() {
      await human.init(); // backend
      model = await tf.loadGraphModel(emotionUrl.href); // what Human's loadModel() does
      const y = run([tf.zeros([1, 64, 64, 3])]);
      await y.data();
      tf.dispose(y);
    },
    async classify(faces: Frame[]) {
      const inputs = faces.map((f) =>
        tf.tidy(() => tf.div(tf.expandDims(tf.browser.fromPixels(rgbaPixels(f), 3)), 255))
      );
      const y = run(inputs);
      const flat = await y.data();
      tf.dispose([y, ...inputs]);
      return faces.map((_, i) => toOurOrder(flat.slice(i * 7, i * 7 + 7), permutation));
    },
    timeForward(batch, iterations) {
      const size = model.inputs[0].shape[2];
      const x = tf.randomUniform([batch, size, size, 1], -1, 1);
      return timeForwardPasses(x, () => model.execute(x), batch, iterations);
    },
    async loadPipeline(warmFrame) {
      await human.load();
      await peer.analyze(warmFrame);
    },
    async analyze(frame) {
      const x = tf.browser.fromPixels(rgbaPixels(frame), 3);
      try {
        const result = await human.detect(x);
        if (result.error) throw new Error(`human: ${result.error}`);
        return result.face.map((f: Any) => ({
          box: { x: f.box[0], y: f.box[1], width: f.box[2], height: f.box[3] },
          label: ourLabel(f.emotion?.[0]?.emotion ?? "neutral"),
        }));
      } finally {
        x.dispose();
      }
    },
  };
  return peer;
}
