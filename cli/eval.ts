/** `deno task eval`: a bundled (or given) model's figures on a labelled folder, FER+ or lfw_expressions. */
import { parseArgs } from "node:util";
import { join, relative } from "node:path";
import { decodeImage } from "../shared/decode.ts";
import type { DetectorName } from "../shared/detector.ts";
import { LABELS } from "../shared/labels.ts";
import { argmax, computeMetrics, formatMetrics, type Metrics } from "../shared/metrics.ts";
import { loadModel } from "../shared/model.ts";
import { faceInput } from "../shared/preprocess.ts";
import { type LabelledImage, listLabelledFolder, listLfw, readFer2013Labels } from "./dataset.ts";
import { DEGRADATIONS, frameOf, greyOf } from "./degradations.ts";
import { createDenoAnalyzer } from "../runtime/deno_analyzer.ts";
import { initDenoTf } from "../runtime/deno_tf.ts";
import { detectorName, modelUrl, runCli, UsageError } from "./run_cli.ts";
import { createProgress } from "./progress.ts";

const HELP = `Evaluate the expression model on labelled face images.

Usage:
  deno task eval [options] <folder>            <folder>/<class>/* images
  deno task eval [options] --ferplus <dir> [--split test|valid]
  deno task eval [options] --lfw <dir> [--split valid|train]
  deno task eval --robustness [--ferplus <dir>] [--lfw <dir>]

Class folders: ${LABELS.join(", ")} (aliases: happy, angry, sad, surprised,
fearful, disgusted). Images: png, jpg, webp, bmp; grey or colour; any size.

Options:
  --ferplus <dir>        FER+ layout (<dir>/<split>/<class>/*); also reports accuracy on
                         FER2013's original labels (fer2013_crossref.csv) for the same images
  --lfw <dir>            lfw_expressions layout (labels.csv with a split column)
  --split <name>         FER+: test (default) or valid; lfw_expressions: valid (default) or train
  --robustness           score FER+ test and lfw_expressions valid (both by default, from
                         ../shared/datasets) under each deployment degradation: one row per
                         transform (small faces, JPEG, blur, light, noise, roll, box jitter)
  --faces <mode>         crop (default: each image is a face crop) or detect (find faces,
                         classify the largest; no face = a miss)
  --detector <name>      for --faces detect: blazeface (default), blazeface-short or haar
  --margin <fraction>    for --faces detect: crop margin per side as a fraction of the box
                         (default: the detector's measured one, 0.05 for BlazeFace)
  --model <name|path>    small (default: mien-fer), large (mien-fer-large: the same network
                         with its mirror view), or a model.json path or URL
  --batch <n>            faces per inference batch (default 64)
  --flip                 average each face with its mirror image (2x work, test-time augmentation)
  --json <file>          write the figures as JSON
  --predictions <file>   write CSV: path,${LABELS.join(",")}
  -h, --help             show this help
`;

/** Parsed command line. */
interface Options {
  folder: string;
  ferplus?: string;
  lfw?: string;
  robustness: boolean;
  split: string;
  model: string | URL;
  batch: number;
  faces: "crop" | "detect";
  detector: DetectorName;
  margin?: number;
  flip: boolean;
  json?: string;
  predictions?: string;
}

function parseOptions(args: string[]): Options | null {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ferplus: { type: "string" },
      lfw: { type: "string" },
      robustness: { type: "boolean", default: false },
      split: { type: "string" },
      faces: { type: "string", default: "crop" },
      model: { type: "string", default: "small" },
      batch: { type: "string", default: "64" },
      json: { type: "string" },
      predictions: { type: "string" },
      flip: { type: "boolean", default: false },
      detector: { type: "string", default: "blazeface" },
      margin: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return null;
  if (values.faces !== "crop" && values.faces !== "detect") {
    throw new UsageError(`--faces must be crop or detect, not "${values.faces}"`);
  }
  const split = values.split ?? (values.lfw && !values.ferplus ? "valid" : "test");
  if (values.lfw && !values.ferplus && !values.robustness && !["valid", "train"].includes(split)) {
    throw new UsageError(`--split for --lfw must be valid or train, not "${split}"`);
  }
  if (!values.lfw && !["test", "valid"].includes(split)) {
    throw new UsageError(`--split must be test or valid, not "${split}"`);
  }
  const batch = Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`--batch must be a positive integer`);
  if (values.robustness) {
    if (positionals.length) throw new UsageError("--robustness reads --ferplus and --lfw, not a folder");
    if (values.faces !== "crop") throw new UsageError("--robustness works on face crops (--faces crop)");
  }
  let folder: string;
  if (values.robustness) folder = "";
  else if (values.ferplus && values.lfw) {
    throw new UsageError("give one of --ferplus or --lfw (both only with --robustness)");
  } else if (values.ferplus || values.lfw) {
    if (positionals.length) throw new UsageError("give either a dataset option or a folder, not both");
    folder = values.ferplus ? join(values.ferplus, split) : values.lfw!;
  } else if (positionals.length === 1) {
    folder = positionals[0];
  } else {
    throw new UsageError(positionals.length ? "give one folder" : "no images given; see --help");
  }
  const model = modelUrl(values.model!);
  const shared = new URL("../../shared/datasets/", import.meta.url).pathname;
  const both = values.robustness && !values.ferplus && !values.lfw;
  return {
    folder,
    ferplus: values.ferplus ?? (both ? `${shared}ferplus` : undefined),
    lfw: values.lfw ?? (both ? `${shared}lfw_expressions` : undefined),
    robustness: values.robustness!,
    split,
    model,
    batch,
    faces: values.faces as "crop" | "detect",
    detector: detectorName(values.detector!),
    margin: values.margin === undefined ? undefined : cropMargin(values.margin),
    flip: values.flip!,
    json: values.json,
    predictions: values.predictions,
  };
}

