/** Mien as a peer-benchmark entrant: the bundled model and the shipped analyzer (BlazeFace or Haar). */
import { createDenoAnalyzer } from "../../runtime/deno_analyzer.ts";
import { BLAZEFACE_URL } from "../../shared/detect_blazeface.ts";
import { HAAR_CASCADE_URL } from "../../shared/detect_haar.ts";
import { BUNDLED_MODEL_URL, BUNDLED_MODELS, type ExpressionModel, loadModel } from "../../shared/model.ts";
import { faceInput } from "../../shared/preprocess.ts";
import { initTf, tf } from "../../shared/tf.ts";
import { bundledModelName, graphModelFiles, type Peer, timeForwardPasses, WASM_DIR } from "./peer.ts";

/** Mien with its default detector (BlazeFace) or with OpenCV's Haar cascade; the small bundled model unless `modelUrl`. */
export async function createMienPeer(
  detector: "blazeface" | "haar" = "blazeface",
  modelUrl: URL = BUNDLED_MODEL_URL,
): Promise<Peer> {
  const modelFiles = await graphModelFiles(modelUrl);
  const detectorFiles = detector === "haar" ? [HAAR_CASCADE_URL] : await graphModelFiles(BLAZEFACE_URL);
  let model: ExpressionModel | undefined;
  let analyzer: Awaited<ReturnType<typeof createDenoAnalyzer>> | undefined;
  const init = () => initTf({ wasmPaths: WASM_DIR.pathname, noThreads: true });
  const large = modelUrl.href === BUNDLED_MODELS.large.href;
  return {
    id: detector === "haar" ? "mien-haar" : large ? "mien-large" : "mien",
    library: `${await bundledModelName(modelUrl)} (this repo)`,
    modelFiles,
    pipelineFiles: [...detectorFiles, ...modelFiles],
    async loadModel() {
      await init();
      model = await loadModel(modelUrl);
      await model.classify([new Float32Array(model.info.inputSize ** 2)]);
    },
    classify: (faces) => model!.classify(faces.map((face) => faceInput(face, model!.info.inputSize))),
    timeForward(batch, iterations) {
      const size = model!.info.inputSize;
      const x = tf.randomUniform([batch, size, size, 1]);
      return timeForwardPasses(
        x,
        () => model!.graph.execute(x, model!.info.output) as tf.Tensor,
        batch,
        iterations,
      );
    },
    async loadPipeline(warmFrame) {
      await init();
      analyzer = await createDenoAnalyzer({ detector, maxFaces: 10 });
      await analyzer.analyze(warmFrame);
    },
    async analyze(frame) {
      return (await analyzer!.analyze(frame)).faces.map((f) => ({ box: f.box, label: f.expression.label }));
    },
  };
}
