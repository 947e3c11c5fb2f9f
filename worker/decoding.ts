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
  /** After decoding an image over this many pixels the worker is replaced, returning its memory; default 4 MP. */
  recyclePixels?: number;
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
  frame?: Frame;
  input?: Float32Array;
  error?: { code?: string; message?: string };
}

/**
 * A pool of decoding workers. Each worker takes one job at a time; a worker whose job failed, timed
 * out or decoded a large image is terminated and replaced, so no decoder state or grown wasm memory
 * outlives the request that caused it.
 */
export function workerDecoder(options: PoolOptions = {}): Decoder {
  const size = options.size ?? 2;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const recyclePixels = options.recyclePixels ?? 4_000_000;
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
      run(idle.pop() ?? spawn(), queue.shift()!);
    }
  };
  const run = (worker: Worker, job: Job) => {
    let settled = false;
    const finish = (recycle: boolean) => {
      settled = true;
      clearTimeout(timer);
      worker.onmessage = worker.onerror = null;
      if (recycle || closed) retire(worker);
      else idle.push(worker);
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
      if (reply.error) {
        finish(true);
        job.reject(decodeFailure(reply.error, job.field));
        return;
      }
      const pixels = reply.frame ? reply.frame.width * reply.frame.height : 0;
      finish(pixels > recyclePixels || (job.faceSize !== undefined && job.bytes.length > 1 << 20));
      job.resolve(reply.frame ?? reply.input!);
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
      for (const worker of idle.splice(0)) retire(worker);
      for (const job of queue.splice(0)) {
        job.reject(new ApiError(503, "shutting_down", "the server is shutting down"));
      }
    },
  };
}
