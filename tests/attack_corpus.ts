/**
 * Crafted hostile uploads and a seeded mutation fuzzer, made in code (no files): the API's abuse
 * tests and `deno task bench:abuse` send them. Each case names what it attacks and the statuses a
 * hardened server may answer.
 */
import encodePng from "@jsquash/png/encode.js";
import encodeJpeg from "@jsquash/jpeg/encode.js";
import encodeWebp from "@jsquash/webp/encode.js";
import { decodeImage } from "../shared/decode.ts";
import { resampleGray, toGray } from "../shared/preprocess.ts";

/** One hostile request. */
export interface AttackCase {
  name: string;
  path: string;
  body: Uint8Array;
  headers: Record<string, string>;
  /** Statuses a correct server may answer. */
  expect: number[];
}

function imageData(data: Uint8ClampedArray, width: number, height: number) {
  return { data, width, height, colorSpace: "srgb" } as ImageData;
}

/** A little-endian TIFF from IFD entries [tag, type, count, value] at offset 8, the next-IFD offset given. */
function tiff(
  entries: [number, number, number, number][],
  nextIfd: number,
  tail: Uint8Array = new Uint8Array(),
): Uint8Array {
  const bytes = new Uint8Array(8 + 2 + entries.length * 12 + 4 + tail.length);
  const view = new DataView(bytes.buffer);
  bytes.set([0x49, 0x49, 42, 0]);
  view.setUint32(4, 8, true);
  view.setUint16(8, entries.length, true);
  entries.forEach(([tag, type, count, value], i) => {
    const o = 10 + i * 12;
    view.setUint16(o, tag, true);
    view.setUint16(o + 2, type, true);
    view.setUint32(o + 4, count, true);
    view.setUint32(o + 8, value, true);
  });
  view.setUint32(10 + entries.length * 12, nextIfd, true);
  bytes.set(tail, 14 + entries.length * 12);
  return bytes;
}

/** 38 bytes: a TIFF whose next-IFD offset points back at itself (an endless directory walk). */
export function tiffSelfLoop(): Uint8Array {
  return tiff([[256, 3, 1, 16], [257, 3, 1, 16]], 8);
}

/** A TIFF whose SubIFDs tag fans out 60 offsets per level, 6 levels deep (all pointing back in). */
export function tiffSubIfdFanout(): Uint8Array {
  const offsets = new Uint8Array(60 * 4);
  const view = new DataView(offsets.buffer);
  for (let i = 0; i < 60; i++) view.setUint32(i * 4, 8, true);
  return tiff([[256, 3, 1, 16], [257, 3, 1, 16], [330, 13, 60, 8 + 2 + 3 * 12 + 4]], 0, offsets);
}

/** A TIFF declaring 2,000 bits-per-sample entries and a 4e9-entry strip-offset tag. */
export function tiffHugeCounts(): Uint8Array {
  return tiff([[256, 3, 1, 16], [257, 3, 1, 16], [258, 3, 2000, 64], [273, 4, 4_000_000_000, 64]], 0);
}

