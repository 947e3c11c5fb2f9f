/**
 * The decode-worker pool with real workers: work that cannot start by its deadline leaves the queue
 * with 503 busy, work that runs past it loses its worker with 422, pictures are held in a worker and
 * give the same crops as decoding inline.
 */
import assert from "node:assert/strict";
import { deadlineFromNow } from "../worker/admission.ts";
import { type Decoder, inlineDecoder, workerDecoder } from "../worker/decoding.ts";
import type { ApiError } from "../worker/errors.ts";
import { enlargedPhoto, jpegManyScans } from "./attack_corpus.ts";
import { ROOT } from "./helpers.ts";

const image = (bytes: Uint8Array) => ({ bytes, maxPixels: 40_000_000, field: "image" });

Deno.test({
  name: "decode pool: held pictures, a preview no larger than asked, the same crops as inline",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const pool = workerDecoder({ size: 1 });
    try {
      // face-api's demo photo (1920x1280) at 1200x800.
      const photo = await Deno.readFile(`${ROOT}node_modules/@vladmandic/face-api/demo/sample1.jpg`);
      const jpeg = await enlargedPhoto(photo, 960_000);
      const results = [];
      for (const decoder of [pool, inlineDecoder()] as Decoder[]) {
        const picture = await decoder.open(image(jpeg.slice()), 640, deadlineFromNow(5000, 30_000));
        assert.deepEqual([picture.width, picture.height], [1200, 800]);
        const { preview } = picture;
        assert.deepEqual([preview.width, preview.height, preview.channels], [640, 427, 3]);
        const box = { x: 100, y: 50, width: 300, height: 300 };
        const crops = await picture.crops([{ box, angle: 0 }, { box, angle: 0.3 }], 48);
        picture.release();
        results.push(crops);
      }
      assert.equal(results[0][0].length, 48 * 48);
      assert.notDeepEqual(results[0][0], results[0][1], "the second crop is turned");
      assert.deepEqual(results[0], results[1]);
    } finally {
      pool.close();
    }
  },
});

Deno.test({
  name: "decode pool: work that cannot start by its deadline is 503 busy, work past it 422; the pool goes on",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const pool = workerDecoder({ size: 1 });
    try {
      // Legal but slow: 2000x2000 in 100 scans takes the worker a while (bytes are handed over: new each time).
      const slow = () => image(jpegManyScans(2000, 2000, 100));
      let slowEnded = Infinity;
      const busyWorker = pool.faceInput(slow(), 48, deadlineFromNow(1000, 60_000))
        .finally(() => (slowEnded = performance.now()));
      await assert.rejects(
        pool.faceInput(image(jpegManyScans(16, 16, 2)), 48, deadlineFromNow(50, 60_000)),
        (e: ApiError) => e.status === 503 && e.code === "busy" && e.headers["retry-after"] === "1",
      );
      const refusedAt = performance.now();
      assert.equal((await busyWorker).length, 48 * 48);
      assert.ok(refusedAt < slowEnded, "refused while the slow job still held the worker");
      // Its deadline passes while it decodes: the worker is terminated, the request told so.
      await assert.rejects(
        pool.faceInput(slow(), 48, deadlineFromNow(1000, 30)),
        (e: ApiError) => e.status === 422 && e.code === "decode_timeout" && /image: .*30 ms/.test(e.message),
      );
      // A fresh worker takes the next job.
      const small = await pool.faceInput(image(jpegManyScans(16, 16, 2)), 48, deadlineFromNow(5000, 30_000));
      assert.equal(small.length, 48 * 48);
    } finally {
      pool.close();
    }
  },
});
