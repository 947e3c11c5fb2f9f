import assert from "node:assert/strict";
import encodePng from "@jsquash/png/encode.js";
import { loadDetector } from "../runtime/deno_analyzer.ts";
import { initDenoTf } from "../runtime/deno_tf.ts";
import type { FaceDetector } from "../shared/detector.ts";
import { loadModel } from "../shared/model.ts";
import { constantTimeEqual, createApp, type DetectorName, type Engine } from "../worker/app.ts";
import { PAGE_FILES, readPageFile } from "../worker/assets.ts";
import { ROOT } from "./helpers.ts";

await initDenoTf();
const detectors = new Map<DetectorName, Promise<FaceDetector>>();
const engine: Engine = {
  model: await loadModel(),
  detector: (name) => {
    if (!detectors.has(name)) detectors.set(name, loadDetector(name));
    return detectors.get(name)!;
  },
  figures: { accuracy: 0.5 },
};
const app = createApp(engine);
const photo = await Deno.readFile(`${ROOT}node_modules/@vladmandic/face-api/demo/sample1.jpg`);
const fixtures = JSON.parse(await Deno.readTextFile(`${ROOT}tests/fixtures/parity.json`));

async function cropPng(index: number): Promise<Uint8Array<ArrayBuffer>> {
  const rgba = new Uint8ClampedArray(48 * 48 * 4);
  (fixtures.inputs[index] as number[]).forEach((v, p) => rgba.set([v, v, v, 255], p * 4));
  return new Uint8Array(
    await encodePng({ data: rgba, width: 48, height: 48, colorSpace: "srgb" } as ImageData),
  );
}
function b64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 4096) binary += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return btoa(binary);
}
const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
  app.request(path, { method: "POST", body, headers });

async function expectError(res: Response, status: number, code: string, field?: string) {
  assert.equal(res.status, status);
  const body = await res.json();
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, "string");
  if (field) assert.match(body.error.message, new RegExp(field.replace(/[[\]]/g, "\\$&")));
  assert.doesNotMatch(body.error.message, /at .*\.ts:\d+/);
}

Deno.test("healthz, model and openapi describe the service", async () => {
  assert.equal((await app.request("/healthz")).status, 200);
  const model = await (await app.request("/v1/model")).json();
  assert.equal(model.labels.length, 7);
  assert.equal(model.inputSize, 48);
  assert.deepEqual(model.figures, { accuracy: 0.5 });
  const doc = await (await app.request("/openapi.json")).json();
  assert.equal(doc.openapi, "3.1.0");
  for (const path of ["/v1/analyze", "/v1/classify", "/v1/explain", "/v1/model", "/healthz"]) {
    assert.ok(doc.paths[path], path);
  }
  await expectError(await app.request("/nope"), 404, "not_found");
  // A known route with a wrong method: 405 naming the methods it takes.
  const wrong = await app.request("/v1/analyze", { method: "GET" });
  assert.equal(wrong.headers.get("allow"), "POST, OPTIONS");
  await expectError(wrong, 405, "method_not_allowed", "GET is not allowed on /v1/analyze");
  const put = await app.request("/healthz", { method: "PUT" });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get("allow"), "GET, OPTIONS");
  assert.equal((await app.request("/healthz", { method: "HEAD" })).status, 200);
});

Deno.test("analyze takes a raw JPEG, multipart and base64 JSON alike", async () => {
  const raw = await (await post("/v1/analyze?maxFaces=2", photo, { "content-type": "image/jpeg" })).json();
  assert.equal(raw.width, 1920);
  assert.equal(raw.faces.length, 2);
  assert.equal(Object.keys(raw.faces[0].expression.scores).length, 7);
  assert.equal(raw.detector, "blazeface");
  const form = new FormData();
  form.append("image", new Blob([photo], { type: "image/jpeg" }), "p.jpg");
  form.append("maxFaces", "3");
  const multi = await (await post("/v1/analyze", form)).json();
  assert.equal(multi.faces.length, 3);
  const json = await post("/v1/analyze", JSON.stringify({ image: b64(photo), detector: "haar" }), {
    "content-type": "application/json",
  });
  assert.equal(json.status, 200);
  assert.equal((await json.json()).detector, "haar");
});

Deno.test("analyze refuses bad input with the right status and code", async () => {
  const jpeg = { "content-type": "image/jpeg" };
  await expectError(await post("/v1/analyze?maxFaces=0", photo, jpeg), 422, "invalid_parameter", "maxFaces");
  await expectError(await post("/v1/analyze?detector=x", photo, jpeg), 422, "invalid_parameter", "detector");
  await expectError(await post("/v1/analyze", new Uint8Array(), jpeg), 400, "invalid_image");
  await expectError(await post("/v1/analyze", photo.slice(0, 2000), jpeg), 400, "invalid_image");
  await expectError(await post("/v1/analyze", "hello", jpeg), 415, "unsupported_type");
  await expectError(
    await post("/v1/analyze", "hello", { "content-type": "text/plain" }),
    415,
    "unsupported_type",
  );
  await expectError(
    await post("/v1/analyze", "{", { "content-type": "application/json" }),
    400,
    "invalid_json",
  );
  await expectError(
    await post("/v1/analyze", '{"image":"@@"}', { "content-type": "application/json" }),
    400,
    "invalid_base64",
    "image",
  );
  await expectError(
    await post("/v1/analyze", "{}", { "content-type": "application/json" }),
    400,
    "missing_image",
  );
  // A PNG whose header claims 100000 x 100000 pixels is refused before any decoding.
  const bomb = (await cropPng(0)).slice();
  new DataView(bomb.buffer).setUint32(16, 100000);
  new DataView(bomb.buffer).setUint32(20, 100000);
  await expectError(await post("/v1/analyze", bomb, { "content-type": "image/png" }), 413, "image_too_large");
  const small = createApp(engine, { maxBodyBytes: 1000 });
  await expectError(
    await small.request("/v1/analyze", { method: "POST", body: photo, headers: jpeg }),
    413,
    "body_too_large",
  );
  // The service still answers normally afterwards.
  assert.equal((await post("/v1/analyze", photo, jpeg)).status, 200);
});