/** A 16x16 deflate TIFF whose one strip inflates to 64 MB of zeros. */
export async function tiffDeflateBomb(): Promise<Uint8Array> {
  const blob = await deflate(new Uint8Array(64 << 20));
  const entries: [number, number, number, number][] = [
    [256, 3, 1, 16],
    [257, 3, 1, 16],
    [259, 3, 1, 8],
    [262, 3, 1, 1],
    [273, 4, 1, 8 + 2 + 8 * 12 + 4],
    [277, 3, 1, 1],
    [278, 3, 1, 16],
    [279, 4, 1, blob.length],
  ];
  return tiff(entries, 0, blob);
}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The marker segments of a well-formed JPEG up to SOS: [marker, segment bytes incl. length], and the rest. */
function jpegSegments(jpeg: Uint8Array): { segments: [number, Uint8Array][]; scan: Uint8Array } {
  const segments: [number, Uint8Array][] = [];
  let p = 2;
  for (;;) {
    const marker = jpeg[p + 1];
    const length = (jpeg[p + 2] << 8) | jpeg[p + 3];
    if (marker === 0xda) return { segments, scan: jpeg.subarray(p) };
    segments.push([marker, jpeg.subarray(p + 2, p + 2 + length)]);
    p += 2 + length;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Whether a JPEG marker starts a frame header (SOF0-SOF15 but DHT, JPG and DAC). */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** A JPEG rebuilt with `fill` 0xFF fill bytes before each marker after SOI and its frame header set to width x height. */
export function jpegWithSize(jpeg: Uint8Array, width: number, height: number, fill: number): Uint8Array {
  const { segments, scan } = jpegSegments(jpeg);
  const parts: Uint8Array[] = [new Uint8Array([0xff, 0xd8])];
  for (const [marker, segment] of segments) {
    const copy = segment.slice();
    if (isSof(marker)) {
      copy[3] = height >> 8;
      copy[4] = height & 0xff;
      copy[5] = width >> 8;
      copy[6] = width & 0xff;
    }
    parts.push(new Uint8Array(fill).fill(0xff), new Uint8Array([0xff, marker]), copy);
  }
  parts.push(new Uint8Array(fill).fill(0xff), scan);
  return concat(parts);
}

/**
 * The decoy JPEG: one fill byte before an SOF that declares real x real pixels. A parser that reads
 * the fill byte as a marker takes the next two bytes (0xC0 0x00) as a segment length, jumps 49 KB,
 * and lands on a decoy 16x16 SOF hidden in a comment segment.
 */
export function jpegDecoy(jpeg: Uint8Array, real: number): Uint8Array {
  const { segments, scan } = jpegSegments(jpeg);
  const parts: Uint8Array[] = [new Uint8Array([0xff, 0xd8])];
  for (const [marker, segment] of segments) {
    if (!isSof(marker)) {
      parts.push(new Uint8Array([0xff, marker]), segment);
      continue;
    }
    const sof = segment.slice();
    sof.set([real >> 8, real & 0xff, real >> 8, real & 0xff], 3);
    parts.push(new Uint8Array([0xff, 0xff, marker]), sof);
    // The misreading parser is now at the fill byte's offset + 2 + 0xC000; put the decoy there.
    const before = parts.reduce((n, p) => n + p.length, 0);
    const land = before - (2 + sof.length) - 1 + 2 + 0xc000;
    const comment = new Uint8Array(0xc000 + 64);
    const at = land - (before + 4);
    comment.set([0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x10, 0x01, 0x01, 0x11, 0x00], at);
    const length = comment.length + 2;
    parts.push(new Uint8Array([0xff, 0xfe, length >> 8, length & 0xff]), comment);
  }
  parts.push(scan);
  return concat(parts);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  let crc = 0xffffffff;
  for (let i = 4; i < 8 + data.length; i++) crc = CRC_TABLE[(crc ^ out[i]) & 0xff] ^ (crc >>> 8);
  view.setUint32(8 + data.length, (crc ^ 0xffffffff) >>> 0);
  return out;
}

/** A valid 8-bit grey PNG of side x side black pixels, built directly (fast even for large sides). */
export function greyPng(side: number): Promise<Uint8Array> {
  return greyPngInflating(side, (side + 1) * side); // filter byte 0 + zeros per row
}

/**
 * A side x side grey PNG whose image data inflates to `bytes` zeros: (side + 1) x side is exact,
 * more is a deflate bomb that a decoder inflates to the end.
 */
export async function greyPngInflating(side: number, bytes: number): Promise<Uint8Array> {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, side);
  view.setUint32(4, side);
  ihdr.set([8, 0, 0, 0, 0], 8);
  return concat([
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", await deflate(new Uint8Array(bytes))),
    pngChunk("IEND", new Uint8Array()),
  ]);
}

/** Bits packed MSB first into JPEG entropy-coded bytes: padded with 1s, each 0xFF stuffed with 0x00. */
function entropyBytes(bits: number[]): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < bits.length; i += 8) {
    let byte = 0;
    for (let k = 0; k < 8; k++) byte = (byte << 1) | (bits[i + k] ?? 1);
    bytes.push(byte);
    if (byte === 0xff) bytes.push(0);
  }
  return bytes;
}

/**
 * A width x height grey progressive JPEG of mid grey in `scans` scans: one DC scan, then AC scans
 * that each code every block as one end-of-band run (a few bytes per scan, yet a decoder visits every
 * block in each). 80,000 scans of 1000x1000 make 1 MB.
 */
