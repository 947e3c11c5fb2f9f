/**
 * What cameras, calls and detectors do to a face, as image transforms for the robustness suite
 * (`deno task eval --robustness`): each maps a grey face image to a degraded copy, which then goes
 * through the product's own preprocessing (faceInput).
 */
import encodeJpeg from "@jsquash/jpeg/encode.js";
import { decodeImage } from "../shared/decode.ts";
import { type Frame, resampleGray, toGray } from "../shared/preprocess.ts";

/** A grey image, 0..255 floats, row-major. */
export interface GreyImage {
  data: Float32Array;
  width: number;
  height: number;
}

/** One named degradation. */
export interface Degradation {
  name: string;
  apply(image: GreyImage): GreyImage | Promise<GreyImage>;
}

/** A decoded frame as a grey image (BT.601, as the pipeline greys). */
export function greyOf(frame: Frame): GreyImage {
  return { data: toGray(frame), width: frame.width, height: frame.height };
}

/** A grey image as a one-channel frame (rounded and clamped to bytes, as a decoded image would be). */
export function frameOf(image: GreyImage): Frame {
  return { data: Uint8ClampedArray.from(image.data), width: image.width, height: image.height, channels: 1 };
}

function map(image: GreyImage, f: (v: number, x: number, y: number) => number): GreyImage {
  const data = new Float32Array(image.data.length);
  for (let y = 0, i = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++, i++) data[i] = Math.min(255, Math.max(0, f(image.data[i], x, y)));
  }
  return { ...image, data };
}

/** Shrink the face to side x side pixels (a small call tile); the pipeline scales it back up. */
export function downscale(side: number): Degradation {
  return {
    name: `downscale to ${side} px`,
    apply: (im) => ({
      data: resampleGray(
        im.data,
        im.width,
        im.height,
        { x: 0, y: 0, width: im.width, height: im.height },
        side,
      ),
      width: side,
      height: side,
    }),
  };
}

/** A JPEG round trip at `quality` (mozjpeg, as a browser or camera would compress). */
export function jpeg(quality: number): Degradation {
  return {
    name: `JPEG quality ${quality}`,
    async apply(im) {
      const rgba = new Uint8ClampedArray(im.width * im.height * 4);
      im.data.forEach((v, i) => rgba.set([v, v, v, 255], i * 4));
      const bytes = await encodeJpeg(
        { data: rgba, width: im.width, height: im.height, colorSpace: "srgb" } as ImageData,
        {
          quality,
        },
      );
      return greyOf(await decodeImage(new Uint8Array(bytes)));
    },
  };
}

/** Gamma: v' = 255 (v/255)^g (g < 1 brightens, as an auto-exposed dim webcam). */
export function gamma(g: number): Degradation {
  return { name: `gamma ${g}`, apply: (im) => map(im, (v) => 255 * (v / 255) ** g) };
}

/** Contrast around the image mean by factor c (c < 1 flattens, as a hazy or backlit face). */
export function contrast(c: number): Degradation {
  return {
    name: `contrast ${c}`,
    apply(im) {
      const mean = im.data.reduce((s, v) => s + v, 0) / im.data.length;
      return map(im, (v) => mean + (v - mean) * c);
    },
  };
}

/** Gaussian blur with sigma given as a share of the face width (out-of-focus webcam). */
export function blur(sigmaShare: number): Degradation {
  return {
    name: `blur sigma ${(sigmaShare * 100).toFixed(0)}% of the face`,
    apply(im) {
      const sigma = sigmaShare * im.width;
      const radius = Math.ceil(3 * sigma);
      const kernel = Array.from(
        { length: 2 * radius + 1 },
        (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma ** 2)),
      );
      const total = kernel.reduce((a, b) => a + b, 0);
      const pass = (src: Float32Array, dx: number, dy: number) => {
        const out = new Float32Array(src.length);
        for (let y = 0; y < im.height; y++) {
          for (let x = 0; x < im.width; x++) {
            let sum = 0;
            for (let k = -radius; k <= radius; k++) {
              const sx = Math.min(im.width - 1, Math.max(0, x + k * dx));
              const sy = Math.min(im.height - 1, Math.max(0, y + k * dy));
              sum += kernel[k + radius] * src[sy * im.width + sx];
            }
            out[y * im.width + x] = sum / total;
          }
        }
        return out;
      };
      return { ...im, data: pass(pass(im.data, 1, 0), 0, 1) };
    },
  };
}

/** Sample the image through an affine map from output to source coordinates (bilinear, edges repeated). */
function affine(im: GreyImage, source: (x: number, y: number) => [number, number]): GreyImage {
  const at = (x: number, y: number) =>
    im.data[Math.min(im.height - 1, Math.max(0, y)) * im.width + Math.min(im.width - 1, Math.max(0, x))];
  return map(im, (_v, x, y) => {
    const [fx, fy] = source(x, y);
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const wx = fx - x0;
    const wy = fy - y0;
    return (1 - wy) * ((1 - wx) * at(x0, y0) + wx * at(x0 + 1, y0)) +
      wy * ((1 - wx) * at(x0, y0 + 1) + wx * at(x0 + 1, y0 + 1));
  });
}

/** Head roll: the face turned by `degrees` in the image plane (clockwise on screen). */
export function roll(degrees: number): Degradation {
  const a = (degrees * Math.PI) / 180;
  return {
    name: `roll ${degrees} degrees`,
    apply(im) {
      const cx = (im.width - 1) / 2;
      const cy = (im.height - 1) / 2;
      return affine(im, (x, y) => {
        const dx = x - cx;
        const dy = y - cy;
        return [cx + Math.cos(a) * dx + Math.sin(a) * dy, cy - Math.sin(a) * dx + Math.cos(a) * dy];
      });
    },
  };
}

/** Detector box jitter: the crop shifted by `shift` of its size (right and down) and `scale` times as large. */
export function boxJitter(shift: number, scale: number): Degradation {
  return {
    name: `box shifted ${shift * 100}%, ${scale}x size`,
    apply(im) {
      const cx = (im.width - 1) / 2;
      const cy = (im.height - 1) / 2;
      return affine(im, (x, y) => [
        cx + (x - cx) * scale + shift * im.width,
        cy + (y - cy) * scale + shift * im.height,
      ]);
    },
  };
}

/** Uneven light: a brightness ramp from -strength to +strength (0..255 units) across the face, left to right. */
export function unevenLight(strength: number): Degradation {
  return {
    name: `side light +-${strength}`,
    apply: (im) => map(im, (v, x) => v + strength * (2 * x / Math.max(1, im.width - 1) - 1)),
  };
}

/** Sensor noise: Gaussian, `sigma` grey levels, from a fixed seed (every run the same). */
export function noise(sigma: number, seed = 1): Degradation {
  return {
    name: `noise sigma ${sigma}`,
    apply(im) {
      let s = seed >>> 0;
      const uniform = () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return (s + 0.5) / 4294967296;
      };
      return map(
        im,
        (v) => v + sigma * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()),
      );
    },
  };
}

/** The robustness suite's rows, in order (the first is the clean baseline). */
export const DEGRADATIONS: Degradation[] = [
  { name: "clean", apply: (im) => im },
  downscale(24),
  downscale(32),
  jpeg(30),
  jpeg(50),
  blur(0.03),
  gamma(0.6),
  gamma(1.6),
  contrast(0.5),
  unevenLight(40),
  noise(8),
  roll(10),
  boxJitter(0.1, 1.15),
];
