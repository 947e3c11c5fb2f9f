/** The files behind the worker's `GET /` page, read from the repository (never written). */
import { SAMPLE_PHOTOS } from "./page/samples.ts";

/** A static file the worker serves. */
export interface Asset {
  body: Uint8Array;
  type: string;
}

const ROOT = new URL("../", import.meta.url);
const WASM = "node_modules/@tensorflow/tfjs-backend-wasm/dist/";
/** Photos to try the page on: the test photos of face-api.js (MIT), a development package (absent without it). */
const SAMPLES = "node_modules/@vladmandic/face-api/demo/";

/** URL path under /static/ → repository file and content type; nothing outside this table is served. */
export const PAGE_FILES: Record<string, [string, string]> = {
  "index.html": ["worker/page/index.html", "text/html; charset=utf-8"],
  "page.js": ["dist/web/page.js", "text/javascript; charset=utf-8"],
  "icon.png": ["dist/web/icon.png", "image/png"],
  "wasm/tfjs-backend-wasm-simd.wasm": [`${WASM}tfjs-backend-wasm-simd.wasm`, "application/wasm"],
  "wasm/tfjs-backend-wasm.wasm": [`${WASM}tfjs-backend-wasm.wasm`, "application/wasm"],
  "models/mien-fer/model.json": ["models/mien-fer/model.json", "application/json"],
  "models/mien-fer/weights.bin": ["models/mien-fer/weights.bin", "application/octet-stream"],
  "models/blazeface/blazeface.json": ["models/blazeface/blazeface.json", "application/json"],
  "models/blazeface/blazeface.bin": ["models/blazeface/blazeface.bin", "application/octet-stream"],
  "models/blazeface/blazeface-front.json": ["models/blazeface/blazeface-front.json", "application/json"],
  "models/blazeface/blazeface-front.bin": [
    "models/blazeface/blazeface-front.bin",
    "application/octet-stream",
  ],
  ...Object.fromEntries(
    SAMPLE_PHOTOS.map((name) => [`samples/${name}`, [`${SAMPLES}${name}`, "image/jpeg"]]),
  ),
};

/** Read a page file by its path under /static/ (index.html is served at /), or null when it is not one (or not built yet). */
export async function readPageFile(path: string): Promise<Asset | null> {
  const entry = PAGE_FILES[path];
  if (!entry) return null;
  try {
    return { body: await Deno.readFile(new URL(entry[0], ROOT)), type: entry[1] };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}
