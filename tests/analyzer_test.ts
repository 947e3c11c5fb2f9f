import assert from "node:assert/strict";
import { createDenoAnalyzer } from "../runtime/deno_analyzer.ts";
import { faceCrop } from "../shared/analyzer.ts";
import { decodeImage } from "../shared/decode.ts";
import { LABELS } from "../shared/labels.ts";
import { type Frame, resampleGray, toGray } from "../shared/preprocess.ts";
import { tf } from "../shared/tf.ts";
import { HAS_MEDIA, MEDIA } from "./helpers.ts";

const analyzer = await createDenoAnalyzer();

/** A frame downscaled to `width` pixels wide, as grey. */
function shrink(frame: Frame, width: number): Frame {
  const height = Math.round((frame.height * width) / frame.width);
  const whole = { x: 0, y: 0, width: frame.width, height: frame.height };
  const grey = resampleGray(toGray(frame), frame.width, frame.height, whole, width, height);
  return { data: Uint8Array.from(grey, (v) => Math.round(v)), width, height, channels: 1 };
}

Deno.test("faceCrop is a square centred on the box, enlarged by the margin", () => {
  assert.deepEqual(faceCrop({ x: 10, y: 20, width: 100, height: 80 }, 0.1), {
    x: 0,
    y: 0,
    width: 120,
    height: 120,
  });
});

Deno.test("analyze returns no faces for a blank frame and rejects malformed frames", async () => {
  const blank = { data: new Uint8ClampedArray(320 * 240 * 4).fill(255), width: 320, height: 240 };
  const result = await analyzer.analyze(blank);
  assert.deepEqual(result.faces, []);
  assert.equal(result.width, 320);
  assert.ok(result.timings.totalMs >= result.timings.detectMs);
  await assert.rejects(
    () => analyzer.analyze({ data: new Uint8ClampedArray(10), width: 320, height: 240 }),
    RangeError,
  );
  await assert.rejects(
    () => analyzer.analyze({ data: new Uint8ClampedArray(0), width: 0, height: 0 }),
    RangeError,
  );
});

Deno.test({
  name: "analyze finds and classifies every face in a real photo (RGBA and grey input)",
  ignore: !HAS_MEDIA,
  async fn() {
    const frame = await decodeImage(await Deno.readFile(`${MEDIA}/two_people.jpg`));
    for (const input of [frame, shrink(frame, 640)]) {
      const { faces, width } = await analyzer.analyze(input, { minFaceSize: 40 });
      assert.equal(width, input.width);
      assert.equal(faces.length, 2);
      for (const face of faces) {
        assert.ok(LABELS.includes(face.expression.label));
        const total = Object.values(face.expression.scores).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(total - 1) < 1e-4);
        const best = Math.max(...Object.values(face.expression.scores));
        assert.equal(face.expression.scores[face.expression.label], best);
      }
    }
    assert.equal((await analyzer.analyze(frame, { maxFaces: 1, minFaceSize: 40 })).faces.length, 1);
  },
});

Deno.test({
  name: "no tensor leak: numTensors is the same after 1,000 analyses as after 10",
  ignore: !HAS_MEDIA,
  async fn() {
    const small = shrink(await decodeImage(await Deno.readFile(`${MEDIA}/alex-lacamoire.png`)), 160);
    for (let i = 0; i < 10; i++) await analyzer.analyze(small);
    const after10 = tf.memory().numTensors;
    for (let i = 0; i < 990; i++) await analyzer.analyze(small);
    assert.equal(tf.memory().numTensors, after10);
    assert.equal((await analyzer.analyze(small)).faces.length, 1);
  },
});