export function jpegManyScans(width: number, height: number, scans: number): Uint8Array {
  const out: number[] = [0xff, 0xd8];
  const segment = (marker: number, body: number[]) =>
    out.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  segment(0xdb, [0, ...new Array(64).fill(1)]);
  segment(0xc2, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  // DC: one symbol (difference 0), code "0": every block is one 0 bit.
  segment(0xc4, [0x00, 1, ...new Array(15).fill(0), 0]);
  segment(0xda, [1, 1, 0x00, 0, 0, 0]);
  out.push(...entropyBytes(new Array(blocks).fill(0)));
  // AC: end-of-band runs of up to 32767 blocks, symbol r << 4 then r bits (run = 2^r + those bits).
  const runs: number[] = [];
  for (let left = blocks; left > 0; left -= Math.min(left, 32767)) runs.push(Math.min(left, 32767));
  const symbols = [...new Set(runs.map((n) => Math.floor(Math.log2(n)) << 4))];
  const counts = new Array(16).fill(0);
  counts[3] = symbols.length; // 4-bit codes 0000, 0001, …
  segment(0xc4, [0x10, ...counts, ...symbols]);
  const bits: number[] = [];
  for (const n of runs) {
    const r = Math.floor(Math.log2(n));
    const code = symbols.indexOf(r << 4);
    for (let k = 3; k >= 0; k--) bits.push((code >> k) & 1);
    for (let k = r - 1; k >= 0; k--) bits.push((n >> k) & 1);
  }
  const scan = [0xff, 0xda, 0, 8, 1, 1, 0x00, 1, 63, 0, ...entropyBytes(bits)];
  const bytes = new Uint8Array(out.length + (scans - 1) * scan.length + 2);
  bytes.set(out);
  for (let i = 0; i < scans - 1; i++) bytes.set(scan, out.length + i * scan.length);
  bytes.set([0xff, 0xd9], bytes.length - 2);
  return bytes;
}

/** An animated WebP's header: VP8X with the animation flag and an ANIM chunk, side x side. */
export function webpAnimated(side: number): Uint8Array {
  const bytes = new Uint8Array(12 + 18 + 14);
  const view = new DataView(bytes.buffer);
  const ascii = (text: string, at: number) => [...text].forEach((c, i) => (bytes[at + i] = c.charCodeAt(0)));
  ascii("RIFF", 0);
  view.setUint32(4, bytes.length - 8, true);
  ascii("WEBPVP8X", 8);
  view.setUint32(16, 10, true);
  bytes[20] = 0x02; // animation
  view.setUint16(24, side - 1, true);
  view.setUint16(27, side - 1, true);
  ascii("ANIM", 30);
  view.setUint32(34, 6, true);
  return bytes;
}

/** A PNG header (with IEND) claiming width x height, with no pixel data to speak of. */
export function pngClaiming(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return concat([
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", new Uint8Array([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    pngChunk("IEND", new Uint8Array()),
  ]);
}

/** A photo (any format we read) enlarged to about `pixels` pixels, in grey, as a JPEG: a maximum-size upload. */
export async function enlargedPhoto(photo: Uint8Array, pixels: number): Promise<Uint8Array> {
  const source = await decodeImage(photo);
  const scale = Math.sqrt(pixels / (source.width * source.height));
  const width = Math.floor(source.width * scale);
  const height = Math.floor(source.height * scale);
  const whole = { x: 0, y: 0, width: source.width, height: source.height };
  const grey = resampleGray(toGray(source), source.width, source.height, whole, width, height);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < grey.length; i++) {
    data[i * 4] = data[i * 4 + 1] = data[i * 4 + 2] = grey[i];
    data[i * 4 + 3] = 255;
  }
  return new Uint8Array(await encodeJpeg(imageData(data, width, height), { quality: 85 }));
}

