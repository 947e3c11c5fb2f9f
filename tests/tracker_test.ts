import assert from "node:assert/strict";
import { createFrameGate } from "../shared/frame_gate.ts";
import { boxVelocity, createTracker, iou, moveBox } from "../shared/tracker.ts";

const box = (x: number, y: number, size = 100) => ({ x, y, width: size, height: size });
const happy = [0, 0, 0, 1, 0, 0, 0];
const sad = [0, 0, 0, 0, 1, 0, 0];

Deno.test("iou of identical, disjoint and half-overlapping boxes", () => {
  assert.equal(iou(box(0, 0), box(0, 0)), 1);
  assert.equal(iou(box(0, 0), box(200, 0)), 0);
  assert.ok(Math.abs(iou(box(0, 0), box(50, 0)) - 50 / 150) < 1e-12);
});

Deno.test("tracker keeps identities of two faces moving across frames", () => {
  const tracker = createTracker();
  let [a, b] = tracker.update([{ box: box(0, 0), scores: happy }, { box: box(300, 0), scores: sad }], 0);
  assert.notEqual(a.id, b.id);
  const ids = [a.id, b.id];
  for (let t = 1; t <= 10; t++) {
    // Both faces move 15 px a frame (and 5 px down) and arrive in the opposite order.
    [b, a] = tracker.update([
      { box: box(300 + 15 * t, 5 * t), scores: sad },
      { box: box(15 * t, 5 * t), scores: happy },
    ], t * 33);
    assert.deepEqual([a.id, b.id], ids);
  }
  assert.equal(a.hits, 11);
});

Deno.test("tracker smooths scores with the half-life and starts new faces fresh", () => {
  const tracker = createTracker({ halfLifeMs: 100 });
  tracker.update([{ box: box(0, 0), scores: happy }], 0);
  const [after] = tracker.update([{ box: box(2, 0), scores: sad }], 100);
  assert.ok(Math.abs(after.scores[3] - 0.5) < 1e-12);
  assert.ok(Math.abs(after.scores[4] - 0.5) < 1e-12);
  const [other] = tracker.update([{ box: box(500, 500), scores: sad }], 150);
  assert.notEqual(other.id, after.id);
  assert.deepEqual(other.scores, sad);
});

Deno.test("tracker forgets faces unseen for longer than maxAgeMs", () => {
  const tracker = createTracker({ maxAgeMs: 200 });
  const [first] = tracker.update([{ box: box(0, 0), scores: happy }], 0);
  const [same] = tracker.update([{ box: box(0, 0), scores: happy }], 150);
  assert.equal(same.id, first.id);
  const [again] = tracker.update([{ box: box(0, 0), scores: happy }], 500);
  assert.notEqual(again.id, first.id);
  tracker.reset();
  const [fresh] = tracker.update([{ box: box(0, 0), scores: happy }], 510);
  assert.notEqual(fresh.id, again.id);
});

Deno.test("frame gate caps the rate and skips frames while an analysis runs", () => {
  const gate = createFrameGate({ maxFps: 10 });
  assert.equal(gate.tryStart(0), true);
  assert.equal(gate.tryStart(150), false); // still busy
  gate.finish();
  assert.equal(gate.tryStart(160), true);
  gate.finish();
  assert.equal(gate.tryStart(200), false); // too soon: 10 fps means 100 ms apart
  assert.equal(gate.tryStart(260), true);
  gate.finish();
  assert.equal(gate.tryStart(358), true, "a frame 2 ms early (camera jitter) still counts");
  assert.equal(gate.skipped, 2);
});

Deno.test("boxVelocity and moveBox carry a box on at its speed", () => {
  const from = { x: 10, y: 20, width: 40, height: 40 };
  const to = { x: 16, y: 17, width: 44, height: 44 };
  const v = boxVelocity(from, to, 30);
  assert.deepEqual(moveBox(to, v, 15), { x: 19, y: 15.5, width: 46, height: 46 });
  assert.deepEqual(moveBox(to, undefined, 15), to);
});
