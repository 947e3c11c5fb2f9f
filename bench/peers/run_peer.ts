/** One peer in its own process (for `deno task bench`): accuracy, model timings or pipeline timings. */
import { parseArgs } from "node:util";
import { basename, join, relative } from "node:path";
import { decodeImage } from "../../shared/decode.ts";
import { argmax, computeMetrics } from "../../shared/metrics.ts";
import type { Frame } from "../../shared/preprocess.ts";
import { listLabelledFolder, readFer2013Labels } from "../../cli/dataset.ts";
import { LABELS } from "../../shared/labels.ts";
import { processMemory } from "../stats.ts";
import { fileBytes, type Peer, rgbaPixels } from "./peer.ts";

const HELP = `Run one entrant of the peer benchmark in this process and print its figures as JSON.
Called by bench/model_bench.ts (deno task bench), one process per entrant and run.

Usage: deno run -A bench/peers/run_peer.ts --peer ID --task TASK [options]

  --peer ID          mien | mien-large | mien-haar | face-api | human | human-video (Human with its frame
                     caching)
  --task TASK        accuracy (FER+ test) | model (bytes, cold load, per-face ms) | pipeline (frames,
                     faces found, peak RSS) | probe (probabilities for one face crop, in Mien's label order)
                     | video (ms, boxes and labels per frame of each video in --manifest)
  --ferplus DIR      FER+ root (accuracy)
  --rounds N         per-face timing rounds (model; default 5)
  --iterations N     batch-1 inferences per round; batch 32 runs N/10 (model; default 50)
  --manifest FILE    frames and photo sets written by bench/model_bench.ts (pipeline), or the videos
                     written by bench/video_bench.ts (video)
  --frames N         timed analyses per frame (pipeline; default 20)
  --image FILE       photo to classify (probe)
  --box X,Y,W,H      face box in that photo (probe; default the whole photo)
  -h, --help         show this help
`;

/** Frames and photo sets shared by every pipeline process (written by the parent). */
export interface Manifest {
  frames: { name: string; file: string; width: number; height: number; faces: number }[];
  photoSets: { name: string; photos: { path: string; faces: number }[] }[];
}

/** Run one entrant's task in a fresh Deno process (this module as its CLI); its stdout is one JSON object. */
export async function runPeer(peer: string, task: string, args: string[]): Promise<Record<string, unknown>> {
  console.error(`bench: ${peer} ${task}`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--peer", peer, "--task", task, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (out.code !== 0) throw new Error(`${peer} ${task} failed (exit ${out.code})`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
}

/** Videos shared with the video task (written by bench/video_bench.ts): raw RGBA frames, one file each. */
export interface VideoManifest {
  videos: { name: string; file: string; width: number; height: number; frames: number }[];
}

/** The entrant named `id`, imported on demand so that each process loads one library only. */
async function createPeer(id: string): Promise<Peer> {
  if (id === "mien" || id === "mien-haar") {
    return (await import("./mien.ts")).createMienPeer(id === "mien" ? "blazeface" : "haar");
  }
  if (id === "mien-large") {
    const { BUNDLED_MODELS } = await import("../../shared/bundled_models.ts");
    return (await import("./mien.ts")).createMienPeer("blazeface", BUNDLED_MODELS.large);
  }
  if (id === "face-api") return (await import("./faceapi.ts")).createFaceApiPeer();
  if (id === "human" || id === "human-video") {
    return (await import("./human.ts")).createHumanPeer(id === "human-video");
  }
  throw new Error(`unknown --peer ${id}`);
}

async function accuracy(peer: Peer, ferplus: string) {
  const images = listLabelledFolder(join(ferplus, "test"));
  await peer.loadModel();
  const predictions: number[] = [];
  for (let i = 0; i < images.length; i += 32) {
    const batch = images.slice(i, i + 32);
    const faces = await Promise.all(batch.map(async (im) => decodeImage(await Deno.readFile(im.path))));
    for (const p of await peer.classify(faces)) predictions.push(argmax(p));
    if (i % 640 === 0) console.error(`${peer.id}: FER+ test ${i}/${images.length}`);
  }
  const m = computeMetrics(images.map((im) => im.label), predictions);
  const recall = Object.fromEntries(Object.entries(m.perClass).map(([k, v]) => [k, v.recall]));
  // The same images scored against FER2013's original labels (what Human's model was trained on).
  const original = readFer2013Labels(ferplus);
  const matched = images.flatMap((im, i) => {
    const label = original.get(relative(ferplus, im.path));
    return label === undefined ? [] : [[label, predictions[i]]];
  });
  const fer2013 = computeMetrics(matched.map((m) => m[0]), matched.map((m) => m[1]));
  return {
    count: m.count,
    accuracy: m.accuracy,
    meanRecall: m.meanRecall,
    macroF1: m.macroF1,
    recall,
    fer2013Original: { count: fer2013.count, accuracy: fer2013.accuracy, meanRecall: fer2013.meanRecall },
  };
}

/** Probabilities (Mien's order) for the face in `box` of one photo. */
async function probe(peer: Peer, image: string, box?: string) {
  const photo = await decodeImage(await Deno.readFile(image));
  const rgba = rgbaPixels(photo).data;
  const [x, y, w, h] = box ? box.split(",").map(Number) : [0, 0, photo.width, photo.height];
  const data = new Uint8ClampedArray(w * h * 4);
  for (let r = 0; r < h; r++) {
    data.set(rgba.subarray(((y + r) * photo.width + x) * 4, ((y + r) * photo.width + x + w) * 4), r * w * 4);
  }
  await peer.loadModel();
  const [probs] = await peer.classify([{ data, width: w, height: h }]);
  return { labels: LABELS, probs: Array.from(probs) };
}

async function model(peer: Peer, rounds: number, iterations: number) {
  const start = performance.now();
  await peer.loadModel();
  const coldLoadMs = performance.now() - start;
  await peer.timeForward(1, 10); // warm-up
  await peer.timeForward(32, 2);
  const batch1: number[] = [];
  const batch32: number[] = [];
  for (let r = 0; r < rounds; r++) {
    batch1.push(await peer.timeForward(1, iterations));
    batch32.push(await peer.timeForward(32, Math.max(1, Math.round(iterations / 10))));
  }
  return { bytes: await fileBytes(peer.modelFiles), coldLoadMs, batch1, batch32 };
}

async function pipeline(peer: Peer, manifest: Manifest, runs: number) {
  const frames: (Frame & { name: string; faces: number })[] = [];
  for (const f of manifest.frames) frames.push({ ...f, data: await Deno.readFile(f.file) });
  const start = performance.now();
  await peer.loadPipeline(frames[0]);
  const coldLoadMs = performance.now() - start;
  const perFrame: Record<string, { ms: number[]; faces: number; expected: number }> = {};
  for (const frame of frames) {
    for (let i = 0; i < 3; i++) await peer.analyze(frame);
    const ms: number[] = [];
    let faces = 0;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      faces = (await peer.analyze(frame)).length;
      ms.push(performance.now() - t);
    }
    perFrame[frame.name] = { ms, faces, expected: frame.faces };
  }
  const peakRssBytes = processMemory(Deno.pid).peak; // before decoding the full-size photos below
  const facesFound: Record<
    string,
    { found: number; extra: number; expected: number; perPhoto: Record<string, number> }
  > = {};
  for (const set of manifest.photoSets) {
    let found = 0;
    let extra = 0;
    const perPhoto: Record<string, number> = {};
    for (const photo of set.photos) {
      const n = (await peer.analyze(await decodeImage(await Deno.readFile(photo.path)))).length;
      perPhoto[basename(photo.path)] = n;
      found += Math.min(n, photo.faces);
      extra += Math.max(0, n - photo.faces);
    }
    facesFound[set.name] = { found, extra, expected: set.photos.reduce((a, p) => a + p.faces, 0), perPhoto };
  }
  return { bytes: await fileBytes(peer.pipelineFiles), coldLoadMs, perFrame, peakRssBytes, facesFound };
}

