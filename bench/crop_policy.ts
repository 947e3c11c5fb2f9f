/**
 * `deno task bench:crop`: choose the crop margin by measurement. FER+ faces are pasted, enlarged, into
 * larger frames; the detector finds them and the model classifies the crop taken with each margin.
 * The margin whose accuracy comes closest to classifying the original crops is the one to use.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { DETECTORS, loadDetector } from "../runtime/deno_analyzer.ts";
import { initDenoTf } from "../runtime/deno_tf.ts";
import { listLabelledFolder } from "../cli/dataset.ts";
import { faceCrop } from "../shared/analyzer.ts";
import { decodeImage } from "../shared/decode.ts";
import { argmax } from "../shared/metrics.ts";
import { loadModel } from "../shared/model.ts";
import { faceInput, type Frame, resampleGray, toGray } from "../shared/preprocess.ts";

const HELP = `Measure detect -> crop -> classify accuracy for several crop margins on FER+ faces.

Usage: deno task bench:crop [--ferplus DIR] [--split valid] [--count N] [--json FILE]

  --ferplus DIR   the FER+ folder (default ../shared/datasets/ferplus)
  --split NAME    which split's faces: train, valid or test (default valid)
  --count N       about N faces, evenly spaced through the split (default 700)
  --json FILE     also write the figures as JSON
  -h, --help      show this help
`;

const MARGINS = [-0.15, -0.1, -0.05, 0, 0.05, 0.1, 0.15, 0.2, 0.3];

/** A 320x240 frame: mid-grey noise background with the face enlarged to `size` px at (x, y). */
function compose(face: Frame, size: number, x: number, y: number, seed: number): Frame {
  const grey = resampleGray(toGray(face), face.width, face.height, {
    x: 0,
    y: 0,
    width: face.width,
    height: face.height,
  }, size);
  const data = new Uint8ClampedArray(320 * 240 * 4);
  let s = seed;
  for (let i = 0; i < 320 * 240; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const v = 100 + ((s >>> 16) % 56);
    data.set([v, v, v, 255], i * 4);
  }
  for (let yy = 0; yy < size; yy++) {
    for (let xx = 0; xx < size; xx++) {
      const v = grey[yy * size + xx];
      data.set([v, v, v, 255], ((y + yy) * 320 + x + xx) * 4);
    }
  }
  return { data, width: 320, height: 240 };
}

async function main() {
  const { values } = parseArgs({
    options: {
      ferplus: {
        type: "string",
        default: new URL("../../shared/datasets/ferplus", import.meta.url).pathname,
      },
      split: { type: "string", default: "valid" },
      count: { type: "string", default: "700" },
      json: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return console.log(HELP);
  await initDenoTf();
  const model = await loadModel();
  const size = model.info.inputSize;
  const all = listLabelledFolder(join(values.ferplus!, values.split!));
  const step = Math.max(1, Math.floor(all.length / Number(values.count)));
  const images = all.filter((_, i) => i % step === 0);
  const report: Record<string, unknown> = { images: images.length, split: values.split };
  const frames: { frame: Frame; label: number }[] = [];
  let cropCorrect = 0;
  for (const [i, image] of images.entries()) {
    const face = await decodeImage(await Deno.readFile(image.path));
    const [probs] = await model.classify([faceInput(face, size)]);
    cropCorrect += Number(argmax(probs) === image.label);
    frames.push({
      frame: compose(face, 120, 20 + (i * 53) % 160, 20 + (i * 29) % 90, i + 1),
      label: image.label,
    });
  }
  const cropAccuracy = cropCorrect / images.length;
  console.log(
    `${images.length} FER+ ${values.split} faces; classified as crops: ${(100 * cropAccuracy).toFixed(2)}%`,
  );
  report.cropAccuracy = cropAccuracy;
  for (const name of DETECTORS) {
    const detector = await loadDetector(name);
    const correct = new Array(MARGINS.length).fill(0);
    let found = 0;
    for (const { frame, label } of frames) {
      const [best] = detector.detect(frame, { maxFaces: 1 });
      if (!best) continue;
      found++;
      const inputs = MARGINS.map((m) => faceInput(frame, size, faceCrop(best.box, m)));
      const probs = await model.classify(inputs);
      probs.forEach((p, k) => (correct[k] += Number(argmax(p) === label)));
    }
    detector.dispose();
    const rows = MARGINS.map((m, k) => ({ margin: m, accuracy: correct[k] / frames.length }));
    console.log(`${name}: face found in ${found}/${frames.length}`);
    for (const r of rows) {
      console.log(
        `  margin ${r.margin.toFixed(2)}: ${(100 * r.accuracy).toFixed(2)}% (misses count as errors)`,
      );
    }
    report[name] = { found, rows };
  }
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(report, null, 2) + "\n");
}

if (import.meta.main) await main();