Deno.test("classify returns one result per crop, in order, and checks the batch", async () => {
  const crops = await Promise.all([0, 3].map(cropPng));
  const res = await post("/v1/classify", JSON.stringify({ faces: crops.map(b64) }), {
    "content-type": "application/json",
  });
  const { results } = await res.json();
  assert.equal(results.length, 2);
  const [single] = await engine.model.classify([
    Float32Array.from(fixtures.inputs[3], (v: number) => v / 255),
  ]);
  assert.ok(Math.abs(results[1].scores.happiness - single[3]) < 1e-4);
  const form = new FormData();
  for (const c of crops) form.append("face", new Blob([c], { type: "image/png" }), "f.png");
  assert.equal((await (await post("/v1/classify", form)).json()).results.length, 2);
  const many = JSON.stringify({ faces: new Array(33).fill(b64(crops[0])) });
  await expectError(
    await post("/v1/classify", many, { "content-type": "application/json" }),
    400,
    "too_many_faces",
  );
  const bad = JSON.stringify({ faces: [b64(crops[0]), "%%%"] });
  await expectError(
    await post("/v1/classify", bad, { "content-type": "application/json" }),
    400,
    "invalid_base64",
    "faces[1]",
  );
});

Deno.test("explain answers PNG or JSON and checks face and class", async () => {
  const crop = await cropPng(3);
  const pic = await post("/v1/explain?crop=true", crop, { "content-type": "image/png", accept: "image/png" });
  assert.equal(pic.headers.get("content-type"), "image/png");
  assert.deepEqual([...new Uint8Array(await pic.arrayBuffer()).slice(1, 4)], [0x50, 0x4e, 0x47]);
  const json = await (await post("/v1/explain?class=anger", photo, { "content-type": "image/jpeg" })).json();
  assert.equal(json.label, "anger");
  assert.ok(json.box && json.image.length > 1000);
  await expectError(
    await post("/v1/explain?face=40", photo, { "content-type": "image/jpeg" }),
    422,
    "no_such_face",
  );
  // A photo without a face says so, and what to try.
  const blank = new Uint8Array(
    await encodePng(
      {
        data: new Uint8ClampedArray(200 * 200 * 4).fill(200),
        width: 200,
        height: 200,
        colorSpace: "srgb",
      } as ImageData,
    ),
  );
  await expectError(
    await post("/v1/explain", blank, { "content-type": "image/png" }),
    422,
    "no_face",
    "no face found",
  );
  await expectError(
    await post("/v1/explain?class=joy", photo, { "content-type": "image/jpeg" }),
    422,
    "invalid_parameter",
    "class",
  );
});

Deno.test("API key and CORS", async () => {
  assert.ok(constantTimeEqual("abc", "abc"));
  assert.ok(!constantTimeEqual("abc", "abd") && !constantTimeEqual("abc", "ab"));
  const locked = createApp(engine, { apiKey: "s3cret" });
  await expectError(await locked.request("/v1/model"), 401, "unauthorized");
  await expectError(
    await locked.request("/v1/model", { headers: { authorization: "Bearer nope" } }),
    401,
    "unauthorized",
  );
  assert.equal(
    (await locked.request("/v1/model", { headers: { authorization: "Bearer s3cret" } })).status,
    200,
  );
  assert.equal((await locked.request("/healthz")).status, 200);
  const ext = await app.request("/v1/model", { headers: { origin: "chrome-extension://abcdef" } });
  assert.equal(ext.headers.get("access-control-allow-origin"), "chrome-extension://abcdef");
  const other = await app.request("/v1/model", { headers: { origin: "https://example.org" } });
  assert.equal(other.headers.get("access-control-allow-origin"), null);
});

Deno.test("a real server on 127.0.0.1 answers /v1/analyze", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  const res = await fetch(`http://127.0.0.1:${server.addr.port}/v1/analyze`, {
    method: "POST",
    body: photo,
    headers: { "content-type": "image/jpeg" },
  });
  assert.equal(res.status, 200);
  assert.ok((await res.json()).faces.length >= 3);
  await server.shutdown();
});

Deno.test("GET / serves the page and only the listed static files", async () => {
  const served = createApp(engine, {
    pageFile: (path) =>
      Promise.resolve(
        path === "index.html" ? { body: new TextEncoder().encode("<p>hi"), type: "text/html" } : null,
      ),
    apiKey: "k",
  });
  const page = await served.request("/");
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type")!, /text\/html/);
  assert.equal(await page.text(), "<p>hi");
  await expectError(await served.request("/static/page.js"), 404, "not_found", "build:web");
  await expectError(await served.request("/static/../deno.json"), 404, "not_found");
  await expectError(await app.request("/"), 404, "not_found"); // no page without pageFile
});

Deno.test("the page's file table resolves every file it lists", async () => {
  // Every file but the ones `deno task build:web` writes into dist/.
  for (const path of Object.keys(PAGE_FILES).filter((p) => !PAGE_FILES[p][0].startsWith("dist/"))) {
    const file = await readPageFile(path);
    assert.ok(file && file.body.length > 0, path);
  }
  assert.equal(await readPageFile("../deno.json"), null);
  assert.equal(await readPageFile("models/mien-fer/../../deno.json"), null);
});
