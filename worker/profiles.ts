/** The server's budgets, sized together for one kind of machine (MIEN_PROFILE picks one). */

/** Every budget of the server. */
export interface Profile {
  /** Largest request body in bytes. */
  maxBodyBytes: number;
  /** Most pixels one request may decode (its image, or all its crops together). */
  maxPixels: number;
  /** Most face crops in one /v1/classify request. */
  maxCrops: number;
  /** Milliseconds a client has to send the whole body. */
  bodyTimeoutMs: number;
  /** Bytes of request bodies held at once across requests; past them, 503 busy. */
  maxBodyBytesInFlight: number;
  /** Pixels decoded or analysed at once across requests. */
  maxInFlightPixels: number;
  /** Requests that may wait for room among those pixels; past them, 503 busy. */
  maxWaiting: number;
  /** Milliseconds a request may wait, once its body has arrived, for its image work to start; then 503 busy. */
  queueTimeoutMs: number;
  /** Milliseconds from a request's body arriving to the end of its image work; then 422 decode_timeout. */
  decodeTimeoutMs: number;
  /** Decode worker isolates (0: decode on the event loop). */
  decodeWorkers: number;
}

const MiB = 1024 * 1024;

/**
 * `default`: a server of its own (2 or more cores, a few GB): 40 MP photos decoded in two worker
 * isolates. `edge`: an isolate on an edge platform, which caps its memory (Deno Deploy: 512 MB), its
 * CPU time per request (50-200 ms on average) and how long its event loop may be blocked (1 s), and
 * may run no Web Workers: images of at most 2.1 MP (a 1920x1080 frame fits; its largest single step on
 * the event loop, a 100-scan progressive decode, took 0.18 s here on a busy machine), smaller bodies, and
 * fewer of both at once.
 */
export const PROFILES = {
  default: {
    maxBodyBytes: 8 * MiB,
    maxPixels: 40_000_000,
    maxCrops: 32,
    bodyTimeoutMs: 10_000,
    maxBodyBytesInFlight: 32 * MiB,
    maxInFlightPixels: 80_000_000,
    maxWaiting: 8,
    queueTimeoutMs: 2_000,
    decodeTimeoutMs: 15_000,
    decodeWorkers: 2,
  },
  edge: {
    maxBodyBytes: 4 * MiB,
    maxPixels: 2_100_000,
    maxCrops: 32,
    bodyTimeoutMs: 10_000,
    maxBodyBytesInFlight: 16 * MiB,
    maxInFlightPixels: 4_200_000,
    maxWaiting: 4,
    queueTimeoutMs: 1_000,
    decodeTimeoutMs: 15_000,
    decodeWorkers: 0,
  },
} satisfies Record<string, Profile>;

/** A profile's name. */
export type ProfileName = keyof typeof PROFILES;

/** The environment variable that sets each budget, over the profile's value. */
export const SETTING_NAMES: Record<keyof Profile, string> = {
  maxBodyBytes: "MIEN_MAX_BODY_BYTES",
  maxPixels: "MIEN_MAX_PIXELS",
  maxCrops: "MIEN_MAX_CROPS",
  bodyTimeoutMs: "MIEN_BODY_TIMEOUT_MS",
  maxBodyBytesInFlight: "MIEN_MAX_BODY_BYTES_IN_FLIGHT",
  maxInFlightPixels: "MIEN_MAX_PIXELS_IN_FLIGHT",
  maxWaiting: "MIEN_MAX_WAITING",
  queueTimeoutMs: "MIEN_QUEUE_TIMEOUT_MS",
  decodeTimeoutMs: "MIEN_DECODE_TIMEOUT_MS",
  decodeWorkers: "MIEN_DECODE_WORKERS",
};
