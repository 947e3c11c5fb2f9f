/**
 * `deno task bench:edge`: the API under the edge profile (MIEN_PROFILE=edge), as an edge platform
 * would hold it: one process, V8's heap capped at 512 MB, no decode workers. Measures the server's CPU
 * time per request (classify 1 and 8 crops, analyze a 640x480 photo), the longest /healthz wait while
 * the largest requests the profile takes run (the event loop's longest block), the body flood, and the
 * server's peak memory; prints each against its target.
 */
import { parseArgs } from "node:util";
import encodeJpeg from "@jsquash/jpeg/encode.js";
import { decodeImage, readHeader } from "../shared/decode.ts";
import { enlargedPhoto, greyPng, jpegManyScans, junkUploads, multipart } from "../tests/attack_corpus.ts";
import { DEPLOY_PERMISSIONS, startServer } from "../tests/server_helpers.ts";
import { testJpeg } from "./api_bench.ts";
import { flood, pollHealthz, processCpuMs, processMemory, quantile } from "./stats.ts";
import { PROFILES } from "../worker/profiles.ts";

const HELP = `Usage: deno task bench:edge [--requests N] [--json FILE]

Start the API with MIEN_PROFILE=edge under a 512 MB V8 heap cap and no decode workers; print its CPU
ms per request (classify 1 and 8 crops, analyze a 640x480 photo), the longest /healthz wait while the
largest requests the profile takes run (4 MP photos, 100-scan JPEGs, explain pictures) and while 40
uploads at its body limit arrive at once, and its peak memory, each against its target.

  --requests N   requests per CPU measurement (default 50)
  --json FILE    also write the figures as JSON
  -h, --help     this text`;

/** The heap cap: Deno Deploy gives an isolate 512 MB. */
const HEAP_MB = 512;
const JPEG = { "content-type": "image/jpeg" };

async function post(base: string, path: string, body: Uint8Array, headers: Record<string, string>) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    body: body as Uint8Array<ArrayBuffer>,
    headers,
    signal: AbortSignal.timeout(60_000),
  });
  await res.arrayBuffer();
  return res.status;
}

/** A 96x96 face crop (as the extension sends) from the middle of the 640x480 test photo, as a JPEG. */
async function faceCropJpeg(photo: Uint8Array): Promise<Uint8Array> {
  const frame = await decodeImage(photo);
  const data = new Uint8ClampedArray(96 * 96 * 4);
  for (let y = 0; y < 96; y++) {
    const from = ((y * 2 + 120) * frame.width + 240) * 4;
    for (let x = 0; x < 96; x++) {
      data.set(frame.data.subarray(from + x * 8, from + x * 8 + 4), (y * 96 + x) * 4);
    }
  }
  return new Uint8Array(await encodeJpeg({ data, width: 96, height: 96 } as ImageData, { quality: 90 }));
}

