/**
 * A decoding worker: bytes in, an RGBA frame (or one face's model input) out. Runs in its own isolate
 * so that the server's event loop keeps answering while large images decode, and so that the pool can
 * throw the whole isolate (and every byte of decoder memory) away after a failure or a large image.
 */
/// <reference lib="deno.worker" />
import { decodeImage } from "../shared/decode.ts";
import { faceInput } from "../shared/preprocess.ts";

/** A job: decode `bytes` within `maxPixels`; with `faceSize`, return the whole image as a model input. */
export interface DecodeRequest {
  id: number;
  bytes: Uint8Array;
  maxPixels: number;
  faceSize?: number;
}

self.onmessage = async (event: MessageEvent<DecodeRequest>) => {
  const { id, bytes, maxPixels, faceSize } = event.data;
  try {
    const frame = await decodeImage(bytes, { maxPixels });
    const pixels = frame.width * frame.height;
    if (faceSize) {
      const input = faceInput(frame, faceSize);
      self.postMessage({ id, input, pixels }, [input.buffer as ArrayBuffer]);
    } else {
      self.postMessage({ id, frame, pixels }, [frame.data.buffer as ArrayBuffer]);
    }
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    self.postMessage({ id, error: { code, message } });
  }
};
