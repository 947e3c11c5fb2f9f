import assert from "node:assert/strict";
import {
  alignedCrop,
  cropMarginFor,
  eyesOf,
  faceCrop,
  modelCrop,
  modelInput,
  rollOf,
} from "../shared/align.ts";
import type { Keypoint } from "../shared/detector.ts";
import { faceInput } from "../shared/preprocess.ts";

/** Made-up keypoints: the two eyes at the given points (the person's right eye on the image's left). */
function eyes(rx: number, ry: number, lx: number, ly: number): Keypoint[] {
  return [{ x: rx, y: ry, name: "rightEye" }, { x: lx, y: ly, name: "leftEye" }, {
    x: (rx + lx) / 2,
    y: ry + 20,
    name: "noseTip",
  }];
}

const near = (a: number, b: number, eps = 1e-9) => Math.abs(a - b) <= eps;

Deno.test("rollOf: 0 for level eyes, the eye line's angle otherwise (clockwise positive, y down)", () => {
  assert.equal(rollOf({ right: { x: 10, y: 50 }, left: { x: 40, y: 50 } }), 0);
  assert.ok(near(rollOf({ right: { x: 10, y: 50 }, left: { x: 40, y: 80 } }), Math.PI / 4));
  assert.ok(near(rollOf({ right: { x: 0, y: 0 }, left: { x: 30, y: -30 * Math.tan(0.3) } }), -0.3));
});

Deno.test("eyesOf finds both eyes by name, or nothing when the detector gave none", () => {
  const found = eyesOf({ keypoints: eyes(1, 2, 3, 4) });
  assert.deepEqual(found?.right, { x: 1, y: 2, name: "rightEye" });
  assert.deepEqual(found?.left, { x: 3, y: 4, name: "leftEye" });
  assert.equal(eyesOf({}), undefined);
  assert.equal(eyesOf({ keypoints: [{ x: 1, y: 1, name: "noseTip" }] }), undefined);
});

Deno.test("alignedCrop: the detector's square crop, turned by the eyes' roll only when aligning", () => {
  const detection = { box: { x: 100, y: 50, width: 80, height: 100 }, keypoints: eyes(120, 90, 160, 130) };
  const on = alignedCrop(detection, 0.1, true);
  assert.deepEqual(on.box, faceCrop(detection.box, 0.1));
  assert.ok(near(on.angle, Math.PI / 4));
  assert.equal(alignedCrop(detection, 0.1, false).angle, 0);
  assert.equal(alignedCrop({ box: detection.box }, 0.1, true).angle, 0);
});

/** A grey RGBA frame with a bright bar through (cx, cy) along `angle` (radians, y down), dark elsewhere. */
function barFrame(
  size: number,
  cx: number,
  cy: number,
  angle: number,
): { data: Uint8ClampedArray; width: number; height: number } {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const across = -(x - cx) * Math.sin(angle) + (y - cy) * Math.cos(angle); // distance from the bar's line
      const v = Math.abs(across) < 4 ? 230 : 20;
      data.set([v, v, v, 255], (y * size + x) * 4);
    }
  }
  return { data, width: size, height: size };
}

/** Mean of row `row` of a size x size input. */
const rowMean = (input: Float32Array, size: number, row: number) =>
  input.slice(row * size, (row + 1) * size).reduce((a, b) => a + b, 0) / size;

Deno.test("faceInput with the roll: a bar tilted by the roll comes out level, at the model's size", () => {
  const angle = (25 * Math.PI) / 180;
  const frame = barFrame(200, 100, 90, angle);
  const box = { x: 40, y: 30, width: 120, height: 120 }; // centred on the bar's centre (100, 90)
  for (const size of [48, 64, 112]) {
    const turned = faceInput(frame, size, box, angle);
    assert.equal(turned.length, size * size);
    const middle = rowMean(turned, size, Math.floor(size / 2));
    assert.ok(middle > 0.75, `size ${size}: the level bar fills the middle row (mean ${middle.toFixed(2)})`);
    assert.ok(rowMean(turned, size, 2) < 0.15, `size ${size}: rows far from the bar are dark`);
    const upright = faceInput(frame, size, box);
    assert.ok(
      rowMean(upright, size, Math.floor(size / 2)) < 0.5,
      "without turning, the bar crosses the middle row",
    );
  }
});

Deno.test("faceInput: a tiny roll is the upright crop, and turning keeps values in [0,1]", () => {
  const frame = barFrame(100, 50, 50, 0.4);
  const box = { x: 10, y: 10, width: 80, height: 80 };
  assert.deepEqual(faceInput(frame, 48, box, 1e-6), faceInput(frame, 48, box));
  const turned = faceInput(frame, 48, { x: -30, y: -30, width: 160, height: 160 }, 1.2); // beyond the frame's edges
  assert.ok(turned.every((v) => v >= 0 && v <= 1));
});

Deno.test("cropMarginFor: the detector's margin plus the model's own extra, none when the model names none", () => {
  assert.equal(cropMarginFor({ cropMargin: 0.05 }, {}), 0.05);
  assert.ok(Math.abs(cropMarginFor({ cropMargin: 0.05 }, { extraMargin: 0.1 }) - 0.15) < 1e-12);
  assert.equal(cropMarginFor({ cropMargin: 0 }, { extraMargin: -0.05 }), -0.05);
});

Deno.test("modelCrop and modelInput: the model's margin and alignment, at the model's input size", () => {
  const detection = { box: { x: 20, y: 20, width: 40, height: 40 }, keypoints: eyes(30, 30, 50, 50) };
  const detector = { cropMargin: 0.05 };
  const upright = modelCrop(detection, detector, { inputSize: 48 });
  assert.deepEqual(upright, { box: faceCrop(detection.box, 0.05), angle: 0 });
  const wide = modelCrop(detection, detector, { inputSize: 112, extraMargin: 0.1, align: true });
  assert.deepEqual(wide.box, faceCrop(detection.box, cropMarginFor(detector, { extraMargin: 0.1 })));
  assert.ok(near(wide.angle, Math.PI / 4));
  const frame = barFrame(80, 40, 40, Math.PI / 4);
  const input = modelInput(frame, detection, detector, { inputSize: 112, extraMargin: 0.1, align: true });
  assert.equal(input.length, 112 * 112);
  assert.deepEqual(input, faceInput(frame, 112, wide.box, wide.angle));
  // A margin given replaces the model's (eval --margin), alignment kept.
  const given = modelCrop(detection, detector, { inputSize: 112, extraMargin: 0.1, align: true }, 0.3);
  assert.deepEqual(given.box, faceCrop(detection.box, 0.3));
  assert.ok(near(given.angle, Math.PI / 4));
  assert.deepEqual(
    modelInput(frame, detection, detector, { inputSize: 48, align: true }, 0.3),
    faceInput(frame, 48, given.box, given.angle),
  );
});
