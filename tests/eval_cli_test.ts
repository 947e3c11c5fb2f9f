import assert from "node:assert/strict";
import encodePng from "@jsquash/png/encode.js";
import { FERPLUS, HAS_FERPLUS, HAS_MEDIA, MEDIA, ROOT, runCli } from "./helpers.ts";

const fixtures = JSON.parse(await Deno.readTextFile(`${ROOT}tests/fixtures/parity.json`));

/** A labelled folder of synthetic 48x48 PNGs (from the fixtures), one of them corrupt. */
async function makeFolder(): Promise<string> {
  const dir = await Deno.makeTempDir();
  const classes = ["happy", "neutral", "surprise"];
  for (const [k, name] of classes.entries()) {
    await Deno.mkdir(`${dir}/${name}`);
    for (let i = 0; i < 2; i++) {
      const grey: number[] = fixtures.inputs[(2 * k + i) % fixtures.inputs.length];
      const rgba = new Uint8ClampedArray(48 * 48 * 4);
      grey.forEach((v, p) => rgba.set([v, v, v, 255], p * 4));
      const png = await encodePng({ data: rgba, width: 48, height: 48, colorSpace: "srgb" } as ImageData);
      await Deno.writeFile(`${dir}/${name}/img${i}.png`, new Uint8Array(png));
    }
  }
  await Deno.writeTextFile(`${dir}/neutral/broken.png`, "not really a png");
  await Deno.writeTextFile(`${dir}/neutral/notes.txt`, "ignored: not an image extension");
  return dir;
}

