/** `deno task build:web`: bundle the worker's `GET /` page script into dist/web/page.js with esbuild. */
import * as esbuild from "esbuild";
import encodePng from "@jsquash/png/encode.js";
import { renderIcon } from "../shared/icon.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Bundle worker/page/main.ts (and the shared core it imports) for browsers, and draw the page's icon; returns the script's path. */
export async function buildPage({ minify = true } = {}): Promise<string> {
  const outfile = `${ROOT}dist/web/page.js`;
  try {
    await esbuild.build({
      entryPoints: [`${ROOT}worker/page/main.ts`],
      outfile,
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      minify,
      logLevel: "warning",
      // tfjs-backend-wasm mentions Node modules on code paths browsers never take.
      external: ["fs", "path", "os", "crypto", "worker_threads", "perf_hooks"],
    });
  } finally {
    await esbuild.stop();
  }
  const icon = renderIcon(64);
  await Deno.writeFile(
    `${ROOT}dist/web/icon.png`,
    new Uint8Array(await encodePng({ ...icon, colorSpace: "srgb" } as ImageData)),
  );
  return outfile;
}

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log("usage: deno task build:web [--no-minify]\nBundles the GET / page into dist/web/page.js.");
    Deno.exit(0);
  }
  const out = await buildPage({ minify: !Deno.args.includes("--no-minify") });
  console.log(`wrote ${out} (${(await Deno.stat(out)).size} bytes)`);
}
