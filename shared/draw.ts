import { FONT_GLYPHS } from "./font_glyphs.ts";
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

/** A weight of the picture font (DejaVu Sans, what the browser views show here as system-ui). */
export type Weight = "regular" | "bold";

/** One glyph drawn at one size: coverage 0..1, its size, and its top-left relative to the pen on the baseline. */
interface GlyphBitmap {
  alpha: Float32Array;
  width: number;
  height: number;
  left: number;
  top: number;
}

const glyphCache = new Map<string, GlyphBitmap>();

/** The glyph set of a weight and its scale (font units to pixels) at `size` px. */
function fontAt(size: number, weight: Weight) {
  const font = FONT_GLYPHS[weight];
  return { font, scale: size / font.unitsPerEm };
}

/** Line segments of a glyph's outline (quadratic curves flattened) in pixels, the pen at the origin. */
function outlineLines(path: string, scale: number): number[] {
  const lines: number[] = [];
  let [x, y, sx, sy] = [0, 0, 0, 0];
  for (const [, op, args] of path.matchAll(/([MLQZ])([^MLQZ]*)/g)) {
    const v = args.trim() ? args.trim().split(" ").map((n) => Number(n) * scale) : [];
    if (op === "M") [x, y, sx, sy] = [v[0], v[1], v[0], v[1]];
    else if (op === "L" || op === "Z") {
      const [nx, ny] = op === "L" ? v : [sx, sy];
      lines.push(x, y, nx, ny);
      [x, y] = [nx, ny];
    } else {
      const [cx, cy, nx, ny] = v;
      const steps = Math.min(
        16,
        Math.max(2, Math.ceil(Math.sqrt(Math.hypot(cx - x, cy - y) + Math.hypot(nx - cx, ny - cy)))),
      );
      let [px, py] = [x, y];
      for (let k = 1; k <= steps; k++) {
        const t = k / steps;
        const qx = (1 - t) * (1 - t) * x + 2 * (1 - t) * t * cx + t * t * nx;
        const qy = (1 - t) * (1 - t) * y + 2 * (1 - t) * t * cy + t * t * ny;
        lines.push(px, py, qx, qy);
        [px, py] = [qx, qy];
      }
      [x, y] = [nx, ny];
    }
  }
  return lines;
}

/**
 * Add one edge's signed area to `acc` (a `w`-wide accumulation buffer): after a running sum along the
 * buffer each pixel holds its coverage. The exact-area scheme of font-rs (Raph Levien), anti-aliased.
 */
function accumulate(acc: Float32Array, w: number, h: number, ax: number, ay: number, bx: number, by: number) {
  if (Math.abs(ay - by) < 1e-6) return;
  const [dir, x0, y0, x1, y1] = ay < by ? [1, ax, ay, bx, by] : [-1, bx, by, ax, ay];
  const dxdy = (x1 - x0) / (y1 - y0);
  let x = y0 < 0 ? x0 - y0 * dxdy : x0;
  for (let y = Math.max(0, Math.floor(y0)); y < Math.min(h, Math.ceil(y1)); y++) {
    const row = y * w;
    const dy = Math.min(y + 1, y1) - Math.max(y, y0);
    const xnext = x + dxdy * dy;
    const d = dy * dir;
    const [lo, hi] = x < xnext ? [x, xnext] : [xnext, x];
    const lof = Math.floor(lo);
    const hic = Math.ceil(hi);
    if (hic <= lof + 1) {
      const xmf = 0.5 * (x + xnext) - lof;
      acc[row + lof] += d - d * xmf;
      acc[row + lof + 1] += d * xmf;
    } else {
      const s = 1 / (hi - lo);
      const lofrac = lo - lof;
      const a0 = 0.5 * s * (1 - lofrac) * (1 - lofrac);
      const hifrac = hi - hic + 1;
      const am = 0.5 * s * hifrac * hifrac;
      acc[row + lof] += d * a0;
      if (hic === lof + 2) acc[row + lof + 1] += d * (1 - a0 - am);
      else {
        const a1 = s * (1.5 - lofrac);
        acc[row + lof + 1] += d * (a1 - a0);
        for (let xi = lof + 2; xi < hic - 1; xi++) acc[row + xi] += d * s;
        const a2 = a1 + (hic - lof - 3) * s;
        acc[row + hic - 1] += d * (1 - a2 - am);
      }
      acc[row + hic] += d * am;
    }
    x = xnext;
  }
}

