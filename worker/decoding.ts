/**
 * Where the API's pixel-sized work (and the parsing of large JSON bodies) runs: a pool of worker
 * isolates (Deno), or inline where workers are missing. Either way the steps are worker/pixels.ts's.
 */
import { decodeImage } from "../shared/decode.ts";
import type { Explanation } from "../shared/explain.ts";
import type { FaceCrop } from "../shared/align.ts";
import { faceInput, type Frame } from "../shared/preprocess.ts";
import { busy, type Deadline } from "./admission.ts";
import type { DecodeRequest } from "./decode_worker.ts";
import { ApiError, decodeFailure } from "./errors.ts";
import { cropInputs, explanationPng, parseJson, preview } from "./pixels.ts";

/** One image of a request. */
export interface ImageInput {
  bytes: Uint8Array;
  /** Its pixel budget, checked from its header before decoding. */
  maxPixels: number;
  /** Its name in error messages ("image", "faces[2]"). */
  field: string;
}

/** A decoded image held for one request (in a worker, which does nothing else meanwhile). */
export interface Picture {
  width: number;
  height: number;
  /** The image shrunk to at most the side asked for (8-bit RGB), or a copy of it when no larger: for a detector. */
  preview: Frame;
  /** The model's size x size inputs for square crops of the image (in its pixels, each turned by its angle). */
  crops(crops: FaceCrop[], size: number): Promise<Float32Array[]>;
  /** Let the image go (and its worker serve others). */
  release(): void;
}

/**
 * Runs a request's pixel-sized work; decoding failures are ApiErrors naming the image's field. Bytes
 * given to it are handed over: a pool of workers may transfer their buffer, leaving it empty here.
 */
export interface Decoder {
  /** Decode an image and hold it for the request: its size, a preview of at most `side` pixels, crops. */
  open(image: ImageInput, side: number, deadline: Deadline): Promise<Picture>;
  /** The whole image as the model's size x size input (a face crop). */
  faceInput(image: ImageInput, size: number, deadline: Deadline): Promise<Float32Array>;
  /** An explanation's picture as PNG bytes. */
  picture(explanation: Explanation, deadline: Deadline): Promise<Uint8Array>;
  /** A JSON body parsed (a large one costs the event loop tens of milliseconds); 400 invalid_json if it is not JSON. */
  json(body: Uint8Array, deadline: Deadline): Promise<unknown>;
  /** Stop the pool's workers. */
  close(): void;
}

/**
 * Everything on the calling thread, with a fresh wasm decoder after any failure (shared/decode.ts).
 * Synchronous work cannot be cut short, so deadlines do not apply here: keep images small (the edge
 * profile) where this runs. Each step is its own task (decode, preview, each crop), so that other
 * requests are answered between them rather than after all of them.
 */
export function inlineDecoder(): Decoder {
  const decode = async ({ bytes, maxPixels, field }: ImageInput) => {
    await nextTask();
    try {
      return await decodeImage(bytes, { maxPixels });
    } catch (error) {
      throw decodeFailure(error, field);
    }
  };
  return {
    async open(image, side) {
      const frame = await decode(image);
      await nextTask();
      return {
        width: frame.width,
        height: frame.height,
        preview: preview(frame, side),
        async crops(crops, size) {
          const inputs = [];
          for (const crop of crops) {
            await nextTask();
            inputs.push(...cropInputs(frame, [crop], size));
          }
          return inputs;
        },
        release() {},
      };
    },
    async faceInput(image, size) {
      const frame = await decode(image);
      await nextTask();
      return faceInput(frame, size);
    },
    async picture(explanation) {
      await nextTask();
      return await explanationPng(explanation);
    },
    async json(body) {
      await nextTask();
      return parseJson(body);
    },
    close() {},
  };
}

