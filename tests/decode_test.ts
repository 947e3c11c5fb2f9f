import assert from "node:assert/strict";
import encodePng from "@jsquash/png/encode.js";
import encodeJpeg from "@jsquash/jpeg/encode.js";
import encodeWebp from "@jsquash/webp/encode.js";
import {
  decodeImage,
  ImageDecodeError,
  imageSize,
  MAX_JPEG_SCANS,
  readHeader,
  sniffFormat,
} from "../shared/decode.ts";
import {
  greyPng,
  greyPngInflating,
  jpegManyScans,
  jpegWithSize,
  pngClaiming,
  tiffSelfLoop,
  webpAnimated,
} from "./attack_corpus.ts";

const W = 5;
const H = 3;
const pixels = Uint8ClampedArray.from({ length: W * H * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 23) % 256));

function imageData(data: Uint8ClampedArray, width: number, height: number) {
  return { data, width, height, colorSpace: "srgb" } as ImageData;
}

/** A bottom-up 24-bit BMP of `pixels`. */
function bmp24(): Uint8Array {
  const stride = Math.ceil((W * 3) / 4) * 4;
  const bytes = new Uint8Array(54 + stride * H);
  const view = new DataView(bytes.buffer);
  bytes.set([0x42, 0x4d]);
  view.setUint32(2, bytes.length, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, W, true);
  view.setInt32(22, H, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const src = (y * W + x) * 4;
      const dst = 54 + (H - 1 - y) * stride + x * 3;
      bytes[dst] = pixels[src + 2];
      bytes[dst + 1] = pixels[src + 1];
      bytes[dst + 2] = pixels[src];
    }
  }
  return bytes;
}

Deno.test("decodeImage reads PNG losslessly", async () => {
  const png = new Uint8Array(await encodePng(imageData(pixels, W, H)));
  assert.equal(sniffFormat(png), "png");
  const frame = await decodeImage(png);
  assert.equal(frame.width, W);
  assert.equal(frame.height, H);
  assert.deepEqual(Array.from(frame.data), Array.from(pixels));
});

Deno.test("decodeImage reads JPEG (lossy, close)", async () => {
  const flat = new Uint8ClampedArray(16 * 16 * 4).fill(200);
  const jpeg = new Uint8Array(await encodeJpeg(imageData(flat, 16, 16), { quality: 95 }));
  assert.equal(sniffFormat(jpeg), "jpeg");
  const frame = await decodeImage(jpeg);
  assert.equal(frame.width, 16);
  assert.ok(Array.from(frame.data).every((v, i) => i % 4 === 3 || Math.abs(v - 200) <= 3));
});

Deno.test("decodeImage reads lossless WebP", async () => {
  const webp = new Uint8Array(await encodeWebp(imageData(pixels, W, H), { lossless: 1 }));
  assert.equal(sniffFormat(webp), "webp");
  const frame = await decodeImage(webp);
  assert.equal(frame.width, W);
  assert.deepEqual(Array.from(frame.data), Array.from(pixels));
});

Deno.test("decodeImage reads 24-bit BMP; TIFF is refused by name", async () => {
  const fromBmp = await decodeImage(bmp24());
  assert.deepEqual(Array.from(fromBmp.data), Array.from(pixels));
  const tiff = tiffSelfLoop();
  assert.equal(sniffFormat(tiff), null);
  await assert.rejects(
    decodeImage(tiff),
    (e: ImageDecodeError) => e.code === "unsupported_type" && /TIFF/.test(e.message),
  );
});

Deno.test("decodeImage gives coded errors for bad input", async () => {
  const code = async (bytes: Uint8Array) => {
    try {
      await decodeImage(bytes);
    } catch (error) {
      assert.ok(error instanceof ImageDecodeError);
      return error.code;
    }
    return "decoded";
  };
  assert.equal(await code(new Uint8Array()), "invalid_image");
  assert.equal(await code(new TextEncoder().encode("hello, not an image")), "unsupported_type");
  const png = new Uint8Array(await encodePng(imageData(pixels, W, H)));
  assert.equal(await code(png.slice(0, 30)), "invalid_image");
  assert.equal(await code(bmp24().slice(0, 60)), "invalid_image");
});

Deno.test("imageSize reads dimensions from headers of every format, without decoding", async () => {
  const data = new Uint8ClampedArray(37 * 23 * 4).fill(90);
  const id = imageData(data, 37, 23);
  const encoded = [
    new Uint8Array(await encodePng(id)),
    new Uint8Array(await encodeJpeg(id)),
    new Uint8Array(await encodeWebp(id)),
    new Uint8Array(await encodeWebp(id, { lossless: 1 })),
  ];
  for (const bytes of encoded) {
    assert.deepEqual(imageSize(bytes), { width: 37, height: 23 }, sniffFormat(bytes)!);
  }
  assert.deepEqual(imageSize(bmp24()), { width: W, height: H });
  assert.equal(imageSize(new TextEncoder().encode("nope")), null);
  assert.equal(imageSize(encoded[0].slice(0, 20)), null);
  // A PNG claiming 100000 x 100000 pixels is measured without touching its (absent) pixels.
  assert.deepEqual(imageSize(pngClaiming(100000, 100000)), { width: 100000, height: 100000 });
});

