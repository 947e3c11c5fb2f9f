/** `deno task analyze`: faces and expressions in images, as a table or JSON, optionally drawn. */
import { parseArgs } from "node:util";
import { basename, extname, join } from "node:path";
import { annotate } from "../shared/annotate.ts";
import { decodeImage, DEFAULT_MAX_PIXELS } from "../shared/decode.ts";
import type { AnalysisResult, FaceResult } from "../shared/analyzer.ts";
import { count } from "../shared/labels.ts";
import { loadModel } from "../shared/model.ts";
import { type Box, type Frame, shrinkRgb } from "../shared/preprocess.ts";
import { numberFaces } from "../shared/view_faces.ts";
import { createDenoAnalyzer, loadDetector } from "../runtime/deno_analyzer.ts";
import { initDenoTf } from "../runtime/deno_tf.ts";
import { faceCountText } from "../shared/timeline.ts";
import { analyzeVideoFile, type VideoJob } from "./video.ts";
import { detectorName, modelUrl, runCli, UsageError, writePng } from "./run_cli.ts";

const HELP = `Find faces in images or a video and estimate their expressions.

Usage: deno task analyze [options] <image|folder|video>

Images (png, jpg, webp, bmp):
  --json                 one JSON object per image (a line each) instead of the table
  --annotate <path>      draw boxes, labels and bars: a PNG file for one image, a folder for many

Video (mp4, webm, mov, mkv, avi; decoded by ffmpeg, streamed): one row per face and analysed frame
with time (s from the start), frame (from 0), face number (1, 2, 3 in order of appearance, the same
in the drawn video and the chart), box (in the video's pixels), label and the 7 smoothed scores.
  --csv                  rows as CSV (the default for video)
  --json                 rows as JSON lines
  --out <file>           write the rows to a file instead of standard output
  --every <n>            analyse every n-th frame (default 1: all)
  --annotate <out.mp4>   write the video with boxes, labels and bars drawn
  --chart <out.png>      draw each face's expression mix over time
  --max-side <px>        analyse frames scaled to at most this side (default 640)
  Ctrl-C stops early and keeps what was written.

Both:
  --max-faces <n>        at most n faces per image (default 10)
  --min-face-size <px>   ignore faces smaller than this (default 24)
  --detector <name>      blazeface (default), blazeface-short or haar
  --model <name|path>    large (default: mien-fer-large, the more accurate, twice the work),
                         small (mien-fer, the one the extension runs), or a model.json path
  --flip                 average each face with its mirror image (2x model work)
  -h, --help             show this help

Outputs are expression estimates from pixels, not a reading of anyone's inner state.
`;

