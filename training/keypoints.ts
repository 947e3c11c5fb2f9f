/**
 * BlazeFace's eye keypoints for every FER+ and lfw_expressions face, for training on aligned faces:
 * `deno task keypoints [--ferplus DIR] [--lfw DIR] [--out DIR]`. Each stored face crop is set in a
 * frame twice its size (edges repeated, as the detector needs context around a face) and run through
 * the shipped full-range BlazeFace, the detector the product aligns with. Writes
 * `<out>/<dataset>.csv`: path, detector score, and both eyes in the stored image's pixels (empty where
 * no face was found), which training/data.py turns into a rotation per face.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createProgress } from "../cli/progress.ts";
import { runCli, UsageError } from "../cli/run_cli.ts";
import { loadDetector } from "../runtime/deno_analyzer.ts";
import { decodeImage } from "../shared/decode.ts";
import type { FaceDetector } from "../shared/detector.ts";
import { eyesOf } from "../shared/align.ts";
import type { Frame } from "../shared/preprocess.ts";

const HELP = `Usage: deno task keypoints [options]

Write BlazeFace's eye keypoints for every FER+ and lfw_expressions face (for train.py --align).

  --ferplus DIR    FER+ folder (default ../shared/datasets/ferplus)
  --lfw DIR        lfw_expressions folder (default ../shared/datasets/lfw_expressions)
  --out DIR        output folder (default training/.cache/keypoints)
  --limit N        first N images per dataset (smoke runs)
  -h, --help       this text`;

/** Relative image paths listed in a dataset's labels.csv (column `path`). */
function listPaths(root: string): string[] {
  const [header, ...rows] = Deno.readTextFileSync(join(root, "labels.csv")).trim().split(/\r?\n/);
  const column = header.split(",").indexOf("path");
  if (column < 0) throw new UsageError(`${root}/labels.csv has no path column`);
  return rows.map((row) => row.split(",")[column]).filter((path) => path);
}

/** The face set in the middle of a grey RGBA frame twice its size, edge pixels repeated outwards. */
export function withContext(face: Frame): Frame {
  const channels = face.channels ?? 4;
  const pad = Math.round(face.width / 2);
  const width = face.width + 2 * pad;
  const height = face.height + 2 * pad;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(face.height - 1, Math.max(0, y - pad));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(face.width - 1, Math.max(0, x - pad));
      const s = (sy * face.width + sx) * channels;
      const o = (y * width + x) * 4;
      data[o] = face.data[s];
      data[o + 1] = face.data[s + (channels < 3 ? 0 : 1)];
      data[o + 2] = face.data[s + (channels < 3 ? 0 : 2)];
      data[o + 3] = 255;
    }
  }
  return { data, width, height };
}

/** Detect every listed face of one dataset and write the CSV. */
async function writeKeypointCsv(detector: FaceDetector, root: string, file: string, limit?: number) {
  const paths = listPaths(root).slice(0, limit);
  const lines = ["path,score,right_eye_x,right_eye_y,left_eye_x,left_eye_y"];
  const progress = createProgress(paths.length, file);
  let found = 0;
  for (const [i, path] of paths.entries()) {
    const face = await decodeImage(await Deno.readFile(join(root, path)));
    const pad = Math.round(face.width / 2);
    const [best] = detector.detect(withContext(face), { maxFaces: 1, minFaceSize: 8, minScore: 0.3 });
    const eyes = best && eyesOf(best);
    if (eyes) {
      found++;
      const at = (v: number) => (v - pad).toFixed(2);
      lines.push(
        `${path},${best.score.toFixed(3)},${at(eyes.right.x)},${at(eyes.right.y)},${at(eyes.left.x)},${
          at(eyes.left.y)
        }`,
      );
    } else {
      lines.push(`${path},,,,,`);
    }
    if (i % 256 === 0 || i === paths.length - 1) progress.update(i + 1);
  }
  progress.done();
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
  console.log(`${file}: eyes found on ${found} of ${paths.length} faces`);
}

await runCli("keypoints", async (args) => {
  const { values } = parseArgs({
    args,
    options: {
      ferplus: { type: "string", default: "../shared/datasets/ferplus" },
      lfw: { type: "string", default: "../shared/datasets/lfw_expressions" },
      out: { type: "string", default: "training/.cache/keypoints" },
      limit: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const limit = values.limit ? Number(values.limit) : undefined;
  if (limit !== undefined && !(limit > 0)) throw new UsageError(`--limit must be a positive number`);
  await Deno.mkdir(values.out, { recursive: true });
  const detector = await loadDetector("blazeface");
  for (const [name, root] of [["ferplus", values.ferplus], ["lfw", values.lfw]]) {
    await writeKeypointCsv(detector, root, join(values.out, `${name}.csv`), limit);
  }
  return 0;
});
