/**
 * Admission control: bounds on the pixels being decoded or analysed at once (with a short queue that
 * a request leaves with 503 busy when it cannot start in time) and on the request-body bytes being
 * held at once.
 */
import { ApiError } from "./errors.ts";

/** When a request's image work must start (else 503 busy) and end (else 422), as performance.now() times. */
export interface Deadline {
  startBy: number;
  finishBy: number;
  /** finishBy less the moment the deadline was set, for messages. */
  limitMs: number;
  /** Set once the request's first piece of image work has started: later pieces answer to finishBy only. */
  started?: boolean;
}

/** A deadline for a request whose body has just arrived: start within `queueMs`, finish within `workMs`. */
export function deadlineFromNow(queueMs: number, workMs: number): Deadline {
  const now = performance.now();
  return { startBy: now + queueMs, finishBy: now + workMs, limitMs: workMs };
}

/** 503 busy with Retry-After, saying what the server is busy with. */
export function busy(what: string, retryAfterS = 1): ApiError {
  return new ApiError(503, "busy", `the server is busy with ${what}; retry shortly`, {
    "retry-after": String(retryAfterS),
  });
}

/** Options for createPixelBudget. */
export interface BudgetOptions {
  /** Pixels in flight at once across all requests. */
  capacity: number;
  /** Requests that may wait for room; past this, 503 with Retry-After. */
  maxWaiting: number;
  /** Seconds suggested in Retry-After. */
  retryAfterS?: number;
}

/**
 * A counting semaphore over pixels: `run(pixels, work, deadline)` waits for room, runs, then frees its
 * pixels. A request that finds the queue full, or is still waiting at its deadline's startBy, gets
 * 503 busy.
 */
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
  const refuse = () => busy("other images", options.retryAfterS);
  return {
    /** Pixels currently admitted. */
    get inFlight() {
      return inFlight;
    },
    /** Run `work` once `pixels` (clamped to the capacity) fit; 503 busy when the queue is full or time runs out. */
    async run<T>(pixels: number, work: () => Promise<T>, deadline?: Deadline): Promise<T> {
      const need = Math.min(Math.max(1, pixels), options.capacity);
      if (inFlight + need <= options.capacity && waiting.length === 0) inFlight += need;
      else if (waiting.length >= options.maxWaiting) throw refuse();
      else {
        await new Promise<void>((go, fail) => {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const entry = { pixels: need, go: () => (clearTimeout(timer), go()) };
          if (deadline && !deadline.started) {
            timer = setTimeout(() => {
              waiting.splice(waiting.indexOf(entry), 1);
              fail(refuse());
            }, Math.max(0, deadline.startBy - performance.now()));
          }
          waiting.push(entry);
        });
      }
      try {
        return await work();
      } finally {
        release(need);
      }
    },
  };
}

/** The bytes of request bodies held at once: taken as they arrive, given back when the request ends. */
export interface ByteBudget {
  /** Take `bytes`, or throw 503 busy when they do not fit. */
  take(bytes: number): void;
  /** Give `bytes` back. */
  give(bytes: number): void;
  /** Bytes taken now. */
  readonly held: number;
}

/** A ByteBudget of `capacity` bytes; what does not fit is refused at once (503 busy with Retry-After). */
export function createByteBudget(capacity: number, retryAfterS = 1): ByteBudget {
  let held = 0;
  return {
    take(bytes) {
      if (held + bytes > capacity) throw busy("other uploads", retryAfterS);
      held += bytes;
    },
    give(bytes) {
      held -= bytes;
    },
    get held() {
      return held;
    },
  };
}
