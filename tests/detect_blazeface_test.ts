import assert from "node:assert/strict";
import { loadDetector } from "../runtime/deno_analyzer.ts";
import { faceCrop } from "../shared/analyzer.ts";
import { decodeImage } from "../shared/decode.ts";
import { blazeAnchors, nonMaxSuppression } from "../shared/detect_blazeface.ts";
import { KEYPOINT_NAMES } from "../shared/detector.ts";
import { shrinkRgb } from "../shared/preprocess.ts";
import { tf } from "../shared/tf.ts";
import { iou } from "../shared/tracker.ts";
import { cropFrame } from "./fake_camera.ts";
import { HAS_MEDIA, MEDIA, ROOT } from "./helpers.ts";

const detector = await loadDetector("blazeface");

Deno.test("BlazeFace anchors: 16x16x2 then 8x8x6 cell centres", () => {
  const anchors = blazeAnchors();
  assert.equal(anchors.length, 896);
  assert.deepEqual(anchors[0], [8, 8]);
  assert.deepEqual(anchors[1], [8, 8]);
  assert.deepEqual(anchors[2], [24, 8]);
  assert.deepEqual(anchors[512], [16, 16]);
  assert.deepEqual(anchors[895], [240, 240]);
});

Deno.test("nonMaxSuppression keeps the best of overlapping boxes and caps the count", () => {
  const box = (x: number) => ({ x, y: 0, width: 100, height: 100 });
  const kept = nonMaxSuppression(
    [
      { box: box(0), score: 0.7 },
      { box: box(10), score: 0.9 },
      { box: box(300), score: 0.8 },
    ],
    0.3,
    10,
  );
  assert.deepEqual(kept.map((d) => d.score), [0.9, 0.8]);
  assert.equal(nonMaxSuppression(kept, 0.3, 1).length, 1);
});

Deno.test("shrinkRgb averages blocks and never enlarges", () => {
  const frame = { data: Uint8Array.from([0, 0, 0, 255, 100, 100, 100, 255]), width: 2, height: 1 };
  const small = shrinkRgb(frame, 1);
  assert.deepEqual([small.width, small.height], [1, 1]);
  assert.deepEqual(Array.from(small.data), [50, 50, 50]);
  const same = shrinkRgb(frame, 10);
  assert.deepEqual([same.width, same.height], [2, 1]);
});

Deno.test("BlazeFace: nothing in blank, tiny or huge frames, without leaking tensors", () => {
  const before = tf.memory().numTensors;
  const blank = { data: new Uint8ClampedArray(640 * 480 * 4).fill(128), width: 640, height: 480 };
  assert.deepEqual(detector.detect(blank), []);
  assert.deepEqual(detector.detect({ data: new Uint8ClampedArray(4).fill(9), width: 1, height: 1 }), []);
  const huge = {
    data: new Uint8Array(6000 * 4000).fill(60),
    width: 6000,
    height: 4000,
    channels: 1 as const,
  };
  assert.deepEqual(detector.detect(huge), []);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test({
  name: "BlazeFace finds the faces in real photos (RGBA and grey), boxes inside the frame",
  ignore: !HAS_MEDIA,
  async fn() {
    const expected: Record<string, number> = {
      "two_people.jpg": 2,
      "kit_with_rose.jpg": 2,
      "crying.jpg": 1,
      "obama.jpg": 1,
      "alex-lacamoire.png": 1,
    };
    for (const [file, count] of Object.entries(expected)) {
      const frame = await decodeImage(await Deno.readFile(`${MEDIA}/${file}`));
      const faces = detector.detect(frame);
      assert.equal(faces.length, count, file);
      for (const { box, score } of faces) {
        assert.ok(score >= 0.6 && score <= 1, `${file}: score ${score}`);
        const cx = box.x + box.width / 2;
        const cy = box.y + box.height / 2;
        assert.ok(cx > 0 && cx < frame.width && cy > 0 && cy < frame.height, file);
      }
    }
    const frame = await decodeImage(await Deno.readFile(`${MEDIA}/two_people.jpg`));
    const grey = shrinkRgb(frame, 4000);
    const greyFrame = {
      data: Uint8Array.from({ length: grey.width * grey.height }, (_, i) => grey.data[i * 3 + 1]),
      width: grey.width,
      height: grey.height,
      channels: 1 as const,
    };
    assert.equal(detector.detect(greyFrame).length, 2);
  },
});

Deno.test("BlazeFace on face-api's demo photos (group photos, 22 faces by eye)", async () => {
  const expected = [3, 3, 3, 4, 5, 4];
  let found = 0;
  for (const [i, count] of expected.entries()) {
    const path = `${ROOT}node_modules/@vladmandic/face-api/demo/sample${i + 1}.jpg`;
    const faces = detector.detect(await decodeImage(await Deno.readFile(path)), { minFaceSize: 40 });
    assert.ok(faces.length <= count, `sample${i + 1}: ${faces.length} boxes for ${count} faces`);
    found += faces.length;
  }
  assert.ok(found >= 21, `found ${found} of 22`);
});

Deno.test("short-range BlazeFace finds a face seen up close, where the full-range model finds it too", async () => {
  const short = await loadDetector("blazeface-short");
  try {
    assert.equal(short.name, "blazeface-short");
    const photo = await decodeImage(
      await Deno.readFile(`${ROOT}node_modules/@vladmandic/face-api/demo/sample2.jpg`),
    );
    const [face] = detector.detect(photo, { maxFaces: 1 });
    const view = cropFrame(photo, faceCrop(face.box, 1)); // a webcam-like view: the face fills a third
    const [near] = short.detect(view, { maxFaces: 1 });
    const [far] = detector.detect(view, { maxFaces: 1 });
    assert.ok(near && far);
    assert.ok(iou(near.box, far.box) > 0.5, `${JSON.stringify(near.box)} vs ${JSON.stringify(far.box)}`);
  } finally {
    short.dispose();
  }
});

Deno.test("BlazeFace's keypoints: eyes in the box's upper half, the person's right eye on the image's left, mouth below the nose", async () => {
  for (let i = 1; i <= 6; i++) {
    const path = `${ROOT}node_modules/@vladmandic/face-api/demo/sample${i}.jpg`;
    for (
      const { box, keypoints } of detector.detect(await decodeImage(await Deno.readFile(path)), {
        minFaceSize: 40,
      })
    ) {
      assert.deepEqual(keypoints?.map((k) => k.name), [...KEYPOINT_NAMES]);
      const at = Object.fromEntries(keypoints!.map((k) => [k.name, k]));
      for (const eye of [at.rightEye, at.leftEye]) {
        assert.ok(
          eye.x > box.x && eye.x < box.x + box.width,
          `sample${i}: eye x ${eye.x} outside ${JSON.stringify(box)}`,
        );
        assert.ok(
          eye.y > box.y && eye.y < box.y + box.height / 2 + box.height * 0.1,
          `sample${i}: eye y ${eye.y}`,
        );
      }
      assert.ok(
        at.rightEye.x < at.leftEye.x,
        `sample${i}: right eye at ${at.rightEye.x}, left at ${at.leftEye.x}`,
      );
      assert.ok(at.mouthCenter.y > at.noseTip.y, `sample${i}: mouth above the nose`);
    }
  }
});