/** Resolves in a later turn of the event loop, after the I/O that is waiting has been served. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Options for workerDecoder. */
export interface PoolOptions {
  /** Worker isolates (default 2). */
  size?: number;
  /** A worker that decoded more than this many pixels since it started is replaced once idle; default 8 MP. */
  heavyPixels?: number;
  /** How long such a worker must be idle first; default 2 s. */
  idleMs?: number;
  /** Seconds suggested in Retry-After when work cannot start in time; default 1. */
  retryAfterS?: number;
}

/** A worker's answer to one job. */
interface Reply {
  id: number;
  pixels?: number;
  width?: number;
  height?: number;
  preview?: Frame;
  inputs?: Float32Array[];
  input?: Float32Array;
  png?: Uint8Array;
  value?: unknown;
  error?: { code?: string; message?: string };
}

/** A job's message as the worker takes it, without its id. */
type Job = DecodeRequest extends infer R ? R extends unknown ? Omit<R, "id"> : never : never;

/** The error for a job a worker could not do: the client's (an image or a body we cannot read) or ours. */
function jobFailure(kind: Job["kind"], reported: Reply["error"] | null, field: string): Error {
  if (kind === "open" || kind === "input") return decodeFailure(reported, field);
  if (kind === "json") return new ApiError(400, "invalid_json", "body is not valid JSON");
  return new Error(`decode worker: ${reported?.message ?? "the worker stopped"}`);
}

/**
 * The bytes to hand to a worker, whose buffer is transferred (not copied): the caller's own when they
 * fill their buffer (the caller gives them up), else a copy of the view (a view would send all of it).
 */
