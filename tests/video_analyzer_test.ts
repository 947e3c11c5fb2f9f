import assert from "node:assert/strict";
import { loadDetector } from "../runtime/deno_analyzer.ts";
import { initDenoTf } from "../runtime/deno_tf.ts";
import { decodeImage } from "../shared/decode.ts";
import type { FaceDetector } from "../shared/detector.ts";
import { loadModel } from "../shared/model.ts";
import type { Box } from "../shared/preprocess.ts";
import { tf } from "../shared/tf.ts";
import { iou } from "../shared/tracker.ts";
import { createVideoAnalyzer, type VideoFrameResult } from "../shared/video_analyzer.ts";
import { ROOT } from "./helpers.ts";
import { compose, patch } from "./synthetic_video.ts";

await initDenoTf();
const model = await loadModel();
const full = await loadDetector("blazeface");
const short = await loadDetector("blazeface-short");
const photo = await decodeImage(
  await Deno.readFile(`${ROOT}node_modules/@vladmandic/face-api/demo/sample2.jpg`),
);
const photo2 = await decodeImage(
  await Deno.readFile(`${ROOT}node_modules/@vladmandic/face-api/demo/sample3.jpg`),
);

const [faceA, faceB] = full.detect(photo).map((d) => patch(photo, d.box, 160));
const faceC = patch(photo2, full.detect(photo2)[0].box, 160);

/** The middle half of a patch placed at (x, y): where its face is. */
const faceAt = (x: number, y: number): Box => ({ x: x + 40, y: y + 40, width: 80, height: 80 });

function analyzer() {
  return createVideoAnalyzer({ model, detector: full, regionDetector: short });
}

/** Frames allowed before a face shows (a face the detector is sure of shows at a scene's start, or once found again). */
const CONFIRMING = 2;

Deno.test("video: a moving face keeps number 1, is followed without the full detector, and boxes stay on it", async () => {
  const video = analyzer();
  const results: VideoFrameResult[] = [];
  for (let i = 0; i < 45; i++) {
    const x = 40 + 8 * i;
    const r = await video.analyzeVideoFrame(compose([[faceA, x, 150]]), i * 33);
    results.push(r);
    if (i < CONFIRMING) continue;
    assert.equal(r.faces.length, 1, `frame ${i}`);
    assert.ok(iou(r.faces[0].box, faceAt(x, 150)) > 0.4, `frame ${i}: ${JSON.stringify(r.faces[0].box)}`);
  }
  assert.deepEqual([...new Set(results.flatMap((r) => r.faces.map((f) => f.number)))], [1]);
  const fullRuns = results.filter((r) => r.full).length;
  assert.ok(fullRuns <= 5, `full detector ran on ${fullRuns} of 45 frames`);
  assert.equal(results[0].reason, "start");
  assert.ok(results.some((r) => r.reason === "schedule"));
});

Deno.test("video: faces are numbered 1, 2 in order of first appearance, not left to right", async () => {
  const video = analyzer();
  let t = 0;
  const step = (items: [typeof faceA, number, number][]) => video.analyzeVideoFrame(compose(items), t += 33);
  for (let i = 0; i < 6; i++) await step([[faceA, 400, 150]]);
  let r = await step([[faceA, 400, 150], [faceC, 40, 150]]);
  for (let i = 0; i < 20 && r.faces.length < 2; i++) r = await step([[faceA, 400, 150], [faceC, 40, 150]]);
  const numberAt = (x: number) => r.faces.find((f) => iou(f.box, faceAt(x, 150)) > 0.4)?.number;
  assert.equal(numberAt(400), 1, "the face there first");
  assert.equal(numberAt(40), 2, "the face that came in later, on its left");
});

Deno.test("video: a face that leaves and comes back keeps its number; after a cut it gets a new one", async () => {
  const video = analyzer();
  let t = 0;
  const step = (items: [typeof faceA, number, number][], grey = 96) =>
    video.analyzeVideoFrame(compose(items, grey), t += 33);
  for (let i = 0; i < 6; i++) await step([[faceA, 200, 150]]);
  // Gone for 1.5 s (longer than the tracker remembers a track), back a little to the right.
  // Held where it was last found for one frame (its first missed re-detection), then dropped.
  for (let i = 0; i < 45; i++) assert.ok((await step([])).faces.length === 0 || i < 1, `frame ${i} gone`);
  let back = await step([[faceA, 240, 150]]);
  for (let i = 0; i < 20 && !back.faces.length; i++) back = await step([[faceA, 240, 150]]);
  assert.deepEqual(back.faces.map((f) => f.number), [1], "the same number, 1.5 s later");
  // A scene cut (the picture changes whole): the same place now holds a new person as far as boxes can tell.
  let cut = await step([[faceA, 240, 150]], 200);
  assert.equal(cut.reason, "cut");
  for (let i = 0; i < 20 && !cut.faces.length; i++) cut = await step([[faceA, 240, 150]], 200);
  assert.deepEqual(cut.faces.map((f) => f.number), [2]);
});