/** Each video's frames in order, as a camera would give them: ms and faces per frame. */
async function video(peer: Peer, manifest: VideoManifest) {
  const results = [];
  for (const v of manifest.videos) {
    const bytes = await Deno.readFile(v.file);
    const size = v.width * v.height * 4;
    const frames = Array.from({ length: v.frames }, (_, i) => ({
      data: bytes.subarray(i * size, (i + 1) * size),
      width: v.width,
      height: v.height,
    }));
    // Warm on a black frame, so a video mode starts the video with nothing cached.
    const black = { data: new Uint8Array(size), width: v.width, height: v.height };
    if (!results.length) await peer.loadPipeline(black);
    else await peer.analyze(black);
    const ms: number[] = [];
    const faces = [];
    for (const frame of frames) {
      const t = performance.now();
      faces.push(await peer.analyze(frame));
      ms.push(performance.now() - t);
    }
    results.push({ name: v.name, ms, faces });
  }
  return { videos: results };
}

async function main() {
  const { values } = parseArgs({
    options: {
      peer: { type: "string" },
      task: { type: "string" },
      ferplus: { type: "string" },
      rounds: { type: "string", default: "5" },
      iterations: { type: "string", default: "50" },
      manifest: { type: "string" },
      frames: { type: "string", default: "20" },
      image: { type: "string" },
      box: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return console.log(HELP);
  const peer = await createPeer(values.peer ?? "");
  let result: unknown;
  if (values.task === "accuracy") {
    if (!values.ferplus) throw new Error("--task accuracy needs --ferplus");
    result = await accuracy(peer, values.ferplus);
  } else if (values.task === "model") {
    result = await model(peer, Number(values.rounds), Number(values.iterations));
  } else if (values.task === "pipeline") {
    if (!values.manifest) throw new Error("--task pipeline needs --manifest");
    const manifest = JSON.parse(await Deno.readTextFile(values.manifest)) as Manifest;
    result = await pipeline(peer, manifest, Number(values.frames));
  } else if (values.task === "video") {
    if (!values.manifest) throw new Error("--task video needs --manifest");
    result = await video(peer, JSON.parse(await Deno.readTextFile(values.manifest)) as VideoManifest);
  } else if (values.task === "probe") {
    if (!values.image) throw new Error("--task probe needs --image");
    result = await probe(peer, values.image, values.box);
  } else {
    throw new Error(`--task must be accuracy, model, pipeline, video or probe; see --help`);
  }
  console.log(
    JSON.stringify({ peer: peer.id, library: peer.library, task: values.task, ...result as object }),
  );
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(`run_peer: ${(error as Error).stack ?? error}`);
    Deno.exit(2);
  }
}
