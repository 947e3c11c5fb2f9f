/** Synthetic video frames for the video tests and bench:video: real faces cut from photos, pasted and moved. */
import type { Box, Frame } from "../shared/preprocess.ts";
import { shrinkRgb } from "../shared/preprocess.ts";
import { cropFrame } from "../shared/video_analyzer.ts";

/** A face of a photo as a square RGBA patch of `side` px (the face fills about half of it). */
export function patch(photo: Frame, box: Box, side: number): Frame {
  const s = Math.max(box.width, box.height) * 2;
  const region = cropFrame(photo, {
    x: box.x + box.width / 2 - s / 2,
    y: box.y + box.height / 2 - s / 2,
    width: s,
    height: s,
  });
  const rgb = shrinkRgb(region, side);
  const data = new Uint8ClampedArray(rgb.width * rgb.height * 4);
  for (let i = 0; i < rgb.width * rgb.height; i++) {
    data[i * 4] = rgb.data[i * 3];
    data[i * 4 + 1] = rgb.data[i * 3 + 1];
    data[i * 4 + 2] = rgb.data[i * 3 + 2];
    data[i * 4 + 3] = 255;
  }
  return { data, width: rgb.width, height: rgb.height };
}

/** Paste a patch into a frame with its top-left corner at (x0, y0), clipped to the frame. */
export function paste(frame: Frame, p: Frame, x0: number, y0: number) {
  for (let y = 0; y < p.height; y++) {
    const fy = Math.round(y0) + y;
    if (fy < 0 || fy >= frame.height) continue;
    for (let x = 0; x < p.width; x++) {
      const fx = Math.round(x0) + x;
      if (fx < 0 || fx >= frame.width) continue;
      const s = (y * p.width + x) * 4;
      const o = (fy * frame.width + fx) * 4;
      frame.data[o] = p.data[s];
      frame.data[o + 1] = p.data[s + 1];
      frame.data[o + 2] = p.data[s + 2];
    }
  }
}

/** A width x height frame of flat grey with each [patch, x, y] pasted in. */
export function compose(items: [Frame, number, number][], grey = 110, width = 640, height = 480): Frame {
  const frame: Frame = { data: new Uint8ClampedArray(width * height * 4).fill(grey), width, height };
  for (const [p, x, y] of items) paste(frame, p, x, y);
  return frame;
}