/** Multipart body with the given parts (name, filename or null for a text field, bytes). */
export function multipart(parts: [string, string | null, Uint8Array][]): { body: Uint8Array; type: string } {
  const boundary = "mienBoundary7MA4YWxk";
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const [name, filename, bytes] of parts) {
    const disposition = `form-data; name="${name}"${filename ? `; filename="${filename}"` : ""}`;
    const type = filename ? "\r\ncontent-type: application/octet-stream" : "";
    chunks.push(
      enc.encode(`--${boundary}\r\ncontent-disposition: ${disposition}${type}\r\n\r\n`),
      bytes,
      enc.encode("\r\n"),
    );
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`));
  return { body: concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

/** One upload: its body and content type. */
export interface Upload {
  name: string;
  body: Uint8Array;
  type: string;
}

/**
 * Junk uploads of about `size` bytes that a server must read in full before it can refuse them: a
 * raw "JPEG" (its magic, then noise), the same as a multipart part, and as a JSON base64 image.
 */
export function junkUploads(size: number): Upload[] {
  const random = prng(size);
  const junk = Uint8Array.from({ length: size - 1024 }, () => Math.floor(random() * 256));
  junk.set([0xff, 0xd8, 0xff, 0xe0]);
  const form = multipart([["image", "junk.jpg", junk]]);
  const base64 = junk.subarray(0, Math.floor(((size - 1024) * 3) / 4)).toBase64();
  return [
    { name: "raw", body: junk, type: "image/jpeg" },
    { name: "multipart", body: form.body, type: form.type },
    {
      name: "json",
      body: new TextEncoder().encode(JSON.stringify({ image: base64 })),
      type: "application/json",
    },
  ];
}

/** Small valid images of every format the fuzzer starts from (a face-like grey pattern, 64x48). */
export async function seedImages(): Promise<Record<string, Uint8Array>> {
  const w = 64;
  const h = 48;
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const x = i % w;
    const y = Math.floor(i / w);
    const v = 128 + 100 * Math.sin(x / 5) * Math.cos(y / 7);
    data.set([v, v * 0.9, v * 0.8, 255], i * 4);
  }
  const id = imageData(data, w, h);
  const bmp = new Uint8Array(54 + w * h * 3);
  const view = new DataView(bmp.buffer);
  bmp.set([0x42, 0x4d]);
  view.setUint32(2, bmp.length, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, w, true);
  view.setInt32(22, h, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  for (let i = 0; i < w * h; i++) bmp.set([data[i * 4 + 2], data[i * 4 + 1], data[i * 4]], 54 + i * 3);
  return {
    jpeg: new Uint8Array(await encodeJpeg(id, { quality: 80 })),
    png: new Uint8Array(await encodePng(id)),
    webp: new Uint8Array(await encodeWebp(id)),
    "webp-lossless": new Uint8Array(await encodeWebp(id, { lossless: 1 })),
    bmp,
    tiff: tiff([[256, 3, 1, 2], [257, 3, 1, 2], [258, 3, 1, 8], [259, 3, 1, 1], [262, 3, 1, 1]], 0),
  };
}

/** A small seeded PRNG (mulberry32), so that every run fuzzes the same inputs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One mutation of `bytes`: flipped bytes, a truncation, inserted or duplicated runs, or a field set to 0xFFFF. */
export function mutate(bytes: Uint8Array, random: () => number): Uint8Array {
  const out = bytes.slice();
  const at = () => Math.floor(random() * out.length);
  const kind = Math.floor(random() * 5);
  if (kind === 0) {
    for (let i = 0, n = 1 + Math.floor(random() * 8); i < n; i++) out[at()] = Math.floor(random() * 256);
    return out;
  }
  if (kind === 1) return out.slice(0, Math.max(1, at()));
  if (kind === 2) {
    const p = at();
    const junk = Uint8Array.from({ length: 1 + Math.floor(random() * 32) }, () => Math.floor(random() * 256));
    return concat([out.subarray(0, p), junk, out.subarray(p)]);
  }
  if (kind === 3) {
    const p = at();
    const run = out.subarray(p, p + 1 + Math.floor(random() * 64));
    return concat([out.subarray(0, p), run, run, out.subarray(p + run.length)]);
  }
  const p = Math.min(out.length - 2, at());
  out[p] = 0xff;
  out[p + 1] = 0xff;
  return out;
}

const RAW = (type: string) => ({ "content-type": type });

/** Every crafted case (the fuzzer's mutations are separate). `jpeg` is a small valid JPEG to build on. */
export async function attackCases(jpeg: Uint8Array): Promise<AttackCase[]> {
  const constructorPart = multipart([["constructor", "a.jpg", jpeg], ["toString", "b.jpg", jpeg]]);
  const protoPart = multipart([["__proto__", "a.jpg", jpeg], ["faces", null, new TextEncoder().encode("x")]]);
  const bigCrop = await greyPng(6000);
  const crops32 = multipart(
    Array.from({ length: 32 }, () => ["face", "f.png", bigCrop] as [string, string, Uint8Array]),
  );
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  return [
    {
      name: "TIFF, next-IFD offset pointing to itself (38 B)",
      path: "/v1/analyze",
      body: tiffSelfLoop(),
      headers: RAW("image/tiff"),
      expect: [415],
    },
    {
      name: "TIFF, SubIFD fan-out 60 x 6 levels",
      path: "/v1/analyze",
      body: tiffSubIfdFanout(),
      headers: RAW("image/tiff"),
      expect: [415],
    },
    {
      name: "TIFF, 2,000 bits-per-sample and a 4e9 tag count",
      path: "/v1/analyze",
      body: tiffHugeCounts(),
      headers: RAW("image/tiff"),
      expect: [415],
    },
    {
      name: "TIFF, 16x16 strip inflating to 64 MB",
      path: "/v1/analyze",
      body: await tiffDeflateBomb(),
      headers: RAW("image/tiff"),
      expect: [415],
    },
    {
      name: "JPEG, fill byte before SOF, real 8000x8000 behind a 16x16 decoy",
      path: "/v1/analyze",
      body: jpegDecoy(jpeg, 8000),
      headers: RAW("image/jpeg"),
      expect: [413],
    },
    {
      name: "JPEG, fill byte before SOF, 20000x20000",
      path: "/v1/analyze",
      body: jpegWithSize(jpeg, 20000, 20000, 1),
      headers: RAW("image/jpeg"),
      expect: [413],
    },
    {
      name: "JPEG, 65535x65535 (byte count past 32 bits)",
      path: "/v1/analyze",
      body: jpegWithSize(jpeg, 65535, 65535, 0),
      headers: RAW("image/jpeg"),
      expect: [413],
    },
    {
      name: "JPEG cut at 14% of its bytes",
      path: "/v1/analyze",
      body: jpeg.slice(0, Math.floor(jpeg.length * 0.14)),
      headers: RAW("image/jpeg"),
      expect: [400],
    },
    {
      name: "JPEG, 1000x1000 progressive in 80,000 empty scans (1 MB)",
      path: "/v1/analyze",
      body: jpegManyScans(1000, 1000, 80_000),
      headers: RAW("image/jpeg"),
      expect: [415],
    },
    {
      name: "PNG, 16x16 whose data inflates to 64 MB",
      path: "/v1/analyze",
      body: await greyPngInflating(16, 64 << 20),
      headers: RAW("image/png"),
      expect: [400],
    },
    {
      name: "WebP, animated",
      path: "/v1/analyze",
      body: webpAnimated(64),
      headers: RAW("image/webp"),
      expect: [415],
    },
    {
      name: "PNG header claiming 100000x100000",
      path: "/v1/analyze",
      body: pngClaiming(100000, 100000),
      headers: RAW("image/png"),
      expect: [413],
    },
    {
      name: "classify, 32 crops of 6000x6000 grey PNG",
      path: "/v1/classify",
      body: crops32.body,
      headers: RAW(crops32.type),
      expect: [413],
    },
    {
      name: 'JSON base64 "AB="',
      path: "/v1/analyze",
      body: json({ image: "AB=" }),
      headers: RAW("application/json"),
      expect: [400],
    },
    {
      name: "JSON faces with bad base64",
      path: "/v1/classify",
      body: json({ faces: ["A", "@@@@"] }),
      headers: RAW("application/json"),
      expect: [400],
    },
    {
      name: "multipart parts named constructor and toString",
      path: "/v1/analyze",
      body: constructorPart.body,
      headers: RAW(constructorPart.type),
      expect: [400],
    },
    {
      name: "multipart parts named __proto__ and faces",
      path: "/v1/classify",
      body: protoPart.body,
      headers: RAW(protoPart.type),
      expect: [400],
    },
    {
      name: "JSON with __proto__ image",
      path: "/v1/analyze",
      body: new TextEncoder().encode('{"__proto__":{"image":"AAAA"}}'),
      headers: RAW("application/json"),
      expect: [400],
    },
  ];
}
