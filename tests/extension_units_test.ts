import assert from "node:assert/strict";
import { createFaceNumbers } from "../extension/face_numbers.ts";
import { placeFrame, toPage } from "../extension/overlay.ts";
import {
  binMeans,
  chartSpan,
  createSession,
  sessionCount,
  sessionCsv,
  sessionMix,
} from "../extension/session.ts";
import { CSV_HEADER } from "../shared/timeline.ts";

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

/** An analysed frame of video 0 at `timeS` (its number `frame`) with these faces, as the analyzer frame records it. */
const at = (timeS: number, frame: number | null = Math.round(timeS * 30)) => ({ video: 0, timeS, frame });
const seen = (face: number, scores: number[]) => ({
  face,
  box: { x: 10, y: 20, width: 30, height: 30 },
  scores,
});

Deno.test("session keeps one sample per face per interval within the window, and exports the one CSV schema", () => {
  const session = createSession({ windowMs: 10_000, everyMs: 1000 });
  session.add(at(0), [seen(1, one(3)), seen(2, one(6))], 0);
  session.add(at(0.5), [seen(1, one(0))], 500); // within the interval: ignored
  session.add(at(1), [seen(1, one(0))], 1000);
  assert.deepEqual(session.snapshot().faces.map((f) => f.samples.length), [2, 1]);
  session.add(at(10.6, null), [seen(1, one(0))], 10_600); // face 2 and face 1's first sample expire
  const snap = session.snapshot();
  assert.deepEqual(snap.faces.map((f) => [f.face, f.samples.map((s) => s.t)]), [[1, [1000, 10_600]]]);
  const csv = sessionCsv(snap).trim().split("\n");
  assert.equal(csv[0], CSV_HEADER, "the header of the command line's and the page's CSV");
  assert.equal(
    csv[1],
    "1.000,30,1,10.0,20.0,30.0,30.0,surprise,1.0000,0.0000,0.0000,0.0000,0.0000,0.0000,0.0000",
  );
  assert.equal(csv[2].split(",").slice(0, 3).join(","), "10.600,,1", "frame left empty where not known");
});

Deno.test("session: a face counts once followed for a second of its video, at any rate; a kept copy restores it", () => {
  const session = createSession();
  // Face 1 in every frame analysed from 0 to 1.2 s, 0.4 s apart; face 2 in the first two; face 3 in the
  // last, after a frame that did not show it; then a frame with no face breaks their run.
  for (let k = 0; k <= 3; k++) {
    session.add(at(0.4 * k), [
      seen(1, one(3)),
      ...(k <= 1 ? [seen(2, one(6))] : k === 3 ? [seen(3, one(6))] : []),
    ], 400 * k);
  }
  session.add(at(1.6), [], 1600);
  session.add(at(2), [seen(2, one(6))], 2000);
  assert.deepEqual(sessionCount(session.snapshot()), { faces: 1, brief: 2 });
  assert.deepEqual(session.snapshot().faces.map((f) => Number(f.followedS.toFixed(3))), [1.2, 0.4, 0]);
  assert.equal(session.takeChanged(), true);
  assert.equal(session.takeChanged(), false, "nothing new since");
  const restored = createSession({ restore: JSON.parse(JSON.stringify(session.snapshot())) });
  assert.deepEqual(restored.snapshot(), session.snapshot());
  assert.equal(restored.lastNumber(), 3);
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
  session.add(at(0), [seen(1, happy)], 1_000_000);
  session.add(at(40), [seen(1, happy), seen(2, calm)], 1_040_000);
  const snapshot = session.snapshot();
  assert.equal(chartSpan(snapshot, 1_045_000), 45_000, "45 s of session: a 45 s axis");
  assert.equal(chartSpan(snapshot, 1_001_000), 3000, "at least 3 s");
  assert.equal(chartSpan(snapshot, 2_000_000), 300_000, "at most the kept window");
  const mix = sessionMix(snapshot)!;
  assert.ok(Math.abs(mix[3] - 2 / 3) < 1e-9 && Math.abs(mix[6] - 1 / 3) < 1e-9);
});

Deno.test("face numbers: each video's faces get the tab's own numbers, a gallery's in page order", () => {
  const numbers = createFaceNumbers();
  assert.deepEqual(numbers.assign(0, [1, 2]), [1, 2]);
  assert.deepEqual(numbers.assign(1, [1]), [3], "another video's face 1 is another face");
  assert.deepEqual(numbers.assign(0, [2, 1]), [2, 1], "a face keeps its number");
  assert.deepEqual(numbers.assign(0, [3]), [4], "a new face in a video: a new number");
  // A gallery's tiles numbered in page order, whichever tile is analysed first.
  numbers.reserve([0, 10, 11, 12]);
  assert.deepEqual(numbers.assign(12, [1]), [7]);
  assert.deepEqual(numbers.assign(10, [1]), [5]);
  assert.deepEqual(numbers.assign(11, [1, 2]), [6, 8]);
  // A kept session's numbers are not handed out again.
  assert.deepEqual(createFaceNumbers(9).assign(0, [1]), [9]);
});
