/** `deno task analyze`: faces and expressions in images, as a table or JSON, optionally drawn. */
import { parseArgs } from "node:util";
import { basename, extname, join } from "node:path";
import { annotate } from "../shared/annotate.ts";
import { decodeImage } from "../shared/decode.ts";
import type { AnalysisResult } from "../shared/analyzer.ts";
import { createDenoAnalyzer, detectorName } from "./deno_analyzer.ts";
import { runCli, UsageError, writePng } from "./run_cli.ts";

const HELP = `Find faces in images and estimate their expressions.

Usage: deno task analyze [options] <image|folder>

Options:
  --json                 one JSON object per image (a line each) instead of the table
  --annotate <path>      draw boxes, labels and bars: a PNG file for one image, a folder for many
  --max-faces <n>        at most n faces per image (default 10)
  --min-face-size <px>   ignore faces smaller than this (default 24)
  --detector <name>      blazeface (default), blazeface-short or haar
  --flip                 average each face with its mirror image (2x model work)
  -h, --help             show this help

Outputs are expression estimates from pixels, not a reading of anyone's inner state.
`;

const IMAGE = /\.(png|jpe?g|webp|bmp)$/i;

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

function tableRow(path: string, r: AnalysisResult): string {
  const faces = r.faces.map((f, i) => {
    const b = f.box;
    const p = Math.round(100 * f.expression.scores[f.expression.label]);
    return `#${i + 1} [${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.width)}x${
      Math.round(b.height)
    }] ${f.expression.label} ${p}%`;
  });
  return `${path}  ${r.width}x${r.height}  ${r.faces.length} face(s)  ${r.timings.totalMs.toFixed(0)} ms${
    faces.length ? "\n  " + faces.join("\n  ") : ""
  }`;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      annotate: { type: "string" },
      "max-faces": { type: "string" },
      "min-face-size": { type: "string" },
      flip: { type: "boolean", default: false },
      detector: { type: "string", default: "blazeface" },
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
  const images = listImages(positionals[0]);
  const many = images.length > 1 || Deno.statSync(positionals[0]).isDirectory;
  if (values.annotate && many) await Deno.mkdir(values.annotate, { recursive: true });
  const analyzer = await createDenoAnalyzer({ maxFaces, minFaceSize, flip: values.flip, detector });
  let failures = 0;
  for (const path of images) {
    try {
      const frame = await decodeImage(await Deno.readFile(path));
      const result = await analyzer.analyze(frame);
      console.log(values.json ? JSON.stringify({ path, ...result }) : tableRow(path, result));
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

if (import.meta.main) await runCli("analyze", main);
