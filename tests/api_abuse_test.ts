/**
 * The API under attack, as a real server process on loopback: every crafted case and a seeded
 * mutation fuzzer get a 4xx (or 200 for a mutation that still decodes), within a hang limit, with an
 * error message of ours; the server stays up and analyses a valid photo the same way after each.
 */
import assert from "node:assert/strict";
import { attackCases, mutate, prng, seedImages } from "./attack_corpus.ts";
import { ROOT } from "./helpers.ts";
import { pollHealthz } from "../bench/stats.ts";
import { rawExchange, startServer } from "./server_helpers.ts";

const PHOTO = await Deno.readFile(`${ROOT}node_modules/@vladmandic/face-api/demo/sample1.jpg`);
const HANG_LIMIT_MS = 20_000;
const DECODER_TEXT = /memory access|RuntimeError|wasm|unreachable|Cannot read|undefined|at file:/i;

/** POST with a hang limit; returns status, JSON body and the elapsed ms. */
async function post(base: string, path: string, body: Uint8Array, headers: Record<string, string>) {
  const start = performance.now();
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    body: body as Uint8Array<ArrayBuffer>,
    headers,
    signal: AbortSignal.timeout(HANG_LIMIT_MS),
  });
  const json = await res.json();
  return { status: res.status, json, ms: performance.now() - start, headers: res.headers };
}

/** Poll /healthz until `until` settles: the latencies, every poll answered 200. */
async function pollHealth(base: string, until: Promise<unknown>): Promise<number[]> {
  const polls = await pollHealthz(base, until);
  assert.deepEqual(polls.filter((p) => p.status !== 200), []);
  return polls.map((p) => p.ms);
}

