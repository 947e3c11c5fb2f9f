import assert from "node:assert/strict";
import { labelIndex, LABELS, scoresRecord } from "../shared/labels.ts";

Deno.test("labels follow RAF-DB order", () => {
  assert.deepEqual([...LABELS], ["surprise", "fear", "disgust", "happiness", "sadness", "anger", "neutral"]);
});

Deno.test("labelIndex accepts names and aliases, case-insensitively", () => {
  assert.equal(labelIndex("neutral"), 6);
  assert.equal(labelIndex("Happy"), 3);
  assert.equal(labelIndex("angry"), 5);
  assert.equal(labelIndex("SAD"), 4);
  assert.equal(labelIndex("surprised"), 0);
  assert.equal(labelIndex("fearful"), 1);
  assert.equal(labelIndex("disgusted"), 2);
  assert.equal(labelIndex("contempt"), -1);
});

Deno.test("scoresRecord names every probability", () => {
  const record = scoresRecord([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
  assert.equal(record.surprise, 0.1);
  assert.equal(record.neutral, 0.7);
  assert.equal(Object.keys(record).length, 7);
});
