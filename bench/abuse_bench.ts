/**
 * `deno task bench:abuse`: the API server under hostile input, on loopback. Sends every crafted case
 * and N seeded fuzz mutations, then maximum-size classify calls while /healthz is polled; prints the
 * status counts, 5xx count, /healthz latency during the heavy calls, and the server's memory (warm,
 * peak, settled after the attack).
 */
import { parseArgs } from "node:util";
import { attackCases, greyPng, multipart, mutate, prng, seedImages } from "../tests/attack_corpus.ts";
import { startServer } from "../tests/server_helpers.ts";
import { processMemory, quantile } from "./stats.ts";

const HELP = `Usage: deno task bench:abuse [--fuzz N] [--heavy N] [--json FILE]

Start the API (worker/main.ts) on 127.0.0.1 and attack it with the crafted corpus and a seeded
mutation fuzzer; print 4xx/200/5xx counts, /healthz latency while maximum-size classify calls run,
and the server's RSS (warm, peak, settled).

  --fuzz N     fuzzed uploads (default 1000)
  --heavy N    maximum-size classify calls (32 crops, 40 MP together; default 5)
  --json FILE  also write the figures as JSON
  -h, --help   this text`;

const HANG_LIMIT_MS = 30_000;

async function post(base: string, path: string, body: Uint8Array, headers: Record<string, string>) {
  try {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      body: body as Uint8Array<ArrayBuffer>,
      headers,
      signal: AbortSignal.timeout(HANG_LIMIT_MS),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0; // no answer within the hang limit, or the connection died
  }
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      fuzz: { type: "string", default: "1000" },
      heavy: { type: "string", default: "5" },
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
  if (!(fuzz >= 0 && heavy >= 1)) {
    console.error("bench:abuse: --fuzz must be >= 0 and --heavy >= 1");
    Deno.exit(2);
  }
  const photo = await Deno.readFile(
    new URL("../node_modules/@vladmandic/face-api/demo/sample1.jpg", import.meta.url),
  );
  const server = await startServer();
  const statuses: Record<string, number> = {};
  const count = (status: number) => (statuses[status] = (statuses[status] ?? 0) + 1);
  try {
    for (let i = 0; i < 20; i++) {
      await post(server.base, "/v1/analyze", photo, { "content-type": "image/jpeg" });
    }
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

    const random = prng(20261129);
    const formats = Object.values(seeds);
    const start = performance.now();
    for (let i = 0; i < fuzz; i++) {
      count(
        await post(server.base, "/v1/analyze", mutate(formats[i % formats.length], random), {
          "content-type": "application/octet-stream",
        }),
      );
    }
    console.log(
      `fuzz: ${fuzz} mutations in ${((performance.now() - start) / 1000).toFixed(1)} s; RSS ${
        mb(server.rss())
      }`,
    );

    const side = Math.floor(Math.sqrt(40_000_000 / 32));
    const crop = await greyPng(side);
    const form = multipart(
      Array.from({ length: 32 }, () => ["face", "f.png", crop] as [string, string, Uint8Array]),
    );
    const health: number[] = [];
    const heavyMs: number[] = [];
    for (let i = 0; i < heavy; i++) {
      const began = performance.now();
      let done = false;
      const call = post(server.base, "/v1/classify", form.body, { "content-type": form.type }).then((s) => {
        done = true;
        heavyMs.push(performance.now() - began);
        return s;
      });
      while (!done) {
        const t = performance.now();
        const res = await fetch(`${server.base}/healthz`, { signal: AbortSignal.timeout(HANG_LIMIT_MS) });
        await res.arrayBuffer();
        health.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 10));
      }
      count(await call);
    }
    console.log(
      `maximum-size classify (32 x ${side}x${side} PNG, 40 MP): median ${
        quantile(heavyMs, 0.5).toFixed(0)
      } ms; ` +
        `/healthz meanwhile: ${health.length} polls, p50 ${quantile(health, 0.5).toFixed(1)} ms, ` +
        `p99 ${quantile(health, 0.99).toFixed(1)} ms; RSS ${mb(server.rss())}`,
    );

    for (let i = 0; i < 20; i++) {
      await post(server.base, "/v1/analyze", photo, { "content-type": "image/jpeg" });
    }
    await new Promise((r) => setTimeout(r, 3000));
    const settled = server.rss();
    const peak = processMemory(server.pid).peak;
    const fivexx = Object.entries(statuses).filter(([s]) => Number(s) >= 500 || Number(s) === 0)
      .reduce((n, [, c]) => n + c, 0);
    console.log(`statuses: ${JSON.stringify(statuses)} (0 = no answer within ${HANG_LIMIT_MS / 1000} s)`);
    console.log(`5xx or no answer: ${fivexx}; server alive: ${server.alive()}`);
    console.log(
      `RSS: warm ${mb(warm)}, peak ${mb(peak)}, settled ${mb(settled)} (${
        ((settled / warm - 1) * 100).toFixed(1)
      }% vs warm)`,
    );
    if (values.json) {
      const figures = {
        corpus: { cases: cases.length, asExpected: cases.length - wrong },
        fuzz,
        statuses,
        fiveXX: fivexx,
        healthz: { polls: health.length, p50: quantile(health, 0.5), p99: quantile(health, 0.99) },
        heavyClassifyMs: quantile(heavyMs, 0.5),
        rss: { warm, peak, settled },
      };
      await Deno.writeTextFile(values.json, JSON.stringify(figures, null, 2) + "\n");
    }
  } finally {
    await server.stop();
  }
}
