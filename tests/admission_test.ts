import assert from "node:assert/strict";
import { createByteBudget, createPixelBudget, deadlineFromNow } from "../worker/admission.ts";
import { type ApiError, decodeFailure } from "../worker/errors.ts";
import { fromBase64, parseContent, readBody } from "../worker/input.ts";
import { boundaryOf, parseMultipart } from "../worker/multipart.ts";
import { multipart } from "./attack_corpus.ts";

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

Deno.test("pixel budget: a request still waiting at its deadline's startBy leaves with 503 busy", async () => {
  const budget = createPixelBudget({ capacity: 100, maxWaiting: 8 });
  let release!: () => void;
  const held = budget.run(100, () => new Promise<void>((r) => (release = r)));
  const start = performance.now();
  await assert.rejects(
    budget.run(10, () => Promise.resolve(), deadlineFromNow(50, 1000)),
    (e: ApiError) => e.status === 503 && e.code === "busy" && e.headers["retry-after"] === "1",
  );
  assert.ok(performance.now() - start < 1000);
  // It left the queue: the next request runs as soon as there is room.
  const next = budget.run(10, () => Promise.resolve("ran"), deadlineFromNow(1000, 1000));
  release();
  assert.equal(await next, "ran");
  await held;
  assert.equal(budget.inFlight, 0);
});

Deno.test("byte budget and request bodies: a declared length is taken at once, refused (503) when it does not fit, given back on failure", async () => {
  const bodies = createByteBudget(1000);
  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    new Request("http://x/", { method: "POST", body, headers });
  const first = await readBody(post(new Uint8Array(600)), 2000, 1000, bodies);
  assert.equal(first.length, 600);
  assert.equal(bodies.held, 600);
  await assert.rejects(
    readBody(post(new Uint8Array(600)), 2000, 1000, bodies),
    (e: ApiError) => e.status === 503 && e.code === "busy" && e.headers["retry-after"] === "1",
  );
  assert.equal(bodies.held, 600, "nothing kept by the refused body");
  bodies.give(first.length);
  // A chunked body (no declared length) is counted as it arrives; one that breaks off gives its bytes back.
  const chunked = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(300));
      c.enqueue(new Uint8Array(300));
      c.close();
    },
  });
  assert.equal((await readBody(post(chunked), 2000, 1000, bodies)).length, 600);
  assert.equal(bodies.held, 600);
  bodies.give(600);
  const broken = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(500));
      c.error(new Error("reset"));
    },
  });
  await assert.rejects(readBody(post(broken), 2000, 1000, bodies), (e: ApiError) => e.status === 400);
  assert.equal(bodies.held, 0);
});

Deno.test("multipart: parts and fields as the browser sends them; malformed bodies and boundaries refused", async () => {
  const form = multipart([
    ["face", "a.png", new Uint8Array([1, 2, 3])],
    ["maxFaces", null, new TextEncoder().encode("4")],
  ]);
  const content = await parseContent(form.type, form.body);
  assert.deepEqual([...content.files.face[0]], [1, 2, 3]);
  assert.equal(content.fields.maxFaces, "4");
  assert.equal(Object.getPrototypeOf(content.fields), null);
  assert.equal(boundaryOf('multipart/form-data; boundary="a b"'), "a b");
  const invalid = (e: ApiError) => e.status === 400 && e.code === "invalid_multipart";
  for (
    const bad of [
      "multipart/form-data",
      "multipart/form-data; boundary=",
      `multipart/form-data; boundary=${"x".repeat(71)}`,
    ]
  ) {
    assert.equal(boundaryOf(bad), null, bad);
    await assert.rejects(parseContent(bad, form.body), invalid);
  }
  await assert.rejects(parseContent(form.type, form.body.slice(0, form.body.length - 30)), invalid);
});

Deno.test("multipart: linear in the body whatever the boundary (a near-miss delimiter repeated over 8 MB)", () => {
  const boundary = "a".repeat(70);
  const nearMiss = new TextEncoder().encode(`\r\n--${"a".repeat(69)}b`);
  const body = new Uint8Array(8 << 20);
  for (let i = 0; i + nearMiss.length <= body.length; i += nearMiss.length) body.set(nearMiss, i);
  const opening = new TextEncoder().encode(
    `--${boundary}\r\ncontent-disposition: form-data; name="image"; filename="a"\r\n\r\n`,
  );
  body.set(opening);
  const start = performance.now();
  assert.throws(() => parseMultipart(body, boundary), /ends inside a part/);
  // Not a timing target, a guard: a search that compared the whole delimiter at every byte would do
  // 70 comparisons at each of 8 million places.
  assert.ok(performance.now() - start < 5000, `${performance.now() - start} ms`);
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