/** A --margin value: a fraction in [-0.3, 1] (a usage error otherwise). */
function cropMargin(value: string): number {
  const margin = Number(value);
  if (value.trim() === "" || !Number.isFinite(margin) || margin < -0.3 || margin > 1) {
    throw new UsageError(`--margin must be a number from -0.3 to 1, not "${value}"`);
  }
  return margin;
}

/** One evaluated image: its probabilities, or null when --faces detect found no face. */
interface Result {
  image: LabelledImage;
  probs: Float32Array | null;
}

/** Probabilities for each image; unreadable images are reported on stderr and left out. */
async function classifyAll(images: LabelledImage[], options: Options) {
  const analyzer = options.faces === "detect"
    ? await createDenoAnalyzer({
      modelUrl: options.model,
      flip: options.flip,
      detector: options.detector,
      cropMargin: options.margin,
    })
    : undefined;
  const model = analyzer?.model ?? await loadModel(options.model);
  const size = model.info.inputSize;
  const results: Result[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const progress = createProgress(images.length, "images");
  let pending: { image: LabelledImage; input: Float32Array }[] = [];
  const flush = async () => {
    const probs = await model.classify(pending.map((p) => p.input), { flip: options.flip });
    pending.forEach((p, i) => results.push({ image: p.image, probs: probs[i] }));
    pending = [];
  };
  for (let i = 0; i < images.length; i++) {
    const image = images[i];
    try {
      const frame = await decodeImage(await Deno.readFile(image.path));
      if (analyzer) {
        const { faces } = await analyzer.analyze(frame);
        const largest = faces.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)[0];
        results.push({
          image,
          probs: largest ? Float32Array.from(LABELS, (l) => largest.expression.scores[l]) : null,
        });
      } else {
        pending.push({ image, input: faceInput(frame, size) });
      }
    } catch (error) {
      skipped.push({ path: image.path, reason: (error as Error).message });
      console.error(`\nskipped ${image.path}: ${(error as Error).message}`);
    }
    if (pending.length >= options.batch) await flush();
    progress.update(i + 1);
  }
  if (pending.length) await flush();
  progress.done();
  if (analyzer) analyzer.dispose();
  else model.dispose();
  return { results, skipped, model: model.info };
}

async function main(args: string[]): Promise<number> {
  const options = parseOptions(args);
  if (!options) {
    console.log(HELP);
    return 0;
  }
  if (options.robustness) return await robustness(options);
  const images = options.lfw ? listLfw(options.lfw, options.split) : listLabelledFolder(options.folder);
  await initDenoTf();
  const started = performance.now();
  const { results, skipped, model } = await classifyAll(images, options);
  const seconds = (performance.now() - started) / 1000;
  const labels = results.map((r) => r.image.label);
  const predicted = results.map((r) => (r.probs ? argmax(r.probs) : -1));
  const metrics = computeMetrics(labels, predicted);

  console.log(`model: ${model.name} ${model.version} (${model.parameters} parameters)`);
  console.log(`data: ${options.folder}`);
  console.log(formatMetrics(metrics));
  const rare = rareRecall(metrics);
  if (options.lfw && rare !== null) {
    console.log(
      `mean recall over surprise, sadness and anger (the rarer classes LFW has): ${(100 * rare).toFixed(2)}%`,
    );
  }
  if (skipped.length) console.log(`\nunreadable images skipped: ${skipped.length}`);

  let fer2013: Metrics | undefined;
  if (options.ferplus && !options.lfw) {
    const original = readFer2013Labels(options.ferplus);
    const matched = results.flatMap((r, i) => {
      const label = original.get(relative(options.ferplus!, r.image.path));
      return label === undefined ? [] : [{ label, prediction: predicted[i] }];
    });
    fer2013 = computeMetrics(matched.map((m) => m.label), matched.map((m) => m.prediction));
    console.log(
      `\nFER2013 original labels, same images (${fer2013.count} matched): ` +
        `accuracy ${(100 * fer2013.accuracy).toFixed(2)}%, mean class recall ${
          (100 * fer2013.meanRecall).toFixed(2)
        }%`,
    );
  }
  console.log(`\n${results.length} images in ${seconds.toFixed(1)} s`);

  if (options.json) {
    const report = {
      model: { name: model.name, version: model.version, parameters: model.parameters },
      data: options.folder,
      split: options.ferplus || options.lfw ? options.split : undefined,
      faces: options.faces,
      detector: options.faces === "detect" ? options.detector : undefined,
      flip: options.flip,
      skipped,
      ...metrics,
      rareClassRecall: options.lfw ? rareRecall(metrics) : undefined,
      fer2013Original: fer2013,
    };
    await Deno.writeTextFile(options.json, JSON.stringify(report, null, 2) + "\n");
  }
  if (options.predictions) {
    const rows = results.map((r) =>
      [csvField(r.image.path), ...(r.probs ? Array.from(r.probs, (p) => p.toFixed(6)) : LABELS.map(() => ""))]
        .join(",")
    );
    await Deno.writeTextFile(options.predictions, [`path,${LABELS.join(",")}`, ...rows].join("\n") + "\n");
  }
  return 0;
}

