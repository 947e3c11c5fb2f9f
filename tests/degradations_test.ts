import assert from "node:assert/strict";
import {
  blur,
  boxJitter,
  contrast,
  DEGRADATIONS,
  downscale,
  gamma,
  type GreyImage,
  jpeg,
  noise,
  roll,
  unevenLight,
} from "../cli/degradations.ts";

/** A w x h grey image from f(x, y). */
function image(w: number, h: number, f: (x: number, y: number) => number): GreyImage {
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = f(x, y);
  return { data, width: w, height: h };
}
const at = (im: GreyImage, x: number, y: number) => im.data[y * im.width + x];
const mean = (im: GreyImage) => im.data.reduce((a, b) => a + b, 0) / im.data.length;
const variance = (im: GreyImage) => {
  const m = mean(im);
  return im.data.reduce((a, b) => a + (b - m) ** 2, 0) / im.data.length;
};
const checker = image(48, 48, (x, y) => ((x + y) % 2 ? 200 : 50));
const random = (() => {
  let s = 7;
  return image(48, 48, () => (s = (s * 48271) % 2147483647) % 256);
})();

Deno.test("downscale: a 48-px face becomes 24 px, its fine detail averaged away", async () => {
  const small = await downscale(24).apply(checker);
  assert.equal(small.width, 24);
  assert.equal(small.height, 24);
  assert.ok(small.data.every((v) => Math.abs(v - 125) < 1e-3));
});

Deno.test("JPEG quality 30 keeps the mean and loses detail; higher quality loses less", async () => {
  const q30 = await jpeg(30).apply(random);
  const q90 = await jpeg(90).apply(random);
  const error = (im: GreyImage) =>
    im.data.reduce((s, v, i) => s + Math.abs(v - random.data[i]), 0) / im.data.length;
  assert.ok(Math.abs(mean(q30) - mean(random)) < 4);
  assert.ok(error(q30) > 10, `q30 error ${error(q30)}`);
  assert.ok(error(q90) < error(q30));
});

Deno.test("gamma 0.6 brightens mid grey as 255 (v/255)^0.6; contrast 0.5 halves deviations", async () => {
  const grey = image(4, 4, () => 64);
  assert.ok(Math.abs(at(await gamma(0.6).apply(grey), 0, 0) - 255 * (64 / 255) ** 0.6) < 1e-3);
  const c = await contrast(0.5).apply(checker);
  assert.ok(Math.abs(at(c, 0, 0) - (125 - 75 / 2)) < 1e-3);
  assert.ok(Math.abs(at(c, 1, 0) - (125 + 75 / 2)) < 1e-3);
});

Deno.test("blur lowers variance; noise raises it and is the same every run", async () => {
  assert.ok(variance(await blur(0.03).apply(random)) < variance(random) / 2);
  const flat = image(48, 48, () => 128);
  const a = await noise(8).apply(flat);
  const b = await noise(8).apply(flat);
  assert.deepEqual(a.data, b.data);
  assert.ok(Math.abs(Math.sqrt(variance(a)) - 8) < 1);
});

Deno.test("roll turns the image about its centre; box jitter shifts the content", async () => {
  // A bright dot right of centre moves down by roll 90 degrees (clockwise on screen).
  const dot = image(21, 21, (x, y) => (x === 15 && y === 10 ? 255 : 0));
  const turned = await roll(90).apply(dot);
  assert.ok(at(turned, 10, 15) > 200, `${at(turned, 10, 15)}`);
  assert.ok(at(turned, 15, 10) < 50);
  // Shifting the box right by 10% moves the content left by 10% of the width.
  const ramp = image(50, 10, (x) => x * 5);
  const shifted = await boxJitter(0.1, 1).apply(ramp);
  assert.ok(Math.abs(at(shifted, 20, 5) - at(ramp, 25, 5)) < 1e-3);
});

Deno.test("side light darkens one side and brightens the other", async () => {
  const lit = await unevenLight(40).apply(image(48, 48, () => 128));
  assert.ok(Math.abs(at(lit, 0, 10) - 88) < 1e-3);
  assert.ok(Math.abs(at(lit, 47, 10) - 168) < 1e-3);
  assert.equal(DEGRADATIONS[0].name, "clean");
  assert.equal(new Set(DEGRADATIONS.map((d) => d.name)).size, DEGRADATIONS.length);
});
