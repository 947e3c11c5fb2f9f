/**
 * The API as a `deno serve` module (`export default { fetch }`): the same app as worker/main.ts, for
 * `deno serve --parallel` (one isolate per core) and for platforms that take a fetch handler (Deno
 * Deploy). Each isolate names itself in the `x-mien-instance` header, so a client can see which
 * answered.
 */
import { createServerApp } from "./main.ts";

const app = await createServerApp();
const instance = crypto.randomUUID().slice(0, 8);

export default {
  async fetch(request: Request): Promise<Response> {
    const response = await app.fetch(request);
    response.headers.set("x-mien-instance", instance);
    return response;
  },
} satisfies Deno.ServeDefaultExport;