/** The code of the ImageDecodeError that decodeImage throws for `bytes` ("decoded" if none). */
async function failure(bytes: Uint8Array, maxPixels?: number): Promise<string> {
  try {
    await decodeImage(bytes, { maxPixels });
  } catch (error) {
    assert.ok(error instanceof ImageDecodeError, String(error));
    assert.doesNotMatch(error.message, /memory|wasm|RuntimeError|undefined/i);
    return `${error.code}: ${error.message}`;
  }
  return "decoded";
}

Deno.test("JPEG headers: fill bytes before a marker do not hide the real frame size", async () => {
  const flat = new Uint8ClampedArray(16 * 16 * 4).fill(120);
  const jpeg = new Uint8Array(await encodeJpeg(imageData(flat, 16, 16)));
  // Two legal 0xFF fill bytes before every marker after SOI: the same image, size still read.
  const filled = jpegWithSize(jpeg, 16, 16, 2);
  assert.deepEqual(readHeader(filled), { format: "jpeg", width: 16, height: 16 });
  assert.equal((await decodeImage(filled)).width, 16);
  // A fill byte before an SOF declaring 20000x20000 is measured as 20000x20000 and refused unread.
  const big = jpegWithSize(jpeg, 20000, 20000, 1);
  assert.deepEqual(imageSize(big), { width: 20000, height: 20000 });
  assert.match(await failure(big), /^image_too_large: .*20000x20000/);
  // 65535x65535 (a byte count past 32 bits), then a valid JPEG decodes normally.
  assert.match(await failure(jpegWithSize(jpeg, 65535, 65535, 0)), /^image_too_large/);
  assert.equal((await decodeImage(jpeg)).width, 16);
});

Deno.test("truncated and malformed images are invalid_image with our own message", async () => {
  const photo = new Uint8Array(
    await encodeJpeg(imageData(new Uint8ClampedArray(64 * 64 * 4).fill(90), 64, 64)),
  );
  assert.match(await failure(photo.slice(0, Math.floor(photo.length * 0.6))), /^invalid_image: .*truncated/);
  const junk = photo.slice();
  junk[4 + ((photo[4] << 8) | photo[5])] = 0x12; // a non-0xFF byte where the second marker must start
  assert.match(await failure(junk), /^invalid_image: .*unexpected byte/);
  const png = new Uint8Array(await encodePng(imageData(pixels, W, H)));
  assert.match(await failure(png.slice(0, png.length - 12)), /^invalid_image: .*truncated/);
  const webp = new Uint8Array(await encodeWebp(imageData(pixels, W, H)));
  assert.match(await failure(webp.slice(0, webp.length - 4)), /^invalid_image: .*truncated/);
  // Corrupt entropy-coded data inside a well-formed JPEG: decoded or refused in our words; the next decode works.
  const corrupt = photo.slice();
  corrupt.fill(0x00, photo.length - 200, photo.length - 2);
  assert.match(await failure(corrupt), /^(decoded|invalid_image: not a valid JPEG image)/);
  assert.equal((await decodeImage(photo)).width, 64);
});

Deno.test("decodeImage enforces its pixel budget for every format", async () => {
  const data = new Uint8ClampedArray(40 * 30 * 4).fill(50);
  const id = imageData(data, 40, 30);
  for (
    const bytes of [
      new Uint8Array(await encodePng(id)),
      new Uint8Array(await encodeJpeg(id)),
      new Uint8Array(await encodeWebp(id)),
      bmp24(),
    ]
  ) {
    const { width, height } = readHeader(bytes);
    assert.match(await failure(bytes, width * height - 1), /^image_too_large/, sniffFormat(bytes)!);
    assert.equal(await failure(bytes, width * height), "decoded");
  }
});

Deno.test("decoding cost: many-scan JPEGs, animated WebP and PNG data that inflates past its image are refused", async () => {
  // A progressive JPEG at the scan limit decodes; one scan more is refused from the header alone.
  const atLimit = jpegManyScans(64, 48, MAX_JPEG_SCANS);
  const frame = await decodeImage(atLimit);
  assert.equal(frame.width, 64);
  assert.equal(frame.data[0], 128);
  const over = jpegManyScans(64, 48, MAX_JPEG_SCANS + 1);
  assert.throws(() => readHeader(over), (e: ImageDecodeError) => e.code === "unsupported_type");
  assert.match(await failure(over), /^unsupported_type: a JPEG of over 100 scans is not read/);
  // The 1 MB attack (80,000 scans) is refused at once, not decoded for seconds.
  const attack = jpegManyScans(1000, 1000, 80_000);
  const start = performance.now();
  assert.match(await failure(attack), /^unsupported_type/);
  assert.ok(performance.now() - start < 1000, "refused from the header walk");
  assert.match(await failure(webpAnimated(64)), /^unsupported_type: animated WebP/);
  // 16x16 pixels need 272 bytes of data; 64 MB of zeros behind them is refused before the decoder runs.
  assert.equal(await failure(await greyPngInflating(16, 17 * 16)), "decoded");
  assert.match(await failure(await greyPngInflating(16, 64 << 20)), /^invalid_image: .*inflates to more/);
  assert.match(await failure(await greyPngInflating(16, 17 * 16 + 1)), /^invalid_image/);
  assert.equal((await decodeImage(await greyPng(300))).width, 300);
});