/** Mean recall over surprise, sadness and anger, or null when one is absent. */
function rareRecall(metrics: Metrics): number | null {
  const recalls = ["surprise", "sadness", "anger"].map((c) => metrics.perClass[c]?.recall);
  return recalls.every((r) => typeof r === "number") ? recalls.reduce((a, b) => a! + b!, 0)! / 3 : null;
}

/** One robustness row: a degradation's figures on one dataset, and the change from clean. */
interface RobustnessRow {
  dataset: string;
  transform: string;
  accuracy: number;
  meanRecall: number;
  accuracyDrop: number;
  meanRecallDrop: number;
}

/** Score each dataset under every degradation, through faceInput as the product preprocesses. */
async function robustness(options: Options): Promise<number> {
  const sets: [string, LabelledImage[]][] = [];
  if (options.ferplus) sets.push([`FER+ test`, listLabelledFolder(join(options.ferplus, "test"))]);
  if (options.lfw) sets.push([`lfw_expressions valid`, listLfw(options.lfw, "valid")]);
  await initDenoTf();
  const model = await loadModel(options.model);
  const size = model.info.inputSize;
  const rows: RobustnessRow[] = [];
  for (const [name, images] of sets) {
    const predictions = DEGRADATIONS.map(() => [] as number[]);
    const labels: number[] = [];
    const progress = createProgress(images.length, `${name}, ${DEGRADATIONS.length} transforms`);
    for (let start = 0; start < images.length; start += options.batch) {
      const chunk = images.slice(start, start + options.batch);
      const greys = await Promise.all(
        chunk.map(async (im) => greyOf(await decodeImage(await Deno.readFile(im.path)))),
      );
      labels.push(...chunk.map((im) => im.label));
      for (const [k, degradation] of DEGRADATIONS.entries()) {
        const inputs = await Promise.all(
          greys.map(async (g) => faceInput(frameOf(await degradation.apply(g)), size)),
        );
        const probs = await model.classify(inputs, { flip: options.flip });
        predictions[k].push(...probs.map(argmax));
      }
      progress.update(Math.min(images.length, start + chunk.length));
    }
    progress.done();
    const clean = computeMetrics(labels, predictions[0]);
    for (const [k, degradation] of DEGRADATIONS.entries()) {
      const m = computeMetrics(labels, predictions[k]);
      rows.push({
        dataset: name,
        transform: degradation.name,
        accuracy: m.accuracy,
        meanRecall: m.meanRecall,
        accuracyDrop: clean.accuracy - m.accuracy,
        meanRecallDrop: clean.meanRecall - m.meanRecall,
      });
    }
  }
  model.dispose();
  const pct = (v: number) => (100 * v).toFixed(1);
  console.log(`model: ${model.info.name} ${model.info.version}`);
  for (const [name] of sets) {
    console.log(`\n${name}\n| transform | accuracy | change | mean recall | change |\n|---|---|---|---|---|`);
    for (const r of rows.filter((r) => r.dataset === name)) {
      const change = (
        d: number,
      ) => (r.transform === "clean" ? "" : `${d > 0 ? "-" : "+"}${pct(Math.abs(d))}`);
      console.log(
        `| ${r.transform} | ${pct(r.accuracy)} | ${change(r.accuracyDrop)} | ${pct(r.meanRecall)} | ${
          change(r.meanRecallDrop)
        } |`,
      );
    }
  }
  if (options.json) {
    const report = { model: { name: model.info.name, version: model.info.version }, robustness: rows };
    await Deno.writeTextFile(options.json, JSON.stringify(report, null, 2) + "\n");
  }
  return 0;
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

if (import.meta.main) await runCli("eval", main);
