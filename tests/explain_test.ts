import assert from "node:assert/strict";
import { initDenoTf } from "../runtime/deno_tf.ts";
import { drawText, textWidth } from "../shared/draw.ts";
import { classActivation, explainFace, renderExplanation } from "../shared/explain.ts";
import { loadModel } from "../shared/model.ts";
import { tf } from "../shared/tf.ts";
import { writePng } from "../cli/run_cli.ts";
import { HAS_MEDIA, MEDIA, ROOT, runCli } from "./helpers.ts";

await initDenoTf();
const model = await loadModel();
const fixtures = JSON.parse(await Deno.readTextFile(`${ROOT}tests/fixtures/parity.json`));
const face = Float32Array.from(fixtures.inputs[3], (v: number) => v / 255);

Deno.test("explainFace: one grid per conv block, Grad-CAM at input size, deterministic", async () => {
  const a = await explainFace(model, face);
  const b = await explainFace(model, face);
  assert.equal(a.featureMaps.length, model.info.features.length);
  for (const m of a.featureMaps) {
    assert.equal(m.grid.data.length, m.grid.width * m.grid.height);
    assert.ok(m.shown <= 32 && m.shown <= m.channels);
  }
  assert.equal(a.gradCam.length, 48 * 48);
  assert.ok(a.gradCam.every((v) => v >= 0 && v <= 1));
  assert.deepEqual(a.gradCam, b.gradCam);
  assert.deepEqual(a.featureMaps[0].grid.data, b.featureMaps[0].grid.data);
  const [probs] = await model.classify([face]);
  assert.ok(a.probs.every((p, i) => Math.abs(p - probs[i]) < 1e-5));
  assert.equal(a.label, (await explainFace(model, face, { classIndex: a.classIndex })).label);
  await assert.rejects(() => explainFace(model, face, { classIndex: 9 }), RangeError);
});

Deno.test("Grad-CAM weights reproduce the logit: mean class activation + bias = logit", async () => {
  const last = model.info.features.at(-1)!;
  const [features, logits] = model.graph.execute(tf.tensor4d(face, [1, 48, 48, 1]), [
    last,
    model.info.logits,
  ]) as tf.Tensor[];
  const [, h, w, c] = features.shape;
  const weights = (await model.graph.weights["logits/weights"][0].data()) as Float32Array;
  const bias = (await model.graph.weights["logits/bias"][0].data()) as Float32Array;
  const f = (await features.data()) as Float32Array;
  const l = (await logits.data()) as Float32Array;
  for (let k = 0; k < 7; k++) {
    const map = classActivation(f, h * w, c, weights, k);
    const mean = map.reduce((s, v) => s + v, 0) / map.length;
    assert.ok(Math.abs(mean + bias[k] - l[k]) < 1e-3, `class ${k}: ${mean + bias[k]} vs ${l[k]}`);
  }
  features.dispose();
  logits.dispose();
});

Deno.test("renderExplanation draws one picture holding every panel", async () => {
  const canvas = renderExplanation(await explainFace(model, face));
  assert.equal(canvas.data.length, canvas.width * canvas.height * 4);
  assert.ok(canvas.width >= 2 * 48 * 4 && canvas.height > 48 * 4);
});

Deno.test("explain CLI: --help, required --out, unknown class", async () => {
  let r = await runCli("cli/explain.ts", ["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Grad-CAM/);
  r = await runCli("cli/explain.ts", ["x.png"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--out <file.png> is required/);
  r = await runCli("cli/explain.ts", ["x.png", "--out", "y.png", "--class", "joy"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--class must be one of/);
  r = await runCli("cli/explain.ts", ["x.png", "--bogus"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), "explain: unknown option --bogus; see --help");
});

Deno.test("the pictures' font: every character they use, anti-aliased, lower case kept, widths proportional", () => {
  for (const ch of "Face 1: happiness 80% · (top 32) 24x24x32, -0.5 s/") {
    const canvas = { data: new Uint8ClampedArray(40 * 40 * 4).fill(255), width: 40, height: 40 };
    drawText(canvas, ch, 4, 4, [0, 0, 0], 24);
    const ink = canvas.data.filter((v, i) => i % 4 === 0 && v < 255);
    assert.equal(ink.length > 0, ch !== " ", `'${ch}'`);
    if (ch === "a") assert.ok(ink.some((v) => v > 0 && v < 255), "edges are anti-aliased");
  }
  const shape = (text: string) => {
    const canvas = { data: new Uint8ClampedArray(40 * 40 * 4).fill(255), width: 40, height: 40 };
    drawText(canvas, text, 4, 4, [0, 0, 0], 24);
    return canvas.data.join();
  };
  assert.notEqual(shape("a"), shape("A"));
  assert.ok(textWidth("i", 20) < textWidth("m", 20));
  assert.equal(textWidth("mm", 20), 2 * textWidth("m", 20));
  assert.ok(Math.abs(textWidth("happiness", 24) - 2 * textWidth("happiness", 12)) < 1e-9);
});

Deno.test("explain CLI: a photo without a face says so and what --crop is for", async () => {
  const dir = await Deno.makeTempDir();
  await writePng(`${dir}/blank.png`, {
    data: new Uint8ClampedArray(64 * 64 * 4).fill(200),
    width: 64,
    height: 64,
  });
  const r = await runCli("cli/explain.ts", [`${dir}/blank.png`, "--out", `${dir}/maps.png`]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no face found in .*blank\.png: faces must be at least 24 px; use --crop only if/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "explain --face 1 explains the leftmost face, analyze's face 1",
  ignore: !HAS_MEDIA,
  async fn() {
    const dir = await Deno.makeTempDir();
    const analysed = await runCli("cli/analyze.ts", [`${MEDIA}/two_people.jpg`, "--json"]);
    const faces = JSON.parse(analysed.stdout).faces;
    const leftmost = faces.reduce((a: typeof faces[0], b: typeof faces[0]) => a.box.x < b.box.x ? a : b);
    assert.equal(leftmost.number, 1);
    const percent = Math.round(100 * leftmost.expression.scores[leftmost.expression.label]);
    const r = await runCli("cli/explain.ts", [
      `${MEDIA}/two_people.jpg`,
      "--face",
      "1",
      "--out",
      `${dir}/m.png`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`: ${leftmost.expression.label} \\(${percent}%\\)`));
    await Deno.remove(dir, { recursive: true });
  },
});