/** A glyph's coverage at `size` px (cached). */
function glyphBitmap(ch: string, size: number, weight: Weight): GlyphBitmap | null {
  const key = `${weight} ${size} ${ch}`;
  const cached = glyphCache.get(key);
  if (cached) return cached;
  const { font, scale } = fontAt(size, weight);
  const path = font.glyphs[ch]?.[1];
  if (!path) return null;
  const lines = outlineLines(path, scale);
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i < lines.length; i += 2) {
    minX = Math.min(minX, lines[i]);
    maxX = Math.max(maxX, lines[i]);
    minY = Math.min(minY, lines[i + 1]);
    maxY = Math.max(maxY, lines[i + 1]);
  }
  const left = Math.floor(minX);
  const top = Math.floor(minY);
  const width = Math.ceil(maxX) - left + 2;
  const height = Math.ceil(maxY) - top + 1;
  const acc = new Float32Array(width * height + 4);
  for (let i = 0; i < lines.length; i += 4) {
    accumulate(
      acc,
      width,
      height,
      lines[i] - left,
      lines[i + 1] - top,
      lines[i + 2] - left,
      lines[i + 3] - top,
    );
  }
  const alpha = new Float32Array(width * height);
  let sum = 0;
  for (let i = 0; i < alpha.length; i++) {
    sum += acc[i];
    alpha[i] = Math.min(1, Math.abs(sum));
  }
  const bitmap = { alpha, width, height, left, top };
  glyphCache.set(key, bitmap);
  return bitmap;
}

/** Width in pixels of `text` at `size` px (characters the font lacks count as a space). */
export function textWidth(text: string, size = 12, weight: Weight = "regular"): number {
  const { font, scale } = fontAt(size, weight);
  const space = font.glyphs[" "][0];
  return [...text].reduce((w, ch) => w + (font.glyphs[ch]?.[0] ?? space) * scale, 0);
}

/** Height in pixels of a line of text at `size` px (ascender to descender). */
export function lineHeight(size = 12, weight: Weight = "regular"): number {
  const { font, scale } = fontAt(size, weight);
  return (font.ascender - font.descender) * scale;
}

/**
 * Draw text at `size` px, anti-aliased, with the top of its line (the font's ascender) at `y` and its
 * start at `x`; characters the font lacks are left blank.
 */
export function drawText(
  c: Canvas,
  text: string,
  x: number,
  y: number,
  color: Rgb,
  size = 12,
  weight: Weight = "regular",
) {
  const { font, scale } = fontAt(size, weight);
  const baseline = Math.round(y + font.ascender * scale);
  let pen = x;
  for (const ch of text) {
    const glyph = glyphBitmap(ch, size, weight);
    if (glyph) {
      const gx = Math.round(pen) + glyph.left;
      const gy = baseline + glyph.top;
      for (let row = 0; row < glyph.height; row++) {
        const cy = gy + row;
        if (cy < 0 || cy >= c.height) continue;
        for (let col = 0; col < glyph.width; col++) {
          const cx = gx + col;
          const a = glyph.alpha[row * glyph.width + col];
          if (a <= 0 || cx < 0 || cx >= c.width) continue;
          const o = (cy * c.width + cx) * 4;
          c.data[o] += (color[0] - c.data[o]) * a;
          c.data[o + 1] += (color[1] - c.data[o + 1]) * a;
          c.data[o + 2] += (color[2] - c.data[o + 2]) * a;
          c.data[o + 3] = 255;
        }
      }
    }
    pen += (font.glyphs[ch]?.[0] ?? font.glyphs[" "][0]) * scale;
  }
}

/** Text broken into lines at spaces, each at most `width` px at `size` px. */
export function wrap(text: string, width: number, size: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(" ")) {
    const last = lines.at(-1);
    if (last !== undefined && textWidth(`${last} ${word}`, size) <= width) {
      lines[lines.length - 1] = `${last} ${word}`;
    } else lines.push(word);
  }
  return lines;
}
