import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeImage, type Expression, LABELS, load } from "../mod.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const PHOTO = new URL("../node_modules/@vladmandic/face-api/demo/sample1.jpg", import.meta.url);

/** The README's "Use it from code" code blocks, by language: deno.json (json), main.ts (ts), the command (sh). */
async function usageBlocks(): Promise<Record<string, string>> {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = readme.split("### Use it from code\n")[1].split("\n### ")[0];
  return Object.fromEntries(
    [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, lang, body]) => [lang, body]),
  );
}

/** One of the seven labels, and the seven scores in LABELS order summing to 1. */
function assertExpression({ label, scores }: Expression) {
  assert.ok(LABELS.includes(label), label);
  assert.deepEqual(Object.keys(scores), [...LABELS]);
  const sum = Object.values(scores).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-3, `scores sum to ${sum}`);
}

Deno.test("entry module: the README's 'Use it from code' runs in a project outside the repository", async () => {
  const { json, ts, sh } = await usageBlocks();
  const dir = await Deno.makeTempDir();
  const clone = join(dir, "mien");
  const project = join(dir, "app");
  try {
    await Deno.symlink(REPO, clone);
    await Deno.mkdir(project);
    await Deno.writeTextFile(join(project, "deno.json"), json);
    await Deno.writeTextFile(join(project, "main.ts"), ts);
    await Deno.copyFile(PHOTO, join(project, "photo.jpg"));
    const [command, ...args] = sh.trim().split(/\s+/);
    assert.equal(command, "deno");
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), { args, cwd: project }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));

    const faces = JSON.parse(new TextDecoder().decode(stdout));
    assert.ok(faces.length >= 1, "no face found in sample1.jpg");
    for (const { expression } of faces) assertExpression(expression);
  } finally {
    await Deno.remove(clone).catch(() => {}); // the link only, never the repository behind it
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("entry module: classify() reads one face box, the video analyzer follows the faces", async () => {
  const mien = await load();
  try {
    const frame = await decodeImage(await Deno.readFile(PHOTO));
    const { faces } = await mien.analyze(frame);
    assert.ok(faces.length >= 1);
    assertExpression(await mien.classify(frame, faces[0].box));
    const video = mien.createVideoAnalyzer();
    const first = await video.analyzeVideoFrame(frame, 0);
    const next = await video.analyzeVideoFrame(frame, 40);
    assert.equal(first.faces.length, faces.length);
    assert.deepEqual(next.faces.map((f) => f.id), first.faces.map((f) => f.id));
    next.faces.forEach((f) => assertExpression(f.expression));
  } finally {
    mien.dispose();
  }
});
