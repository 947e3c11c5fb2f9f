/**
 * `deno task build`: bundle extension/ + manifest.json into dist/extension/ (Chrome) and dist/firefox/
 * (Firefox: the same files, with the manifest Firefox expects) and print the size.
 */
import * as esbuild from "esbuild";
import encodePng from "@jsquash/png/encode.js";
import { renderIcon } from "../shared/icon.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** Where the unpacked extension is written. */
export const DIST = `${ROOT}dist/extension/`;
/** Where the Firefox build is written. */
export const FIREFOX_DIST = `${ROOT}dist/firefox/`;

/** Which browser a build is for: only the manifest differs. */
export type Target = "chrome" | "firefox";

/** Extension pages and the service worker: ES modules sharing one tfjs chunk. */
const MODULE_ENTRIES = ["background", "frame", "analyzer_worker", "popup", "options", "webcam", "analyze"];
/** Static files copied as they are (source path -> path in the bundle). */
const ASSETS: [string, string][] = [
  ...["frame", "popup", "options", "webcam", "analyze"].map((p): [string, string] => [
    `extension/${p}.html`,
    `${p}.html`,
  ]),
  ["extension/style.css", "style.css"],
  ["models/mien-fer/model.json", "models/mien-fer/model.json"],
  ["models/mien-fer/weights.bin", "models/mien-fer/weights.bin"],
  ["models/blazeface/blazeface.json", "models/blazeface/blazeface.json"],
  ["models/blazeface/blazeface.bin", "models/blazeface/blazeface.bin"],
  ["models/blazeface/blazeface-front.json", "models/blazeface/blazeface-front.json"],
  ["models/blazeface/blazeface-front.bin", "models/blazeface/blazeface-front.bin"],
  ["models/blazeface/NOTICE.md", "models/blazeface/NOTICE.md"],
  // Threads are off in extension pages: only the single-threaded binaries (SIMD, and plain as fallback).
  ...["tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm.wasm"].map((f): [string, string] => [
    `node_modules/@tensorflow/tfjs-backend-wasm/dist/${f}`,
    `wasm/${f}`,
  ]),
];

/** Icon sizes the manifest lists (toolbar, menus, the extensions page, the store). */
export const ICON_SIZES = [16, 32, 48, 128];

/** Bytes per kind of file in the bundle. */
export interface BundleSizes {
  js: number;
  wasm: number;
  model: number;
  other: number;
  total: number;
}

async function walk(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory) files.push(...await walk(`${path}/`));
    else files.push(path);
  }
  return files;
}

/** Sizes of what is in `dir`, by kind (screenshots and other test artifacts are not counted). */
export async function bundleSizes(dir = DIST): Promise<BundleSizes> {
  const sizes: BundleSizes = { js: 0, wasm: 0, model: 0, other: 0, total: 0 };
  for (const path of await walk(dir)) {
    const bytes = (await Deno.stat(path)).size;
    const rel = path.slice(dir.length);
    const kind = rel.startsWith("models/")
      ? "model"
      : rel.endsWith(".js")
      ? "js"
      : rel.endsWith(".wasm")
      ? "wasm"
      : "other";
    sizes[kind] += bytes;
    sizes.total += bytes;
  }
  return sizes;
}

// deno-lint-ignore no-explicit-any
type Manifest = Record<string, any>;

/**
 * manifest.json as `target` needs it. Chrome takes it as it is (it runs `background.service_worker` and
 * ignores `scripts` and the gecko settings). Firefox runs `background.scripts` as an event page and ignores
 * `service_worker`, and has neither tab capture nor `use_dynamic_url`: they are left out, so that it loads
 * without warnings.
 */
export function manifestFor(manifest: Manifest, target: Target): Manifest {
  if (target === "chrome") return manifest;
  const { service_worker: _, ...background } = manifest.background;
  return {
    ...manifest,
    background,
    permissions: manifest.permissions.filter((p: string) => p !== "tabCapture"),
    // Firefox has no use_dynamic_url (its moz-extension:// host is already random per profile).
    web_accessible_resources: manifest.web_accessible_resources.map((
      { use_dynamic_url: _, ...entry }: Manifest,
    ) => entry),
  };
}

/** Bundle the extension for `target` into `outDir` (emptied first) and return its sizes. */
export async function buildExtension(
  outDir = DIST,
  target: Target = "chrome",
): Promise<BundleSizes> {
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  const common: esbuild.BuildOptions = {
    bundle: true,
    minify: true,
    target: "chrome110",
    platform: "browser",
    outdir: outDir,
    logLevel: "warning",
    legalComments: "none",
    absWorkingDir: ROOT,
  };
  await esbuild.build({
    ...common,
    entryPoints: MODULE_ENTRIES.map((e) => `extension/${e}.ts`),
    format: "esm",
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
  });
  // Content scripts are classic scripts: one self-contained file without the analyzer.
  await esbuild.build({ ...common, entryPoints: ["extension/content.ts"], format: "iife" });
  for (const [from, to] of ASSETS) {
    const target = `${outDir}${to}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    await Deno.copyFile(`${ROOT}${from}`, target);
  }
  await esbuild.stop();
  const manifest = JSON.parse(await Deno.readTextFile(`${ROOT}manifest.json`));
  await Deno.writeTextFile(
    `${outDir}manifest.json`,
    JSON.stringify(manifestFor(manifest, target), null, 2) + "\n",
  );
  await Deno.mkdir(`${outDir}icons`, { recursive: true });
  for (const size of ICON_SIZES) {
    const icon = renderIcon(size);
    const png = await encodePng({ ...icon, colorSpace: "srgb" } as ImageData);
    await Deno.writeFile(`${outDir}icons/icon-${size}.png`, new Uint8Array(png));
  }
  return bundleSizes(outDir);
}

/** Sizes as the lines that the build and the benchmark print. */
export function formatSizes(s: BundleSizes): string {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`.padStart(9);
  return [
    `  JS       ${mb(s.js)}`,
    `  wasm     ${mb(s.wasm)}`,
    `  models   ${mb(s.model)}`,
    `  other    ${mb(s.other)}`,
    `  total    ${mb(s.total)}  (target <= 5 MB; no opencv.js: BlazeFace is the only detector)`,
  ].join("\n");
}

if (import.meta.main) {
  const sizes = await buildExtension();
  await buildExtension(FIREFOX_DIST, "firefox");
  console.log(`built ${DIST} (Chrome) and ${FIREFOX_DIST} (Firefox)\n${formatSizes(sizes)}`);
}
