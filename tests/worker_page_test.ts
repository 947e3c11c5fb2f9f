import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { loadDetector } from "../runtime/deno_analyzer.ts";
import { initDenoTf } from "../runtime/deno_tf.ts";
import { faceCrop } from "../shared/analyzer.ts";
import { decodeImage } from "../shared/decode.ts";
import { LABELS } from "../shared/labels.ts";
import { BUNDLED_MODELS, loadModel } from "../shared/model.ts";
import { createApp } from "../worker/app.ts";
import { readPageFile } from "../worker/assets.ts";
import { buildPage } from "../worker/build_page.ts";
import { cropFrame, letterbox, y4m } from "./fake_camera.ts";
import { CSV_HEADER } from "../shared/timeline.ts";
import { hasFfmpeg } from "./extension_helpers.ts";
import { ROOT } from "./helpers.ts";
import encodePng from "@jsquash/png/encode.js";
import { SAMPLE_PHOTOS } from "../worker/page/samples.ts";

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
    const models = { small: await loadModel(), large: await loadModel(BUNDLED_MODELS.large) };
    const app = createApp({ models, detector: () => detector, figures: {} }, { pageFile: readPageFile });
    const requests: string[] = [];
    const queries: string[] = [];
    const listen = (port: number) =>
      Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (req) => {
        requests.push(`${req.method} ${new URL(req.url).pathname}`);
        if (new URL(req.url).pathname.startsWith("/v1/")) queries.push(new URL(req.url).search);
        return app.fetch(req);
      });
    let server = listen(0);
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

      await t.step("sample photos: one click analyses one, and each face's feature maps show", async () => {
        const samples = page.locator("#samples button");
        await page.waitForSelector("#samples:not([hidden])");
        assert.equal(await samples.count(), SAMPLE_PHOTOS.length);
        await samples.first().click();
        // Sample photo 1 shows three faces (the photo before it, two).
        await page.waitForFunction(`document.getElementById("status").textContent === "3 faces found."`);
        await page.waitForTimeout(800); // the result scrolls into view smoothly
        await page.screenshot({ path: `${SHOTS}/page_sample.png` });
        const before = requests.length;
        await page.locator("#faces li").nth(1).locator("button").click();
        await page.waitForFunction(`document.getElementById("explain").naturalWidth > 0`, null, {
          timeout: 30_000,
        });
        assert.ok(requests.slice(before).includes("POST /v1/explain"));
        assert.match(await page.locator("#explainTitle").textContent() ?? "", /^Face 2: /);
        assert.equal(
          await page.locator("#faces li").nth(1).locator("button").textContent(),
          "Hide feature maps",
        );
        const [width, height] = await page.locator("#explain").evaluate((img) => {
          const image = img as unknown as { naturalWidth: number; naturalHeight: number };
          return [image.naturalWidth, image.naturalHeight];
        });
        assert.ok(width > 300 && height > 300, `feature maps are ${width}x${height}`);
        await page.screenshot({ path: `${SHOTS}/page_feature_maps.png`, fullPage: true });
        await page.locator("#faces li").nth(1).locator("button").click();
        assert.ok(await page.locator("#explainView").isHidden());
      });

      await t.step(
        "the model chosen under Server settings answers the photo and its feature maps",
        async () => {
          assert.ok(
            queries.length && queries.every((q) => /[?&]model=large(&|$)/.test(q)),
            queries.join(" "),
          );
          await page.locator("details:has(#model)").evaluate((d) =>
            (d as unknown as { open: boolean }).open = true
          );
          await page.selectOption("#model", "small");
          await page.locator("details:has(#model)").screenshot({ path: `${SHOTS}/page_settings.png` });
          const answered = page.waitForResponse((r) => new URL(r.url()).pathname === "/v1/analyze");
          await page.locator("#samples button").first().click();
          const answer = await (await answered).json();
          assert.equal(answer.model, `mien-fer@${models.small.info.version}`);
          await page.waitForFunction(`document.getElementById("status").textContent === "3 faces found."`);
          const before = queries.length;
          await page.locator("#faces li").first().locator("button").click();
          await page.waitForFunction(`document.getElementById("explain").naturalWidth > 0`, null, {
            timeout: 30_000,
          });
          assert.match(queries.slice(before).join(" "), /[?&]model=small(&|$)/);
          await page.screenshot({ path: `${SHOTS}/page_model_small.png` });
          await page.locator("#faces li").first().locator("button").click();
          await page.selectOption("#model", "large");
        },
      );

      await t.step(
        "a small portrait photo: its cards beside it with no gap; on a phone, below it in view",
        async () => {
          const { x, y, width: w } = face.box;
          const portrait = cropFrame(photo, { x: x - w, y: y - w, width: 3 * w, height: 4.2 * w });
          const bytes = new Uint8Array(await encodePng({ ...portrait, colorSpace: "srgb" } as ImageData));
          await page.setInputFiles("#file", {
            name: "portrait.png",
            mimeType: "image/png",
            buffer: Buffer.from(bytes),
          });
          await page.waitForFunction(`document.getElementById("status").textContent === "1 face found."`);
          const gap = async () => {
            const [canvas, cards] = await Promise.all(
              ["#view", "#faces"].map((s) => page.locator(s).boundingBox()),
            );
            return { canvas: canvas!, cards: cards! };
          };
          const wide = await gap();
          assert.ok(wide.cards.x - (wide.canvas.x + wide.canvas.width) <= 24, `gap ${JSON.stringify(wide)}`);
          await page.screenshot({ path: `${SHOTS}/page_portrait.png` });
          const phone = await browser.newPage({
            viewport: { width: 390, height: 844 },
            isMobile: true,
            hasTouch: true,
          });
          try {
            await phone.goto(`${base}/`);
            assert.ok(await phone.locator(".drop-hint").isHidden(), "no 'Drop' on a touch screen");
            assert.equal(await phone.locator("label[for=file]").textContent(), "Choose a photo or video");
            await phone.setInputFiles("#file", SAMPLE);
            await phone.waitForFunction(`/found/.test(document.getElementById("status").textContent)`);
            await phone.waitForFunction(
              `document.getElementById("result").getBoundingClientRect().top < innerHeight / 2`,
            );
            const width = await phone.evaluate("document.documentElement.scrollWidth");
            assert.equal(width, 390, "nothing wider than the phone");
            await phone.screenshot({ path: `${SHOTS}/page_phone.png` });
          } finally {
            await phone.close();
          }
        },
      );

      await t.step({
        name: "a photo over the pixel budget is scaled down in the page before it is sent",
        ignore: !hasFfmpeg(),
        fn: async () => {
          const big = `${tmp}/big.jpg`;
          const made = await new Deno.Command("ffmpeg", {
            args: ["-v", "error", "-y", "-i", SAMPLE, "-vf", "scale=10000:7120", "-q:v", "4", big],
          }).output();
          assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
          await page.setInputFiles("#file", big);
          await page.waitForFunction(
            `/scaled down/.test(document.getElementById("status").textContent)`,
            null,
            {
              timeout: 60_000,
            },
          );
          const text = await page.locator("#status").textContent() ?? "";
          assert.match(
            text,
            /^\d+ faces? found\. The photo was scaled down from 10,000x7,120 to [\d,]+x[\d,]+ pixels/,
          );
          assert.ok(await page.locator("#status:not(.error)").isVisible());
        },
      });

      await t.step("server down: plain words, and the next try works once it is back", async () => {
        const port = server.addr.port;
        await server.shutdown();
        await page.setInputFiles("#file", SAMPLE);
        await page.waitForSelector("#status.error");
        assert.equal(
          await page.locator("#status").textContent(),
          "Could not reach this website's server: it may be down. Try again in a moment.",
        );
        await page.click("#webcam");
        await page.waitForSelector("#status.error");
        assert.equal(
          await page.locator("#status").textContent(),
          "Could not load the model from this website's server: it may be down. Try again in a moment.",
        );
        assert.equal(await page.locator("#webcam").textContent(), "Start webcam");
        server = listen(port);
        await page.setInputFiles("#file", []);
        await page.setInputFiles("#file", SAMPLE);
        await page.waitForFunction(`/found/.test(document.getElementById("status").textContent)`);
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
        // The status still shows the refusal before it: wait for the API's answer, then for its words.
        const answered = page.waitForResponse((r) => new URL(r.url()).pathname === "/v1/analyze");
        await page.setInputFiles("#file", { name: "broken.png", mimeType: "image/png", buffer: broken });
        await answered;
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
          assert.match(
            await page.locator("#status").textContent() ?? "",
            /^Webcam on: 1 face, \d+\.\d frames\/s analysed in this page; nothing is uploaded\.$/,
          );
          // Shown as a mirror shows a face: the camera's picture moves right of centre, so the black band on
          // the view's right is the wider one.
          const bands = await page.locator("#view").evaluate((c) => {
            const canvas = c as unknown as {
              width: number;
              height: number;
              getContext(type: "2d"): { getImageData(...a: number[]): { data: Uint8ClampedArray } };
            };
            const row = canvas.getContext("2d").getImageData(0, canvas.height >> 1, canvas.width, 1).data;
            const dark = (x: number) => row[x * 4] + row[x * 4 + 1] + row[x * 4 + 2] < 30;
            let left = 0;
            while (left < canvas.width && dark(left)) left++;
            let right = 0;
            while (right < canvas.width && dark(canvas.width - 1 - right)) right++;
            return { left, right };
          });
          assert.ok(bands.right >= bands.left, `mirrored: bands ${JSON.stringify(bands)}`);
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
          assert.equal(await page.locator("#play").textContent(), "Replay");
          for (const r of requests.slice(before)) assert.match(r, /^GET \/static\//);
          assert.ok(await page.locator("#timeline").isVisible());
          assert.ok((await faceLabels()).length >= 1);
          await page.screenshot({ path: `${SHOTS}/page_video.png`, fullPage: true });
          // Stopped at its end: each face's feature maps, computed in the page from the frame shown.
          const mapsFrom = requests.length;
          await page.locator("#faces li button").first().click();
          await page.waitForFunction(`document.getElementById("explain").naturalWidth > 300`, null, {
            timeout: 30_000,
          });
          await page.screenshot({ path: `${SHOTS}/page_video_feature_maps.png`, fullPage: true });
          assert.match(
            await page.locator("#explainTitle").textContent() ?? "",
            /^Face \d+: the model's feature maps/,
          );
          for (const r of requests.slice(mapsFrom)) assert.match(r, /^GET \/static\//);

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

          // The timeline seeks: a click at half its time axis goes to the middle of the video, whose frame
          // is analysed while paused.
          const plot = await page.evaluate(() => {
            const c = document.getElementById("timeline")!.getBoundingClientRect();
            return { x: c.x, y: c.y, width: c.width };
          });
          // The time axis runs from 70 px to 20 px before the right edge (timelinePlan).
          await page.mouse.click(plot.x + 70 + (plot.width - 90) / 2, plot.y + 60);
          await page.waitForFunction(`document.getElementById("clock").textContent.startsWith("0:01")`);
          const time = Number(await page.locator("#seek").inputValue());
          assert.ok(Math.abs(time - 1.5) < 0.2, `sought to ${time} s of 3`);
          assert.match(await page.locator("#clock").textContent() ?? "", /^0:01 \/ 0:03$/);
          // Replay: a fresh pass from the start; pause and play.
          await page.click("#play");
          await page.waitForFunction(`document.getElementById("play").textContent === "Pause"`);
          assert.ok(await page.locator("#stop").isVisible());
          await page.click("#play");
          await page.waitForFunction(`document.getElementById("play").textContent === "Play"`);
          await page.locator("#seek").evaluate((input) => {
            const range = input as unknown as { value: string; dispatchEvent(e: Event): boolean };
            range.value = "2.5";
            range.dispatchEvent(new Event("input"));
          });
          await page.waitForFunction(`document.getElementById("clock").textContent.startsWith("0:02")`);
          await page.screenshot({ path: `${SHOTS}/page_video_paused.png`, fullPage: true });
          await page.click("#play");
          await page.waitForFunction("document.body.dataset.videoDone === '1'", null, { timeout: 60_000 });

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
