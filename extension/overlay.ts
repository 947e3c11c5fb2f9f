/// <reference lib="dom" />
import type { Box } from "../shared/preprocess.ts";

/** How frame pixels map onto the page: page = offset + frame * scale (x mirrored when `mirrored`). */
export interface Placement {
  left: number;
  top: number;
  scaleX: number;
  scaleY: number;
  /** The visible area (frame content outside it is cropped by object-fit: cover). */
  clip: Box;
  mirrored: boolean;
}

/**
 * Where a frame of `width` x `height` shows inside an element's box `rect` under CSS object-fit
 * (centred, as the default object-position), in the same coordinates as `rect`.
 */
export function placeFrame(
  rect: Box,
  width: number,
  height: number,
  fit: string,
  mirrored = false,
  intrinsicScale = 1,
): Placement {
  let sx = rect.width / width;
  let sy = rect.height / height;
  if (fit === "contain" || fit === "cover") {
    sx = sy = fit === "contain" ? Math.min(sx, sy) : Math.max(sx, sy);
  } else if (fit === "none" || fit === "scale-down") {
    const natural = intrinsicScale;
    sx = sy = fit === "none" ? natural : Math.min(natural, Math.min(sx, sy));
  }
  return {
    left: rect.x + (rect.width - width * sx) / 2,
    top: rect.y + (rect.height - height * sy) / 2,
    scaleX: sx,
    scaleY: sy,
    clip: rect,
    mirrored,
  };
}

/** A frame box in page coordinates, clipped to the visible area (null when nothing is visible). */
export function toPage(box: Box, p: Placement, frameWidth: number): Box | null {
  const fx = p.mirrored ? frameWidth - box.x - box.width : box.x;
  const x0 = Math.max(p.clip.x, p.left + fx * p.scaleX);
  const y0 = Math.max(p.clip.y, p.top + box.y * p.scaleY);
  const x1 = Math.min(p.clip.x + p.clip.width, p.left + (fx + box.width) * p.scaleX);
  const y1 = Math.min(p.clip.y + p.clip.height, p.top + (box.y + box.height) * p.scaleY);
  if (x1 <= x0 || y1 <= y0) return null;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
