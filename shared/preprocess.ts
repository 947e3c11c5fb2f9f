/** Pixels as ImageData has them: RGBA (4 channels), RGB (3) or grey (1), row-major. */
export interface Frame {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /** Channels per pixel; 4 (RGBA) when absent. */
  channels?: 1 | 3 | 4;
}

/** An axis-aligned box in pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Luma (ITU-R BT.601, as PIL's "L" conversion) of one frame, as a Float32Array of 0..255. */
export function toGray(frame: Frame): Float32Array {
  const { data, width, height } = frame;
  const channels = frame.channels ?? 4;
  const n = width * height;
  if (data.length < n * channels) {
    throw new RangeError(
      `frame data has ${data.length} bytes; ${width}x${height}x${channels} needs ${n * channels}`,
    );
  }
  const gray = new Float32Array(n);
  if (channels === 1) {
    for (let i = 0; i < n; i++) gray[i] = data[i];
  } else {
    for (let i = 0, j = 0; i < n; i++, j += channels) {
      gray[i] = (data[j] * 299 + data[j + 1] * 587 + data[j + 2] * 114) / 1000;
    }
  }
  return gray;
}

/**
 * Resample a region of a grey image to outWidth x outHeight (square when outHeight is absent) by
 * area averaging (downscale) or bilinear interpolation (upscale); outside pixels repeat the edge.
 */
export function resampleGray(
  gray: Float32Array,
  width: number,
  height: number,
  box: Box,
  outWidth: number,
  outHeight = outWidth,
): Float32Array {
  const out = new Float32Array(outWidth * outHeight);
  const sx = box.width / outWidth;
  const sy = box.height / outHeight;
  const at = (x: number, y: number) =>
    gray[Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))];
  if (sx <= 1 && sy <= 1) {
    for (let oy = 0; oy < outHeight; oy++) {
      const fy = box.y + (oy + 0.5) * sy - 0.5;
      const y0 = Math.floor(fy);
      const wy = fy - y0;
      for (let ox = 0; ox < outWidth; ox++) {
        const fx = box.x + (ox + 0.5) * sx - 0.5;
        const x0 = Math.floor(fx);
        const wx = fx - x0;
        out[oy * outWidth + ox] = (1 - wy) * ((1 - wx) * at(x0, y0) + wx * at(x0 + 1, y0)) +
          wy * ((1 - wx) * at(x0, y0 + 1) + wx * at(x0 + 1, y0 + 1));
      }
    }
    return out;
  }
  // Area average: each output pixel is the mean of the source area it covers (partial pixels weighted).
  for (let oy = 0; oy < outHeight; oy++) {
    const top = box.y + oy * sy;
    const bottom = top + sy;
    for (let ox = 0; ox < outWidth; ox++) {
      const left = box.x + ox * sx;
      const right = left + sx;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(top); y < bottom; y++) {
        const h = Math.min(bottom, y + 1) - Math.max(top, y);
        if (h <= 0) continue;
        for (let x = Math.floor(left); x < right; x++) {
          const w = Math.min(right, x + 1) - Math.max(left, x);
          if (w <= 0) continue;
          sum += at(x, y) * w * h;
          area += w * h;
        }
      }
      out[oy * outWidth + ox] = sum / area;
    }
  }
  return out;
}

/**
 * The frame shrunk so that its longer side is at most `maxSide` (never enlarged), as RGB floats
 * 0..255, by averaging the source pixels that fall in each output pixel: one pass, bounded memory.
 */
export function shrinkRgb(
  frame: Frame,
  maxSide: number,
): { data: Float32Array; width: number; height: number } {
  const channels = frame.channels ?? 4;
  const scale = Math.min(1, maxSide / Math.max(frame.width, frame.height));
  const width = Math.max(1, Math.round(frame.width * scale));
  const height = Math.max(1, Math.round(frame.height * scale));
  const sum = new Float64Array(width * height * 3);
  const count = new Uint32Array(width * height);
  const column = new Uint32Array(frame.width); // source x -> output x
  for (let x = 0; x < frame.width; x++) column[x] = Math.min(width - 1, Math.floor(x * scale));
  const [g, b] = channels < 3 ? [0, 0] : [1, 2];
  const data = frame.data;
  for (let y = 0; y < frame.height; y++) {
    const row = Math.min(height - 1, Math.floor(y * scale)) * width;
    let s = y * frame.width * channels;
    for (let x = 0; x < frame.width; x++, s += channels) {
      const o = row + column[x];
      const o3 = o * 3;
      sum[o3] += data[s];
      sum[o3 + 1] += data[s + g];
      sum[o3 + 2] += data[s + b];
      count[o]++;
    }
  }
  const mean = new Float32Array(sum.length);
  for (let i = 0; i < count.length; i++) {
    const inv = 1 / count[i];
    mean[i * 3] = sum[i * 3] * inv;
    mean[i * 3 + 1] = sum[i * 3 + 1] * inv;
    mean[i * 3 + 2] = sum[i * 3 + 2] * inv;
  }
  return { data: mean, width, height };
}

