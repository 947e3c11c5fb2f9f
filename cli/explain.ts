/** `deno task explain`: feature-map grids and a Grad-CAM overlay for one face, as one PNG. */
import { parseArgs } from "node:util";
import { modelInput } from "../shared/align.ts";
import { decodeImage } from "../shared/decode.ts";
import { explainFace, renderExplanation } from "../shared/explain.ts";
import { count, labelIndex, LABELS } from "../shared/labels.ts";
import { faceInput } from "../shared/preprocess.ts";
import { numberFaces } from "../shared/view_faces.ts";
import { createDenoAnalyzer } from "../runtime/deno_analyzer.ts";
import { detectorName, modelUrl, runCli, UsageError, writePng } from "./run_cli.ts";

const HELP = `Show what the model looks at for one face: every conv block's feature maps and a
Grad-CAM heatmap for the predicted (or a chosen) class, in one PNG.

Usage: deno task explain <image> --out maps.png [options]

Options:
  --out <file.png>   where to write the picture (required)
  --face <n>         which detected face, numbered left to right as analyze numbers them (default 1)
  --class <name>     explain this class instead of the predicted one (${LABELS.join(", ")})
  --crop             the image is already a face crop: skip detection
  --detector <name>  blazeface (default), blazeface-short or haar
  --model <name>     large (default: mien-fer-large, the API's), small (mien-fer, the
                     extension's), or a model.json path
  -h, --help         show this help
`;

/** Why --face N cannot be explained: no face at all (and what --crop is for) or too few. */
function missingFace(path: string, found: number, faceNumber: number): string {
  if (!found) {
    return `no face found in ${path}: faces must be at least 24 px; ` +
      "use --crop only if the image is already cropped to a face";
  }
  return `found ${count(found, "face")} in ${path}; --face ${faceNumber} does not exist`;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      face: { type: "string", default: "1" },
      class: { type: "string" },
      crop: { type: "boolean", default: false },
      detector: { type: "string", default: "blazeface" },
      model: { type: "string", default: "large" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("give one image; see --help");
  if (!values.out) throw new UsageError("--out <file.png> is required");
  const faceNumber = Number(values.face);
  if (!Number.isInteger(faceNumber) || faceNumber < 1) throw new UsageError("--face must be 1 or more");
  const classIndex = values.class === undefined ? undefined : labelIndex(values.class);
  if (classIndex === -1) throw new UsageError(`--class must be one of ${LABELS.join(", ")}`);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(positionals[0]);
  } catch {
    throw new UsageError(`cannot read ${positionals[0]}`);
  }
  const frame = await decodeImage(bytes).catch((error) => {
    throw new UsageError(`${positionals[0]}: ${error.message}`);
  });
  const analyzer = await createDenoAnalyzer({
    detector: detectorName(values.detector!),
    modelUrl: modelUrl(values.model!),
  });
  const size = analyzer.model.info.inputSize;
  let face: Float32Array;
  if (values.crop) {
    face = faceInput(frame, size);
  } else {
    const faces = analyzer.detector.detect(frame);
    if (faces.length < faceNumber) {
      analyzer.dispose();
      throw new UsageError(missingFace(positionals[0], faces.length, faceNumber));
    }
    face = modelInput(frame, numberFaces(faces)[faceNumber - 1], analyzer.detector, analyzer.model.info);
  }
  const start = performance.now();
  const explanation = await explainFace(analyzer.model, face, { classIndex });
  const ms = performance.now() - start;
  const canvas = renderExplanation(explanation);
  await writePng(values.out, canvas);
  analyzer.dispose();
  const p = Math.round(100 * explanation.probs[explanation.classIndex]);
  console.log(
    `${values.out}: ${explanation.label} (${p}%), ${explanation.featureMaps.length} blocks, ${
      ms.toFixed(0)
    } ms`,
  );
  return 0;
}

if (import.meta.main) await runCli("explain", main);
