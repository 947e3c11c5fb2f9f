/**
 * Soft labels from a teacher model for every face of FER+ and lfw_expressions, for distillation:
 * `deno task teachers --teacher face-api|human|mien [--model FILE --name NAME] [--ferplus DIR] [--lfw DIR] [--out DIR]`.
 * Each teacher runs in its own process (the peers bundle their own tfjs) through the same driver as
 * the peer benchmark; faces are given at their stored size (FER+ 48x48, LFW 128x128). Writes
 * `<out>/<teacher>_<dataset>.csv` (path relative to the dataset root, then 7 probabilities in
 * LABELS order), which training/train.py reads with --teachers.
 */
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { Peer } from "../bench/peers/peer.ts";
import { createProgress } from "../cli/progress.ts";
import { runCli, UsageError } from "../cli/run_cli.ts";
import { decodeImage } from "../shared/decode.ts";

/** Teachers, imported on demand so that each process loads one library only. */
const TEACHERS: Record<string, (model?: URL) => Promise<Peer>> = {
  "face-api": async () => (await import("../bench/peers/faceapi.ts")).createFaceApiPeer(),
  human: async () => (await import("../bench/peers/human.ts")).createHumanPeer(),
  mien: async (model) => (await import("../bench/peers/mien.ts")).createMienPeer("blazeface", model),
};

const HELP = `Usage: deno task teachers --teacher NAME [options]

Write a teacher's probabilities for every FER+ and lfw_expressions face (for train.py --teachers).

  --teacher NAME   ${Object.keys(TEACHERS).join(", ")}
  --ferplus DIR    FER+ folder (default ../shared/datasets/ferplus)
  --lfw DIR        lfw_expressions folder (default ../shared/datasets/lfw_expressions)
  --out DIR        output folder (default training/.cache/teachers)
  --model FILE     model.json for the mien teacher (default: the bundled model)
  --name NAME      the CSVs' name (default: the teacher's; e.g. large for --model mien-fer-large)
  --limit N        first N images per dataset (smoke runs)
  --help           this text`;

/** Relative image paths listed in a dataset's labels.csv (column `path`). */
function listPaths(root: string): string[] {
  const [header, ...rows] = Deno.readTextFileSync(join(root, "labels.csv")).trim().split(/\r?\n/);
  const column = header.split(",").indexOf("path");
  if (column < 0) throw new UsageError(`${root}/labels.csv has no path column`);
  return rows.map((row) => row.split(",")[column]).filter((path) => path);
}

/** Classify every listed image of one dataset and write the CSV. */
async function writeTeacherCsv(peer: Peer, root: string, file: string, limit?: number) {
  const paths = listPaths(root).slice(0, limit);
  const lines = ["path,surprise,fear,disgust,happiness,sadness,anger,neutral"];
  const progress = createProgress(paths.length, `${peer.id} ${file}`);
  const batch = 64;
  for (let i = 0; i < paths.length; i += batch) {
    const chunk = paths.slice(i, i + batch);
    const faces = await Promise.all(chunk.map(async (p) => decodeImage(await Deno.readFile(join(root, p)))));
    const probs = await peer.classify(faces);
    chunk.forEach((p, k) => lines.push(`${p},${Array.from(probs[k], (v) => v.toFixed(5)).join(",")}`));
    progress.update(i + chunk.length);
  }
  progress.done();
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
}

await runCli("teachers", async (args) => {
  const { values } = parseArgs({
    args,
    options: {
      teacher: { type: "string" },
      ferplus: { type: "string", default: "../shared/datasets/ferplus" },
      lfw: { type: "string", default: "../shared/datasets/lfw_expressions" },
      out: { type: "string", default: "training/.cache/teachers" },
      limit: { type: "string" },
      model: { type: "string" },
      name: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const make = TEACHERS[values.teacher ?? ""];
  if (!make) throw new UsageError(`--teacher must be one of ${Object.keys(TEACHERS).join(", ")}\n\n${HELP}`);
  const limit = values.limit ? Number(values.limit) : undefined;
  if (limit !== undefined && !(limit > 0)) throw new UsageError(`--limit must be a positive number`);
  await Deno.mkdir(values.out, { recursive: true });
  const peer = await make(values.model ? pathToFileURL(resolve(values.model)) : undefined);
  await peer.loadModel();
  for (const [name, root] of [["ferplus", values.ferplus], ["lfw", values.lfw]]) {
    await writeTeacherCsv(
      peer,
      root,
      join(values.out, `${values.name ?? values.teacher}_${name}.csv`),
      limit,
    );
  }
  return 0;
});
