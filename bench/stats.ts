/**
 * Small helpers the benchmarks share: quantiles of timings, a process's memory and CPU time, /healthz
 * polling, upload floods.
 */

/** The q-quantile (0..1) of `values`, by rank (the sorted value at floor(q·n)). */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Resident and peak resident memory of a process, in bytes (Linux /proc: VmRSS, VmHWM). */
export function processMemory(pid: number): { rss: number; peak: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (key: string) => Number(status.match(new RegExp(`${key}:\\s+(\\d+)`))?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/** CPU time a process has used so far (user + system, all its threads), in ms (Linux /proc, 10 ms ticks). */
export function processCpuMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime (fields 14, 15 of the line)
}

/** Poll `${base}/healthz` every 20 ms until `until` settles: each poll's latency in ms and its status. */
export async function pollHealthz(base: string, until: Promise<unknown>) {
  let done = false;
  until.then(() => (done = true), () => (done = true));
  const polls: { ms: number; status: number }[] = [];
  while (!done) {
    const start = performance.now();
    let status = 0;
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      status = res.status;
    } catch {
      // no answer within 30 s: status 0
    }
    polls.push({ ms: performance.now() - start, status });
    await new Promise((r) => setTimeout(r, 20));
  }
  return polls;
}

/**
 * POST `count` uploads at once to `url` from a worker isolate of this process (bench/flood_worker.ts),
 * so that sending them does not delay this thread's measurements; resolves to their statuses (0: no
 * answer or a broken connection).
 */
export function flood(
  url: string,
  uploads: { body: Uint8Array; type: string }[],
  count: number,
): Promise<Record<string, number>> {
  const worker = new Worker(new URL("./flood_worker.ts", import.meta.url), { type: "module" });
  return new Promise<Record<string, number>>((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`flood worker: ${event.message}`));
    };
    worker.postMessage({ url, uploads, count });
  }).finally(() => worker.terminate());
}
