import decodePng, { init as initPng } from "@jsquash/png/decode.js";
import decodeJpeg, { init as initJpeg } from "@jsquash/jpeg/decode.js";
import decodeWebp, { init as initWebp } from "@jsquash/webp/decode.js";
import type { Frame } from "./preprocess.ts";

/** Image formats Mien reads. TIFF is not one: its open-ended directory structure earns a face photo nothing. */
export type ImageFormat = "png" | "jpeg" | "webp" | "bmp";

/** The largest image decoded when the caller sets no limit (40 megapixels, 160 MB of RGBA). */
export const DEFAULT_MAX_PIXELS = 40_000_000;

/** A decoding failure with a machine-readable code. */
export class ImageDecodeError extends Error {
  constructor(readonly code: "unsupported_type" | "invalid_image" | "image_too_large", message: string) {
    super(message);
    this.name = "ImageDecodeError";
  }
}

/** What a header says about an image, read without decoding a pixel. */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

const FORMAT_NAMES: Record<ImageFormat, string> = { png: "PNG", jpeg: "JPEG", webp: "WebP", bmp: "BMP" };

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
  return null;
}

function isTiff(b: Uint8Array): boolean {
  return b.length >= 4 &&
    ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0) ||
      (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42));
}

function invalid(format: ImageFormat, what: string): ImageDecodeError {
  return new ImageDecodeError("invalid_image", `not a valid ${FORMAT_NAMES[format]} image: ${what}`);
}

/** Index of the ASCII `tag` in `bytes` at or after `from`, searching backwards from the end; -1 if absent. */
function lastIndexOfAscii(bytes: Uint8Array, tag: string, from = 0): number {
  outer: for (let i = bytes.length - tag.length; i >= from; i--) {
    for (let k = 0; k < tag.length; k++) if (bytes[i + k] !== tag.charCodeAt(k)) continue outer;
    return i;
  }
  return -1;
}

/**
 * Most scans a JPEG may have. Each scan of a progressive JPEG is a pass over every block of the image,
 * so decoding time grows with scans x pixels: real progressive files have about 10, while 80,000
 * empty scans in 1 MB hold a decoder for tens of seconds (libjpeg-turbo's TurboJPEG has a scan limit
 * for this attack).
 */
export const MAX_JPEG_SCANS = 100;

/**
 * Start-of-scan markers from `from` to the first end-of-image marker, counting at most one past
 * MAX_JPEG_SCANS. Entropy-coded data holds 0xFF only before a stuffed 0x00 or a restart marker, so
 * every 0xFF 0xDA is a scan header (one inside a later segment's payload counts too: it only errs
 * towards refusing).
 */
function jpegScans(b: Uint8Array, from: number): number {
  let scans = 0;
  for (let p = b.indexOf(0xff, from); p >= 0 && p + 1 < b.length; p = b.indexOf(0xff, p + 1)) {
    const marker = b[p + 1];
    if (marker === 0xd9) break;
    if (marker === 0xda && ++scans > MAX_JPEG_SCANS) break;
  }
  return scans;
}

/**
 * JPEG: walk the marker segments from SOI as ITU T.81 B.1 lays them out (any number of 0xFF fill
 * bytes before a marker, standalone markers without a length) to the first frame header, the one a
 * decoder uses. Anything else between segments is refused rather than guessed at, so no decoy size
 * can hide the real one. A file with no EOI marker after its frame is truncated.
 */
function jpegHeader(b: Uint8Array, view: DataView): ImageHeader {
  let p = 2;
  for (;;) {
    if (p >= b.length) throw invalid("jpeg", "the data is truncated before the frame header");
    if (b[p] !== 0xff) throw invalid("jpeg", `unexpected byte at offset ${p} between segments`);
    while (p < b.length && b[p] === 0xff) p++;
    if (p >= b.length) throw invalid("jpeg", "the data is truncated before the frame header");
    const marker = b[p++];
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
    if (marker === 0x00 || marker === 0xd8 || marker === 0xd9 || marker === 0xda) {
      throw invalid("jpeg", "no frame header before the image data");
    }
    if (p + 2 > b.length) throw invalid("jpeg", "the data is truncated before the frame header");
    const length = view.getUint16(p);
    if (length < 2 || p + length > b.length) throw invalid("jpeg", "a segment runs past the end of the data");
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (length < 8) throw invalid("jpeg", "the frame header is too short");
      const height = view.getUint16(p + 3);
      const width = view.getUint16(p + 5);
      if (!width || !height) throw invalid("jpeg", "the frame header gives no size");
      if (lastIndexOfAscii(b, "\xff\xd9", p) < 0) {
        throw invalid("jpeg", "the data is truncated (no end marker)");
      }
      const scans = jpegScans(b, p + length);
      if (scans > MAX_JPEG_SCANS) {
        throw new ImageDecodeError(
          "unsupported_type",
          `a JPEG of over ${MAX_JPEG_SCANS} scans is not read (cameras and encoders write about 10)`,
        );
      }
      return { format: "jpeg", width, height };
    }
    p += length;
  }
}

