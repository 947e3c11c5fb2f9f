/** Image decoding for the API: in a pool of worker isolates (Deno), or inline where workers are missing. */
import { decodeImage } from "../shared/decode.ts";
import { faceInput, type Frame } from "../shared/preprocess.ts";
import { ApiError, decodeFailure } from "./errors.ts";

/** Decodes request images under a pixel budget; failures are ApiErrors naming `field`. */
export interface Decoder {
  /** The whole image as an RGBA frame. */
  frame(bytes: Uint8Array, maxPixels: number, field: string): Promise<Frame>;
  /** The whole image as the model's size x size grey input (a face crop). */
  faceInput(bytes: Uint8Array, maxPixels: number, size: number, field: string): Promise<Float32Array>;
  /** Stop the pool's workers. */
  close(): void;
}

/** Decoding on the calling thread, with a fresh wasm decoder after any failure (shared/decode.ts). */
export function inlineDecoder(): Decoder {
  const decode = async (bytes: Uint8Array, maxPixels: number, field: string) => {
    try {
      return await decodeImage(bytes, { maxPixels });
    } catch (error) {
      throw decodeFailure(error, field);
    }
  };
  return {
    frame: decode,
    faceInput: async (bytes, maxPixels, size, field) =>
      faceInput(await decode(bytes, maxPixels, field), size),
    close() {},
  };
}

/** Options for workerDecoder. */
export interface PoolOptions {
  /** Worker isolates (default 2). */
  size?: number;
  /** A decode taking longer is abandoned (its worker terminated) with 422 decode_timeout; default 15 s. */
  timeoutMs?: number;
  /** A worker that decoded more than this many pixels since it started is replaced once idle; default 8 MP. */
  heavyPixels?: number;
  /** How long such a worker must be idle first; default 2 s. */
  idleMs?: number;
}

interface Job {
  id: number;
  bytes: Uint8Array;
  maxPixels: number;
  faceSize?: number;
  field: string;
  resolve(value: Frame | Float32Array): void;
  reject(error: unknown): void;
}

interface Reply {
  id: number;
  pixels?: number;
  frame?: Frame;
  input?: Float32Array;
  error?: { code?: string; message?: string };
}

/**
 * A pool of decoding workers, each taking one job at a time. Inside a worker, decodeImage gives a
 * format a fresh wasm decoder after any failure or large image (shared/decode.ts); a worker whose job
 * times out is terminated and replaced, and one that has decoded many pixels is replaced once it has
 * been idle a while, so the memory those images grew goes back to the system. Workers are never torn
 * down right after a job: ending an isolate while V8 still validates a freshly compiled wasm module
 * aborts the whole process.
 */
export function workerDecoder(options: PoolOptions = {}): Decoder {
  const size = options.size ?? 2;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const heavyPixels = options.heavyPixels ?? 8_000_000;
  const idleMs = options.idleMs ?? 2_000;
  const decoded = new WeakMap<Worker, number>();
  const reapers = new WeakMap<Worker, ReturnType<typeof setTimeout>>();
  const url = new URL("./decode_worker.ts", import.meta.url);
  const idle: Worker[] = [];
  const queue: Job[] = [];
  let live = 0;
  let nextId = 1;
  let closed = false;

  const spawn = () => {
    live++;
    return new Worker(url, { type: "module" });
  };
  const retire = (worker: Worker) => {
    worker.terminate();
    live--;
  };
  const pump = () => {
    while (queue.length && (idle.length || live < size) && !closed) {
      const worker = idle.pop() ?? spawn();
      clearTimeout(reapers.get(worker));
      run(worker, queue.shift()!);
    }
  };
  /** Park a worker; one that has decoded many pixels is replaced if it stays idle for idleMs. */
  const park = (worker: Worker) => {
    idle.push(worker);
    if ((decoded.get(worker) ?? 0) <= heavyPixels) return;
    reapers.set(
      worker,
      setTimeout(() => {
        const at = idle.indexOf(worker);
        if (at < 0) return;
        idle.splice(at, 1);
        retire(worker);
      }, idleMs),
    );
  };
  const run = (worker: Worker, job: Job) => {
    let settled = false;
    const finish = (recycle: boolean) => {
      settled = true;
      clearTimeout(timer);
      worker.onmessage = worker.onerror = null;
      if (recycle || closed) retire(worker);
      else park(worker);
      pump();
    };
    const timer = setTimeout(() => {
      if (settled) return;
      finish(true);
      job.reject(
        new ApiError(422, "decode_timeout", `${job.field}: the image took over ${timeoutMs} ms to decode`),
      );
    }, timeoutMs);
    worker.onmessage = (event: MessageEvent<Reply>) => {
      const reply = event.data;
      if (settled || reply.id !== job.id) return;
      decoded.set(worker, (decoded.get(worker) ?? 0) + (reply.pixels ?? 0));
      finish(false);
      if (reply.error) job.reject(decodeFailure(reply.error, job.field));
      else job.resolve(reply.frame ?? reply.input!);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      if (settled) return;
      finish(true);
      job.reject(decodeFailure(null, job.field));
    };
    worker.postMessage({ id: job.id, bytes: job.bytes, maxPixels: job.maxPixels, faceSize: job.faceSize });
  };
  const submit = <T>(bytes: Uint8Array, maxPixels: number, field: string, faceSize?: number) =>
    new Promise<T>((resolve, reject) => {
      if (closed) return reject(new ApiError(503, "shutting_down", "the server is shutting down"));
      queue.push({
        id: nextId++,
        bytes,
        maxPixels,
        faceSize,
        field,
        resolve: resolve as Job["resolve"],
        reject,
      });
      pump();
    });
  return {
    frame: (bytes, maxPixels, field) => submit<Frame>(bytes, maxPixels, field),
    faceInput: (bytes, maxPixels, sz, field) => submit<Float32Array>(bytes, maxPixels, field, sz),
    close() {
      closed = true;
      for (const worker of idle.splice(0)) {
        clearTimeout(reapers.get(worker));
        retire(worker);
      }
      for (const job of queue.splice(0)) {
        job.reject(new ApiError(503, "shutting_down", "the server is shutting down"));
      }
    },
  };
}
