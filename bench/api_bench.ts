/**
 * `deno task bench:api`: the edge API as a separate process on 127.0.0.1 — cold start, latency at
 * concurrency 1, throughput at 8, a 2,000-request load at 16 with RSS tracking, and a bounded fuzz; then
 * throughput at 8 again from `deno serve --parallel` (one isolate per core, as `deno task serve` runs it).
 */
import { parseArgs } from "node:util";
import { decodeImage } from "../shared/decode.ts";
import encodeJpeg from "@jsquash/jpeg/encode.js";
import { resampleGray, toGray } from "../shared/preprocess.ts";
import { processMemory, quantile } from "./stats.ts";

/** Resident and peak memory of a process, in MB. */
function memory(pid: number): { rss: number; peak: number } {
  const { rss, peak } = processMemory(pid);
  return { rss: rss / 2 ** 20, peak: peak / 2 ** 20 };
}

const HELP = `Benchmark the edge API over loopback (it starts its own server process).

Usage: deno task bench:api [--requests N] [--fuzz N] [--json FILE]

  --requests N   requests in the load phase at concurrency 16 (default 2000)
  --fuzz N       mutated/truncated images sent (default 1000)
  --json FILE    also write the figures as JSON
  -h, --help     show this help
`;

const ROOT = new URL("..", import.meta.url);

/** A 640x480 JPEG with one face: face-api's demo photo cropped around its first face. */
export async function testJpeg(): Promise<Uint8Array> {
  const src = await decodeImage(
    await Deno.readFile(new URL("node_modules/@vladmandic/face-api/demo/sample1.jpg", ROOT)),
  );
  const grey = resampleGray(
    toGray(src),
    src.width,
    src.height,
    { x: 160, y: 200, width: 720, height: 540 },
    640,
    480,
  );
  const rgba = new Uint8ClampedArray(640 * 480 * 4);
  grey.forEach((v, i) => rgba.set([v, v, v, 255], i * 4));
  return new Uint8Array(
    await encodeJpeg({ data: rgba, width: 640, height: 480, colorSpace: "srgb" } as ImageData),
  );
}

