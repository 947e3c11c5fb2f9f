import assert from "node:assert/strict";
import { argmax, computeMetrics, formatMetrics } from "../shared/metrics.ts";

Deno.test("computeMetrics on a hand-made case", () => {
  // true:      0 0 0 3 3 6 6 6 6 1
  // predicted: 0 0 3 3 3 6 6 3 6 6
  const labels = [0, 0, 0, 3, 3, 6, 6, 6, 6, 1];
  const preds = [0, 0, 3, 3, 3, 6, 6, 3, 6, 6];
  const m = computeMetrics(labels, preds);
  assert.equal(m.count, 10);
  assert.equal(m.accuracy, 0.7);
  // recalls: surprise 2/3, fear 0, happiness 2/2, neutral 3/4 -> mean over 4 present classes
  assert.ok(Math.abs(m.meanRecall - (2 / 3 + 0 + 1 + 0.75) / 4) < 1e-12);
  // F1: surprise p=1 r=2/3 -> 0.8; fear 0; happiness p=2/4 r=1 -> 2/3; neutral p=3/4 r=3/4 -> 0.75
  assert.ok(Math.abs(m.macroF1 - (0.8 + 0 + 2 / 3 + 0.75) / 4) < 1e-12);
  assert.deepEqual(m.absent, ["disgust", "sadness", "anger"]);
  assert.equal(m.perClass.disgust.recall, null);
  assert.equal(m.confusion[6][3], 1);
  assert.equal(m.confusion[1][6], 1);
  const text = formatMetrics(m);
  assert.match(text, /accuracy: 70\.00%/);
  assert.match(text, /absent classes: disgust, sadness, anger/);
});

Deno.test("computeMetrics counts 'no face' (-1) as an error, outside the confusion matrix", () => {
  const m = computeMetrics([3, 3, 3, 6], [3, -1, 3, -1]);
  assert.equal(m.accuracy, 0.5);
  assert.equal(m.perClass.happiness.recall, 2 / 3);
  assert.equal(m.perClass.neutral.recall, 0);
  assert.deepEqual(m.noFace, [0, 0, 0, 1, 0, 0, 1]);
  assert.equal(m.confusion.flat().reduce((a, b) => a + b, 0), 2);
  assert.match(formatMetrics(m), /no face found in 2/);
});

Deno.test("computeMetrics rejects mismatched lengths", () => {
  assert.throws(() => computeMetrics([0, 1], [0]), RangeError);
});

Deno.test("argmax picks the first largest value", () => {
  assert.equal(argmax([0.1, 0.5, 0.2, 0.5]), 1);
  assert.equal(argmax([3]), 0);
});
