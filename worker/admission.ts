/** Admission control: a bound on the pixels being decoded or analysed at once, with a short queue. */
import { ApiError } from "./errors.ts";

/** Options for createPixelBudget. */
export interface BudgetOptions {
  /** Pixels in flight at once across all requests. */
  capacity: number;
  /** Requests that may wait for room; past this, 503 with Retry-After. */
  maxWaiting: number;
  /** Seconds suggested in Retry-After. */
  retryAfterS?: number;
}

/** A counting semaphore over pixels: `run(pixels, work)` waits for room, runs, then frees its pixels. */
export function createPixelBudget(options: BudgetOptions) {
  let inFlight = 0;
  const waiting: { pixels: number; go(): void }[] = [];
  const release = (pixels: number) => {
    inFlight -= pixels;
    while (waiting.length && inFlight + waiting[0].pixels <= options.capacity) {
      const next = waiting.shift()!;
      inFlight += next.pixels;
      next.go();
    }
  };
  return {
    /** Pixels currently admitted. */
    get inFlight() {
      return inFlight;
    },
    /** Run `work` once `pixels` (clamped to the capacity) fit; 503 busy when the queue is full. */
    async run<T>(pixels: number, work: () => Promise<T>): Promise<T> {
      const need = Math.min(Math.max(1, pixels), options.capacity);
      if (inFlight + need <= options.capacity && waiting.length === 0) inFlight += need;
      else if (waiting.length >= options.maxWaiting) {
        const retry = String(options.retryAfterS ?? 1);
        throw new ApiError(503, "busy", "the server is busy with other images; retry shortly", {
          "retry-after": retry,
        });
      } else await new Promise<void>((go) => waiting.push({ pixels: need, go }));
      try {
        return await work();
      } finally {
        release(need);
      }
    },
  };
}
