/** `deno task bench`: Mien beside face-api.js and Human — FER+ accuracy, per-face ms, size, frames, memory. */
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { FRAME_PHOTOS, writeManifest } from "./peers/frames.ts";
import { formatTable, summarise } from "./peers/summary.ts";
import { bundledModelName } from "./peers/peer.ts";
import { BUNDLED_MODELS } from "../shared/bundled_models.ts";
import { runPeer } from "./peers/run_peer.ts";

const HELP =
  `Benchmark Mien (its small and large models) against face-api.js (@vladmandic/face-api) and Human (@vladmandic/human):
FER+ test accuracy, per-face ms (batch 1 and 32), model bytes, cold load, 640x480 frames with 1 and 4
faces (detect + classify), faces found on two photo sets, and peak RSS. Every entrant runs on tfjs wasm
(4.22.0, SIMD, one thread) in Deno, each in its own process, alternating, --runs times.

Usage: deno task bench [options]

  --runs N         processes per entrant for timings and memory (default 3)
  --rounds N       per-face timing rounds per process (default 5)
  --iterations N   batch-1 inferences per round; batch 32 runs N/10 (default 50)
  --frames N       timed analyses per frame per process (default 20)
  --ferplus DIR    FER+ root (default ../shared/datasets/ferplus; accuracy skipped when absent)
  --media DIR      photos (default ../shared/media; frame and face-count rows skipped when absent)
  --json FILE      where to write the figures (default bench/results.json)
  -h, --help       show this help

Progress goes to stderr; the Markdown table (as in the README) to stdout.
`;

const SHARED = new URL("../../shared/", import.meta.url).pathname;
/** Entrants of the model rows (one expression model each) and of the frame rows (pipelines). */
const MODEL_PEERS = ["mien", "mien-large", "face-api", "human"];
const PIPELINE_PEERS = ["mien", "mien-haar", "face-api", "human"];

/** CPU model and core count of this machine. */
function machine(): string {
  let cpu = "unknown CPU";
  try {
    cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.+)/)?.[1]?.trim() ?? cpu;
  } catch { /* not Linux */ }
  return `${cpu}, ${navigator.hardwareConcurrency} cores, ${Deno.build.os}`;
}

async function packageVersion(name: string): Promise<string> {
  const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url)).version;
}

async function main() {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "3" },
      rounds: { type: "string", default: "5" },
      iterations: { type: "string", default: "50" },
      frames: { type: "string", default: "20" },
      ferplus: { type: "string", default: `${SHARED}datasets/ferplus` },
      media: { type: "string", default: `${SHARED}media` },
      json: { type: "string", default: new URL("./results.json", import.meta.url).pathname },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return console.log(HELP);
  const runs = Number(values.runs);
  for (const name of ["runs", "rounds", "iterations", "frames"] as const) {
    if (!(Number(values[name]) > 0)) throw new Error(`--${name} must be a positive number`);
  }
  const started = new Date();

  const accuracy: Record<string, unknown>[] = [];
  if (existsSync(`${values.ferplus}/test`)) {
    for (const peer of MODEL_PEERS) {
      accuracy.push(await runPeer(peer, "accuracy", ["--ferplus", values.ferplus!]));
    }
  } else console.error(`bench: no FER+ at ${values.ferplus}: accuracy rows skipped`);

  const models: Record<string, unknown>[] = [];
  const pipelines: Record<string, unknown>[] = [];
  const tmp = await Deno.makeTempDir({ prefix: "mien-bench-" });
  const interrupted = () => {
    Deno.removeSync(tmp, { recursive: true });
    Deno.exit(130);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, interrupted);
  try {
    const manifest = existsSync(`${values.media}/SOURCE.md`)
      ? await writeManifest(values.media!, tmp)
      : undefined;
    if (!manifest) console.error(`bench: no photos at ${values.media}: frame and face-count rows skipped`);
    const manifestFile = `${tmp}/manifest.json`;
    if (manifest) await Deno.writeTextFile(manifestFile, JSON.stringify(manifest));
    for (let r = 0; r < runs; r++) {
      console.error(`bench: run ${r + 1}/${runs}`);
      for (const peer of MODEL_PEERS) {
        models.push(
          await runPeer(peer, "model", ["--rounds", values.rounds!, "--iterations", values.iterations!]),
        );
      }
      if (!manifest) continue;
      for (const peer of PIPELINE_PEERS) {
        pipelines.push(
          await runPeer(peer, "pipeline", ["--manifest", manifestFile, "--frames", values.frames!]),
        );
      }
    }
  } finally {
    for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(signal, interrupted);
    await Deno.remove(tmp, { recursive: true });
  }

  const report = {
    date: started.toISOString(),
    machine: machine(),
    runtime: `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), tfjs ${await packageVersion(
      "@tensorflow/tfjs-core",
    )} wasm backend, SIMD, one thread`,
    versions: {
      mien: await bundledModelName(),
      "mien-large": await bundledModelName(BUNDLED_MODELS.large),
      "@vladmandic/face-api": await packageVersion("@vladmandic/face-api"),
      "@vladmandic/human": await packageVersion("@vladmandic/human"),
    },
    settings: { runs, rounds: +values.rounds!, iterations: +values.iterations!, frames: +values.frames! },
    framePhotos: FRAME_PHOTOS,
    ...summarise(accuracy, models, pipelines),
    raw: { accuracy, models, pipelines },
  };
  await Deno.writeTextFile(values.json!, JSON.stringify(report, null, 2) + "\n");
  console.error(`bench: wrote ${values.json}`);
  console.log(formatTable(report));
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    Deno.exit(2);
  }
}
