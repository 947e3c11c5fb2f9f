/** Mien's icon, drawn in code at any size (extension icons, the page's favicon): a face on a rounded tile. */
import type { Canvas } from "./draw.ts";

const TILE: [number, number, number] = [37, 99, 235];
const FACE: [number, number, number] = [255, 196, 0];
const INK: [number, number, number] = [30, 30, 30];

/** Which colour (or none) covers the point (x, y) of a unit square. */
function paint(x: number, y: number): [number, number, number] | null {
  // Rounded tile: a square with corner radius 0.2.
  const r = 0.2;
  const cx = Math.min(Math.max(x, r), 1 - r);
  const cy = Math.min(Math.max(y, r), 1 - r);
  if ((x - cx) ** 2 + (y - cy) ** 2 > r * r) return null;
  const dx = x - 0.5;
  const dy = y - 0.52;
  const face = dx * dx + dy * dy;
  if (face > 0.36 * 0.36) return TILE;
  // Eyes.
  for (const ex of [0.38, 0.62]) if ((x - ex) ** 2 + (y - 0.44) ** 2 < 0.055 ** 2) return INK;
  // Smile: a band of the circle around (0.5, 0.5) below the eyes.
  const s = Math.hypot(x - 0.5, y - 0.5);
  if (y > 0.58 && s > 0.17 && s < 0.235 && Math.abs(x - 0.5) < 0.19) return INK;
  return FACE;
}

/** The icon as an RGBA canvas of size x size (4x4 supersampled edges). */
export function renderIcon(size: number): Canvas {
  const data = new Uint8ClampedArray(size * size * 4);
  const n = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const c = paint((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size);
          if (!c) continue;
          r += c[0];
          g += c[1];
          b += c[2];
          a++;
        }
      }
      const o = (py * size + px) * 4;
      if (a) data.set([r / a, g / a, b / a, (255 * a) / (n * n)], o);
    }
  }
  return { data, width: size, height: size };
}
