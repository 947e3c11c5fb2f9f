/**
 * `deno task bench:abuse`: the API server under hostile input, on loopback. Sends every crafted case
 * and N seeded fuzz mutations; runs maximum-size classify calls, then two clients looping maximum-size
 * analyze and explain?crop=true calls on a 40 MP photo, while /healthz is polled; sends six many-scan
 * JPEGs (the 80,000-scan attack, then legal 40 MP ones of 100 scans) and a small JPEG 2 s later; then,
 * on a fresh server, 40 concurrent 8 MB junk uploads. Prints status counts, 5xx count, /healthz latency
 * in each heavy phase, how long the small JPEG waited, and the server's memory.
 */
import { parseArgs } from "node:util";
import encodeJpeg from "@jsquash/jpeg/encode.js";
import { readHeader } from "../shared/decode.ts";
import {
  attackCases,
  enlargedPhoto,
  greyPng,
  jpegManyScans,
  junkUploads,
  multipart,
  mutate,
  prng,
  seedImages,
} from "../tests/attack_corpus.ts";
import { startServer } from "../tests/server_helpers.ts";
import { flood, pollHealthz, processMemory, quantile } from "./stats.ts";

const HELP = `Usage: deno task bench:abuse [--fuzz N] [--heavy N] [--loops N] [--json FILE]

Start the API (worker/main.ts) on 127.0.0.1 and attack it with the crafted corpus and a seeded
mutation fuzzer; print 4xx/200/5xx counts, /healthz latency while maximum-size classify calls run
and while two clients loop maximum-size analyze and explain?crop=true calls (40 MP), how long a
small JPEG waits behind six many-scan JPEGs, the server's RSS (warm, peak, settled), and, on a fresh
server, /healthz latency and RSS during and 5 s after 40 concurrent 8 MB junk uploads.

  --fuzz N     fuzzed uploads (default 1000)
  --heavy N    maximum-size classify calls (32 crops, 40 MP together; default 5)
  --loops N    calls per client in each maximum-size loop (default 3)
  --json FILE  also write the figures as JSON
  -h, --help   this text`;

const HANG_LIMIT_MS = 60_000;
const JPEG = { "content-type": "image/jpeg" };

/** POST and wait for the whole answer: its status (0: none within the hang limit) and how long it took. */
async function send(base: string, path: string, body: Uint8Array, headers: Record<string, string>) {
  const start = performance.now();
  try {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      body: body as Uint8Array<ArrayBuffer>,
      headers,
      signal: AbortSignal.timeout(HANG_LIMIT_MS),
    });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - start };
  } catch {
    return { status: 0, ms: performance.now() - start };
  }
}

const post = async (base: string, path: string, body: Uint8Array, headers: Record<string, string>) =>
  (await send(base, path, body, headers)).status;

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** p50, p99 and max of /healthz latencies, and how many polls. */
function healthFigures(polls: { ms: number; status: number }[]) {
  const ms = polls.map((p) => p.ms);
  return {
    polls: polls.length,
    failed: polls.filter((p) => p.status !== 200).length,
    p50: quantile(ms, 0.5),
    p99: quantile(ms, 0.99),
    max: Math.max(...ms),
  };
}
const showHealth = (h: ReturnType<typeof healthFigures>) =>
  `/healthz ${h.polls} polls, p50 ${h.p50.toFixed(1)} ms, p99 ${h.p99.toFixed(0)} ms, max ${
    h.max.toFixed(0)
  } ms` + (h.failed ? `, ${h.failed} not 200` : "");

/** Six copies of `attack` at once, then `small` 2 s later: how long the small one waited, and every status. */
async function starvation(base: string, attack: Uint8Array, small: Uint8Array) {
  const attacks = Array.from({ length: 6 }, () => send(base, "/v1/analyze", attack, JPEG));
  await sleep(2000);
  const answer = await send(base, "/v1/analyze", small, JPEG);
  const statuses: Record<string, number> = {};
  for (const { status } of await Promise.all(attacks)) statuses[status] = (statuses[status] ?? 0) + 1;
  return { smallMs: answer.ms, smallStatus: answer.status, attackStatuses: statuses };
}

