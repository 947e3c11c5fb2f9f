import assert from "node:assert/strict";
import { loadDetector } from "../runtime/deno_analyzer.ts";
import { initDenoTf } from "../runtime/deno_tf.ts";
import { decodeImage } from "../shared/decode.ts";
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

Deno.test("video: a moving face keeps one id, is followed without the full detector, and boxes stay on it", async () => {
  const video = analyzer();
  const results: VideoFrameResult[] = [];
  for (let i = 0; i < 45; i++) {
    const x = 40 + 8 * i;
    const r = await video.analyzeVideoFrame(compose([[faceA, x, 150]]), i * 33);
    results.push(r);
    assert.equal(r.faces.length, 1, `frame ${i}`);
    assert.ok(iou(r.faces[0].box, faceAt(x, 150)) > 0.4, `frame ${i}: ${JSON.stringify(r.faces[0].box)}`);
  }
  assert.equal(new Set(results.map((r) => r.faces[0].id)).size, 1);
  const fullRuns = results.filter((r) => r.full).length;
  assert.ok(fullRuns <= 5, `full detector ran on ${fullRuns} of 45 frames`);
  assert.equal(results[0].reason, "start");
  assert.ok(results.some((r) => r.reason === "schedule"));
});

Deno.test("video: a face that leaves is dropped, comes back within the schedule, and a brief miss keeps its id", async () => {
  const video = analyzer();
  const id = (await video.analyzeVideoFrame(compose([[faceA, 200, 150]]), 0)).faces[0].id;
  let t = 33;
  // Gone for 5 frames (165 ms), back in place: the same identity.
  for (let i = 0; i < 5; i++, t += 33) {
    assert.equal((await video.analyzeVideoFrame(compose([]), t)).faces.length, 0);
  }
  let back = await video.analyzeVideoFrame(compose([[faceA, 200, 150]]), t);
  for (let i = 0; back.faces.length === 0 && i < 20; i++) {
    t += 33;
    back = await video.analyzeVideoFrame(compose([[faceA, 200, 150]]), t);
  }
  assert.equal(back.faces.length, 1, "found again within the full-detection schedule");
  assert.ok(back.timeMs - 165 <= 600, `found ${back.timeMs - 165} ms after it came back`);
  assert.equal(back.faces[0].id, id);
});

Deno.test("video: a scene cut runs the full detector and does not multiply identities", async () => {
  const video = analyzer();
  for (let i = 0; i < 10; i++) await video.analyzeVideoFrame(compose([[faceA, 100 + 2 * i, 150]]), i * 33);
  const cut = await video.analyzeVideoFrame(compose([[faceC, 400, 200], [faceB, 40, 40]], 200), 330);
  assert.equal(cut.reason, "cut");
  assert.equal(cut.faces.length, 2);
  const ids = new Set<number>();
  for (let i = 1; i < 10; i++) {
    const r = await video.analyzeVideoFrame(
      compose([[faceC, 400 - 2 * i, 200], [faceB, 40 + 2 * i, 40]], 200),
      330 + i * 33,
    );
    assert.equal(r.faces.length, 2);
    r.faces.forEach((f) => ids.add(f.id));
  }
  assert.equal(ids.size, 2, "two faces, two identities after the cut");
});

Deno.test("video: two faces crossing keep their identities", async () => {
  const video = analyzer();
  const left = (i: number) => 20 + 12 * i;
  const right = (i: number) => 460 - 12 * i;
  const first = await video.analyzeVideoFrame(compose([[faceA, left(0), 60], [faceB, right(0), 260]]), 0);
  const idOf = (r: VideoFrameResult, x: number, y: number) =>
    r.faces.find((f) => iou(f.box, faceAt(x, y)) > 0.4)?.id;
  const a = idOf(first, left(0), 60);
  const b = idOf(first, right(0), 260);
  assert.ok(a && b && a !== b);
  for (let i = 1; i <= 36; i++) {
    const r = await video.analyzeVideoFrame(compose([[faceA, left(i), 60], [faceB, right(i), 260]]), i * 33);
    console.log(
      i,
      r.reason,
      r.faces.map((f) => [f.id, Math.round(f.box.x), Math.round(f.box.y), Math.round(f.box.width)].join(","))
        .join(" "),
    );
    assert.equal(idOf(r, left(i), 60), a, `frame ${i}: face A`);
    assert.equal(idOf(r, right(i), 260), b, `frame ${i}: face B`);
  }
});

Deno.test("video: a face the full detector misses on a scheduled search stays followed, with its id", async () => {
  // The real full-range detector, blind after the first frame (as it is to a borderline face now and then).
  let calls = 0;
  const flaky = {
    ...full,
    detect: (...args: Parameters<typeof full.detect>) => calls++ ? [] : full.detect(...args),
  };
  const video = createVideoAnalyzer({ model, detector: flaky, regionDetector: short });
  const ids = new Set<number>();
  const reasons = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const x = 100 + 4 * i;
    const r = await video.analyzeVideoFrame(compose([[faceA, x, 150]]), i * 33);
    assert.equal(r.faces.length, 1, `frame ${i}`);
    assert.ok(iou(r.faces[0].box, faceAt(x, 150)) > 0.4, `frame ${i}`);
    ids.add(r.faces[0].id);
    reasons.add(r.reason);
  }
  assert.ok(calls >= 3 && reasons.has("schedule"), `full detector ran ${calls} times`);
  assert.equal(ids.size, 1);
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
    assert.equal(r.faces.length, 1, `frame ${i}`);
    assert.ok(iou(r.faces[0].box, faceAt(x, 150)) > 0.5, `frame ${i}: ${JSON.stringify(r.faces[0].box)}`);
  }
  assert.ok(calls >= 13 && calls <= 17, `region detector ran ${calls} times in 30 followed frames`);
});

Deno.test("video: 1,000 frames leave no tensors behind", async () => {
  const video = analyzer();
  const frames = [0, 1, 2, 3].map((k) => compose([[faceA, 200 + 4 * k, 150]]));
  await video.analyzeVideoFrame(frames[0], 0);
  const before = tf.memory().numTensors;
  for (let i = 1; i <= 1000; i++) await video.analyzeVideoFrame(frames[i % 4], i * 33);
  assert.equal(tf.memory().numTensors, before);
});