/** PNG: the IHDR chunk (first, per the spec) gives the size; a file without IEND is truncated. */
function pngHeader(b: Uint8Array, view: DataView): ImageHeader {
  if (b.length < 33 || String.fromCharCode(...b.subarray(12, 16)) !== "IHDR") {
    throw invalid("png", "no IHDR chunk");
  }
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (!width || !height || width > 0x7fffffff || height > 0x7fffffff) throw invalid("png", "bad image size");
  if (lastIndexOfAscii(b, "IEND", 33) < 0) throw invalid("png", "the data is truncated (no IEND chunk)");
  return { format: "png", width, height };
}

/** WebP: the RIFF size must fit the data; the size comes from the VP8, VP8L or VP8X header. */
function webpHeader(b: Uint8Array, view: DataView): ImageHeader {
  if (b.length < 30) throw invalid("webp", "the header is truncated");
  if (view.getUint32(4, true) + 8 > b.length) throw invalid("webp", "the data is truncated");
  const chunk = String.fromCharCode(...b.subarray(12, 16));
  let width = 0;
  let height = 0;
  if (chunk === "VP8 ") {
    width = view.getUint16(26, true) & 0x3fff;
    height = view.getUint16(28, true) & 0x3fff;
  } else if (chunk === "VP8L") {
    const bits = view.getUint32(21, true);
    width = (bits & 0x3fff) + 1;
    height = ((bits >> 14) & 0x3fff) + 1;
  } else if (chunk === "VP8X") {
    if (b[20] & 0x02) throw new ImageDecodeError("unsupported_type", "animated WebP is not read");
    width = 1 + (b[24] | (b[25] << 8) | (b[26] << 16));
    height = 1 + (b[27] | (b[28] << 8) | (b[29] << 16));
  } else throw invalid("webp", `unknown chunk ${JSON.stringify(chunk)}`);
  if (!width || !height) throw invalid("webp", "bad image size");
  return { format: "webp", width, height };
}

/** BMP: the info header's size (height may be negative for top-down rows). */
function bmpHeader(b: Uint8Array, view: DataView): ImageHeader {
  if (b.length < 54) throw invalid("bmp", "the header is truncated");
  const width = view.getInt32(18, true);
  const height = Math.abs(view.getInt32(22, true));
  if (width <= 0 || height <= 0) throw invalid("bmp", "bad image size");
  return { format: "bmp", width, height };
}

/**
 * Format and size from the header alone (no pixel is decoded), so that oversized images
 * (decompression bombs) are refused before any allocation; throws ImageDecodeError on anything else.
 */
export function readHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length === 0) throw new ImageDecodeError("invalid_image", "the image is empty");
  const format = sniffFormat(bytes);
  if (!format) {
    throw new ImageDecodeError(
      "unsupported_type",
      isTiff(bytes)
        ? "TIFF is not read; send a PNG, JPEG, WebP or BMP image"
        : "not a PNG, JPEG, WebP or BMP image",
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === "jpeg") return jpegHeader(bytes, view);
  if (format === "png") return pngHeader(bytes, view);
  if (format === "webp") return webpHeader(bytes, view);
  return bmpHeader(bytes, view);
}

/** Width and height from the header alone, or null when it is unreadable (see readHeader for why). */
export function imageSize(bytes: Uint8Array): { width: number; height: number } | null {
  try {
    const { width, height } = readHeader(bytes);
    return { width, height };
  } catch {
    return null;
  }
}

/** Options for decodeImage. */
export interface DecodeOptions {
  /** Refuse images with more pixels than this (from the header, before decoding); default 40 MP. */
  maxPixels?: number;
}

/** Throw image_too_large when width x height is over the budget. */
export function checkPixels(width: number, height: number, maxPixels: number, what = "the image") {
  if (width * height > maxPixels) {
    throw new ImageDecodeError(
      "image_too_large",
      `${what} is ${width}x${height} pixels; the limit is ${maxPixels.toLocaleString("en-US")}`,
    );
  }
}

