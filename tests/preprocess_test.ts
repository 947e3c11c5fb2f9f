import assert from "node:assert/strict";
import { faceInput, mirror, resampleGray, toGray } from "../shared/preprocess.ts";

Deno.test("toGray uses BT.601 luma on RGBA and passes grey through", () => {
  const rgba = new Uint8ClampedArray([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 0, 10, 20, 30, 255]);
  const gray = toGray({ data: rgba, width: 2, height: 2 });
  assert.deepEqual(Array.from(gray, (v) => Math.round(v * 1000) / 1000), [76.245, 149.685, 29.07, 18.15]);
  const grey = toGray({ data: new Uint8Array([0, 128, 255, 7]), width: 2, height: 2, channels: 1 });
  assert.deepEqual(Array.from(grey), [0, 128, 255, 7]);
  const rgb = toGray({ data: new Uint8Array([255, 255, 255]), width: 1, height: 1, channels: 3 });
  assert.equal(rgb[0], 255);
});

Deno.test("toGray rejects data shorter than width x height x channels", () => {
  assert.throws(() => toGray({ data: new Uint8Array(10), width: 2, height: 2 }), RangeError);
});

Deno.test("resampleGray is the identity at the same size", () => {
  const src = Float32Array.from({ length: 48 * 48 }, (_, i) => (i * 37) % 256);
  const out = resampleGray(src, 48, 48, { x: 0, y: 0, width: 48, height: 48 }, 48);
  assert.deepEqual(Array.from(out), Array.from(src));
});

Deno.test("resampleGray averages areas when downscaling", () => {
  // 4x4 with 2x2 blocks of constant value -> 2x2 of those values.
  const src = Float32Array.from([10, 10, 50, 50, 10, 10, 50, 50, 90, 90, 130, 130, 90, 90, 130, 130]);
  const out = resampleGray(src, 4, 4, { x: 0, y: 0, width: 4, height: 4 }, 2);
  assert.deepEqual(Array.from(out), [10, 50, 90, 130]);
  // A 2x2 checkerboard averages to its mean.
  const checker = Float32Array.from([0, 255, 255, 0]);
  assert.deepEqual(Array.from(resampleGray(checker, 2, 2, { x: 0, y: 0, width: 2, height: 2 }, 1)), [127.5]);
});

Deno.test("resampleGray crops a box and repeats edges outside the image", () => {
  const src = Float32Array.from({ length: 16 }, (_, i) => i);
  const crop = resampleGray(src, 4, 4, { x: 2, y: 2, width: 2, height: 2 }, 2);
  assert.deepEqual(Array.from(crop), [10, 11, 14, 15]);
  const outside = resampleGray(src, 4, 4, { x: -2, y: -2, width: 2, height: 2 }, 2);
  assert.deepEqual(Array.from(outside), [0, 0, 0, 0]);
});

Deno.test("faceInput scales to [0,1] at the model size", () => {
  const data = new Uint8ClampedArray(96 * 64 * 4).fill(255);
  const input = faceInput({ data, width: 96, height: 64 }, 48);
  assert.equal(input.length, 48 * 48);
  assert.ok(input.every((v) => Math.abs(v - 1) < 1e-6));
  assert.throws(() => faceInput({ data, width: 0, height: 0 }, 48), RangeError);
  assert.throws(
    () => faceInput({ data, width: 96, height: 64 }, 48, { x: 0, y: 0, width: 0, height: 5 }),
    RangeError,
  );
});

Deno.test("mirror flips rows left-right and twice is the identity", () => {
  const face = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(Array.from(mirror(face, 3)), [3, 2, 1, 6, 5, 4, 9, 8, 7]);
  assert.deepEqual(Array.from(mirror(mirror(face, 3), 3)), Array.from(face));
});

Deno.test("faceInput greys only the box's pixels and matches resampling the whole grey frame", () => {
  const width = 97;
  const height = 61;
  const data = new Uint8ClampedArray(width * height * 4).map((_, i) => (i * 7919) % 256);
  const frame = { data, width, height };
  const whole = toGray(frame);
  for (
    const box of [
      { x: 10.3, y: 5.7, width: 30, height: 30 }, // inside, shrinking
      { x: -12, y: -8, width: 40, height: 40 }, // over the top-left edge
      { x: 80, y: 40, width: 33, height: 33 }, // over the bottom-right edge
      { x: 20.5, y: 10.5, width: 20, height: 20 }, // enlarging (bilinear)
    ]
  ) {
    const expected = resampleGray(whole, width, height, box, 48).map((v) => v / 255);
    const actual = faceInput(frame, 48, box);
    actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${JSON.stringify(box)} at ${i}`));
  }
});