Deno.test("video: a face missed for a moment is found again within the schedule and keeps its number", async () => {
  const video = analyzer();
  let t = 0;
  let first = await video.analyzeVideoFrame(compose([[faceA, 200, 150]]), t);
  for (let i = 0; i < 5; i++) first = await video.analyzeVideoFrame(compose([[faceA, 200, 150]]), t += 33);
  const number = first.faces[0].number;
  // Gone for 5 frames (165 ms), back in place.
  const gone = t;
  for (let i = 0; i < 5; i++) await video.analyzeVideoFrame(compose([]), t += 33);
  let back = await video.analyzeVideoFrame(compose([[faceA, 200, 150]]), t += 33);
  for (let i = 0; back.faces.length === 0 && i < 20; i++) {
    back = await video.analyzeVideoFrame(compose([[faceA, 200, 150]]), t += 33);
  }
  assert.equal(back.faces.length, 1, "found again within the full-detection schedule");
  assert.ok(back.timeMs - gone - 165 <= 600, `found ${back.timeMs - gone - 165} ms after it came back`);
  assert.equal(back.faces[0].number, number);
});

Deno.test("video: a scene cut clears every box at once and does not multiply numbers", async () => {
  const video = analyzer();
  for (let i = 0; i < 10; i++) await video.analyzeVideoFrame(compose([[faceA, 100 + 2 * i, 150]]), i * 33);
  const cut = await video.analyzeVideoFrame(compose([[faceC, 400, 200], [faceB, 40, 40]], 200), 330);
  assert.equal(cut.reason, "cut");
  assert.ok(
    cut.faces.every((f) => iou(f.box, faceAt(118, 150)) === 0),
    "no box left where the face before the cut was",
  );
  const numbers = new Set<number>();
  for (let i = 1; i < 10; i++) {
    const r = await video.analyzeVideoFrame(
      compose([[faceC, 400 - 2 * i, 200], [faceB, 40 + 2 * i, 40]], 200),
      330 + i * 33,
    );
    if (i < CONFIRMING) continue;
    assert.equal(r.faces.length, 2, `frame ${i} after the cut`);
    r.faces.forEach((f) => numbers.add(f.number));
  }
  assert.deepEqual([...numbers].sort(), [2, 3], "two faces, two new numbers after the cut");
});

Deno.test("video: two faces crossing keep their numbers", async () => {
  const video = analyzer();
  const left = (i: number) => 20 + 12 * i;
  const right = (i: number) => 460 - 12 * i;
  const frame = (i: number) => compose([[faceA, left(i), 60], [faceB, right(i), 260]]);
  const numberOf = (r: VideoFrameResult, x: number, y: number) =>
    r.faces.find((f) => iou(f.box, faceAt(x, y)) > 0.4)?.number;
  let i = 0;
  let r = await video.analyzeVideoFrame(frame(0), 0);
  while (r.faces.length < 2) r = await video.analyzeVideoFrame(frame(++i), i * 33);
  const a = numberOf(r, left(i), 60);
  const b = numberOf(r, right(i), 260);
  assert.ok(a && b && a !== b);
  for (i++; i <= 36; i++) {
    r = await video.analyzeVideoFrame(frame(i), i * 33);
    assert.equal(numberOf(r, left(i), 60), a, `frame ${i}: face A`);
    assert.equal(numberOf(r, right(i), 260), b, `frame ${i}: face B`);
  }
});

Deno.test("video: a face the full detector misses on a scheduled search stays followed, with its number", async () => {
  // The real full-range detector, blind after the first frame (as it is to a borderline face now and then).
  let calls = 0;
  const flaky = {
    ...full,
    detect: (...args: Parameters<typeof full.detect>) => calls++ ? [] : full.detect(...args),
  };
  const video = createVideoAnalyzer({ model, detector: flaky, regionDetector: short });
  const numbers = new Set<number>();
  const reasons = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const x = 100 + 4 * i;
    const r = await video.analyzeVideoFrame(compose([[faceA, x, 150]]), i * 33);
    reasons.add(r.reason);
    if (i < CONFIRMING) continue;
    assert.equal(r.faces.length, 1, `frame ${i}`);
    assert.ok(iou(r.faces[0].box, faceAt(x, 150)) > 0.4, `frame ${i}`);
    numbers.add(r.faces[0].number);
  }
  assert.ok(calls >= 3 && reasons.has("schedule"), `full detector ran ${calls} times`);
  assert.deepEqual([...numbers], [1]);
});

