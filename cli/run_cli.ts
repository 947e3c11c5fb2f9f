import encodePng from "@jsquash/png/encode.js";
import type { Canvas } from "../shared/draw.ts";

/** An error in the user's input (bad folder, bad option): reported without a stack trace. */
export class UsageError extends Error {}

/** Run a CLI's main: exit with its code; usage errors print one line and exit 2. */
export async function runCli(name: string, main: (args: string[]) => Promise<number>) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    const known = error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    console.error(`${name}: ${known ? (error as Error).message : (error as Error).stack}`);
    Deno.exit(2);
  }
}

/** Encode a canvas as PNG and write it. */
export async function writePng(path: string, canvas: Canvas) {
  const png = await encodePng({ ...canvas, colorSpace: "srgb" } as ImageData);
  await Deno.writeFile(path, new Uint8Array(png));
}
