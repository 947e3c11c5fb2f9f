import assert from "node:assert/strict";
import { createPixelBudget } from "../worker/admission.ts";
import { type ApiError, decodeFailure } from "../worker/errors.ts";
import { fromBase64, readBody } from "../worker/input.ts";

Deno.test("pixel budget: runs within capacity, queues the next, answers 503 + Retry-After past the queue", async () => {
  const budget = createPixelBudget({ capacity: 100, maxWaiting: 1, retryAfterS: 2 });
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const first = budget.run(80, async () => {
    order.push("first");
    await gate;
  });
  const second = budget.run(50, () => {
    order.push("second");
    return Promise.resolve();
  });
  assert.equal(budget.inFlight, 80);
  await assert.rejects(
    budget.run(10, () => Promise.resolve()),
    (e: ApiError) => e.status === 503 && e.code === "busy" && e.headers["retry-after"] === "2",
  );
  release();
  await Promise.all([first, second]);
  assert.deepEqual(order, ["first", "second"]);
  assert.equal(budget.inFlight, 0);
  // A request larger than the capacity still runs alone (its own limit is checked elsewhere).
  await budget.run(1000, () => Promise.resolve());
  assert.equal(budget.inFlight, 0);
});

Deno.test("request bodies: broken-off streams are 400, stalled ones 408, oversized 413", async () => {
  const broken = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(10));
      c.error(new Error("connection reset"));
    },
  });
  const post = (body: ReadableStream<Uint8Array>) => new Request("http://x/", { method: "POST", body });
  await assert.rejects(readBody(post(broken), 1000, 1000), (e: ApiError) => e.status === 400);
  const stalled = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new Uint8Array(10)) });
  await assert.rejects(readBody(post(stalled), 1000, 50), (e: ApiError) => e.status === 408);
  const big = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(600));
      c.enqueue(new Uint8Array(600));
      c.close();
    },
  });
  await assert.rejects(readBody(post(big), 1000, 1000), (e: ApiError) => e.status === 413);
});

Deno.test("base64: padding and alphabet are checked, never thrown past as a 500", () => {
  for (const bad of ["AB=", "A", "@@@@", "AB=C", "ABC==", "ABCD==="]) {
    assert.throws(() => fromBase64(bad, "image"), (e: ApiError) => e.status === 400, bad);
  }
  assert.deepEqual(Array.from(fromBase64("AAE=", "image")), [0, 1]);
  assert.deepEqual(Array.from(fromBase64("AAE", "image")), [0, 1]);
  assert.deepEqual(Array.from(fromBase64("data:image/png;base64,AAEC", "image")), [0, 1, 2]);
});

Deno.test("decode failures: our codes keep their status; anything else (even nothing) is 400 invalid_image", () => {
  assert.equal(decodeFailure({ code: "image_too_large", message: "big" }, "image").status, 413);
  assert.equal(decodeFailure({ code: "unsupported_type", message: "no" }, "image").status, 415);
  for (const unknown of [null, undefined, new Error("wasm trap"), { code: "EOF" }]) {
    const e = decodeFailure(unknown, "faces[2]");
    assert.equal(e.status, 400);
    assert.equal(e.code, "invalid_image");
    assert.equal(e.message, "faces[2]: the image could not be decoded");
  }
});
