/**
 * A decode worker: holds one request's image at a time and does its pixel-sized work (worker/pixels.ts)
 * and parses large JSON bodies, so that the server's event loop only ever handles small arrays. It runs
 * in its own isolate so that the pool can throw the whole isolate (and every byte of decoder memory)
 * away after a timeout or a run of large images.
 */
/// <reference lib="deno.worker" />
import { decodeImage } from "../shared/decode.ts";
import type { Explanation } from "../shared/explain.ts";
import type { FaceCrop } from "../shared/align.ts";
import { faceInput, type Frame } from "../shared/preprocess.ts";
import { cropInputs, explanationPng, parseJson, preview } from "./pixels.ts";

/** A job, with the id its reply carries. */
export type DecodeRequest =
  & { id: number }
  & (
    /** Decode and hold the image; reply with its size and a preview of at most `side` pixels. */
    | { kind: "open"; bytes: Uint8Array; maxPixels: number; side: number }
    /** The model's inputs for crops of the held image. */
    | { kind: "crops"; crops: FaceCrop[]; size: number }
    /** Decode the image and reply with it whole as one model input (a face crop); nothing is held. */
    | { kind: "input"; bytes: Uint8Array; maxPixels: number; size: number }
    /** An explanation's picture as PNG bytes. */
    | { kind: "picture"; explanation: Explanation }
    /** A JSON body parsed. */
    | { kind: "json"; bytes: Uint8Array }
    /** Let the held image go (no reply). */
    | { kind: "release" }
  );

let held: Frame | null = null;

self.onmessage = async (event: MessageEvent<DecodeRequest>) => {
  const job = event.data;
  const reply = (message: Record<string, unknown>, transfer: ArrayBuffer[] = []) =>
    self.postMessage({ id: job.id, ...message }, transfer);
  try {
    if (job.kind === "release") held = null;
    else if (job.kind === "open") {
      held = null;
      const frame = await decodeImage(job.bytes, { maxPixels: job.maxPixels });
      held = frame;
      const small = preview(frame, job.side);
      const { width, height } = frame;
      reply({ width, height, preview: small, pixels: width * height }, [small.data.buffer as ArrayBuffer]);
    } else if (job.kind === "crops") {
      if (!held) throw new Error("no image is held");
      const inputs = cropInputs(held, job.crops, job.size);
      reply({ inputs }, inputs.map((input) => input.buffer as ArrayBuffer));
    } else if (job.kind === "input") {
      const frame = await decodeImage(job.bytes, { maxPixels: job.maxPixels });
      const input = faceInput(frame, job.size);
      reply({ input, pixels: frame.width * frame.height }, [input.buffer as ArrayBuffer]);
    } else if (job.kind === "json") reply({ value: parseJson(job.bytes) });
    else {
      const png = await explanationPng(job.explanation);
      reply({ png }, [png.buffer as ArrayBuffer]);
    }
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    reply({ error: { code, message } });
  }
};