Deno.test({
  name:
    "API abuse: crafted cases and 300 fuzzed images get 4xx/200, never 5xx; the server stays up and correct",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const server = await startServer({ MIEN_BODY_TIMEOUT_MS: "1500" });
    try {
      const analyzePhoto = async () => {
        const r = await post(server.base, "/v1/analyze", PHOTO, { "content-type": "image/jpeg" });
        assert.equal(r.status, 200, JSON.stringify(r.json));
        return r.json.faces.map((f: { expression: { label: string; scores: Record<string, number> } }) =>
          f.expression
        );
      };
      const reference = await analyzePhoto();
      assert.ok(reference.length >= 1, "the reference photo has faces");
      const stillCorrect = async (after: string) => {
        assert.ok(server.alive(), `server died after ${after}`);
        const health = await fetch(`${server.base}/healthz`, { signal: AbortSignal.timeout(HANG_LIMIT_MS) });
        assert.equal(health.status, 200, `healthz after ${after}`);
        await health.body?.cancel();
        const now = await analyzePhoto();
        assert.equal(now.length, reference.length, `faces after ${after}`);
        now.forEach((e: { label: string; scores: Record<string, number> }, i: number) => {
          assert.equal(e.label, reference[i].label, `label after ${after}`);
          for (const k of Object.keys(e.scores)) {
            assert.ok(Math.abs(e.scores[k] - reference[i].scores[k]) < 1e-4, `scores after ${after}`);
          }
        });
      };

      const jpeg = (await seedImages()).jpeg;
      for (const attack of await attackCases(jpeg)) {
        await t.step(attack.name, async () => {
          const r = await post(server.base, attack.path, attack.body, attack.headers);
          assert.ok(
            attack.expect.includes(r.status),
            `${attack.name}: ${r.status} ${JSON.stringify(r.json)}`,
          );
          assert.equal(typeof r.json.error?.code, "string");
          assert.doesNotMatch(r.json.error.message, DECODER_TEXT);
          await stillCorrect(attack.name);
        });
      }

      await t.step("a body that stops arriving gets 408 after the body timeout", async () => {
        const head =
          `POST /v1/analyze HTTP/1.1\r\nhost: x\r\ncontent-type: image/jpeg\r\ncontent-length: 5000\r\n\r\n`;
        const reply = await rawExchange(server.port, new TextEncoder().encode(head + "abc"), 8000);
        assert.match(reply, /^HTTP\/1\.1 408/);
        assert.match(reply, /body_timeout/);
        await stillCorrect("a stalled body");
      });

      await t.step(
        "a client that declares more body than it sends and hangs up does not hurt the server",
        async () => {
          for (let i = 0; i < 20; i++) {
            const head =
              `POST /v1/analyze HTTP/1.1\r\nhost: x\r\ncontent-type: image/jpeg\r\ncontent-length: 100000\r\n\r\n`;
            await rawExchange(server.port, new TextEncoder().encode(head + "\xff\xd8\xff"), 0, true);
          }
          await new Promise((r) => setTimeout(r, 300));
          await stillCorrect("20 broken-off bodies");
        },
      );

      await t.step("seeded mutation fuzzer over JPEG, PNG, WebP, BMP and TIFF", async () => {
        const random = prng(20261129);
        const seeds = Object.entries(await seedImages());
        const counts: Record<number, number> = {};
        for (let i = 0; i < 300; i++) {
          const [format, bytes] = seeds[i % seeds.length];
          const body = mutate(bytes, random);
          const r = await post(server.base, "/v1/analyze", body, {
            "content-type": "application/octet-stream",
          });
          counts[r.status] = (counts[r.status] ?? 0) + 1;
          assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `${format} #${i}: ${r.status}`);
          if (r.status !== 200) assert.doesNotMatch(r.json.error.message, DECODER_TEXT, `${format} #${i}`);
          if (i % 25 === 24) await stillCorrect(`fuzz case ${i}`);
        }
        console.log(`fuzz statuses: ${JSON.stringify(counts)}`);
        assert.equal(Object.keys(counts).filter((s) => Number(s) >= 500).length, 0);
      });
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name: "API: /healthz keeps answering while a maximum-size classify decodes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { greyPng, multipart } = await import("./attack_corpus.ts");
    const server = await startServer();
    try {
      const side = Math.floor(Math.sqrt(40_000_000 / 32)); // 32 crops, 40 MP together: the request budget
      const crop = await greyPng(side);
      const form = multipart(
        Array.from({ length: 32 }, () => ["face", "f.png", crop] as [string, string, Uint8Array]),
      );
      const classify = post(server.base, "/v1/classify", form.body, { "content-type": form.type });
      const health = await pollHealth(server.base, classify);
      const r = await classify;
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.results.length, 32);
      assert.ok(health.length >= 2, "healthz was polled during the classify");
      // Not a timing target (that is bench:abuse's): healthz is answered while decoding, not after it.
      assert.ok(Math.max(...health) < r.ms, `healthz max ${Math.max(...health)} ms vs classify ${r.ms} ms`);
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "API: behind slow decodes a small image is answered (200, or 503 busy) before they end, not queued behind them",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { jpegManyScans } = await import("./attack_corpus.ts");
    const server = await startServer({ MIEN_DECODE_WORKERS: "1", MIEN_QUEUE_TIMEOUT_MS: "300" });
    try {
      // The 1 MB, 80,000-scan attack is refused from its header, at once.
      for (let i = 0; i < 6; i++) {
        const r = await post(server.base, "/v1/analyze", jpegManyScans(1000, 1000, 80_000), {
          "content-type": "image/jpeg",
        });
        assert.equal(r.status, 415, JSON.stringify(r.json));
      }
      // Six legal but slow progressive JPEGs (16 MP in 100 scans) for one worker, then a small JPEG.
      const slow = jpegManyScans(4000, 4000, 100);
      const answered: { status: number; at: number; retry: string | null }[] = [];
      const start = performance.now();
      const heavy = Array.from(
        { length: 6 },
        () =>
          post(server.base, "/v1/analyze", slow, { "content-type": "image/jpeg" }).then((r) => {
            answered.push({
              status: r.status,
              at: performance.now() - start,
              retry: r.headers.get("retry-after"),
            });
            return r;
          }),
      );
      await new Promise((r) => setTimeout(r, 100));
      const small = await post(server.base, "/v1/analyze", PHOTO, { "content-type": "image/jpeg" });
      const smallAt = performance.now() - start;
      await Promise.all(heavy);
      assert.ok([200, 503].includes(small.status), JSON.stringify(small.json));
      if (small.status === 503) {
        assert.equal(small.json.error.code, "busy");
        assert.ok(small.headers.get("retry-after"));
      }
      const decoded = answered.filter((a) => a.status === 200);
      assert.ok(decoded.length >= 1, JSON.stringify(answered));
      assert.ok(
        smallAt < Math.max(...decoded.map((a) => a.at)),
        `small at ${smallAt} ms: ${JSON.stringify(answered)}`,
      );
      // Those that could not start within the queue time were told to come back.
      for (const a of answered.filter((a) => a.status !== 200)) {
        assert.equal(a.status, 503);
        assert.ok(a.retry);
      }
      assert.equal(
        (await post(server.base, "/v1/analyze", PHOTO, { "content-type": "image/jpeg" })).status,
        200,
      );
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name: "API: /healthz keeps answering while two clients loop maximum-size analyze and explain?crop=true",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { enlargedPhoto } = await import("./attack_corpus.ts");
    // A small version: the server's pixel limit at 12 MP, and a photo of that size.
    const server = await startServer({ MIEN_MAX_PIXELS: "12000000" });
    try {
      const photo = await enlargedPhoto(PHOTO, 12_000_000);
      for (const path of ["/v1/analyze", "/v1/explain?crop=true"]) {
        const durations: number[] = [];
        const client = async () => {
          for (let i = 0; i < 2; i++) {
            const r = await post(server.base, path, photo, { "content-type": "image/jpeg" });
            assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.json)}`);
            if (path === "/v1/analyze") assert.ok(r.json.faces.length >= 1);
            durations.push(r.ms);
          }
        };
        const health = await pollHealth(server.base, Promise.all([client(), client()]));
        assert.ok(health.length >= 4, `${path}: /healthz was polled during the work`);
        // Not a timing target (bench:abuse has those): no /healthz waited as long as a whole request.
        assert.ok(Math.max(...health) < Math.min(...durations), `${path}: ${Math.max(...health)} ms`);
      }
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "API: a flood of 8 MB uploads past the body budget is refused 503 busy; the server stays up and correct",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { junkUploads } = await import("./attack_corpus.ts");
    const server = await startServer({ MIEN_MAX_BODY_BYTES_IN_FLIGHT: String(16 * 2 ** 20) });
    try {
      const uploads = junkUploads(8 * 2 ** 20 - 4096);
      const results = await Promise.all(Array.from({ length: 12 }, async (_, i) => {
        const { body, type } = uploads[i % uploads.length];
        using client = Deno.createHttpClient({});
        const res = await fetch(`${server.base}/v1/analyze`, {
          method: "POST",
          body: body as Uint8Array<ArrayBuffer>,
          headers: { "content-type": type },
          client,
          signal: AbortSignal.timeout(HANG_LIMIT_MS),
        });
        return { status: res.status, retry: res.headers.get("retry-after"), json: await res.json() };
      }));
      const busy = results.filter((r) => r.status === 503);
      assert.ok(busy.length >= 1, JSON.stringify(results.map((r) => r.status)));
      for (const r of busy) {
        assert.equal(r.json.error.code, "busy");
        assert.ok(r.retry);
      }
      for (const r of results.filter((r) => r.status !== 503)) assert.ok([400, 415].includes(r.status));
      assert.ok(server.alive());
      const r = await post(server.base, "/v1/analyze", PHOTO, { "content-type": "image/jpeg" });
      assert.equal(r.status, 200);
    } finally {
      await server.stop();
    }
  },
});
