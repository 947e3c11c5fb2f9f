import assert from "node:assert/strict";
import encodePng from "@jsquash/png/encode.js";
import encodeJpeg from "@jsquash/jpeg/encode.js";
import encodeWebp from "@jsquash/webp/encode.js";
// @ts-types="../shared/utif.d.ts"
import UTIF from "utif";
import { decodeImage, ImageDecodeError, imageSize, sniffFormat } from "../shared/decode.ts";

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

Deno.test("decodeImage reads 24-bit BMP and TIFF", async () => {
  const fromBmp = await decodeImage(bmp24());
  assert.deepEqual(Array.from(fromBmp.data), Array.from(pixels));
  const tiff = new Uint8Array(UTIF.encodeImage(pixels, W, H));
  assert.equal(sniffFormat(tiff), "tiff");
  const fromTiff = await decodeImage(tiff);
  assert.equal(fromTiff.width, W);
  assert.deepEqual(Array.from(fromTiff.data), Array.from(pixels));
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
    new Uint8Array(UTIF.encodeImage(data, 37, 23)),
  ];
  for (const bytes of encoded) {
    assert.deepEqual(imageSize(bytes), { width: 37, height: 23 }, sniffFormat(bytes)!);
  }
  assert.deepEqual(imageSize(bmp24()), { width: W, height: H });
  assert.equal(imageSize(new TextEncoder().encode("nope")), null);
  assert.equal(imageSize(encoded[0].slice(0, 20)), null);
  // A PNG header claiming 100000 x 100000 pixels is measured without touching its (absent) pixels.
  const bomb = encoded[0].slice(0, 33);
  new DataView(bomb.buffer).setUint32(16, 100000);
  new DataView(bomb.buffer).setUint32(20, 100000);
  assert.deepEqual(imageSize(bomb), { width: 100000, height: 100000 });
});
