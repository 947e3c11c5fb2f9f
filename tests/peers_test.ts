import assert from "node:assert/strict";
import { LABELS } from "../shared/labels.ts";
import { labelPermutation, toOurOrder } from "../bench/peers/peer.ts";
import { FACE_API_LABELS } from "../bench/peers/faceapi.ts";
import { HUMAN_LABELS } from "../bench/peers/human.ts";
import { stat } from "../bench/peers/summary.ts";
import { DENO, ROOT } from "./helpers.ts";

Deno.test("face-api's and Human's labels map onto Mien's order", () => {
  const faceApi = toOurOrder(FACE_API_LABELS.map((_, i) => i), labelPermutation(FACE_API_LABELS));
  // ours: surprise, fear, disgust, happiness, sadness, anger, neutral; face-api: neutral, happy, sad, ...
  assert.deepEqual(Array.from(faceApi), [6, 4, 5, 1, 2, 3, 0]);
  const human = toOurOrder(HUMAN_LABELS.map((_, i) => i), labelPermutation(HUMAN_LABELS));
  // Human: angry, disgust, fear, happy, sad, surprise, neutral
  assert.deepEqual(Array.from(human), [5, 2, 1, 3, 4, 0, 6]);
  assert.deepEqual(labelPermutation(LABELS), [0, 1, 2, 3, 4, 5, 6]);
  assert.throws(() =>
    labelPermutation(["happy", "happy", "sad", "angry", "fearful", "disgusted", "neutral"])
  );
  assert.throws(() => labelPermutation(["contempt"]));
});

Deno.test("stat gives the median and the spread", () => {
  assert.deepEqual(stat([5, 1, 3], 0), { median: 3, low: 1, high: 5, n: 3 });
  assert.equal(stat([1, 2, 3, 4]).median, 2.5);
});

// A smiling face in face-api's own demo photo (an npm devDependency, so no ../shared needed).
const PHOTO = `${ROOT}node_modules/@vladmandic/face-api/demo/sample1.jpg`;
const BOX = "1438,203,279,279";

for (const peer of ["mien", "face-api", "human"]) {
  Deno.test(`${peer} adapter gives 7 probabilities summing to 1 for a real face`, async () => {
    // Each library carries its own tfjs, which share one global engine: one process per peer.
    const out = await new Deno.Command(DENO, {
      args: [
        "run",
        "-A",
        `${ROOT}bench/peers/run_peer.ts`,
        "--peer",
        peer,
        "--task",
        "probe",
        "--image",
        PHOTO,
        "--box",
        BOX,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const { labels, probs } = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual(labels, [...LABELS]);
    assert.equal(probs.length, 7);
    assert.ok(probs.every((p: number) => p >= 0 && p <= 1), String(probs));
    const sum = probs.reduce((a: number, b: number) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-3, `sum ${sum}`);
    assert.equal(labels[probs.indexOf(Math.max(...probs))], "happiness", String(probs));
  });
}
