/**
 * `deno task build:package`: Mien's entry module as an npm package, dist/mien-<version>.tgz. The package
 * holds built JavaScript (Deno does not strip types from TypeScript under node_modules) in lib/, every
 * shipped model (models/mien-fer*, BlazeFace, the Haar cascade) in models/, where the code finds them,
 * and names the npm packages the code imports as its dependencies, at this repository's versions.
 */
import * as esbuild from "esbuild";

const ROOT = new URL("../", import.meta.url).pathname;
/** Where the package's files are laid out before packing. */
export const PACKAGE_DIR = `${ROOT}dist/package/`;

/** The model files shipped: every mien-fer* model folder, the detectors, the model card. */
async function modelEntries(): Promise<string[]> {
  const names = [];
  for await (const entry of Deno.readDir(`${ROOT}models`)) {
    const model = entry.isDirectory && (entry.name.startsWith("mien-fer") || entry.name === "blazeface");
    if (model || entry.name.endsWith(".xml") || entry.name === "MODEL_CARD.md") names.push(entry.name);
  }
  return names.sort();
}

/** Copy a file or a folder (recursively). */
async function copy(from: string, to: string) {
  if (!(await Deno.stat(from)).isDirectory) return await Deno.copyFile(from, to);
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) await copy(`${from}/${entry.name}`, `${to}/${entry.name}`);
}

/** The npm package a bare import names ("@scope/name/file.js" → "@scope/name"). */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return parts.slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
}

/** How to use the package, in its own README. */
const README = `# mien

Facial-expression recognition that runs where the faces are: faces found in an image or a video frame, each
classified into seven expressions (surprise, fear, disgust, happiness, sadness, anger, neutral), with
TensorFlow.js on WebAssembly. The models are included. For Deno:

\`\`\`ts
import { decodeImage, load } from "mien";

const mien = await load();
const { faces } = await mien.analyze(await decodeImage(await Deno.readFile("photo.jpg")));
console.log(faces); // numbered 1, 2, … from left to right
mien.dispose();
\`\`\`

\`\`\`sh
deno run --allow-read main.ts
\`\`\`

The outputs are expression estimates from the pixels of a face: how a face looks, not what a person feels.
`;

/** Build the package in PACKAGE_DIR and pack it into dist/; returns the tarball's path. */
export async function buildPackage(): Promise<string> {
  const deno = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const repo = JSON.parse(await Deno.readTextFile(`${ROOT}package.json`));
  await Deno.remove(PACKAGE_DIR, { recursive: true }).catch(() => {});
  let imports: string[];
  try {
    // lib/ sits one level below the package root, as shared/ and runtime/ do below the repository's:
    // their "../models/" URLs find the models in both.
    const built = await esbuild.build({
      entryPoints: [`${ROOT}mod.ts`],
      outfile: `${PACKAGE_DIR}lib/mod.js`,
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      packages: "external",
      metafile: true,
      logLevel: "warning",
    });
    imports = Object.values(built.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  } finally {
    await esbuild.stop();
  }
  const dependencies = Object.fromEntries(
    [...new Set(imports.map(packageName))].sort().map((name) => {
      const version = repo.dependencies[name];
      if (!version) {
        throw new Error(`mod.ts imports ${name}, which package.json does not list as a dependency`);
      }
      return [name, version];
    }),
  );
  await Deno.mkdir(`${PACKAGE_DIR}models`);
  for (const name of await modelEntries()) {
    await copy(`${ROOT}models/${name}`, `${PACKAGE_DIR}models/${name}`);
  }
  await Deno.writeTextFile(`${PACKAGE_DIR}README.md`, README);
  const manifest = {
    name: "mien",
    version: deno.version,
    description: repo.description,
    type: "module",
    exports: { ".": "./lib/mod.js" },
    files: ["lib/", "models/", "README.md"],
    dependencies,
  };
  await Deno.writeTextFile(`${PACKAGE_DIR}package.json`, JSON.stringify(manifest, null, 2) + "\n");
  const packed = await new Deno.Command("npm", {
    args: ["pack", "--json", "--pack-destination", `${ROOT}dist`],
    cwd: PACKAGE_DIR,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!packed.success) throw new Error(`npm pack failed: ${new TextDecoder().decode(packed.stderr)}`);
  const [{ filename }] = JSON.parse(new TextDecoder().decode(packed.stdout));
  return `${ROOT}dist/${filename}`;
}

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(
      "usage: deno task build:package\nBuilds the npm package of mod.ts (JavaScript and models) in dist/.",
    );
    Deno.exit(0);
  }
  const tarball = await buildPackage();
  console.log(`wrote ${tarball} (${((await Deno.stat(tarball)).size / 1e6).toFixed(1)} MB)`);
}
