/**
 * The worker as deployed: `deno serve --parallel` of worker/serve.ts with deployment permissions only
 * (network, environment, reading the repository), every isolate answering.
 */
import assert from "node:assert/strict";
import { ROOT } from "./helpers.ts";
import { DEPLOY_PERMISSIONS, startServer } from "./server_helpers.ts";

const PHOTO = await Deno.readFile(`${ROOT}node_modules/@vladmandic/face-api/demo/sample1.jpg`);

Deno.test({
  name: "deno serve --parallel with deployment permissions: every isolate answers the API",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startServer({}, [
      "serve",
      ...DEPLOY_PERMISSIONS,
      "--parallel",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      `${ROOT}worker/serve.ts`,
    ]);
    try {
      const instances = new Set<string>();
      // New connections each time (the kernel spreads connections, not requests, over the isolates).
      for (let i = 0; i < 16 && instances.size < 2; i++) {
        await Promise.all([0, 1].map(async () => {
          using client = Deno.createHttpClient({});
          const res = await fetch(`${server.base}/v1/analyze`, {
            method: "POST",
            body: PHOTO,
            headers: { "content-type": "image/jpeg" },
            client,
            signal: AbortSignal.timeout(30_000),
          });
          assert.equal(res.status, 200);
          assert.ok((await res.json()).faces.length >= 1);
          instances.add(res.headers.get("x-mien-instance")!);
        }));
      }
      assert.ok(instances.size >= 2, `answers came from ${[...instances].join(", ")}`);
      const bad = await fetch(`${server.base}/v1/analyze`, { method: "POST", body: "not an image" });
      assert.equal(bad.status, 415);
      await bad.body?.cancel();
    } finally {
      await server.stop();
    }
  },
});
