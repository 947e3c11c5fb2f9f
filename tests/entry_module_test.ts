import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeImage, type Expression, LABELS, load } from "../mod.ts";
import { buildPackage } from "../runtime/build_package.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PHOTO = new URL("../node_modules/@vladmandic/face-api/demo/sample1.jpg", import.meta.url);

/** The README's "Use it from code" code blocks, in order, with their language (ts, sh). */
async function usageBlocks(): Promise<{ lang: string; body: string }[]> {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = readme.split("### Use it from code\n")[1].split("\n### ")[0];
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, lang, body]) => ({
    lang,
    body: body.trim(),
  }));
}

/** One of the seven labels, and the seven scores in LABELS order summing to 1. */
function assertExpression({ label, scores }: Expression) {
  assert.ok(LABELS.includes(label), label);
  assert.deepEqual(Object.keys(scores), [...LABELS]);
  const sum = Object.values(scores).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-3, `scores sum to ${sum}`);
}

/** Run a command; its standard output, or a failure with its standard error. */
async function run(command: string, args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  assert.equal(out.code, 0, `${command} ${args.join(" ")}: ${text(out.stderr)}`);
  return text(out.stdout);
}

Deno.test({
  name:
    "npm package: the README's 'Use it from code' runs in a project outside the repository, models included",
  sanitizeResources: false,
  async fn() {
    const [pack, install, ts, command] = await usageBlocks();
    assert.equal(pack.body.split(/\s+#/)[0], "npx deno task build:package");
    const tarball = await buildPackage();
    assert.ok(pack.body.includes(basename(tarball)), `the README packs ${basename(tarball)}`);

    // Built JavaScript only (Deno does not strip types under node_modules), and every shipped model.
    const files = (await run("tar", ["tzf", tarball], ROOT)).trim().split("\n").map((f) =>
      f.replace(/^package\//, "")
    );
    assert.deepEqual(files.filter((f) => f.endsWith(".ts")), []);
    assert.ok(files.includes("lib/mod.js"));
    const models = [...Deno.readDirSync(join(ROOT, "models"))].filter((e) => e.name.startsWith("mien-fer"));
    assert.ok(models.length >= 1);
    for (const { name } of models) {
      for (const file of ["model.json", "weights.bin"]) {
        assert.ok(files.includes(`models/${name}/${file}`), `${name}/${file}`);
      }
    }
    for (const file of ["blazeface.json", "blazeface.bin", "blazeface-front.json", "blazeface-front.bin"]) {
      assert.ok(files.includes(`models/blazeface/${file}`), file);
    }

    // A project of its own in a temporary folder: npm installs the tarball (Deno comes from this
    // repository's node_modules instead of a second download), then the README's main.ts and command.
    const project = await Deno.makeTempDir({ prefix: "mien-app-" });
    try {
      assert.match(install.body, /^npm install deno \S+\/mien-[\d.]+\.tgz$/);
      await Deno.writeTextFile(
        join(project, "package.json"),
        JSON.stringify({ private: true, type: "module" }),
      );
      await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], project);
      assert.equal(ts.lang, "ts");
      await Deno.writeTextFile(join(project, "main.ts"), ts.body);
      await Deno.copyFile(PHOTO, join(project, "photo.jpg"));
      const [npx, deno, ...args] = command.body.split(/\s+/);
      assert.deepEqual([npx, deno], ["npx", "deno"]);
      const faces = JSON.parse(await run(Deno.execPath(), args, project));
      assert.equal(faces.length, 3, "sample1.jpg shows three faces");
      assert.deepEqual(faces.map((f: { number: number }) => f.number), [1, 2, 3]);
      const centres = faces.map((f: { box: { x: number; width: number } }) => f.box.x + f.box.width / 2);
      assert.deepEqual([...centres].sort((a, b) => a - b), centres, "numbered from left to right");
      for (const { expression } of faces) assertExpression(expression);
    } finally {
      await Deno.remove(project, { recursive: true });
    }
  },
});

Deno.test("entry module: classify() reads one face box, the video analyzer follows the faces", async () => {
  const mien = await load();
  try {
    const frame = await decodeImage(await Deno.readFile(PHOTO));
    const { faces } = await mien.analyze(frame);
    assert.ok(faces.length >= 1);
    assertExpression(await mien.classify(frame, faces[0].box));
    const video = mien.createVideoAnalyzer();
    // A face takes its number once it is found again (a still frame at 25 frames/s: within 0.2 s).
    let time = 0;
    let first = await video.analyzeVideoFrame(frame, time);
    while (first.faces.length < faces.length && time < 200) {
      first = await video.analyzeVideoFrame(frame, time += 40);
    }
    const next = await video.analyzeVideoFrame(frame, time + 40);
    assert.equal(first.faces.length, faces.length);
    assert.deepEqual(next.faces.map((f) => f.number), first.faces.map((f) => f.number));
    next.faces.forEach((f) => assertExpression(f.expression));
  } finally {
    mien.dispose();
  }
});
