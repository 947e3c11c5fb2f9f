import assert from "node:assert/strict";
import encodePng from "@jsquash/png/encode.js";
import { loadDetector } from "../runtime/deno_analyzer.ts";
import { initDenoTf } from "../runtime/deno_tf.ts";
import type { FaceDetector } from "../shared/detector.ts";
import { BUNDLED_MODELS, loadModel } from "../shared/model.ts";
import { faceInput } from "../shared/preprocess.ts";
import { createApp, type DetectorName, type Engine } from "../worker/app.ts";
import { PAGE_FILES, readPageFile } from "../worker/assets.ts";
import { inlineDecoder } from "../worker/decoding.ts";
import { greyPng, pngClaiming } from "./attack_corpus.ts";
import { ROOT } from "./helpers.ts";

await initDenoTf();
const detectors = new Map<DetectorName, Promise<FaceDetector>>();
const engine: Engine = {
  models: { large: await loadModel(BUNDLED_MODELS.large), small: await loadModel(BUNDLED_MODELS.small) },
  detector: (name) => {
    if (!detectors.has(name)) detectors.set(name, loadDetector(name));
    return detectors.get(name)!;
  },
  figures: { large: { accuracy: 0.6 }, small: { accuracy: 0.5 } },
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
  assert.equal(model.choice, "large");
  assert.equal(model.name, "mien-fer-large");
  assert.equal(model.inputSize, engine.models.large!.info.inputSize);
  assert.deepEqual(model.figures, { accuracy: 0.6 });
  const small = await (await app.request("/v1/model?model=small")).json();
  assert.equal(small.name, "mien-fer");
  assert.equal(small.inputSize, 48);
  assert.deepEqual(small.figures, { accuracy: 0.5 });
  assert.deepEqual(model.models, small.models);
  assert.deepEqual(model.models, [small.id, model.id]);
  // A server without the large model answers with the small one by default.
  const smallOnly = createApp({ ...engine, models: { small: engine.models.small } });
  assert.equal((await (await smallOnly.request("/v1/model")).json()).name, "mien-fer");
  await expectError(
    await app.request("/v1/model?model=huge"),
    422,
    "invalid_parameter",
    "^model must be one of",
  );
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

Deno.test("the OpenAPI document lists every route the app answers, and only those", async () => {
  const full = createApp(engine, { apiKey: "k", pageFile: () => Promise.resolve(null) });
  const doc = await (await full.request("/openapi.json")).json();
  const answered = new Set(
    full.routes.filter((r) => r.method !== "ALL").map((r) =>
      `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}").replace(/\/\*$/, "/{path}")}`
    ),
  );
  const documented = new Set(
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`)
    ),
  );
  assert.deepEqual([...documented].sort(), [...answered].sort());
  assert.ok(answered.has("POST /v1/analyze") && answered.has("GET /static/{path}"));
  // Every reference resolves.
  for (const [, name] of JSON.stringify(doc).matchAll(/"#\/components\/schemas\/(\w+)"/g)) {
    assert.ok(doc.components.schemas[name], name);
  }
  // The /v1 routes need the bearer key only where the server has one; limits come from the options.
  assert.deepEqual(doc.paths["/v1/analyze"].post.security, [{ bearer: [] }]);
  assert.equal(doc.components.securitySchemes.bearer.scheme, "bearer");
  const open = await (await createApp(engine, { maxCrops: 5 }).request("/openapi.json")).json();
  assert.deepEqual(open.paths["/v1/analyze"].post.security, []);
  assert.equal(open.paths["/v1/analyze"].post.responses["401"], undefined);
  assert.equal(open.components.schemas.ClassifyJson.properties.faces.maxItems, 5);
});

Deno.test("query and body parameters: the document's bounds and choices are what the server enforces", async () => {
  const doc = await (await app.request("/openapi.json")).json();
  // An empty image passes the parameter checks and then fails to decode: 400 invalid_image.
  const send = (path: string, name: string, value: unknown, asField: boolean) =>
    asField
      ? post(path, JSON.stringify({ image: "", [name]: value }), { "content-type": "application/json" })
      : post(`${path}?${name}=${encodeURIComponent(String(value))}`, new Uint8Array(), {
        "content-type": "image/jpeg",
      });
  let checked = 0;
  for (const path of ["/v1/analyze", "/v1/explain"]) {
    for (const { name, schema } of doc.paths[path].post.parameters) {
      assert.deepEqual(
        doc.components.schemas[`${path === "/v1/analyze" ? "Analyze" : "Explain"}Json`].properties[name],
        schema,
      );
      const { minimum: min, maximum: max } = schema;
      const accepted: unknown[] = schema.type === "integer"
        ? [min, max]
        : schema.type === "boolean"
        ? [true, false]
        : schema.enum;
      const rejected: unknown[] = schema.type === "integer"
        ? [min - 1, max + 1, min + 0.5, "x"]
        : schema.type === "boolean"
        ? []
        : ["x"];
      for (const asField of [false, true]) {
        for (const value of accepted) {
          await expectError(await send(path, name, value, asField), 400, "invalid_image");
        }
        for (const value of rejected) {
          const res = await send(path, name, value, asField);
          await expectError(res, 422, "invalid_parameter", `^${name} must be `);
        }
        checked++;
      }
      if (schema.type === "integer") {
        const res = await send(path, name, max + 1, false);
        assert.equal((await res.json()).error.message, `${name} must be an integer from ${min} to ${max}`);
      }
    }
  }
  assert.equal(checked, 2 * 9);
  await expectError(await send("/v1/explain", "crop", 5, true), 422, "invalid_parameter", "crop");
});

Deno.test("analyze takes a raw JPEG, multipart and base64 JSON alike", async () => {
  const raw = await (await post("/v1/analyze?maxFaces=2", photo, { "content-type": "image/jpeg" })).json();
  assert.equal(raw.width, 1920);
  assert.equal(raw.faces.length, 2);
  assert.equal(Object.keys(raw.faces[0].expression.scores).length, 7);
  assert.equal(raw.detector, "blazeface");
  assert.equal(raw.model, `mien-fer-large@${engine.models.large!.info.version}`);
  const small =
    await (await post("/v1/analyze?maxFaces=2&model=small", photo, { "content-type": "image/jpeg" }))
      .json();
  assert.equal(small.model, `mien-fer@${engine.models.small!.info.version}`);
  assert.deepEqual(
    small.faces.map((f: { box: unknown }) => f.box),
    raw.faces.map((f: { box: unknown }) => f.box),
  );
  const form = new FormData();
  form.append("image", new Blob([photo], { type: "image/jpeg" }), "p.jpg");
  form.append("maxFaces", "3");
  const multi = await (await post("/v1/analyze", form)).json();
  assert.equal(multi.faces.length, 3);
  // A parameter in the query wins over the same one as a body field.
  assert.equal((await (await post("/v1/analyze?maxFaces=1", form)).json()).faces.length, 1);
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
  // The body is read (and refused) before the parameters are checked.
  await expectError(
    await post("/v1/analyze?maxFaces=0", "hello", { "content-type": "text/plain" }),
    415,
    "unsupported_type",
  );
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
  const refused = await post("/v1/analyze", bomb, { "content-type": "image/png" });
  assert.equal(
    (await refused.clone().json()).error.message,
    "image: 100000x100000 is 10,000,000,000 pixels; the limit is 40,000,000 pixels",
  );
  await expectError(refused, 413, "image_too_large");
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
  const body = JSON.stringify({ faces: crops.map(b64) });
  const res = await post("/v1/classify", body, { "content-type": "application/json" });
  const { results, model } = await res.json();
  assert.equal(results.length, 2);
  // By default the large model answers, on the crop resampled to its input size.
  assert.equal(model, `mien-fer-large@${engine.models.large!.info.version}`);
  const grey = { data: Uint8Array.from(fixtures.inputs[3]), width: 48, height: 48, channels: 1 as const };
  const [expected] = await engine.models.large!.classify([
    faceInput(grey, engine.models.large!.info.inputSize),
  ]);
  assert.ok(Math.abs(results[1].scores.happiness - expected[3]) < 1e-4);
  // With model=small, the small model answers.
  const small = await (await post("/v1/classify?model=small", body, { "content-type": "application/json" }))
    .json();
  assert.equal(small.model, `mien-fer@${engine.models.small!.info.version}`);
  const face = Float32Array.from(fixtures.inputs[3], (v: number) => v / 255);
  const [single] = await engine.models.small!.classify([face]);
  assert.ok(Math.abs(small.results[1].scores.happiness - single[3]) < 1e-4);
  // model= as a JSON field works too.
  const asField = JSON.stringify({ faces: crops.map(b64), model: "small" });
  const fielded = await (await post("/v1/classify", asField, { "content-type": "application/json" })).json();
  assert.equal(fielded.model, small.model);
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
  // Crops past the request's pixel budget: the crop that crosses it is named once, with the real limit.
  const big = b64(pngClaiming(6000, 6000));
  const over = await post("/v1/classify", JSON.stringify({ faces: [b64(crops[0]), big, big] }), {
    "content-type": "application/json",
  });
  assert.equal(over.status, 413);
  assert.equal(
    (await over.json()).error.message,
    "faces[2] (6000x6000) brings the crops to 72,002,304 pixels; the limit is 40,000,000 pixels for all " +
      "crops of a request together",
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
  assert.equal(json.model, `mien-fer-large@${engine.models.large!.info.version}`);
  const small = await (await post("/v1/explain?model=small", photo, { "content-type": "image/jpeg" })).json();
  assert.equal(small.model, `mien-fer@${engine.models.small!.info.version}`);
  assert.deepEqual(small.box, json.box);
  // Faces are numbered from 1, left to right, in /v1/analyze and /v1/explain alike.
  const { faces } = await (await post("/v1/analyze", photo, { "content-type": "image/jpeg" })).json();
  assert.ok(faces.length >= 2);
  assert.deepEqual(
    faces.map((f: { number: number }) => f.number),
    faces.map((_: unknown, i: number) => i + 1),
  );
  const centres = faces.map((f: { box: { x: number; width: number } }) => f.box.x + f.box.width / 2);
  assert.deepEqual(centres, [...centres].sort((a, b) => a - b));
  for (const face of [1, faces.length]) {
    const explained = await (await post(`/v1/explain?face=${face}`, photo, { "content-type": "image/jpeg" }))
      .json();
    assert.deepEqual(explained.box, faces[face - 1].box, `face ${face}`);
  }
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
  const locked = createApp(engine, { apiKey: "s3cret" });
  const missing = await locked.request("/v1/model");
  assert.equal(missing.headers.get("www-authenticate"), 'Bearer realm="mien"');
  await expectError(missing, 401, "unauthorized");
  for (
    const header of ["Bearer nope", "Bearer s3cre", "Bearer s3crett", "Basic czNjcmV0", "Bearer s3 cret"]
  ) {
    const wrong = await locked.request("/v1/model", { headers: { authorization: header } });
    assert.match(wrong.headers.get("www-authenticate")!, /^Bearer error=/, header);
    await expectError(wrong, 401, "unauthorized");
  }
  await expectError(
    await locked.request("/v1/analyze", {
      method: "POST",
      body: photo,
      headers: { "content-type": "image/jpeg" },
    }),
    401,
    "unauthorized",
  );
  assert.throws(() => createApp(engine, { apiKey: "has space" }), /API key \(MIEN_API_KEY\) may hold only/);
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

Deno.test("every row of the API reference's error table is what the server answers", async () => {
  const reference = await Deno.readTextFile(`${ROOT}docs/API.md`);
  const rows = [...reference.matchAll(/^\| (\d{3}) +\| ([^|]+)\|/gm)].map(([, status, cell]) => ({
    status: Number(status),
    codes: [...cell.matchAll(/`([a-z][a-z0-9_]*)`/g)].map((m) => m[1]),
    headers: [...cell.matchAll(/`([A-Z][A-Za-z-]+)`/g)].map((m) => m[1]),
  }));
  const jpeg = { "content-type": "image/jpeg" };
  const png = { "content-type": "image/png" };
  const json = { "content-type": "application/json" };
  const postTo = (to: ReturnType<typeof createApp>, path: string, body: BodyInit, headers = jpeg) =>
    to.request(path, { method: "POST", body, headers });
  const stream = (start: (c: ReadableStreamDefaultController<Uint8Array>) => void) =>
    new ReadableStream<Uint8Array>({ start });
  const bomb = (await cropPng(0)).slice();
  new DataView(bomb.buffer).setUint32(16, 100000);
  new DataView(bomb.buffer).setUint32(20, 100000);
  const blank = await greyPng(200);
  const crop = b64(await cropPng(0));
  /** Two requests against one slot and no queue: the second is refused while the first decodes. */
  const busy = async () => {
    let admitted!: () => void;
    let open!: () => void;
    const inside = new Promise<void>((r) => (admitted = r));
    const gate = new Promise<void>((r) => (open = r));
    const inline = inlineDecoder();
    const held = createApp(engine, {
      maxInFlightPixels: 1,
      maxWaiting: 0,
      decoder: { ...inline, open: (...args) => (admitted(), gate.then(() => inline.open(...args))) },
    });
    const first = postTo(held, "/v1/analyze", photo);
    await inside;
    const second = await postTo(held, "/v1/analyze", photo);
    open();
    assert.equal((await first).status, 200);
    return second;
  };
  /** An engine fault: logged by the server (quietly here), answered without detail. */
  const internal = async () => {
    const log = console.error;
    console.error = () => {};
    try {
      const broken = createApp({ ...engine, detector: () => Promise.reject(new Error("disk gone")) });
      return await postTo(broken, "/v1/analyze", photo);
    } finally {
      console.error = log;
    }
  };
  const answers: Record<string, () => Response | Promise<Response>> = {
    invalid_image: () => post("/v1/analyze", photo.slice(0, 2000), jpeg),
    missing_image: () => post("/v1/analyze", "{}", json),
    missing_faces: () => post("/v1/classify", "{}", json),
    too_many_faces: () => post("/v1/classify", JSON.stringify({ faces: new Array(33).fill(crop) }), json),
    invalid_base64: () => post("/v1/classify", JSON.stringify({ faces: [crop, "%%"] }), json),
    invalid_json: () => post("/v1/analyze", "{", json),
    invalid_multipart: () =>
      post("/v1/analyze", "not multipart", { "content-type": "multipart/form-data; boundary=x" }),
    body_incomplete: () =>
      post(
        "/v1/analyze",
        stream((c) => {
          c.enqueue(new Uint8Array(10));
          c.error(new Error("connection reset"));
        }),
        jpeg,
      ),
    unauthorized: () => createApp(engine, { apiKey: "k" }).request("/v1/model"),
    not_found: () => app.request("/nope"),
    method_not_allowed: () => app.request("/v1/classify"),
    body_timeout: () =>
      postTo(
        createApp(engine, { bodyTimeoutMs: 50 }),
        "/v1/analyze",
        stream((c) => c.enqueue(new Uint8Array(10))),
      ),
    body_too_large: () => postTo(createApp(engine, { maxBodyBytes: 1000 }), "/v1/analyze", photo),
    image_too_large: () => post("/v1/analyze", bomb, png),
    unsupported_type: () => post("/v1/analyze", "hello", jpeg),
    invalid_parameter: () => post("/v1/analyze?minFaceSize=4", photo, jpeg),
    no_face: () => post("/v1/explain", blank as Uint8Array<ArrayBuffer>, png),
    no_such_face: () => post("/v1/explain?face=40", photo, jpeg),
    busy,
    internal,
  };
  // decode_timeout takes an image that needs over 15 s to decode: not sent here.
  const listed = rows.flatMap((r) => r.codes).filter((code) => code !== "decode_timeout");
  assert.deepEqual(listed.toSorted(), Object.keys(answers).toSorted());
  for (const { status, codes, headers } of rows) {
    for (const code of codes.filter((c) => c in answers)) {
      const res = await answers[code]();
      for (const header of headers) assert.ok(res.headers.get(header), `${code}: ${header}`);
      await expectError(res, status, code);
    }
  }
});