Deno.test("video: a face whose region re-detection fails twice is dropped where it was found, not drifted", async () => {
  // Both detectors go blind after a while, as they do when a face turns away; the face is still moving.
  let blind = false;
  const until = (d: FaceDetector): FaceDetector => ({
    ...d,
    detect: (...args: Parameters<FaceDetector["detect"]>) => blind ? [] : d.detect(...args),
  });
  const video = createVideoAnalyzer({ model, detector: until(full), regionDetector: until(short) });
  const boxes: (Box | undefined)[] = [];
  for (let i = 0; i < 30; i++) {
    blind = i >= 20;
    const r = await video.analyzeVideoFrame(compose([[faceA, 60 + 10 * i, 150]]), i * 33);
    boxes.push(r.faces[0]?.box);
  }
  const lastFound = boxes[19]!;
  const after = boxes.slice(20);
  const shown = after.filter(Boolean) as Box[];
  assert.ok(shown.length >= 1 && shown.length <= 4, `shown on ${shown.length} frames after going blind`);
  for (const box of shown) {
    assert.ok(box.x <= lastFound.x + 10 * 2, `box moved on to ${box.x} from ${lastFound.x}`);
  }
  assert.equal(after.at(-1), undefined, "dropped");
});

Deno.test("video: the box moved on between detections runs at most one frame past a face that stops", async () => {
  // A face moving 12 px a frame that stops dead: the box moved on at its speed runs on for the one frame
  // before its next re-detection, never further, and is back on the face from then on.
  const video = analyzer();
  const xs = Array.from({ length: 40 }, (_, i) => 40 + 12 * Math.min(i, 20));
  for (const [i, x] of xs.entries()) {
    const r = await video.analyzeVideoFrame(compose([[faceA, x, 150]]), i * 33);
    if (i < CONFIRMING) continue;
    const box = r.faces[0].box;
    const face = faceAt(x, 150);
    const past = box.x + box.width / 2 - (face.x + face.width / 2);
    const allowed = (i === 21 ? 12 : 0) + 0.1 * face.width;
    assert.ok(past < allowed, `frame ${i}: centre ${past.toFixed(1)} px past the face`);
    assert.ok(iou(box, face) > 0.6, `frame ${i}: IoU ${iou(box, face).toFixed(2)}`);
  }
});

Deno.test("video: at 30 fps a followed face is re-detected every other frame and moved on at its speed between", async () => {
  let calls = 0;
  const counted = {
    ...short,
    detect: (...args: Parameters<typeof short.detect>) => (calls++, short.detect(...args)),
  };
  const video = createVideoAnalyzer({ model, detector: full, regionDetector: counted, fullEveryMs: 10_000 });
  for (let i = 0; i < 31; i++) {
    const x = 40 + 6 * i;
    const r = await video.analyzeVideoFrame(compose([[faceA, x, 150]]), i * 33);
    if (i < CONFIRMING) continue;
    assert.equal(r.faces.length, 1, `frame ${i}`);
    assert.ok(iou(r.faces[0].box, faceAt(x, 150)) > 0.5, `frame ${i}: ${JSON.stringify(r.faces[0].box)}`);
  }
  // One region detection per followed face every other frame, and one when the full detector found it.
  assert.ok(calls >= 14 && calls <= 18, `region detector ran ${calls} times in 31 frames`);
});

Deno.test("video: newScene() searches afresh; a face where one was keeps its number unless the picture cut; reset() starts numbers again", async () => {
  const video = analyzer();
  let t = 0;
  const until = async (items: [typeof faceA, number, number][], grey = 96) => {
    let r = await video.analyzeVideoFrame(compose(items, grey), t += 33);
    for (let i = 0; i < 5 && !r.faces.length; i++) {
      r = await video.analyzeVideoFrame(compose(items, grey), t += 33);
    }
    return r;
  };
  await until([[faceA, 200, 150]]);
  for (let i = 0; i < 3; i++) await video.analyzeVideoFrame(compose([[faceA, 200, 150]]), t += 33);
  // A loop: the same picture, the face a little to the left: searched afresh, the same number.
  video.newScene();
  let r = await video.analyzeVideoFrame(compose([[faceA, 160, 150]]), t += 33);
  assert.equal(r.reason, "cut");
  r = await until([[faceA, 160, 150]]);
  assert.deepEqual(r.faces.map((f) => f.number), [1]);
  // A seek to another scene (the picture changes whole): a new number, though the face is in the same place.
  video.newScene();
  r = await until([[faceA, 160, 150]], 200);
  assert.deepEqual(r.faces.map((f) => f.number), [2]);
  video.reset();
  r = await video.analyzeVideoFrame(compose([[faceA, 200, 150]]), 0);
  assert.equal(r.reason, "start");
  for (let i = 1; i < 5 && !r.faces.length; i++) {
    r = await video.analyzeVideoFrame(compose([[faceA, 200, 150]]), i * 33);
  }
  assert.deepEqual(r.faces.map((f) => f.number), [1]);
});

Deno.test("video: 1,000 frames leave no tensors behind", async () => {
  const video = analyzer();
  const frames = [0, 1, 2, 3].map((k) => compose([[faceA, 200 + 4 * k, 150]]));
  await video.analyzeVideoFrame(frames[0], 0);
  const before = tf.memory().numTensors;
  for (let i = 1; i <= 1000; i++) await video.analyzeVideoFrame(frames[i % 4], i * 33);
  assert.equal(tf.memory().numTensors, before);
});
