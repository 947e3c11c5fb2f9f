import type { Box, Frame } from "../shared/preprocess.ts";

/** RGBA frame of size w x h showing `frame` letterboxed (nearest neighbour), shifted right by `dx` pixels. */
export function letterbox(frame: Frame, w: number, h: number, dx = 0): Frame {
  const ch = frame.channels ?? 4;
  const scale = Math.min(w / frame.width, h / frame.height);
  const ox = Math.round((w - frame.width * scale) / 2) + dx;
  const oy = Math.round((h - frame.height * scale) / 2);
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = Math.floor((x - ox) / scale);
      const sy = Math.floor((y - oy) / scale);
      const o = (y * w + x) * 4;
      data[o + 3] = 255;
      if (sx < 0 || sy < 0 || sx >= frame.width || sy >= frame.height) continue;
      const i = (sy * frame.width + sx) * ch;
      data[o] = frame.data[i];
      data[o + 1] = frame.data[ch >= 3 ? i + 1 : i];
      data[o + 2] = frame.data[ch >= 3 ? i + 2 : i];
    }
  }
  return { data, width: w, height: h };
}

/** The part of an RGBA frame inside `box` (clipped to the frame), e.g. a webcam-like view of one face. */
export function cropFrame(frame: Frame, box: Box): Frame {
  const x0 = Math.max(0, Math.round(box.x));
  const y0 = Math.max(0, Math.round(box.y));
  const w = Math.min(frame.width, Math.round(box.x + box.width)) - x0;
  const h = Math.min(frame.height, Math.round(box.y + box.height)) - y0;
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    const start = ((y0 + y) * frame.width + x0) * 4;
    data.set(frame.data.subarray(start, start + w * 4), y * w * 4);
  }
  return { data, width: w, height: h };
}

/** Encode RGBA frames (same size, even sides) as a YUV4MPEG2 (4:2:0) file, what Chromium's fake camera plays. */
export function y4m(frames: Frame[], fps = 30): Uint8Array {
  const { width: w, height: h } = frames[0];
  const header = new TextEncoder().encode(`YUV4MPEG2 W${w} H${h} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const tag = new TextEncoder().encode("FRAME\n");
  const frameBytes = tag.length + w * h * 3 / 2;
  const out = new Uint8Array(header.length + frames.length * frameBytes);
  out.set(header);
  frames.forEach((f, n) => {
    let o = header.length + n * frameBytes;
    out.set(tag, o);
    o += tag.length;
    const px = (x: number, y: number) => (y * w + x) * 4;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = px(x, y);
        out[o++] = 0.299 * f.data[i] + 0.587 * f.data[i + 1] + 0.114 * f.data[i + 2];
      }
    }
    const u = o;
    const v = o + (w / 2) * (h / 2);
    for (let y = 0; y < h; y += 2) {
      for (let x = 0; x < w; x += 2) {
        let r = 0, g = 0, b = 0;
        for (const i of [px(x, y), px(x + 1, y), px(x, y + 1), px(x + 1, y + 1)]) {
          r += f.data[i] / 4;
          g += f.data[i + 1] / 4;
          b += f.data[i + 2] / 4;
        }
        const k = (y / 2) * (w / 2) + x / 2;
        out[u + k] = Math.max(0, Math.min(255, 128 - 0.168736 * r - 0.331264 * g + 0.5 * b));
        out[v + k] = Math.max(0, Math.min(255, 128 + 0.5 * r - 0.418688 * g - 0.081312 * b));
      }
    }
  });
  return out;
}