// The wasm decoders. Each is (re)instantiated lazily, right before its next use: at first, after any
// failure (so that a fault, such as a trap that leaves its memory inconsistent, never reaches the next
// image), and after a large image (so that the memory it grew is garbage once the old instance is
// dropped). Their console output (libjpeg's warnings quote the input) is dropped: a client's bytes
// never write the server's log.
const QUIET = { print() {}, printErr() {} };
const WASM_DECODERS = {
  png: { decode: decodePng, init: () => initPng() },
  jpeg: { decode: decodeJpeg, init: () => initJpeg(QUIET) },
  webp: { decode: decodeWebp, init: () => initWebp(QUIET) },
};
const stale = new Set<keyof typeof WASM_DECODERS>(["png", "jpeg", "webp"]);

/** Images over this many pixels get a fresh decoder instance next time, returning their memory. */
const FRESH_DECODER_PIXELS = 4_000_000;

/**
 * Decode PNG, JPEG, WebP or BMP bytes into an RGBA frame, under a pixel budget checked from the
 * header before decoding and again on the decoded size. Errors are ImageDecodeErrors with messages
 * of ours (never a decoder's own text).
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<Frame> {
  const header = readHeader(bytes);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  checkPixels(header.width, header.height, maxPixels);
  let frame: Frame;
  if (header.format === "bmp") frame = decodeBmp(bytes, header);
  else {
    const format = header.format;
    const decoder = WASM_DECODERS[format];
    if (format === "png" && !(await pngDataFits(bytes, header))) {
      throw invalid("png", "its image data inflates to more than the image holds");
    }
    if (stale.delete(format)) await decoder.init();
    try {
      frame = rgba(await decoder.decode(bytes.slice().buffer));
    } catch {
      stale.add(format);
      throw invalid(format, "the image data is corrupt");
    }
    if (header.width * header.height > FRESH_DECODER_PIXELS) stale.add(format);
  }
  if (frame.width !== header.width || frame.height !== header.height) {
    throw invalid(header.format, "the decoded size differs from the header");
  }
  return frame;
}

/** Bytes a PNG's filtered scanlines take (each row: a filter byte, then its samples), all 7 passes if interlaced. */
function pngDataSize(b: Uint8Array, { width, height }: ImageHeader): number {
  const samples = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[b[25]] ?? 4;
  const bits = samples * Math.min(16, b[24]);
  const size = (w: number, h: number) => w > 0 && h > 0 ? h * (1 + Math.ceil((w * bits) / 8)) : 0;
  if (b[28] !== 1) return size(width, height);
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [
    0,
    1,
    1,
    2,
  ]];
  return passes.reduce(
    (sum, [x, y, dx, dy]) => sum + size(Math.ceil((width - x) / dx), Math.ceil((height - y) / dy)),
    0,
  );
}

/**
 * Whether a PNG's image data inflates to no more than its scanlines need. A decoder inflates every
 * byte of it, and deflate expands up to 1032-fold: a 16x16 PNG can carry gigabytes of zeros. The
 * data is inflated here (natively, in small steps) only until it passes the size; a stream that is
 * corrupt is left to the decoder to report.
 */
async function pngDataFits(b: Uint8Array, header: ImageHeader): Promise<boolean> {
  const limit = pngDataSize(b, header);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const inflate = new DecompressionStream("deflate");
  const writer = inflate.writable.getWriter();
  const reader = inflate.readable.getReader();
  const feed = async () => {
    for (let p = 8; p + 8 <= b.length;) {
      const length = view.getUint32(p);
      const type = String.fromCharCode(b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
      const data = b.subarray(p + 8, Math.min(b.length, p + 8 + length));
      // Small steps: each one is inflated in one go, at most ~1000x its size.
      if (type === "IDAT") {
        for (let i = 0; i < data.length; i += 4096) {
          await writer.write(data.subarray(i, i + 4096) as Uint8Array<ArrayBuffer>);
        }
      }
      if (type === "IEND") break;
      p += 12 + length;
    }
    await writer.close();
  };
  feed().catch(() => {});
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return true;
      total += value.length;
      if (total > limit) return false;
    }
  } catch {
    return true;
  } finally {
    reader.cancel().catch(() => {});
    writer.abort().catch(() => {});
  }
}

function rgba(image: ImageData): Frame {
  return { data: image.data as Uint8ClampedArray, width: image.width, height: image.height, channels: 4 };
}

/** Uncompressed BMP (1/4/8-bit palette, 24- or 32-bit) to RGBA, at the size its header gave (readHeader). */
function decodeBmp(bytes: Uint8Array, { width, height }: ImageHeader): Frame {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  const rawHeight = view.getInt32(22, true);
  const bits = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  if (compression !== 0 && !(compression === 3 && bits === 32)) {
    throw new ImageDecodeError("unsupported_type", `compressed BMP (method ${compression}) is not supported`);
  }
  if (![1, 4, 8, 24, 32].includes(bits)) {
    throw new ImageDecodeError("unsupported_type", `${bits}-bit BMP is not supported`);
  }
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
