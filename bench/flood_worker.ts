/**
 * Sends uploads all at once from its own isolate (bench/stats.ts `flood` starts it) and replies with
 * their statuses, each on its own connection.
 */
/// <reference lib="deno.worker" />

/** What to send: `count` POSTs to `url`, taking the uploads in turn. */
interface Flood {
  url: string;
  uploads: { body: Uint8Array; type: string }[];
  count: number;
}

self.onmessage = async (event: MessageEvent<Flood>) => {
  const { url, uploads, count } = event.data;
  const statuses: Record<string, number> = {};
  await Promise.all(Array.from({ length: count }, async (_, i) => {
    const { body, type } = uploads[i % uploads.length];
    using client = Deno.createHttpClient({});
    let status = 0;
    try {
      const res = await fetch(url, {
        method: "POST",
        body: body as Uint8Array<ArrayBuffer>,
        headers: { "content-type": type },
        client,
        signal: AbortSignal.timeout(60_000),
      });
      await res.arrayBuffer();
      status = res.status;
    } catch {
      // no answer, or the connection broke: 0
    }
    statuses[status] = (statuses[status] ?? 0) + 1;
  }));
  self.postMessage(statuses);
};