/** Two clients each sending `photo` to `path` `loops` times in a row, /healthz polled meanwhile. */
async function maximumLoop(base: string, path: string, photo: Uint8Array, loops: number) {
  const calls: { status: number; ms: number }[] = [];
  const client = async () => {
    for (let i = 0; i < loops; i++) calls.push(await send(base, path, photo, JPEG));
  };
  const polls = await pollHealthz(base, Promise.all([client(), client()]));
  return { health: healthFigures(polls), calls };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      fuzz: { type: "string", default: "1000" },
      heavy: { type: "string", default: "5" },
      loops: { type: "string", default: "3" },
      json: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  const fuzz = Number(values.fuzz);
  const heavy = Number(values.heavy);
  const loops = Number(values.loops);
  if (!(fuzz >= 0 && heavy >= 1 && loops >= 1)) {
    console.error("bench:abuse: --fuzz must be >= 0, --heavy and --loops >= 1");
    Deno.exit(2);
  }
  const photo = await Deno.readFile(
    new URL("../node_modules/@vladmandic/face-api/demo/sample1.jpg", import.meta.url),
  );
  const server = await startServer();
  const statuses: Record<string, number> = {};
  const count = (status: number) => (statuses[status] = (statuses[status] ?? 0) + 1);
  const figures: Record<string, unknown> = {};
  try {
    for (let i = 0; i < 20; i++) await post(server.base, "/v1/analyze", photo, JPEG);
    const warm = server.rss();
    console.log(`warm RSS (after 20 photos): ${mb(warm)}`);

    const seeds = await seedImages();
    const cases = await attackCases(seeds.jpeg);
    let wrong = 0;
    for (const attack of cases) {
      const status = await post(server.base, attack.path, attack.body, attack.headers);
      count(status);
      if (!attack.expect.includes(status)) {
        wrong++;
        console.log(`  unexpected ${status} for: ${attack.name}`);
      }
    }
    console.log(
      `crafted corpus: ${cases.length} cases, ${cases.length - wrong} answered as expected; RSS ${
        mb(server.rss())
      }`,
    );
    figures.corpus = { cases: cases.length, asExpected: cases.length - wrong };

    const random = prng(20261129);
    const formats = Object.values(seeds);
    const start = performance.now();
    const fuzzStatuses: Record<string, number> = {};
    for (let i = 0; i < fuzz; i++) {
      const status = await post(server.base, "/v1/analyze", mutate(formats[i % formats.length], random), {
        "content-type": "application/octet-stream",
      });
      count(status);
      fuzzStatuses[status] = (fuzzStatuses[status] ?? 0) + 1;
    }
    console.log(
      `fuzz: ${fuzz} mutations in ${((performance.now() - start) / 1000).toFixed(1)} s: ${
        JSON.stringify(fuzzStatuses)
      }; RSS ${mb(server.rss())}`,
    );
    figures.fuzz = { uploads: fuzz, statuses: fuzzStatuses };

    const side = Math.floor(Math.sqrt(40_000_000 / 32));
    const crop = await greyPng(side);
    const form = multipart(
      Array.from({ length: 32 }, () => ["face", "f.png", crop] as [string, string, Uint8Array]),
    );
    const classifyPolls: { ms: number; status: number }[] = [];
    const heavyMs: number[] = [];
    for (let i = 0; i < heavy; i++) {
      const call = send(server.base, "/v1/classify", form.body, { "content-type": form.type });
      classifyPolls.push(...await pollHealthz(server.base, call));
      const { status, ms } = await call;
      count(status);
      heavyMs.push(ms);
    }
    const classifyHealth = healthFigures(classifyPolls);
    console.log(
      `maximum-size classify (32 x ${side}x${side} PNG, 40 MP): median ${
        quantile(heavyMs, 0.5).toFixed(0)
      } ms; ${showHealth(classifyHealth)}; RSS ${mb(server.rss())}`,
    );
    figures.classify = { ms: quantile(heavyMs, 0.5), healthz: classifyHealth };

    const big = await enlargedPhoto(photo, 40_000_000);
    const { width, height } = readHeader(big);
    const bigSize = `${width}x${height}`;
    for (const path of ["/v1/analyze", "/v1/explain?crop=true"]) {
      const { health, calls } = await maximumLoop(server.base, path, big, loops);
      calls.forEach((c) => count(c.status));
      const callStatuses = [...new Set(calls.map((c) => c.status))].join("/");
      console.log(
        `${path} on a ${bigSize} photo (${mb(big.length)}), 2 clients x ${loops}: ${callStatuses}, median ${
          quantile(calls.map((c) => c.ms), 0.5).toFixed(0)
        } ms; ${showHealth(health)}; RSS ${mb(server.rss())}`,
      );
      figures[path.includes("explain") ? "explainLoop" : "analyzeLoop"] = {
        photo: bigSize,
        statuses: callStatuses,
        ms: quantile(calls.map((c) => c.ms), 0.5),
        healthz: health,
      };
    }

    const small = new Uint8Array(
      await encodeJpeg(
        { data: new Uint8ClampedArray(16 * 16 * 4).fill(128), width: 16, height: 16 } as ImageData,
        { quality: 90 },
      ),
    );
    for (
      const [name, attack] of [
        ["80,000-scan 1000x1000 JPEG (1 MB)", jpegManyScans(1000, 1000, 80_000)],
        ["100-scan 6324x6324 JPEG (legal, 40 MP)", jpegManyScans(6324, 6324, 100)],
      ] as const
    ) {
      const result = await starvation(server.base, attack, small);
      Object.entries(result.attackStatuses).forEach(([s, n]) => (statuses[s] = (statuses[s] ?? 0) + n));
      count(result.smallStatus);
      console.log(
        `6 x ${name}, then a 16x16 JPEG 2 s later: the small one answered ${result.smallStatus} in ${
          result.smallMs.toFixed(0)
        } ms; the six: ${JSON.stringify(result.attackStatuses)}`,
      );
      figures[name.startsWith("80") ? "manyScans" : "legalScans"] = result;
    }

    for (let i = 0; i < 20; i++) await post(server.base, "/v1/analyze", photo, JPEG);
    await sleep(3000);
    const settled = server.rss();
    const peak = processMemory(server.pid).peak;
    console.log(
      `RSS: warm ${mb(warm)}, peak ${mb(peak)}, settled ${mb(settled)} (${
        ((settled / warm - 1) * 100).toFixed(1)
      }% vs warm)`,
    );
    figures.rss = { warm, peak, settled };
  } finally {
    await server.stop();
  }

  // The body flood, on a fresh server: its memory afterwards is the flood's doing alone.
  const fresh = await startServer();
  try {
    await post(fresh.base, "/v1/analyze", photo, JPEG);
    const before = fresh.rss();
    const uploads = junkUploads(8 * 2 ** 20 - 4096);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, fresh.rss())), 50);
    const sent = flood(`${fresh.base}/v1/analyze`, uploads, 40);
    const health = healthFigures(await pollHealthz(fresh.base, sent));
    const floodStatuses = await sent;
    clearInterval(sampler);
    Object.entries(floodStatuses).forEach(([s, n]) => (statuses[s] = (statuses[s] ?? 0) + n));
    await sleep(5000);
    const after = fresh.rss();
    console.log(
      `40 concurrent 8 MB junk uploads (raw, multipart, JSON in turn) on a fresh server: ${
        JSON.stringify(floodStatuses)
      }; ${showHealth(health)}; RSS before ${mb(before)}, peak ${mb(peak)}, 5 s after ${mb(after)}`,
    );
    figures.flood = { statuses: floodStatuses, healthz: health, rss: { before, peak, after } };
    console.log(`server alive after the flood: ${fresh.alive()}`);
  } finally {
    await fresh.stop();
  }

  const fivexx = Object.entries(statuses).filter(([s]) => Number(s) >= 500 || Number(s) === 0)
    .reduce((n, [, c]) => n + c, 0);
  const busy = statuses[503] ?? 0;
  console.log(`statuses: ${JSON.stringify(statuses)} (0 = no answer within ${HANG_LIMIT_MS / 1000} s)`);
  console.log(`5xx or no answer: ${fivexx}, of which 503 busy (by design, with Retry-After): ${busy}`);
  if (values.json) {
    await Deno.writeTextFile(
      values.json,
      JSON.stringify({ ...figures, statuses, fiveXX: fivexx, busy }, null, 2) + "\n",
    );
  }
}
