/**
 * The steps of a request whose cost grows with its image's pixels (or its body's bytes), run where its
 * image is decoded (a decode worker, or inline): each returns small arrays only. The pixel steps call
 * the shared core.
 */
import encodePng from "@jsquash/png/encode.js";
import type { Explanation } from "../shared/explain.ts";
import type { FaceCrop } from "../shared/align.ts";
import { faceInput, type Frame, shrinkRgb } from "../shared/preprocess.ts";

/**
 * The frame shrunk so that its longer side is at most `side`, as 8-bit RGB (a copy of the frame when
 * it is no larger): what a face detector needs of it.
 */
export function preview(frame: Frame, side: number): Frame {
  if (Math.max(frame.width, frame.height) <= side) return { ...frame, data: frame.data.slice() };
  const small = shrinkRgb(frame, side);
  return { data: new Uint8ClampedArray(small.data), width: small.width, height: small.height, channels: 3 };
}

/** The model's size x size inputs for square crops of a frame (in its pixels, each turned by its angle). */
export function cropInputs(frame: Frame, crops: FaceCrop[], size: number): Float32Array[] {
  return crops.map((crop) => faceInput(frame, size, crop.box, crop.angle));
}

/**
 * An explanation's picture as PNG bytes. shared/explain.ts is loaded on first use: it brings
 * TensorFlow.js (0.2 s and 20 MB), which a decode worker needs for nothing else.
 */
export async function explanationPng(explanation: Explanation): Promise<Uint8Array> {
  const { renderExplanation } = await import("../shared/explain.ts");
  const canvas = renderExplanation(explanation);
  return new Uint8Array(await encodePng({ ...canvas, colorSpace: "srgb" } as ImageData));
}

/** A JSON body parsed; throws a SyntaxError when it is not JSON. */
export function parseJson(body: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(body));
}
