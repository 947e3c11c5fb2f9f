import assert from "node:assert/strict";
import { initDenoTf } from "../runtime/deno_tf.ts";
import { LABELS } from "../shared/labels.ts";
import { BUNDLED_MODELS, loadModel } from "../shared/model.ts";
import { mirror } from "../shared/preprocess.ts";
import { tf } from "../shared/tf.ts";
import { ROOT } from "./helpers.ts";

await initDenoTf();

/** Each bundled model with the fixtures its export wrote (PyTorch's probabilities for the same faces). */
const BUNDLED = [
  { choice: "small", fixtures: "parity.json", inputSize: 48, extraMargin: undefined },
  { choice: "large", fixtures: "parity_large.json", inputSize: 48, extraMargin: 0 },
] as const;

for (const bundled of BUNDLED) {
  const model = await loadModel(BUNDLED_MODELS[bundled.choice]);
  const fixtures = JSON.parse(await Deno.readTextFile(`${ROOT}tests/fixtures/${bundled.fixtures}`));
  const faces: Float32Array[] = fixtures.inputs.map((pixels: number[]) =>
    Float32Array.from(pixels, (v) => v / 255)
  );
  const name = `${bundled.choice} model (${model.info.name})`;

  Deno.test(`${name} runs on wasm and describes itself`, () => {
    assert.equal(tf.getBackend(), "wasm");
    assert.deepEqual(model.info.labels, [...LABELS]);
    assert.equal(model.info.inputSize, bundled.inputSize);
    assert.equal(model.info.extraMargin, bundled.extraMargin);
    assert.ok(model.info.parameters > 10_000);
  });

  Deno.test(`${name}: tfjs matches PyTorch on the export fixtures (max abs diff <= 1e-4)`, async () => {
    assert.equal(faces[0].length, bundled.inputSize ** 2);
    const probs = await model.classify(faces);
    let worst = 0;
    probs.forEach((p, i) =>
      p.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - fixtures.probs[i][j]))))
    );
    assert.ok(worst <= 1e-4, `max abs diff ${worst}`);
  });

  Deno.test(`${name}: batched and single inference agree, probabilities sum to 1`, async () => {
    const batch = await model.classify(faces);
    for (let i = 0; i < faces.length; i++) {
      const [single] = await model.classify([faces[i]]);
      single.forEach((v, j) => assert.ok(Math.abs(v - batch[i][j]) < 1e-5));
      assert.ok(Math.abs(single.reduce((a, b) => a + b, 0) - 1) < 1e-4);
    }
    assert.deepEqual(await model.classify([]), []);
  });

  Deno.test(`${name}: flip averages a face with its mirror image`, async () => {
    const size = model.info.inputSize;
    const [plain] = await model.classify([faces[3]]);
    const [mirrored] = await model.classify([mirror(faces[3], size)]);
    const [flipped] = await model.classify([faces[3]], { flip: true });
    flipped.forEach((v, j) => assert.ok(Math.abs(v - (plain[j] + mirrored[j]) / 2) < 1e-5));
  });

  Deno.test(`${name}: classify rejects wrongly sized faces and leaks no tensors`, async () => {
    await assert.rejects(() => model.classify([new Float32Array(10)]), RangeError);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) await model.classify(faces);
    assert.equal(tf.memory().numTensors, before);
  });
}

Deno.test("loadModel refuses a graph that is not a Mien model", async () => {
  const dir = await Deno.makeTempDir();
  const json = JSON.parse(await Deno.readTextFile(`${ROOT}models/mien-fer/model.json`));
  json.userDefinedMetadata.labels = ["a", "b"];
  await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(json));
  await Deno.copyFile(`${ROOT}models/mien-fer/weights.bin`, `${dir}/weights.bin`);
  await assert.rejects(() => loadModel(`file://${dir}/model.json`), /not a Mien expression model/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the large model is the small network answering for each face and its mirror image", async () => {
  const [small, large] = await Promise.all([
    loadModel(BUNDLED_MODELS.small),
    loadModel(BUNDLED_MODELS.large),
  ]);
  const fixtures = JSON.parse(await Deno.readTextFile(`${ROOT}tests/fixtures/parity.json`));
  const faces = fixtures.inputs.map((pixels: number[]) => Float32Array.from(pixels, (v) => v / 255));
  const [flipped, answered, plain] = await Promise.all([
    small.classify(faces, { flip: true }),
    large.classify(faces),
    small.classify(faces),
  ]);
  let worst = 0, apart = 0;
  answered.forEach((p, i) =>
    p.forEach((v, j) => {
      worst = Math.max(worst, Math.abs(v - flipped[i][j]));
      apart = Math.max(apart, Math.abs(v - plain[i][j]));
    })
  );
  assert.ok(worst < 1e-4, `large vs small with flip: max abs diff ${worst}`);
  assert.ok(apart > 1e-3, "the mirror view changes the answer");
  small.dispose();
  large.dispose();
});