const IMAGE = /\.(png|jpe?g|webp|bmp)$/i;
const VIDEO = /\.(mp4|m4v|webm|mov|mkv|avi)$/i;

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--${name} must be a positive integer, not "${value}"`);
  }
  return n;
}

function listImages(target: string): string[] {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(target);
  } catch {
    throw new UsageError(`no such file or folder: ${target}`);
  }
  if (!info.isDirectory) return [target];
  const files = [...Deno.readDirSync(target)].filter((e) => e.isFile && IMAGE.test(e.name)).map((e) =>
    join(target, e.name)
  ).sort();
  if (!files.length) throw new UsageError(`no images in ${target}`);
  return files;
}

/** The largest image decoded at all (1.6 GB of RGBA); larger ones are refused before decoding. */
const DECODE_PIXELS = 400_000_000;
/** Images over this many pixels (what the API takes) are scaled down to it before they are analysed. */
const ANALYSE_PIXELS = DEFAULT_MAX_PIXELS;

/** "10000x7120". */
function size(frame: Frame): string {
  return `${frame.width}x${frame.height}`;
}

/** The frame scaled down (by averaging) to at most `maxPixels`, and the scale applied (1: unchanged). */
function fitPixels(frame: Frame, maxPixels: number): { frame: Frame; scale: number } {
  if (frame.width * frame.height <= maxPixels) return { frame, scale: 1 };
  const ratio = Math.sqrt(maxPixels / (frame.width * frame.height));
  const side = Math.floor(Math.max(frame.width, frame.height) * ratio);
  const rgb = shrinkRgb(frame, side);
  return {
    frame: { data: Uint8ClampedArray.from(rgb.data), width: rgb.width, height: rgb.height, channels: 3 },
    scale: rgb.width / frame.width,
  };
}

/** A box multiplied by `factor`. */
function scaleBox(box: Box, factor: number): Box {
  return { x: box.x * factor, y: box.y * factor, width: box.width * factor, height: box.height * factor };
}

/** A result with its faces numbered left to right, as the pictures and the other views number them. */
type NumberedResult = Omit<AnalysisResult, "faces"> & { faces: (FaceResult & { number: number })[] };

function tableRow(path: string, r: NumberedResult): string {
  const faces = r.faces.map((f) => {
    const b = f.box;
    const p = Math.round(100 * f.expression.scores[f.expression.label]);
    return `#${f.number} [${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.width)}x${
      Math.round(b.height)
    }] ${f.expression.label} ${p}%`;
  });
  return `${path}  ${r.width}x${r.height}  ${count(r.faces.length, "face")}  ${
    r.timings.totalMs.toFixed(0)
  } ms${faces.length ? "\n  " + faces.join("\n  ") : ""}`;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      csv: { type: "boolean", default: false },
      out: { type: "string" },
      every: { type: "string" },
      chart: { type: "string" },
      "max-side": { type: "string" },
      annotate: { type: "string" },
      "max-faces": { type: "string" },
      "min-face-size": { type: "string" },
      flip: { type: "boolean", default: false },
      detector: { type: "string", default: "blazeface" },
      model: { type: "string", default: "large" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("give one image or folder; see --help");
  const maxFaces = positiveInt("max-faces", values["max-faces"], 10);
  const minFaceSize = positiveInt("min-face-size", values["min-face-size"], 24);
  const detector = detectorName(values.detector!);
  const model = modelUrl(values.model!);
  if (VIDEO.test(positionals[0])) {
    if (values.csv && values.json) throw new UsageError("give --csv or --json, not both");
    return await analyzeVideo(positionals[0], {
      format: values.json ? "json" : "csv",
      out: values.out,
      every: positiveInt("every", values.every, 1),
      maxSide: positiveInt("max-side", values["max-side"], 640),
      annotate: values.annotate,
      chart: values.chart,
      maxFaces,
      minFaceSize,
      detector,
    }, model);
  }
  for (const flag of ["csv", "out", "every", "chart", "max-side"] as const) {
    if (values[flag]) {
      const hint = flag === "out" ? "; for a picture of a photo use --annotate out.png" : "";
      throw new UsageError(`--${flag} is for videos (mp4, webm, mov, mkv, avi)${hint}`);
    }
  }
  const images = listImages(positionals[0]);
  const many = images.length > 1 || Deno.statSync(positionals[0]).isDirectory;
  if (values.annotate && many) await Deno.mkdir(values.annotate, { recursive: true });
  const analyzer = await createDenoAnalyzer({
    maxFaces,
    minFaceSize,
    flip: values.flip,
    detector,
    modelUrl: model,
  });
  let failures = 0;
  for (const path of images) {
    try {
      const original = await decodeImage(await Deno.readFile(path), { maxPixels: DECODE_PIXELS });
      const { frame, scale } = fitPixels(original, ANALYSE_PIXELS);
      if (scale < 1) {
        console.error(
          `${path}: ${size(original)} is over ${ANALYSE_PIXELS.toLocaleString("en-US")} pixels; ` +
            `analysed at ${size(frame)} (boxes are given in the original's pixels)`,
        );
      }
      const analysed = await analyzer.analyze(frame);
      const result = { ...analysed, faces: numberFaces(analysed.faces) };
      // Boxes and size in the original's pixels.
      const reported = {
        ...result,
        width: original.width,
        height: original.height,
        faces: result.faces.map((f) => ({ ...f, box: scaleBox(f.box, 1 / scale) })),
      };
      console.log(values.json ? JSON.stringify({ path, ...reported }) : tableRow(path, reported));
      if (values.annotate) {
        const out = many ? join(values.annotate, `${basename(path, extname(path))}.png`) : values.annotate;
        await writePng(out, annotate(frame, result));
      }
    } catch (error) {
      failures++;
      const message = (error as Error).message;
      if (values.json) console.log(JSON.stringify({ path, error: { code: "bad_image", message } }));
      else console.error(`${path}: ${message}`);
    }
  }
  analyzer.dispose();
  return failures ? 1 : 0;
}

/** Analyse one video file (see HELP); rows to --out or standard output, a summary on stderr. */
async function analyzeVideo(
  path: string,
  options: Omit<VideoJob, "path" | "model" | "detector" | "regionDetector" | "out"> & {
    out?: string;
    detector: ReturnType<typeof detectorName>;
  },
  modelUrl: URL | string,
): Promise<number> {
  try {
    Deno.statSync(path);
  } catch {
    throw new UsageError(`no such file: ${path}`);
  }
  if (options.detector === "haar") {
    throw new UsageError("video follows faces with BlazeFace; --detector haar is for images");
  }
  await initDenoTf();
  const [model, detector, regionDetector] = await Promise.all([
    loadModel(modelUrl),
    loadDetector(options.detector),
    loadDetector("blazeface-short"),
  ]);
  const file = options.out
    ? await Deno.open(options.out, { write: true, create: true, truncate: true })
    : undefined;
  const out = (file?.writable ?? Deno.stdout.writable).getWriter();
  try {
    const r = await analyzeVideoFile({ ...options, path, model, detector, regionDetector, out });
    console.error(
      `${path}: ${r.analysed} of ${r.frames} frames analysed (${r.videoSeconds.toFixed(1)} s of video) in ` +
        `${r.seconds.toFixed(1)} s = ${(r.videoSeconds / r.seconds).toFixed(1)}x real time; ${
          faceCountText(r.faces)
        }` +
        (r.stopped ? "; stopped early, what was analysed is kept" : ""),
    );
    return r.stopped ? 130 : 0;
  } finally {
    if (file) await out.close();
    else out.releaseLock();
    model.dispose();
    detector.dispose();
    regionDetector.dispose();
  }
}

if (import.meta.main) await runCli("analyze", main);