function handOver(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/**
 * A pool of decode workers, each serving one request's work at a time. Work waits for a worker in
 * order of arrival; what has not started by its deadline's startBy is answered 503 busy (the queue
 * empties itself at the pace the clients' deadlines set), and a request whose work runs past its
 * finishBy has its worker terminated and gets 422 decode_timeout. Inside a worker, decodeImage gives
 * a format a fresh wasm decoder after any failure or large image (shared/decode.ts); a worker that
 * has decoded many pixels is replaced once it has been idle a while, so the memory those images grew
 * goes back to the system. Workers are never torn down right after a failed job: ending an isolate
 * while V8 still validates a freshly compiled wasm module aborts the whole process.
 */
export function workerDecoder(options: PoolOptions = {}): Decoder {
  const size = options.size ?? 2;
  const heavyPixels = options.heavyPixels ?? 8_000_000;
  const idleMs = options.idleMs ?? 2_000;
  const decoded = new WeakMap<Worker, number>();
  const reapers = new WeakMap<Worker, ReturnType<typeof setTimeout>>();
  const gone = new WeakSet<Worker>();
  const url = new URL("./decode_worker.ts", import.meta.url);
  const idle: Worker[] = [];
  const waiting: {
    deadline: Deadline;
    go(worker: Worker): void;
    fail(error: ApiError): void;
    timer?: ReturnType<typeof setTimeout>;
  }[] = [];
  let live = 0;
  let nextId = 1;
  let closed = false;

  const shuttingDown = () => new ApiError(503, "shutting_down", "the server is shutting down");
  const spawn = () => {
    live++;
    return new Worker(url, { type: "module" });
  };
  const retire = (worker: Worker) => {
    if (gone.has(worker)) return;
    gone.add(worker);
    worker.terminate();
    live--;
  };
  /** Terminate a worker that failed its job, and start its successor at once, so the next job finds it ready. */
  const replace = (worker: Worker) => {
    retire(worker);
    if (!closed && live < size) park(spawn());
  };
  const pump = () => {
    while (waiting.length && (idle.length || live < size) && !closed) {
      const next = waiting.shift()!;
      clearTimeout(next.timer);
      const worker = idle.pop() ?? spawn();
      clearTimeout(reapers.get(worker));
      next.deadline.started = true;
      next.go(worker);
    }
  };
  /** A worker for a request's work, in order of arrival; 503 busy if none is free by its startBy. */
  const acquire = (deadline: Deadline) =>
    new Promise<Worker>((resolve, reject) => {
      if (closed) return reject(shuttingDown());
      const entry: (typeof waiting)[number] = { deadline, go: resolve, fail: reject };
      if (!deadline.started) {
        entry.timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(entry), 1);
          reject(busy("other images", options.retryAfterS));
        }, Math.max(0, deadline.startBy - performance.now()));
      }
      waiting.push(entry);
      pump();
    });
  /** Park a worker; one that has decoded many pixels is replaced if it stays idle for idleMs. */
  const park = (worker: Worker) => {
    if (gone.has(worker)) return pump();
    if (closed) return retire(worker);
    idle.push(worker);
    if ((decoded.get(worker) ?? 0) > heavyPixels) {
      reapers.set(
        worker,
        setTimeout(() => {
          const at = idle.indexOf(worker);
          if (at < 0) return;
          idle.splice(at, 1);
          retire(worker);
        }, idleMs),
      );
    }
    pump();
  };
  /**
   * One job for a worker the request holds, and its reply. Past the deadline's finishBy the worker is
   * terminated (422 decode_timeout); a worker that dies is replaced.
   */
  const exchange = (worker: Worker, job: Job, deadline: Deadline, field: string) =>
    new Promise<Reply>((resolve, reject) => {
      const late = () =>
        new ApiError(
          422,
          "decode_timeout",
          `${field}: its processing took over ${deadline.limitMs} ms, the most a request may take`,
        );
      if (gone.has(worker)) return reject(late());
      const id = nextId++;
      const done = () => {
        clearTimeout(timer);
        worker.onmessage = worker.onerror = null;
      };
      const timer = setTimeout(() => {
        done();
        replace(worker);
        reject(late());
      }, Math.max(0, deadline.finishBy - performance.now()));
      worker.onmessage = (event: MessageEvent<Reply>) => {
        const reply = event.data;
        if (reply.id !== id) return;
        done();
        decoded.set(worker, (decoded.get(worker) ?? 0) + (reply.pixels ?? 0));
        if (reply.error) reject(jobFailure(job.kind, reply.error, field));
        else resolve(reply);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        done();
        replace(worker);
        reject(jobFailure(job.kind, null, field));
      };
      const bytes = "bytes" in job ? [job.bytes.buffer as ArrayBuffer] : [];
      worker.postMessage({ id, ...job }, bytes);
    });
  /** One job from acquiring a worker to parking it again. */
  const once = async (job: Job, deadline: Deadline, field: string) => {
    const worker = await acquire(deadline);
    try {
      return await exchange(worker, job, deadline, field);
    } finally {
      park(worker);
    }
  };
  return {
    async open({ bytes, maxPixels, field }, side, deadline) {
      const worker = await acquire(deadline);
      let reply: Reply;
      try {
        reply = await exchange(
          worker,
          { kind: "open", bytes: handOver(bytes), maxPixels, side },
          deadline,
          field,
        );
      } catch (error) {
        park(worker);
        throw error;
      }
      let released = false;
      return {
        width: reply.width!,
        height: reply.height!,
        preview: reply.preview!,
        crops: async (crops, size) =>
          crops.length
            ? (await exchange(worker, { kind: "crops", crops, size }, deadline, field)).inputs!
            : [],
        release() {
          if (released) return;
          released = true;
          if (!gone.has(worker)) worker.postMessage({ id: 0, kind: "release" });
          park(worker);
        },
      };
    },
    faceInput: async ({ bytes, maxPixels, field }, size, deadline) =>
      (await once({ kind: "input", bytes: handOver(bytes), maxPixels, size }, deadline, field)).input!,
    picture: async (explanation, deadline) =>
      (await once({ kind: "picture", explanation }, deadline, "explanation")).png!,
    json: async (body, deadline) =>
      (await once({ kind: "json", bytes: handOver(body) }, deadline, "body")).value,
    close() {
      closed = true;
      for (const worker of idle.splice(0)) {
        clearTimeout(reapers.get(worker));
        retire(worker);
      }
      for (const entry of waiting.splice(0)) {
        clearTimeout(entry.timer);
        entry.fail(shuttingDown());
      }
    },
  };
}
