import type { Box, Frame } from "./preprocess.ts";

/** An RGBA canvas in plain memory (ImageData-shaped), for annotating frames without a DOM. */
export interface Canvas {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** An RGB colour. */
export type Rgb = [number, number, number];

/** Copy any frame (grey, RGB, RGBA) into a new RGBA canvas. */
export function toCanvas(frame: Frame): Canvas {
  const channels = frame.channels ?? 4;
  const n = frame.width * frame.height;
  const data = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    data[i * 4] = frame.data[s];
    data[i * 4 + 1] = frame.data[channels >= 3 ? s + 1 : s];
    data[i * 4 + 2] = frame.data[channels >= 3 ? s + 2 : s];
    data[i * 4 + 3] = 255;
  }
  return { data, width: frame.width, height: frame.height };
}

/** Fill a rectangle (clipped to the canvas). */
export function fillRect(c: Canvas, x: number, y: number, w: number, h: number, color: Rgb) {
  const x0 = Math.max(0, Math.round(x));
  const y0 = Math.max(0, Math.round(y));
  const x1 = Math.min(c.width, Math.round(x + w));
  const y1 = Math.min(c.height, Math.round(y + h));
  for (let yy = y0; yy < y1; yy++) {
    for (let xx = x0; xx < x1; xx++) {
      const o = (yy * c.width + xx) * 4;
      c.data[o] = color[0];
      c.data[o + 1] = color[1];
      c.data[o + 2] = color[2];
      c.data[o + 3] = 255;
    }
  }
}

/** Outline a box with lines `thickness` pixels wide. */
export function strokeBox(c: Canvas, box: Box, color: Rgb, thickness = 2) {
  fillRect(c, box.x, box.y, box.width, thickness, color);
  fillRect(c, box.x, box.y + box.height - thickness, box.width, thickness, color);
  fillRect(c, box.x, box.y, thickness, box.height, color);
  fillRect(c, box.x + box.width - thickness, box.y, thickness, box.height, color);
}

// 5x7 glyphs, one row a hex digit pair (bit 4 = leftmost column).
const GLYPHS: Record<string, string> = {
  A: "0e11111f111111",
  B: "1e11111e11111e",
  C: "0e11101010110e",
  D: "1c12111111121c",
  E: "1f10101e10101f",
  F: "1f10101e101010",
  G: "0e11101711110f",
  H: "1111111f111111",
  I: "0e04040404040e",
  J: "0702020202120c",
  K: "11121418141211",
  L: "1010101010101f",
  M: "111b1515111111",
  N: "11111915131111",
  O: "0e11111111110e",
  P: "1e11111e101010",
  Q: "0e11111115120d",
  R: "1e11111e141211",
  S: "0f10100e01011e",
  T: "1f040404040404",
  U: "1111111111110e",
  V: "11111111110a04",
  W: "11111115151b11",
  X: "11110a040a1111",
  Y: "1111110a040404",
  Z: "1f01020408101f",
  "0": "0e11131519110e",
  "1": "040c040404040e",
  "2": "0e11010204081f",
  "3": "1f02040201110e",
  "4": "02060a121f0202",
  "5": "1f101e0101110e",
  "6": "0608101e11110e",
  "7": "1f010204080808",
  "8": "0e11110e11110e",
  "9": "0e11110f01020c",
  "%": "18190204081303",
  ".": "00000000000c0c",
  ",": "000000000c0408",
  ":": "000c0c000c0c00",
  "-": "0000001f000000",
  "#": "0a0a1f0a1f0a0a",
  "(": "02040808080402",
  ")": "08040202020408",
  "/": "01010204081010",
  " ": "00000000000000",
};

/** Width in pixels of `text` drawn at `scale`. */
export function textWidth(text: string, scale = 1): number {
  return text.length * 6 * scale;
}

/** Draw text (upper-cased; unknown characters as blanks) with its top-left at (x, y). */
export function drawText(c: Canvas, text: string, x: number, y: number, color: Rgb, scale = 1) {
  [...text.toUpperCase()].forEach((ch, k) => {
    const glyph = GLYPHS[ch] ?? GLYPHS[" "];
    for (let row = 0; row < 7; row++) {
      const bits = parseInt(glyph.slice(row * 2, row * 2 + 2), 16);
      for (let col = 0; col < 5; col++) {
        if (bits & (1 << (4 - col))) {
          fillRect(c, x + (k * 6 + col) * scale, y + row * scale, scale, scale, color);
        }
      }
    }
  });
}
