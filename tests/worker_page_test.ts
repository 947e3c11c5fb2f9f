import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { loadDetector } from "../runtime/deno_analyzer.ts";
import { initDenoTf } from "../runtime/deno_tf.ts";
import { faceCrop } from "../shared/analyzer.ts";
import { decodeImage } from "../shared/decode.ts";
import { LABELS } from "../shared/labels.ts";
import { loadModel } from "../shared/model.ts";
import { createApp } from "../worker/app.ts";
import { readPageFile } from "../worker/assets.ts";
import { buildPage } from "../worker/build_page.ts";
import { cropFrame, letterbox, y4m } from "./fake_camera.ts";
import { CSV_HEADER } from "../shared/timeline.ts";
import { hasFfmpeg } from "./extension_helpers.ts";
import { ROOT } from "./helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) {
  console.warn(`${CHROMIUM} not found (apt-get install -y chromium): browser tests are skipped`);
}
const SAMPLE = `${ROOT}node_modules/@vladmandic/face-api/demo/sample2.jpg`;
const SHOTS = `${ROOT}dist/screenshots`;

/** An element's data- attributes, as page callbacks see them. */
type Dataset = { dataset: Record<string, string | undefined> };

Deno.test({
  name: "GET / page in Chromium: a dropped photo goes to the API; the webcam runs locally and sends nothing",
  ignore: !HAS_CHROMIUM,
  async fn(t) {
    await buildPage();
    await initDenoTf();
    const detector = loadDetector("blazeface");
    const app = createApp({ model: await loadModel(), detector: () => detector, figures: null }, {
      pageFile: readPageFile,
    });
    const requests: string[] = [];
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
      requests.push(`${req.method} ${new URL(req.url).pathname}`);
      return app.fetch(req);
    });
    const base = `http://127.0.0.1:${server.addr.port}`;

    // A fake camera that sees one face of a real photo up close (as a webcam does), moving 4 px per frame.
    const tmp = await Deno.makeTempDir();
    const photo = await decodeImage(await Deno.readFile(SAMPLE));
    const [face] = (await detector).detect(photo, { maxFaces: 1 });
    const view = cropFrame(photo, faceCrop(face.box, 1));
    await Deno.writeFile(
      `${tmp}/camera.y4m`,
      y4m(Array.from({ length: 10 }, (_, i) => letterbox(view, 640, 480, 4 * i)), 10),
    );
    await Deno.mkdir(SHOTS, { recursive: true });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        `--use-file-for-fake-video-capture=${tmp}/camera.y4m`,
      ],
    });
    const errors: string[] = [];
    try {
      const page = await browser.newPage();
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${base}/`);
      const faceLabels = async () =>
        (await page.locator("#faces li .label").allTextContents()).map((s) =>
          s.replace(/^Face \d+: (\w+) \d+%$/, "$1")
        );

      await t.step("the page has its icon (no 404 on load)", async () => {
        const icon = await fetch(`${base}/static/icon.png`);
        assert.equal(icon.headers.get("content-type"), "image/png");
        assert.equal((await decodeImage(new Uint8Array(await icon.arrayBuffer()))).width, 64);
        assert.ok(requests.includes("GET /static/icon.png"));
        assert.ok(!requests.some((r) => r === "GET /favicon.ico") || (await fetch(`${base}/favicon.ico`)).ok);
      });

      await t.step("upload: the photo is analysed by POST /v1/analyze and drawn with its faces", async () => {
        await page.setInputFiles("#file", SAMPLE);
        await page.waitForSelector("#faces li", { timeout: 30_000 });
        assert.ok(requests.includes("POST /v1/analyze"));
        const labels = await faceLabels();
        assert.ok(labels.length >= 1);
        for (const label of labels) assert.ok((LABELS as readonly string[]).includes(label), label);
        assert.equal(
          await page.locator("#view").evaluate((c) => (c as unknown as { width: number }).width),
          photo.width,
        );
        assert.match(await page.locator("#status").textContent() ?? "", /face/);
        await page.screenshot({ path: `${SHOTS}/page_upload.png` });
      });

      await t.step("a non-image is refused in plain words, and the page keeps working", async () => {
        const unreadable = /^Mien can't read this file: choose a JPEG, PNG, WebP or BMP photo/;
        const before = requests.length;
        for (const [name, mimeType] of [["notes.txt", "text/plain"], ["notes.png", "image/png"]]) {
          await page.setInputFiles("#file", { name, mimeType, buffer: Buffer.from("not a picture") });
          await page.waitForSelector("#status.error");
          assert.match(await page.locator("#status").textContent() ?? "", unreadable);
          assert.equal(await page.locator("#faces li").count(), 0);
        }
        assert.deepEqual(requests.slice(before), [], "refused in the page, nothing sent");
        // A file that starts like a PNG but is not one: the API's refusal, in the same words.
        const broken = Buffer.concat([
          Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
          Buffer.alloc(64),
        ]);
        await page.setInputFiles("#file", { name: "broken.png", mimeType: "image/png", buffer: broken });
        await page.waitForFunction(`document.getElementById("status").textContent.startsWith("Mien can't")`);
        assert.ok(requests.slice(before).includes("POST /v1/analyze"));
        assert.ok(await page.locator("#status.error").isVisible());
      });

      await t.step(
        "webcam: frames are analysed in the page; no request leaves it but static files",
        async () => {
          const before = requests.length;
          await page.click("#webcam");
          await page.waitForFunction("Number(document.body.dataset.analysed) >= 10", null, {
            timeout: 60_000,
          });
          assert.ok((await faceLabels()).length >= 1);
          assert.match(await page.locator("#status").textContent() ?? "", /^Webcam on/);
          const during = requests.slice(before);
          assert.ok(during.length > 0); // the model and wasm files
          for (const r of during) assert.match(r, /^GET \/static\//);
          await page.screenshot({ path: `${SHOTS}/page_webcam.png` });
          await page.click("#webcam");
          assert.equal(await page.locator("#webcam").textContent(), "Start webcam");
        },
      );
      await t.step({
        name:
          "video file: analysed in the page as it plays, timeline drawn, CSV at the end, nothing uploaded",
        ignore: !hasFfmpeg(),
        fn: async () => {
          const clip = `${tmp}/clip.webm`;
          const made = await new Deno.Command("ffmpeg", {
            args: [
              ...["-v", "error", "-y", "-loop", "1", "-i", SAMPLE, "-t", "3", "-r", "15"],
              ...["-vf", "crop=600:450:1250+t*20:60,scale=480:360", "-c:v", "libvpx", "-b:v", "1M", clip],
            ],
          }).output();
          assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
          const before = requests.length;
          await page.setInputFiles("#file", clip);
          await page.waitForFunction("document.body.dataset.videoDone === '1'", null, { timeout: 60_000 })
            .catch(
              async (error) => {
                throw new Error(
                  `${error.message}; status: ${await page.locator("#status")
                    .textContent()}; errors: ${errors}`,
                );
              },
            );
          const status = await page.locator("#status").textContent() ?? "";
          const [analysed, frames] = await page.locator("#status").evaluate((e) =>
            ["analysed", "frames"].map((key) => Number((e as unknown as Dataset).dataset[key]))
          );
          console.log(`  page video: ${analysed} of ${frames} shown frames analysed`);
          assert.ok(analysed >= 10 && analysed <= frames, `${analysed} of ${frames} frames analysed`);
          assert.match(status, /: video analysed in this page: 1 face followed\. Nothing was uploaded\.$/);
          assert.ok(await page.locator("#stop").isHidden());
          for (const r of requests.slice(before)) assert.match(r, /^GET \/static\//);
          assert.ok(await page.locator("#timeline").isVisible());
          assert.ok((await faceLabels()).length >= 1);
          await page.screenshot({ path: `${SHOTS}/page_video.png`, fullPage: true });
          const download = page.waitForEvent("download");
          await page.click("#csv");
          const csv = (await Deno.readTextFile((await (await download).path())!)).trim().split("\n");
          assert.equal(csv[0], CSV_HEADER);
          assert.ok(csv.length >= 10, `${csv.length} CSV lines`);
          const ids = new Set(csv.slice(1).map((line) => line.split(",")[2]));
          assert.equal(ids.size, 1, "one face id");
          const cards = await page.locator("#faces li").evaluateAll((li) =>
            li.map((e) => (e as unknown as Dataset).dataset.face)
          );
          assert.deepEqual(cards, [...ids], "cards numbered as the timeline and CSV");

          await page.evaluate("delete document.body.dataset.videoDone");
          await page.setInputFiles("#file", []);
          await page.setInputFiles("#file", clip);
          await page.waitForSelector("#stop:visible", { timeout: 60_000 });
          await page.waitForSelector("#faces li", { timeout: 60_000 });
          await page.click("#stop");
          await page.waitForFunction("document.body.dataset.videoDone === '1'");
          assert.match(await page.locator("#status").textContent() ?? "", /stopped; video analysed/);
          assert.ok(await page.locator("#timeline").isVisible());
          assert.ok(await page.locator("#csv").isVisible());
          const desktop = page.viewportSize()!;
          await page.setViewportSize({ width: 400, height: 800 });
          await page.waitForFunction(`document.getElementById("timeline").width <= 400 * devicePixelRatio`);
          await page.screenshot({ path: `${SHOTS}/page_video_phone.png`, fullPage: true });
          await page.setViewportSize(desktop);

          await page.click("#webcam");
          assert.ok(await page.locator("#timeline").isHidden(), "the webcam clears the video's timeline");
          assert.ok(await page.locator("#csv").isHidden());
          await page.waitForFunction(`document.getElementById("webcam").textContent === "Stop webcam"`);
          await page.click("#webcam");
        },
      });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(tmp, { recursive: true });
      (await detector).dispose();
    }
  },
});
