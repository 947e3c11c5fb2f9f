import encodePng from "@jsquash/png/encode.js";
import type { Canvas } from "../shared/draw.ts";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DETECTOR_NAMES, type DetectorName } from "../shared/detector.ts";
import { BUNDLED_MODELS, MODEL_CHOICES, type ModelChoice } from "../shared/bundled_models.ts";

/** An error in the user's input (bad folder, bad option): reported without a stack trace. */
export class UsageError extends Error {}

/** A --model value: "large" or "small" for a bundled model, else a model.json path or URL. */
export function modelUrl(value: string): URL | string {
  if (Object.hasOwn(BUNDLED_MODELS, value)) return BUNDLED_MODELS[value as ModelChoice];
  if (/^[a-z]+:/.test(value)) return value;
  if (!/\.json$/.test(value)) {
    throw new UsageError(
      `--model must be ${MODEL_CHOICES.join(" or ")}, or a model.json path, not "${value}"`,
    );
  }
  return pathToFileURL(resolve(value));
}

/** A --detector value checked against the shipped detectors (a usage error otherwise). */
export function detectorName(name: string): DetectorName {
  const found = DETECTOR_NAMES.find((d) => d === name);
  if (!found) throw new UsageError(`--detector must be one of ${DETECTOR_NAMES.join(", ")}, not "${name}"`);
  return found;
}

/** Run a CLI's main: exit with its code; usage errors print one line and exit 2. */
export async function runCli(name: string, main: (args: string[]) => Promise<number>) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    const known = error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    console.error(`${name}: ${known ? usageMessage(error as Error) : (error as Error).stack}`);
    Deno.exit(2);
  }
}

/** A usage error's one-line message; parseArgs' long "Unknown option '--x'. To specify…" becomes short. */
function usageMessage(error: Error): string {
  const unknown = (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" &&
    error.message.match(/^Unknown option '([^']+)'/);
  return unknown ? `unknown option ${unknown[1]}; see --help` : error.message;
}

/** Encode a canvas as PNG and write it. */
export async function writePng(path: string, canvas: Canvas) {
  const png = await encodePng({ ...canvas, colorSpace: "srgb" } as ImageData);
  await Deno.writeFile(path, new Uint8Array(png));
}
