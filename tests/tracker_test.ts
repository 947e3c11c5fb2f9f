import assert from "node:assert/strict";
import { createFrameGate } from "../shared/frame_gate.ts";
import { createFaceNumbers, type TrackSighting } from "../shared/face_numbers.ts";
import {
  boxVelocity,
  createTracker,
  dampedMotion,
  iou,
  matchInOrder,
  moveBox,
  moveOn,
} from "../shared/tracker.ts";

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

Deno.test("moveOn never carries a box further than the face moved between its two sightings", () => {
  const from = box(0, 0);
  const to = box(30, 0);
  const motion = dampedMotion(from, to, 100, to);
  assert.deepEqual(moveOn(to, motion, 50), box(45, 0));
  assert.deepEqual(moveOn(to, motion, 100), box(60, 0));
  assert.deepEqual(moveOn(to, motion, 400), box(60, 0), "at most the 100 ms it was measured over");
  assert.deepEqual(moveOn(to, motion, -20), to, "time running backwards: where it was seen");
  assert.deepEqual(moveOn(to, undefined, 50), to);
});

Deno.test("dampedMotion slows the box where the detector found the face away from where it was expected", () => {
  const from = box(0, 0);
  const to = box(20, 0);
  assert.equal(dampedMotion(from, to, 100, box(20, 0)).velocity.x, 0.2, "as expected: full speed");
  assert.ok(
    Math.abs(dampedMotion(from, to, 100, box(0, 0)).velocity.x - 0.2 * 0.6) < 1e-12,
    "0.2 widths off",
  );
  assert.equal(dampedMotion(from, to, 100, box(-40, 0)).velocity.x, 0, "0.6 widths off: held");
});

/** One frame's faces for createFaceNumbers: [track, x, full detector's score or none, found]. */
function sightings(...faces: [number, number, number | undefined, boolean][]): TrackSighting[] {
  return faces.map(([track, x, fullScore, found]) => ({ track, box: box(x, 0), fullScore, found }));
}

Deno.test("face numbers: 1, 2 in order of confirmation: found again after the full detector was sure, or followed 1.5 s", () => {
  const numbers = createFaceNumbers();
  assert.deepEqual(numbers.assign(sightings([7, 300, 0.9, true], [8, 0, 0.55, true]), 0), [
    undefined,
    undefined,
  ]);
  assert.deepEqual(numbers.assign(sightings([7, 300, undefined, false], [8, 0, undefined, false]), 33), [
    undefined,
    undefined,
  ], "moved on, not found again");
  assert.deepEqual(numbers.assign(sightings([7, 302, undefined, true], [8, 0, undefined, true]), 66), [
    1,
    undefined,
  ]);
  assert.deepEqual(
    numbers.assign(sightings([7, 304, undefined, true], [8, 0, undefined, true]), 1499),
    [1, undefined],
    "a face the full detector was never sure of waits",
  );
  assert.deepEqual(numbers.assign(sightings([7, 304, undefined, true], [8, 0, undefined, true]), 1500), [
    1,
    2,
  ]);
  // On the first frame of a scene a face the detector is sure of is numbered at once (it may be all there is).
  assert.deepEqual(numbers.assign(sightings([9, 500, 0.9, true]), 1600, true), [3]);
});

Deno.test("face numbers: a one-frame detection takes none; a face back near where it left takes its own back", () => {
  const numbers = createFaceNumbers({ rememberMs: 3000 });
  numbers.assign(sightings([1, 100, 0.9, true]), 0);
  assert.deepEqual(numbers.assign(sightings([1, 100, undefined, true], [2, 400, 0.9, true]), 50), [
    1,
    undefined,
  ]);
  assert.deepEqual(numbers.assign(sightings([1, 100, undefined, true]), 100), [1], "the one-frame face went");
  numbers.assign([], 200);
  // Back 2.8 s later, 60 px (0.6 widths) away: the same person as far as boxes tell; 3 s is too late.
  assert.deepEqual(numbers.assign(sightings([5, 160, 0.9, true]), 2800), [1]);
  numbers.assign([], 2900);
  assert.deepEqual(
    numbers.assign(sightings([6, 500, 0.9, true]), 3000),
    [undefined],
    "elsewhere: a new face",
  );
  assert.deepEqual(numbers.assign(sightings([6, 500, undefined, true]), 3050), [2]);
  numbers.assign([], 3100);
  assert.deepEqual(numbers.assign(sightings([9, 160, 0.9, true]), 7000), [undefined], "forgotten after 3 s");
  numbers.cut();
  assert.deepEqual(numbers.assign(sightings([10, 500, 0.9, true]), 7100), [undefined], "not across a cut");
  assert.deepEqual(numbers.assign(sightings([10, 500, undefined, true]), 7150), [3]);
  numbers.reset();
  numbers.assign(sightings([11, 0, 0.9, true]), 8000);
  assert.deepEqual(numbers.assign(sightings([11, 0, undefined, true]), 8050), [1], "a new video starts at 1");
});

Deno.test("matchInOrder takes one-to-one pairs, best first", () => {
  const pairs = [{ a: 1, b: "x" }, { a: 1, b: "y" }, { a: 2, b: "x" }, { a: 2, b: "z" }, { a: 3, b: "y" }];
  assert.deepEqual(matchInOrder(pairs), [{ a: 1, b: "x" }, { a: 2, b: "z" }, { a: 3, b: "y" }]);
});
