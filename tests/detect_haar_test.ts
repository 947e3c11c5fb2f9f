import assert from "node:assert/strict";
import { decodeImage } from "../shared/decode.ts";
import { createHaarDetector, HAAR_CASCADE_URL } from "../shared/detect_haar.ts";
import { loadOpenCv } from "../shared/opencv.ts";
import { HAS_MEDIA, MEDIA } from "./helpers.ts";

const { cv } = await loadOpenCv();
const detector = createHaarDetector(cv, await Deno.readFile(HAAR_CASCADE_URL));

Deno.test("Haar finds no face in flat or noisy frames, of any size", () => {
  const flat = { data: new Uint8ClampedArray(640 * 480 * 4).fill(128), width: 640, height: 480 };
  assert.deepEqual(detector.detect(flat), []);
  const tiny = { data: new Uint8ClampedArray(3 * 2 * 4).fill(200), width: 3, height: 2 };
  assert.deepEqual(detector.detect(tiny), []);
  const grey = { data: new Uint8Array(64 * 64).fill(90), width: 64, height: 64, channels: 1 as const };
  assert.deepEqual(detector.detect(grey), []);
});

Deno.test({
  name: "Haar finds the faces in real photos, boxes in frame pixels",
  ignore: !HAS_MEDIA,
  async fn() {
    const expected: Record<string, number> = {
      "two_people.jpg": 2,
      "alex-lacamoire.png": 1,
      "obama2.jpg": 1,
    };
    for (const [file, count] of Object.entries(expected)) {
      const frame = await decodeImage(await Deno.readFile(`${MEDIA}/${file}`));
      const faces = detector.detect(frame, { minFaceSize: 60 });
      assert.equal(faces.length, count, file);
      for (const { box, score } of faces) {
        assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= frame.width + 1, file);
        assert.ok(box.width > 60 && box.width < frame.width, `${file}: box ${box.width} px`);
        assert.ok(score > 0 && score < 1);
      }
      assert.equal(detector.detect(frame, { maxFaces: 1 }).length, 1);
    }
  },
});