/**
 * The model's input for one face: the box (whole frame if absent) as size x size grey in [0,1], turned
 * by `angle` radians about the box's centre (the face's roll, so that its eyes come out level).
 */
export function faceInput(frame: Frame, size: number, box?: Box, angle = 0): Float32Array {
  if (frame.width < 1 || frame.height < 1) throw new RangeError("empty frame");
  const region = box ?? { x: 0, y: 0, width: frame.width, height: frame.height };
  if (!(region.width > 0 && region.height > 0)) throw new RangeError("empty face box");
  if (Math.abs(angle) > 1e-3) return rotatedInput(frame, size, region, angle);
  // Grey only the pixels the resampling can touch (the box plus one pixel, inside the frame).
  const x0 = Math.max(0, Math.min(frame.width - 1, Math.floor(region.x) - 1));
  const y0 = Math.max(0, Math.min(frame.height - 1, Math.floor(region.y) - 1));
  const x1 = Math.max(x0 + 1, Math.min(frame.width, Math.ceil(region.x + region.width) + 2));
  const y1 = Math.max(y0 + 1, Math.min(frame.height, Math.ceil(region.y + region.height) + 2));
  const gray = toGray(cropPixels(frame, x0, y0, x1 - x0, y1 - y0));
  const local = { ...region, x: region.x - x0, y: region.y - y0 };
  const input = resampleGray(gray, x1 - x0, y1 - y0, local, size);
  for (let i = 0; i < input.length; i++) input[i] /= 255;
  return input;
}

/**
 * faceInput for a turned box: the upright square around the turned one is resampled first (area
 * averaging, at about the output's scale), then the turned grid is read from it bilinearly.
 */
function rotatedInput(frame: Frame, size: number, box: Box, angle: number): Float32Array {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const reach = Math.abs(cos) * box.width + Math.abs(sin) * box.height; // side of the upright square
  const inner = Math.ceil(size * reach / box.width) + 2; // its pixels, at the output's scale, plus a border
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const side = (inner * box.width) / size;
  const outer = faceInput(frame, inner, { x: cx - side / 2, y: cy - side / 2, width: side, height: side });
  const out = new Float32Array(size * size);
  const scale = box.width / size / (side / inner); // output pixel -> outer pixels
  const mid = inner / 2;
  for (let oy = 0; oy < size; oy++) {
    const v = (oy + 0.5 - size / 2) * scale;
    for (let ox = 0; ox < size; ox++) {
      const u = (ox + 0.5 - size / 2) * scale;
      const fx = mid + cos * u - sin * v - 0.5;
      const fy = mid + sin * u + cos * v - 0.5;
      const x0 = Math.max(0, Math.min(inner - 2, Math.floor(fx)));
      const y0 = Math.max(0, Math.min(inner - 2, Math.floor(fy)));
      const wx = Math.max(0, Math.min(1, fx - x0));
      const wy = Math.max(0, Math.min(1, fy - y0));
      const i = y0 * inner + x0;
      out[oy * size + ox] = (1 - wy) * ((1 - wx) * outer[i] + wx * outer[i + 1]) +
        wy * ((1 - wx) * outer[i + inner] + wx * outer[i + inner + 1]);
    }
  }
  return out;
}

/** The w x h block of a frame's pixels starting at (x, y), same channel layout (a view when it is the whole frame). */
function cropPixels(frame: Frame, x: number, y: number, w: number, h: number): Frame {
  const channels = frame.channels ?? 4;
  if (x === 0 && y === 0 && w === frame.width && h === frame.height) return frame;
  const data = new Uint8ClampedArray(w * h * channels);
  for (let row = 0; row < h; row++) {
    const start = ((y + row) * frame.width + x) * channels;
    data.set(frame.data.subarray(start, start + w * channels), row * w * channels);
  }
  return { data, width: w, height: h, channels };
}

/** A size x size image mirrored left-right (for flip test-time augmentation). */
export function mirror(face: Float32Array, size: number): Float32Array {
  const out = new Float32Array(face.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) out[y * size + x] = face[y * size + size - 1 - x];
  }
  return out;
}
