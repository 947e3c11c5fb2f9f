import { existsSync } from "node:fs";

/** Project root as a path. */
export const ROOT = new URL("..", import.meta.url).pathname;
/** FER+ beside the project (read-only in CI). */
export const FERPLUS = `${ROOT}../shared/datasets/ferplus`;
/** Whether FER+ is present; tests that need it are skipped (with a message) when it is not. */
export const HAS_FERPLUS = existsSync(`${FERPLUS}/labels.csv`);
if (!HAS_FERPLUS) console.warn(`FER+ not found at ${FERPLUS}: tests that need it are skipped`);

/** Path to the deno binary running these tests. */
export const DENO = Deno.execPath();

/** Run a CLI module with deno; returns exit code and both streams. */
export async function runCli(script: string, args: string[]) {
  const out = await new Deno.Command(DENO, {
    args: ["run", "-A", `${ROOT}${script}`, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Real photos beside the project (no labels; counts of faces by eye, from its SOURCE.md). */
export const MEDIA = `${ROOT}../shared/media`;
/** Whether the photos are present. */
export const HAS_MEDIA = existsSync(`${MEDIA}/SOURCE.md`);
if (!HAS_MEDIA) console.warn(`photos not found at ${MEDIA}: tests that need them are skipped`);
