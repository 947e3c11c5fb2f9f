/** Small helpers the benchmarks share: quantiles of timings, a process's memory. */

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