async function run(url: string, body: Uint8Array, count: number, concurrency: number) {
  const times: number[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const t = performance.now();
      const res = await fetch(url, {
        method: "POST",
        body: body as Uint8Array<ArrayBuffer>,
        headers: { "content-type": "image/jpeg" },
      });
      await res.arrayBuffer();
      times.push(performance.now() - t);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { times, statuses, seconds: (performance.now() - start) / 1000 };
}

/** A server process on a free loopback port, once it has answered a first analysis (cold start timed). */
async function startServer(args: string[], jpeg: Uint8Array) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const process = new Deno.Command(Deno.execPath(), {
    args: args.map((a) => a.replace("$PORT", String(port))),
    env: { PORT: String(port) },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch(`${base}/v1/analyze`, {
        method: "POST",
        body: jpeg as Uint8Array<ArrayBuffer>,
        headers: { "content-type": "image/jpeg" },
      });
      const body = await res.json();
      if (res.status === 200) return { base, process, coldStartMs: performance.now() - started };
      throw new Error(JSON.stringify(body));
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  process.kill();
  await process.status;
  throw new Error(`server (${args.join(" ")}) did not answer within 15 s`);
}

/** Stop a server process. */
async function stop(process: Deno.ChildProcess) {
  process.kill();
  await process.status;
}

async function main() {
  const { values } = parseArgs({
    options: {
      requests: { type: "string", default: "2000" },
      fuzz: { type: "string", default: "1000" },
      json: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return console.log(HELP);
  const jpeg = await testJpeg();
  const { base, process: server, coldStartMs: coldStart } = await startServer(
    ["run", "-A", new URL("worker/main.ts", ROOT).pathname],
    jpeg,
  );
  const report: Record<string, unknown> = {};
  try {
    console.log(`cold start (spawn -> first 200 on /v1/analyze): ${coldStart.toFixed(0)} ms`);
    report.coldStartMs = coldStart;

    await run(`${base}/v1/analyze`, jpeg, 20, 1);
    const c1 = await run(`${base}/v1/analyze`, jpeg, 200, 1);
    console.log(
      `c=1, 200 requests: p50 ${quantile(c1.times, 0.5).toFixed(1)} ms, p99 ${
        quantile(c1.times, 0.99).toFixed(1)
      } ms`,
    );
    const c8 = await run(`${base}/v1/analyze`, jpeg, 400, 8);
    console.log(
      `c=8, 400 requests: ${(400 / c8.seconds).toFixed(1)} req/s, p50 ${
        quantile(c8.times, 0.5).toFixed(1)
      } ms`,
    );
    report.c1 = { p50: quantile(c1.times, 0.5), p99: quantile(c1.times, 0.99) };
    const short = `${base}/v1/analyze?detector=blazeface-short`;
    await run(short, jpeg, 20, 1);
    const c1Short = await run(short, jpeg, 200, 1);
    console.log(
      `c=1, 200 requests, detector=blazeface-short: p50 ${quantile(c1Short.times, 0.5).toFixed(1)} ms, p99 ${
        quantile(c1Short.times, 0.99).toFixed(1)
      } ms`,
    );
    report.c1Short = { p50: quantile(c1Short.times, 0.5), p99: quantile(c1Short.times, 0.99) };
    report.c8 = { rps: 400 / c8.seconds, p50: quantile(c8.times, 0.5) };

    const total = Number(values.requests);
    const quarter = Math.floor(total / 4);
    const rss: number[] = [];
    const statuses: Record<number, number> = {};
    for (let part = 0; part < 4; part++) {
      const r = await run(`${base}/v1/analyze`, jpeg, quarter, 16);
      for (const [s, n] of Object.entries(r.statuses)) statuses[+s] = (statuses[+s] ?? 0) + n;
      rss.push(memory(server.pid).rss);
    }
    const errors = Object.entries(statuses).filter(([s]) => s !== "200").reduce((a, [, n]) => a + n, 0);
    const drift = (100 * (rss[3] - rss[0])) / rss[0];
    console.log(
      `load c=16, ${4 * quarter} requests: ${errors} errors; RSS after each quarter ${
        rss.map((r) => r.toFixed(0)).join(" / ")
      } MB ` +
        `(last vs first ${drift >= 0 ? "+" : ""}${drift.toFixed(1)}%)`,
    );
    report.load = { requests: 4 * quarter, errors, rssMb: rss, driftPct: drift };

    const fuzz = Number(values.fuzz);
    const fuzzStatuses: Record<number, number> = {};
    let seed = 1;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < fuzz; i++) {
      let body = jpeg.slice(0, Math.max(1, Math.floor(rand() * jpeg.length)));
      if (i % 2) {
        body = jpeg.slice();
        for (let k = 0; k < 20; k++) body[Math.floor(rand() * body.length)] = Math.floor(rand() * 256);
      }
      const res = await fetch(`${base}/v1/analyze`, {
        method: "POST",
        body: body as Uint8Array<ArrayBuffer>,
        headers: { "content-type": "image/jpeg" },
      });
      await res.arrayBuffer();
      fuzzStatuses[res.status] = (fuzzStatuses[res.status] ?? 0) + 1;
    }
    const up = (await fetch(`${base}/healthz`)).status === 200;
    console.log(
      `fuzz, ${fuzz} truncated/mutated JPEGs: statuses ${JSON.stringify(fuzzStatuses)}; server up: ${up}`,
    );
    const mem = memory(server.pid);
    console.log(`server peak RSS ${mem.peak.toFixed(0)} MB`);
    report.fuzz = { statuses: fuzzStatuses, up };
    report.peakRssMb = mem.peak;
  } finally {
    await stop(server);
  }
  // All cores: `deno serve --parallel`, as `deno task serve` starts it (one isolate per core).
  const parallel = await startServer(
    [
      "serve",
      "--parallel",
      "-A",
      "--host",
      "127.0.0.1",
      "--port",
      "$PORT",
      new URL("worker/serve.ts", ROOT).pathname,
    ],
    jpeg,
  );
  try {
    await run(`${parallel.base}/v1/analyze`, jpeg, 80, 8); // every isolate warm
    const all = await run(`${parallel.base}/v1/analyze`, jpeg, 400, 8);
    const rps = 400 / all.seconds;
    const one = (report.c8 as { rps: number }).rps;
    console.log(
      `c=8, 400 requests, deno serve --parallel (${navigator.hardwareConcurrency} cores): ${
        rps.toFixed(1)
      } req/s, ` +
        `p50 ${quantile(all.times, 0.5).toFixed(1)} ms; ${(rps / one).toFixed(2)}x one process`,
    );
    report.c8Parallel = { rps, p50: quantile(all.times, 0.5), vsOneProcess: rps / one };
  } finally {
    await stop(parallel.process);
  }
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(report, null, 2) + "\n");
}

if (import.meta.main) await main();
