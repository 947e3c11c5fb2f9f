/** `deno task bench:pipeline`: faces found in ../shared/media, frame latency, explain latency. */
import { parseArgs } from "node:util";
import { createDenoAnalyzer, DETECTORS, loadDetector } from "../runtime/deno_analyzer.ts";
import { decodeImage } from "../shared/decode.ts";
import { explainFace } from "../shared/explain.ts";
import { modelInput } from "../shared/align.ts";
import { type Frame, resampleGray, toGray } from "../shared/preprocess.ts";

const HELP = `Benchmark the analysis pipeline (tfjs wasm, Deno).

Usage: deno task bench:pipeline [--media DIR] [--runs N] [--json FILE]

  --media DIR   photos with faces (default ../shared/media), checked against counts made by eye
  --runs N      timed analyses per case (default 40)
  --json FILE   also write the figures as JSON
  -h, --help    show this help
`;

/** Faces a person counts in each photo of ../shared/media (SOURCE.md, plus the child in obama_and_biden). */
export const EXPECTED: Record<string, number> = {
  "obama.jpg": 1,
  "obama2.jpg": 1,
  "biden.jpg": 1,
  "two_people.jpg": 2,
  "obama_and_biden.jpg": 3,
  "kit_with_rose.jpg": 2,
  "alex-lacamoire.png": 1,
  "lin-manuel-miranda.png": 1,
  "scowl.jpg": 1,
  "crying.jpg": 1,
};

/** face-api's demo group photos (an npm devDependency): faces counted by eye. */
export const FACE_API_DEMO = new URL("../node_modules/@vladmandic/face-api/demo/", import.meta.url).pathname;
export const FACE_API_EXPECTED: Record<string, number> = {
  "sample1.jpg": 3,
  "sample2.jpg": 3,
  "sample3.jpg": 3,
  "sample4.jpg": 4,
  "sample5.jpg": 5,
  "sample6.jpg": 4,
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Letterbox a frame (grey) into width x height, scaled to fit. */
function fit(frame: Frame, width: number, height: number): Frame {
  const scale = Math.min(width / frame.width, height / frame.height);
  const w = Math.round(frame.width * scale);
  const h = Math.round(frame.height * scale);
  const grey = resampleGray(
    toGray(frame),
    frame.width,
    frame.height,
    {
      x: 0,
      y: 0,
      width: frame.width,
      height: frame.height,
    },
    w,
    h,
  );
  const data = new Uint8ClampedArray(width * height * 4).fill(255);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = grey[y * w + x];
      data.set([v, v, v, 255], ((y + ((height - h) >> 1)) * width + x + ((width - w) >> 1)) * 4);
    }
  }
  return { data, width, height };
}

/** Tile four frames into one 640x480 frame (2x2). */
function grid4(frames: Frame[]): Frame {
  const tiles = frames.map((f) => fit(f, 320, 240));
  const data = new Uint8ClampedArray(640 * 480 * 4);
  tiles.forEach((t, i) => {
    const ox = (i % 2) * 320;
    const oy = Math.floor(i / 2) * 240;
    for (let y = 0; y < 240; y++) {
      data.set(t.data.subarray(y * 320 * 4, (y + 1) * 320 * 4), ((oy + y) * 640 + ox) * 4);
    }
  });
  return { data, width: 640, height: 480 };
}

async function main() {
  const { values } = parseArgs({
    options: {
      media: { type: "string", default: new URL("../../shared/media", import.meta.url).pathname },
      runs: { type: "string", default: "40" },
      json: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return console.log(HELP);
  const runs = Number(values.runs);
  const photos: Record<string, Frame> = {};
  for (const file of Object.keys(EXPECTED)) {
    photos[file] = await decodeImage(await Deno.readFile(`${values.media}/${file}`));
  }
  const demo: Record<string, Frame> = {};
  for (const file of Object.keys(FACE_API_EXPECTED)) {
    demo[file] = await decodeImage(await Deno.readFile(`${FACE_API_DEMO}${file}`));
  }
  const report: Record<string, unknown> = {};

  console.log("faces found (counts by eye in bench/pipeline_bench.ts; extra = boxes beyond the count):");
  for (
    const [set, expected, frames] of [
      ["shared/media", EXPECTED, photos],
      ["face-api demo", FACE_API_EXPECTED, demo],
    ] as const
  ) {
    for (const name of DETECTORS) {
      const detector = await loadDetector(name);
      let found = 0;
      let extra = 0;
      const total = Object.values(expected).reduce((a, b) => a + b, 0);
      const perPhoto: Record<string, number> = {};
      for (const [file, count] of Object.entries(expected)) {
        const n = detector.detect(frames[file], { minFaceSize: 40 }).length;
        perPhoto[file] = n;
        found += Math.min(n, count);
        extra += Math.max(0, n - count);
      }
      detector.dispose();
      console.log(`  ${set.padEnd(14)} ${name.padEnd(15)} found ${found}/${total}, extra boxes ${extra}`);
      report[`faces_${set}_${name}`] = { found, expected: total, extra, perPhoto };
    }
  }

  const one = fit(photos["alex-lacamoire.png"], 640, 480);
  const four = grid4(
    ["two_people.jpg", "kit_with_rose.jpg", "obama2.jpg", "scowl.jpg"].map((f) => photos[f]),
  );
  console.log(`\n640x480 frame, detect + classify, median of ${runs} (ms):`);
  for (const name of DETECTORS) {
    const analyzer = await createDenoAnalyzer({ detector: name });
    for (const [label, frame] of [["1 face", one], ["4-tile", four]] as const) {
      for (let i = 0; i < 5; i++) await analyzer.analyze(frame);
      const total: number[] = [];
      const detect: number[] = [];
      let faces = 0;
      for (let i = 0; i < runs; i++) {
        const r = await analyzer.analyze(frame);
        total.push(r.timings.totalMs);
        detect.push(r.timings.detectMs);
        faces = r.faces.length;
      }
      console.log(
        `  ${name.padEnd(15)} ${label.padEnd(7)} ${median(total).toFixed(1).padStart(6)} ` +
          `(detect ${median(detect).toFixed(1)}), faces ${faces}`,
      );
      report[`frame_${name}_${label.replace(" ", "")}`] = {
        medianMs: median(total),
        detectMs: median(detect),
        faces,
      };
    }
    if (name === "blazeface") {
      const { faces } = await analyzer.analyze(one);
      const face = modelInput(one, faces[0], analyzer.detector, analyzer.model.info);
      await explainFace(analyzer.model, face);
      const times: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t = performance.now();
        await explainFace(analyzer.model, face);
        times.push(performance.now() - t);
      }
      console.log(`  explain one face: ${median(times).toFixed(1)} ms (median of 10)`);
      report.explainMs = median(times);
    }
    analyzer.dispose();
  }
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(report, null, 2) + "\n");
}

if (import.meta.main) await main();