/** "WxH" of an encoded image. */
function size(bytes: Uint8Array): string {
  const { width, height } = readHeader(bytes);
  return `${width}x${height}`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      requests: { type: "string", default: "50" },
      json: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  const requests = Number(values.requests);
  if (!(requests >= 1)) {
    console.error("bench:edge: --requests must be >= 1");
    Deno.exit(2);
  }
  const edge = PROFILES.edge;
  const photo = await testJpeg();
  const crop = await faceCropJpeg(photo);
  const crops8 = multipart(
    Array.from({ length: 8 }, () => ["face", "f.jpg", crop] as [string, string, Uint8Array]),
  );
  const sample = await Deno.readFile(
    new URL("../node_modules/@vladmandic/face-api/demo/sample1.jpg", import.meta.url),
  );
  const side = Math.floor(Math.sqrt(edge.maxPixels));
  const largest = {
    photo: await enlargedPhoto(sample, edge.maxPixels),
    scans: jpegManyScans(side, side, 100),
    png: await greyPng(side),
  };
  const server = await startServer({ MIEN_PROFILE: "edge" }, [
    "run",
    `--v8-flags=--max-heap-size=${HEAP_MB}`,
    ...DEPLOY_PERMISSIONS,
    new URL("../worker/main.ts", import.meta.url).pathname,
  ]);
  const figures: Record<string, unknown> = { heapCapMb: HEAP_MB, requests };
  const lines: string[] = [];
  const report = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  try {
    for (let i = 0; i < 10; i++) {
      await post(server.base, "/v1/analyze", photo, JPEG);
      await post(server.base, "/v1/classify", crops8.body, { "content-type": crops8.type });
    }
    const cpu: Record<string, number> = {};
    for (
      const [name, path, body, headers, target] of [
        ["classify 1 crop (96x96 JPEG)", "/v1/classify", crop, JPEG, 50],
        ["classify 8 crops", "/v1/classify", crops8.body, { "content-type": crops8.type }, null],
        ["analyze a 640x480 photo", "/v1/analyze", photo, JPEG, 200],
      ] as const
    ) {
      const before = processCpuMs(server.pid);
      for (let i = 0; i < requests; i++) {
        const status = await post(server.base, path, body, headers);
        if (status !== 200) throw new Error(`${name}: ${status}`);
      }
      cpu[name] = (processCpuMs(server.pid) - before) / requests;
      report(
        `${name}: ${cpu[name].toFixed(1)} ms CPU per request` +
          (target ? ` (target <= ${target} ms: ${cpu[name] <= target ? "met" : "NOT met"})` : ""),
      );
    }
    figures.cpuMsPerRequest = cpu;

    const blocks: Record<string, unknown> = {};
    for (
      const [name, path, body] of [
        [`analyze a ${size(largest.photo)} photo`, "/v1/analyze", largest.photo],
        ["explain?crop=true on it", "/v1/explain?crop=true", largest.photo],
        [`analyze a ${side}x${side} JPEG of 100 scans`, "/v1/analyze", largest.scans],
        [`analyze a ${side}x${side} PNG`, "/v1/analyze", largest.png],
      ] as const
    ) {
      const statuses: number[] = [];
      const client = async () => {
        for (let i = 0; i < 3; i++) statuses.push(await post(server.base, path, body, JPEG));
      };
      const polls = await pollHealthz(server.base, Promise.all([client(), client()]));
      const ms = polls.map((p) => p.ms);
      blocks[name] = { statuses, p99: quantile(ms, 0.99), max: Math.max(...ms) };
      report(
        `2 clients x 3 ${name}: ${[...new Set(statuses)].join("/")}; /healthz p99 ${
          quantile(ms, 0.99).toFixed(0)
        } ms, max ${Math.max(...ms).toFixed(0)} ms (target: no block over 1000 ms: ${
          Math.max(...ms) <= 1000 ? "met" : "NOT met"
        })`,
      );
    }
    figures.largest = blocks;

    const uploads = junkUploads(edge.maxBodyBytes - 4096);
    const sent = flood(`${server.base}/v1/analyze`, uploads, 40);
    const polls = await pollHealthz(server.base, sent);
    const floodStatuses = await sent;
    const ms = polls.map((p) => p.ms);
    const alive = server.alive();
    report(
      `40 concurrent ${(edge.maxBodyBytes / 2 ** 20).toFixed(0)} MB junk uploads: ${
        JSON.stringify(floodStatuses)
      }; /healthz p99 ${quantile(ms, 0.99).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms; ` +
        `server alive (no out-of-memory): ${alive}`,
    );
    figures.flood = { statuses: floodStatuses, p99: quantile(ms, 0.99), max: Math.max(...ms), alive };

    const { rss, peak } = processMemory(server.pid);
    report(
      `memory: peak RSS ${(peak / 2 ** 20).toFixed(0)} MB, now ${(rss / 2 ** 20).toFixed(0)} MB ` +
        `(V8 heap capped at ${HEAP_MB} MB; Deno Deploy's isolate limit is 512 MB)`,
    );
    figures.memory = { peak, rss };
  } finally {
    await server.stop();
  }
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(figures, null, 2) + "\n");
}
