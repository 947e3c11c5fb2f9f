import assert from "node:assert/strict";
import { createFaceNumbers } from "../extension/face_numbers.ts";
import { placeFrame, toPage } from "../extension/overlay.ts";
import { binMeans, chartSpan, createSession, sessionCsv, sessionMix } from "../extension/session.ts";

const one = (k: number) => Array.from({ length: 7 }, (_, i) => (i === k ? 1 : 0));

Deno.test("placeFrame maps frame pixels under object-fit contain, cover and fill", () => {
  const rect = { x: 10, y: 20, width: 400, height: 400 };
  const contain = placeFrame(rect, 200, 100, "contain");
  assert.deepEqual([contain.left, contain.top, contain.scaleX, contain.scaleY], [10, 120, 2, 2]);
  const cover = placeFrame(rect, 200, 100, "cover");
  assert.deepEqual([cover.left, cover.top, cover.scaleX], [-190, 20, 4]);
  const fill = placeFrame(rect, 200, 100, "fill");
  assert.deepEqual([fill.scaleX, fill.scaleY], [2, 4]);
});

Deno.test("toPage clips to the visible area and mirrors when the video is flipped", () => {
  const rect = { x: 0, y: 0, width: 100, height: 100 };
  const box = { x: 0, y: 10, width: 20, height: 20 };
  assert.deepEqual(toPage(box, placeFrame(rect, 100, 100, "fill"), 100), box);
  assert.deepEqual(toPage(box, placeFrame(rect, 100, 100, "fill", true), 100), {
    x: 80,
    y: 10,
    width: 20,
    height: 20,
  });
  // Cover crops the sides of a wide frame: a box at the far left is not visible.
  assert.equal(toPage(box, placeFrame(rect, 200, 100, "cover"), 200), null);
});

Deno.test("session keeps one sample per face per interval within the window, and exports CSV", () => {
  const session = createSession({ windowMs: 10_000, everyMs: 1000 });
  session.add([{ face: 1, scores: one(3) }, { face: 2, scores: one(6) }], 0);
  session.add([{ face: 1, scores: one(0) }], 500); // within the interval: ignored
  session.add([{ face: 1, scores: one(0) }], 1000);
  assert.deepEqual(session.snapshot().faces.map((f) => f.samples.length), [2, 1]);
  session.add([{ face: 1, scores: one(0) }], 10_600); // face 2 and face 1's first sample expire
  const snap = session.snapshot();
  assert.deepEqual(snap.faces.map((f) => [f.face, f.samples.map((s) => s.t)]), [[1, [1000, 10_600]]]);
  const csv = sessionCsv(snap).trim().split("\n");
  assert.equal(csv[0], "time,face,label,surprise,fear,disgust,happiness,sadness,anger,neutral");
  assert.equal(csv[1], "1970-01-01T00:00:01.000Z,1,surprise,1,0,0,0,0,0,0");
});

Deno.test("binMeans averages samples per time slice and leaves empty slices null", () => {
  const samples = [{ t: 1000, scores: one(3) }, { t: 1500, scores: one(6) }, { t: 9999, scores: one(0) }];
  const bins = binMeans(samples, 10_000, 10_000, 5);
  assert.deepEqual(bins[0], [0, 0, 0, 0.5, 0, 0, 0.5]);
  assert.deepEqual(bins.slice(1, 4), [null, null, null]);
  assert.deepEqual(bins[4], one(0));
});

Deno.test("the popup's charts span the session so far, and its mix averages every sample", () => {
  const session = createSession({ windowMs: 300_000, everyMs: 1000 });
  const happy = [0, 0, 0, 1, 0, 0, 0];
  const calm = [0, 0, 0, 0, 0, 0, 1];
  assert.equal(sessionMix(session.snapshot()), null);
  session.add([{ face: 1, scores: happy }], 1_000_000);
  session.add([{ face: 1, scores: happy }, { face: 2, scores: calm }], 1_040_000);
  const snapshot = session.snapshot();
  assert.equal(chartSpan(snapshot, 1_045_000), 45_000, "45 s of session: a 45 s axis");
  assert.equal(chartSpan(snapshot, 1_001_000), 3000, "at least 3 s");
  assert.equal(chartSpan(snapshot, 2_000_000), 300_000, "at most the kept window");
  const mix = sessionMix(snapshot)!;
  assert.ok(Math.abs(mix[3] - 2 / 3) < 1e-9 && Math.abs(mix[6] - 1 / 3) < 1e-9);
});

Deno.test("face numbers: tracks keep theirs; a new track takes its video's free number; videos apart", () => {
  const numbers = createFaceNumbers();
  assert.deepEqual(numbers.assign(0, [1, 2]), [1, 2]);
  assert.deepEqual(numbers.assign(1, [1]), [3], "another video's faces are numbered apart");
  assert.deepEqual(numbers.assign(0, [2, 1]), [2, 1], "a track keeps its number");
  // Track 1 is lost; track 7 appears: it takes number 1, not a new one.
  assert.deepEqual(numbers.assign(0, [2]), [2]);
  assert.deepEqual(numbers.assign(0, [2, 7]), [2, 1]);
  // A third face at once gets a new number; the old track 1 coming back is a new face now.
  assert.deepEqual(numbers.assign(0, [2, 7, 9]), [2, 1, 4]);
  assert.deepEqual(numbers.assign(0, [1]), [1], "the lowest number this frame leaves free");
  // A video's numbers are never handed to another video.
  assert.deepEqual(numbers.assign(2, [1]), [5]);
  // A gallery's tiles numbered in page order, whichever tile is analysed first.
  numbers.reserve([10, 11, 12]);
  assert.deepEqual(numbers.assign(12, [1]), [8]);
  assert.deepEqual(numbers.assign(10, [1]), [6]);
  assert.deepEqual(numbers.assign(11, [1, 2]), [7, 9]);
  // A looping clip with one face, its track restarting at every cut: still one number.
  for (let i = 0; i < 20; i++) assert.deepEqual(numbers.assign(3, [100 + i]), [10]);
});