Deno.test("eval --help explains usage", async () => {
  const r = await runCli("cli/eval.ts", ["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage:/);
  assert.match(r.stdout, /--predictions/);
});

Deno.test("eval reports a missing folder, an unknown class and bad options clearly", async () => {
  let r = await runCli("cli/eval.ts", ["/no/such/folder"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no such folder: \/no\/such\/folder/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);

  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/contempt`);
  r = await runCli("cli/eval.ts", [dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown class folder "contempt"/);

  r = await runCli("cli/eval.ts", ["--faces", "guess", dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--faces must be crop or detect/);
  r = await runCli("cli/eval.ts", ["--split", "train", "--ferplus", dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--split must be test or valid/);
  r = await runCli("cli/eval.ts", ["--bogus", dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bogus/);
  r = await runCli("cli/eval.ts", ["--faces", "detect", "--margin", "wide", dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--margin must be a number from -0.3 to 1, not "wide"/);
  r = await runCli("cli/eval.ts", ["--model", "huge", dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--model must be small or large, or a model.json path/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("eval on a labelled folder: figures, absent classes, skipped image, JSON and CSV", async () => {
  const dir = await makeFolder();
  const r = await runCli("cli/eval.ts", [dir, "--json", `${dir}/out.json`, "--predictions", `${dir}/p.csv`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /images: 6/);
  assert.match(r.stdout, /absent classes: fear, disgust, sadness, anger/);
  assert.match(r.stdout, /unreadable images skipped: 1/);
  assert.match(r.stderr, /skipped .*broken\.png/);
  const report = JSON.parse(await Deno.readTextFile(`${dir}/out.json`));
  assert.equal(report.count, 6);
  assert.equal(report.skipped.length, 1);
  assert.equal(report.confusion.flat().reduce((a: number, b: number) => a + b, 0), 6);
  assert.ok(report.accuracy >= 0 && report.accuracy <= 1);
  const csv = (await Deno.readTextFile(`${dir}/p.csv`)).trim().split("\n");
  assert.equal(csv[0], "path,surprise,fear,disgust,happiness,sadness,anger,neutral");
  assert.equal(csv.length, 7);
  const probs = csv[1].split(",").slice(1).map(Number);
  assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-3);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "eval --faces detect classifies the largest face and counts images without one as misses",
  ignore: !HAS_MEDIA,
  async fn() {
    const dir = await Deno.makeTempDir();
    await Deno.mkdir(`${dir}/happy`);
    await Deno.mkdir(`${dir}/neutral`);
    await Deno.copyFile(`${MEDIA}/alex-lacamoire.png`, `${dir}/happy/a.png`);
    await Deno.copyFile(`${MEDIA}/two_people.jpg`, `${dir}/happy/b.jpg`);
    const blank = new Uint8ClampedArray(200 * 200 * 4).fill(180);
    const png = await encodePng({ data: blank, width: 200, height: 200, colorSpace: "srgb" } as ImageData);
    await Deno.writeFile(`${dir}/neutral/blank.png`, new Uint8Array(png));
    const r = await runCli("cli/eval.ts", [
      "--faces",
      "detect",
      dir,
      "--json",
      `${dir}/r.json`,
      "--predictions",
      `${dir}/p.csv`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /images: 3 \(no face found in 1, counted as errors\)/);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert.equal(report.faces, "detect");
    assert.deepEqual(report.noFace, [0, 0, 0, 0, 0, 0, 1]);
    assert.equal(report.perClass.neutral.recall, 0);
    const csv = await Deno.readTextFile(`${dir}/p.csv`);
    assert.match(csv, /blank\.png,,,,,,,\n/);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "eval on FER+ test reproduces the model card's accuracy",
  ignore: !HAS_FERPLUS,
  async fn() {
    const dir = await Deno.makeTempDir();
    const r = await runCli("cli/eval.ts", [
      "--ferplus",
      FERPLUS,
      "--split",
      "test",
      "--json",
      `${dir}/r.json`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert.equal(report.count, 3136);
    assert.ok(report.fer2013Original.count > 3000);
    const card = await Deno.readTextFile(`${ROOT}models/MODEL_CARD.md`);
    const stated = Number(card.match(/FER\+ test accuracy: \*\*([\d.]+)%\*\*/)?.[1]);
    assert.ok(Math.abs(100 * report.accuracy - stated) < 0.05, `${100 * report.accuracy} vs card ${stated}`);
    await Deno.remove(dir, { recursive: true });
  },
});

/** A made-up lfw_expressions layout (labels.csv with a split column) and a FER+ test folder, from the fixtures. */
async function makeDatasets(): Promise<{ lfw: string; ferplus: string }> {
  const lfw = await makeFolder();
  const rows = ["path,label_idx,class,person,split"];
  const labels: Record<string, number> = { happy: 3, neutral: 6, surprise: 0 };
  for (const [name, idx] of Object.entries(labels)) {
    for (let i = 0; i < 2; i++) {
      rows.push(`${name}/img${i}.png,${idx},${name},P${i},${i ? "valid" : "train"}`);
    }
  }
  await Deno.remove(`${lfw}/neutral/broken.png`);
  await Deno.writeTextFile(`${lfw}/labels.csv`, rows.join("\n") + "\n");
  const ferplus = await Deno.makeTempDir();
  await Deno.rename(await makeFolder(), `${ferplus}/test`);
  await Deno.remove(`${ferplus}/test/neutral/broken.png`);
  return { lfw, ferplus };
}

Deno.test("eval --lfw reads the split from labels.csv and reports the rarer classes' recall", async () => {
  const { lfw, ferplus } = await makeDatasets();
  const r = await runCli("cli/eval.ts", ["--lfw", lfw, "--json", `${lfw}/r.json`]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(await Deno.readTextFile(`${lfw}/r.json`));
  assert.equal(report.count, 3); // the valid rows only
  assert.equal(report.split, "valid");
  assert.match(r.stdout, /images: 3/);
  const train = await runCli("cli/eval.ts", ["--lfw", lfw, "--split", "train"]);
  assert.match(train.stdout, /images: 3/);
  const bad = await runCli("cli/eval.ts", ["--lfw", lfw, "--split", "test"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--split for --lfw must be valid or train/);
  await Deno.remove(lfw, { recursive: true });
  await Deno.remove(ferplus, { recursive: true });
});

Deno.test("eval --robustness prints one row per degradation for each dataset, clean first", async () => {
  const { lfw, ferplus } = await makeDatasets();
  const r = await runCli("cli/eval.ts", [
    "--robustness",
    "--ferplus",
    ferplus,
    "--lfw",
    lfw,
    "--json",
    `${lfw}/r.json`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const { DEGRADATIONS } = await import("../cli/degradations.ts");
  const report = JSON.parse(await Deno.readTextFile(`${lfw}/r.json`));
  assert.equal(report.robustness.length, 2 * DEGRADATIONS.length);
  for (const dataset of ["FER+ test", "lfw_expressions valid"]) {
    const rows = report.robustness.filter((row: { dataset: string }) => row.dataset === dataset);
    assert.deepEqual(
      rows.map((row: { transform: string }) => row.transform),
      DEGRADATIONS.map((d) => d.name),
    );
    assert.equal(rows[0].accuracyDrop, 0);
  }
  assert.match(r.stdout, /\| downscale to 24 px \| [\d.]+ \|/);
  await Deno.remove(lfw, { recursive: true });
  await Deno.remove(ferplus, { recursive: true });
});
