import decodePng from "@jsquash/png/decode.js";
import decodeJpeg from "@jsquash/jpeg/decode.js";
import decodeWebp from "@jsquash/webp/decode.js";
// @ts-types="./utif.d.ts"
import UTIF from "utif";
import type { Frame } from "./preprocess.ts";

/** Image formats Mien reads. */
export type ImageFormat = "png" | "jpeg" | "webp" | "bmp" | "tiff";

/** A decoding failure with a machine-readable code. */
export class ImageDecodeError extends Error {
  constructor(readonly code: "unsupported_type" | "invalid_image", message: string) {
    super(message);
    this.name = "ImageDecodeError";
  }
}

/** The format of an encoded image from its first bytes, or null when it is not one we read. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "png";
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (
    b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 &&
    b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50
  ) return "webp";
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return "bmp";
  if (
    b.length >= 4 &&
    ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0) ||
      (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42))
  ) return "tiff";
  return null;
}

/**
 * Width and height read from the header alone (no pixel is decoded), so that oversized images
 * (decompression bombs) can be refused before decoding; null when the header is unreadable.
 */
export function imageSize(bytes: Uint8Array): { width: number; height: number } | null {
  const format = sniffFormat(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = (width: number, height: number) => (width > 0 && height > 0 ? { width, height } : null);
  try {
    if (format === "png") return bytes.length >= 24 ? size(view.getUint32(16), view.getUint32(20)) : null;
    if (format === "bmp") {
      return bytes.length >= 26 ? size(view.getInt32(18, true), Math.abs(view.getInt32(22, true))) : null;
    }
    if (format === "jpeg") {
      let p = 2;
      while (p + 9 < bytes.length) {
        if (bytes[p] !== 0xff) return null;
        const marker = bytes[p + 1];
        if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
          return size(view.getUint16(p + 7), view.getUint16(p + 5));
        }
        p += 2 + view.getUint16(p + 2);
      }
      return null;
    }
    if (format === "webp" && bytes.length >= 30) {
      const chunk = String.fromCharCode(...bytes.subarray(12, 16));
      if (chunk === "VP8 ") return size(view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
      if (chunk === "VP8L") {
        const bits = view.getUint32(21, true);
        return size((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
      }
      if (chunk === "VP8X") {
        const w = 1 + (bytes[24] | (bytes[25] << 8) | (bytes[26] << 16));
        const h = 1 + (bytes[27] | (bytes[28] << 8) | (bytes[29] << 16));
        return size(w, h);
      }
      return null;
    }
    if (format === "tiff") {
      const [ifd] = UTIF.decode(bytes.slice().buffer);
      const tag = (t: unknown) => (Array.isArray(t) ? Number(t[0]) : NaN);
      return ifd ? size(tag(ifd.t256), tag(ifd.t257)) : null;
    }
  } catch {
    return null;
  }
  return null;
}

/** Decode PNG, JPEG, WebP, BMP or TIFF bytes into an RGBA frame. */
export async function decodeImage(bytes: Uint8Array): Promise<Frame> {
  if (bytes.length === 0) throw new ImageDecodeError("invalid_image", "empty image");
  const format = sniffFormat(bytes);
  if (!format) {
    throw new ImageDecodeError("unsupported_type", "not a PNG, JPEG, WebP, BMP or TIFF image");
  }
  let frame: Frame;
  try {
    const buffer = bytes.slice().buffer;
    if (format === "png") frame = rgba(await decodePng(buffer));
    else if (format === "jpeg") frame = rgba(await decodeJpeg(buffer));
    else if (format === "webp") frame = rgba(await decodeWebp(buffer));
    else if (format === "bmp") frame = decodeBmp(bytes);
    else frame = decodeTiff(buffer);
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    throw new ImageDecodeError("invalid_image", `corrupt ${format}: ${(error as Error).message}`);
  }
  if (!(frame.width > 0 && frame.height > 0)) {
    throw new ImageDecodeError("invalid_image", `${format} has no pixels`);
  }
  return frame;
}

function rgba(image: ImageData): Frame {
  return { data: image.data as Uint8ClampedArray, width: image.width, height: image.height, channels: 4 };
}

function decodeTiff(buffer: ArrayBuffer): Frame {
  const ifds = UTIF.decode(buffer);
  if (!ifds.length) throw new Error("no image in file");
  UTIF.decodeImage(buffer, ifds[0]);
  const { width, height } = ifds[0];
  return { data: new Uint8Array(UTIF.toRGBA8(ifds[0])), width, height, channels: 4 };
}

/** Uncompressed BMP (1/4/8-bit palette, 24- or 32-bit) to RGBA. */
function decodeBmp(bytes: Uint8Array): Frame {
  if (bytes.length < 54) throw new ImageDecodeError("invalid_image", "truncated BMP header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bits = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  if (compression !== 0 && !(compression === 3 && bits === 32)) {
    throw new ImageDecodeError("unsupported_type", `compressed BMP (method ${compression}) is not supported`);
  }
  if (![1, 4, 8, 24, 32].includes(bits)) {
    throw new ImageDecodeError("unsupported_type", `${bits}-bit BMP is not supported`);
  }
  const height = Math.abs(rawHeight);
  if (width <= 0 || height === 0) throw new ImageDecodeError("invalid_image", "BMP has no pixels");
  const stride = Math.ceil((width * bits) / 32) * 4;
  if (offset + stride * height > bytes.length) {
    throw new ImageDecodeError("invalid_image", "truncated BMP pixel data");
  }
  const paletteStart = 14 + headerSize;
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const row = offset + (rawHeight > 0 ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      let p: number;
      if (bits >= 24) p = row + x * (bits / 8);
      else {
        const bitPos = x * bits;
        const byte = bytes[row + (bitPos >> 3)];
        const index = (byte >> (8 - bits - (bitPos & 7))) & ((1 << bits) - 1);
        p = paletteStart + index * 4;
      }
      out[o] = bytes[p + 2];
      out[o + 1] = bytes[p + 1];
      out[o + 2] = bytes[p];
      out[o + 3] = 255;
    }
  }
  return { data: out, width, height, channels: 4 };
}
