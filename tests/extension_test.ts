/// <reference lib="dom" />
/**
 * The MV3 extension in real Chromium (Debian's, through playwright-core): the context-menu flow,
 * remote mode sending only face crops, the overlay on a video page (box checked against the
 * detector on the same frame) and turning it off, and the webcam page with a fake camera.
 * Screenshots of each view go to dist/screenshots/.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { Page } from "playwright-core";
import { loadDetector } from "../runtime/deno_analyzer.ts";
import { initDenoTf } from "../runtime/deno_tf.ts";
import { decodeImage, imageSize } from "../shared/decode.ts";
import type { FaceDetector } from "../shared/detector.ts";
import { loadModel } from "../shared/model.ts";
import { CSV_HEADER } from "../shared/timeline.ts";
import { createApp, type DetectorName } from "../worker/app.ts";
import { bundleSizes, DIST } from "../extension/build.ts";
import {
  assertOnFaces,
  centreIn,
  CHROMIUM,
  CLIP,
  FACES_JPG,
  galleryPage,
  galleryTiles,
  IMAGE_PAGE,
  launch,
  type Launched,
  makeMedia,
  openPage,
  overlayBoxes,
  overlayElements,
  screenshot,
  serveSite,
  setSettings,
  tabId,
  VIDEO_PAGE,
  videoPage,
  waitForOverlay,
} from "./extension_helpers.ts";

const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.warn(`${CHROMIUM} not found (apt-get install chromium): extension tests skipped`);

/** Wait until the page's video #v has played a little. */
function untilPlaying(page: Page) {
  return page.waitForFunction(() => (document.getElementById("v") as HTMLVideoElement).currentTime > 0.2);
}

/** A new tab showing `url`, once its video #v plays. */
async function openPlaying(b: Launched, url: string): Promise<Page> {
  const page = await b.context.newPage();
  await page.goto(url);
  await untilPlaying(page);
  return page;
}

/** A real Edge API on 127.0.0.1 that records every POST body it receives. */
async function edgeApi(apiKey?: string) {
  await initDenoTf();
  const detectors = new Map<DetectorName, Promise<FaceDetector>>();
  const engine = {
    models: { small: await loadModel() },
    detector: (name: DetectorName) => {
      if (!detectors.has(name)) detectors.set(name, loadDetector(name));
      return detectors.get(name)!;
    },
    figures: {},
  };
  const app = createApp(engine, { apiKey });
  const posts: { type: string; body: Uint8Array<ArrayBuffer> }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (req.method === "POST") {
      posts.push({
        type: req.headers.get("content-type") ?? "",
        body: new Uint8Array(await req.clone().arrayBuffer()) as Uint8Array<ArrayBuffer>,
      });
    }
    return app.fetch(req);
  });
  return { server, posts, url: `http://127.0.0.1:${server.addr.port}` };
}

/** Right-click "Analyse facial expression" on the page's photo, through the menu's handler in the worker. */
async function analyzeFromMenu(b: Launched, pageUrl: string, src: string) {
  const tab = await tabId(b.worker, pageUrl);
  const opened = b.context.waitForEvent("page");
  await b.worker.evaluate(
    ([srcUrl, id]) =>
      // deno-lint-ignore no-explicit-any
      (globalThis as any).mien.analyzeImage({ menuItemId: "mien-analyze", srcUrl }, { id, index: 0 }),
    [src, tab] as const,
  );
  const page = await opened;
  await page.waitForFunction(
    () =>
      /\d+ faces?, classified|No face found/.test(document.getElementById("status")?.textContent ?? "") ||
      document.getElementById("problem")?.textContent,
    null,
    { timeout: 60_000 },
  );
  return page;
}

Deno.test({
  name: "extension in Chromium",
  ignore: !HAS_CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "mien-ext-" });
    const media = await makeMedia(dir);
    if (!media) console.warn(`${CLIP} or ffmpeg missing: overlay and webcam checks skipped`);
    const site = await serveSite(dir, {
      "/video.html": VIDEO_PAGE,
      "/image.html": IMAGE_PAGE,
      "/faces.jpg": FACES_JPG,
      ...(media ? { "/clip.webm": media.webm, "/tile.webm": media.tile } : {}),
      "/gallery.html": galleryPage(9, "/tile.webm"),
    });
    // The same site reached by its IP address is another origin: its video taints canvases.
    site.files["/foreign.html"] = videoPage(`https://127.0.0.1:${site.port}/clip.webm`);
    // A hostile page's own frame: whatever reaches it is reported to the page.
    site.files["/evil.html"] = `<!doctype html><script>
      addEventListener("message", (e) => parent.postMessage({ stolen: e.data, ports: e.ports.length }, "*"));
    </script>`;
    const b = await launch({ port: site.port, y4m: media?.y4m, userDataDir: `${dir}/profile` });
    try {
      await t.step("the bundle holds the manifest, pages, models and wasm within 5 MB", async () => {
        const manifest = JSON.parse(await Deno.readTextFile(`${DIST}manifest.json`));
        assert.equal(manifest.background.service_worker, new URL(b.worker.url()).pathname.slice(1));
        assert.equal(manifest.manifest_version, 3);
        assert.match(manifest.content_security_policy.extension_pages, /'wasm-unsafe-eval'/);
        // Every icon the manifest names is a PNG of its size; the toolbar gets one too.
        for (const [size, file] of Object.entries(manifest.icons as Record<string, string>)) {
          const icon = await decodeImage(await Deno.readFile(`${DIST}${file}`));
          assert.equal(icon.width, Number(size), file);
        }
        assert.deepEqual(Object.keys(manifest.icons), ["16", "32", "48", "128"]);
        assert.ok(manifest.action.default_icon["16"]);
        const sizes = await bundleSizes();
        assert.ok(sizes.wasm > 0 && sizes.model > 0 && sizes.js > 0);
        assert.ok(sizes.total <= 5 * 1024 * 1024, `bundle is ${sizes.total} bytes`);
      });

      await t.step("context menu: result page with boxes and bars, then feature maps", async () => {
        const photo = await b.context.newPage();
        await photo.goto(site.url("/image.html"));
        const page = await analyzeFromMenu(b, site.url("/image.html"), site.url("/faces.jpg"));
        assert.equal(await page.textContent("#problem"), "");
        assert.match((await page.textContent("#status"))!, /^3 faces, classified on this device/);
        const cards = page.locator(".mien-card");
        assert.equal(await cards.count(), 3);
        assert.deepEqual(await cards.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.face)), [
          "1",
          "2",
          "3",
        ]);
        assert.equal(await cards.first().locator(".mien-bar").count(), 7);
        assert.match((await cards.first().locator(".mien-bar").first().textContent())!, /^surprise\d+%$/);
        await screenshot(page, "context-menu");
        await cards.first().locator("button").click();
        await page.waitForSelector("#explainView:not([hidden])");
        assert.equal(await cards.first().locator("button").textContent(), "Hide feature maps");
        const size = await page.evaluate(() => {
          const c = document.getElementById("explain") as HTMLCanvasElement;
          return [c.width, c.height];
        });
        assert.ok(size[0] > 200 && size[1] > 200, `explain view is ${size}`);
        await screenshot(page, "feature-maps");
        // A phone-sized window: nothing wider than it, the picture and cards scaled to fit.
        await page.setViewportSize({ width: 390, height: 844 });
        assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390);
        await page.evaluate(() => scrollTo(0, 0));
        await screenshot(page, "context-menu-phone");
        await page.close();
        await photo.close();
      });

      await t.step("remote mode sends only face crops; a refused key falls back with a message", async () => {
        const api = await edgeApi();
        const locked = await edgeApi("right-key");
        const photo = await b.context.newPage();
        await photo.goto(site.url("/image.html"));
        try {
          await setSettings(b.worker, {
            mode: "remote",
            apiUrl: api.url,
            apiKey: "",
            fallback: false,
            budget: 60,
          });
          let page = await analyzeFromMenu(b, site.url("/image.html"), site.url("/faces.jpg"));
          assert.match((await page.textContent("#status"))!, /^3 faces, classified by the Edge API/);
          assert.equal(api.posts.length, 1);
          const form = await new Response(api.posts[0].body, {
            headers: { "content-type": api.posts[0].type },
          })
            .formData();
          const crops = form.getAll("face") as File[];
          assert.equal(crops.length, 3);
          assert.deepEqual([...form.keys()].filter((k) => k !== "face"), []);
          const original = imageSize(await Deno.readFile(FACES_JPG))!;
          for (const crop of crops) {
            assert.deepEqual(imageSize(new Uint8Array(await crop.arrayBuffer())), {
              width: 112,
              height: 112,
            });
          }
          assert.ok(api.posts[0].body.length < 100_000, `request is ${api.posts[0].body.length} bytes`);
          assert.ok(original.width >= 1000, "the photo itself is far larger than the crops");
          await screenshot(page, "remote");
          await page.close();

          await setSettings(b.worker, {
            mode: "remote",
            apiUrl: locked.url,
            apiKey: "wrong",
            fallback: true,
            budget: 60,
          });
          page = await analyzeFromMenu(b, site.url("/image.html"), site.url("/faces.jpg"));
          assert.match((await page.textContent("#problem"))!, /401/);
          assert.match((await page.textContent("#status"))!, /^3 faces, classified on this device/);
          await page.close();

          await setSettings(b.worker, {
            mode: "remote",
            apiUrl: locked.url,
            apiKey: "wrong",
            fallback: false,
            budget: 60,
          });
          page = await analyzeFromMenu(b, site.url("/image.html"), site.url("/faces.jpg"));
          assert.match((await page.textContent("#problem"))!, /refused the API key \(401\)/);
          assert.equal(await page.textContent("#status"), "The image could not be analysed.");
          assert.equal(await page.locator(".mien-card").count(), 0);
          // The picture still shows, where the user looks for it.
          assert.equal(
            await page.evaluate(() => (document.getElementById("image") as HTMLCanvasElement).width),
            original.width,
          );
          await screenshot(page, "remote-refused");
          await page.close();
        } finally {
          await setSettings(b.worker, null);
          await photo.close();
          await api.server.shutdown();
          await locked.server.shutdown();
        }
      });

      await t.step({
        name: "overlay on a playing video: boxes on the face, popup session, off leaves nothing",
        ignore: !media,
        fn: async () => {
          const call = await openPlaying(b, site.url("/video.html"));
          const tab = await tabId(b.worker, site.url("/video.html"));
          const popup = await openPage(b.context, b.page(`popup.html?tab=${tab}`));
          const started = Date.now();
          await popup.click("#toggle");
          await waitForOverlay(call, ".box .label", (els) => els.length > 0, 30_000);
          console.log(`  labels appeared ${Date.now() - started} ms after turning on`);
          await call.bringToFront();
          await call.waitForTimeout(1500);

          // Same frame: pause, wait for the overlay to show that frame, then detect on it here.
          const time = await call.evaluate(async () => {
            const v = document.getElementById("v") as HTMLVideoElement;
            v.pause();
            v.currentTime = 4.5; // the performer faces the camera
            await new Promise((r) => v.addEventListener("seeked", r, { once: true }));
            return v.currentTime;
          });
          await waitForOverlay(call, ".box", (els) => els.some((el) => el.mediaTime === time));
          const boxes = (await overlayBoxes(call)).filter((x) => x.mediaTime === time);
          await screenshot(call, "overlay");
          const shot = await call.evaluate(() => {
            const v = document.getElementById("v") as HTMLVideoElement;
            const c = document.createElement("canvas");
            c.width = v.videoWidth;
            c.height = v.videoHeight;
            c.getContext("2d")!.drawImage(v, 0, 0);
            const r = v.getBoundingClientRect();
            return {
              png: c.toDataURL("image/png"),
              rect: { x: r.x, y: r.y, width: r.width, height: r.height },
            };
          });
          await assertOnFaces(shot, boxes);
          // Scrolling moves the boxes with the video.
          await call.evaluate(() => {
            document.body.style.height = "3000px";
            scrollBy(0, 60);
          });
          await call.waitForTimeout(300);
          const scrolled = (await overlayBoxes(call)).filter((x) => x.mediaTime === time);
          assert.equal(scrolled.length, boxes.length);
          scrolled.forEach((box, i) =>
            assert.ok(Math.abs(box.y - (boxes[i].y - 60)) < 1, `${box.y} vs ${boxes[i].y}`)
          );
          await call.evaluate(() => scrollTo(0, 0));
          await call.evaluate(() => (document.getElementById("v") as HTMLVideoElement).play());

          // The popup: status, the session chart per face, CSV export.
          await popup.waitForFunction(() => document.querySelector("#charts canvas"), null, {
            timeout: 10_000,
          });
          assert.match(
            (await popup.textContent("#status"))!,
            /1 videos?, \d+ faces? in view, [\d.]+ frames\/s analysed on this device/,
          );
          await screenshot(popup, "popup");
          const download = popup.waitForEvent("download");
          await popup.click("#csv");
          const csv = await Deno.readTextFile((await (await download).path())!);
          const lines = csv.trim().split("\n");
          assert.equal(lines[0], CSV_HEADER, "the command line's and the page's columns");
          assert.ok(lines.length >= 2);
          for (const line of lines.slice(1)) {
            const [time, frame, face, x, y, width] = line.split(",").map(Number);
            assert.ok(time >= 0 && time < 10 && Number.isInteger(frame) && face >= 1, line);
            assert.ok(
              x >= 0 && y >= 0 && width > 20 && x + width <= 640,
              `box in the video's pixels: ${line}`,
            );
          }

          // Tiles come and go: a second video added later is analysed; removing it drops its boxes.
          await call.evaluate(() => {
            const tile = document.getElementById("v")!.cloneNode() as HTMLVideoElement;
            tile.id = "tile";
            document.body.append(tile);
            return tile.play();
          });
          await popup.waitForFunction(() =>
            /^2 videos?/.test(document.getElementById("status")!.textContent!)
          );
          const tileTop = await call.evaluate(() =>
            document.getElementById("tile")!.getBoundingClientRect().top
          );
          await waitForOverlay(call, ".box", (els) => els.some((el) => el.y >= tileTop));
          await call.evaluate(() => document.getElementById("tile")!.remove());
          await popup.waitForFunction(() =>
            /^1 videos?/.test(document.getElementById("status")!.textContent!)
          );

          assert.ok(await popup.locator("#charts canvas").count() >= 1);
          await popup.click("#toggle");
          await call.waitForFunction(() => !document.querySelector("mien-overlay"), null, { timeout: 5000 });
          // Switched off, the session stays (charts and CSV) until it is cleared.
          await popup.waitForFunction(() =>
            document.getElementById("status")!.textContent === "Off for this tab."
          );
          await popup.waitForTimeout(1500);
          assert.ok(await popup.locator("#charts canvas").count() >= 1, "the session outlives switching off");
          await screenshot(popup, "popup-off");
          const kept = popup.waitForEvent("download");
          await popup.click("#csv");
          const keptLines = (await Deno.readTextFile((await (await kept).path())!)).trim().split("\n");
          assert.ok(keptLines.length >= lines.length, `${keptLines.length} rows kept of ${lines.length}`);
          await popup.click("#clear");
          await popup.waitForFunction(() => !document.querySelector("#charts canvas"), null, {
            timeout: 1500,
          });
          assert.equal(await popup.textContent("#charts"), "No faces yet.");
          await popup.waitForTimeout(1500);
          assert.equal(await popup.textContent("#charts"), "No faces yet.", "cleared for good");
          await call.waitForTimeout(1000);
          assert.equal(
            await call.evaluate(() => document.querySelectorAll("mien-overlay, iframe").length),
            0,
          );
          assert.equal(await popup.textContent("#status"), "Off for this tab.");
          await popup.close();
          await call.close();
        },
      });

      await t.step({
        name: "a 3x3 call gallery: every tile labelled, the popup counts nine faces, off at once",
        ignore: !media,
        fn: async () => {
          const url = site.url("/gallery.html");
          const errors: string[] = [];
          const call = await b.context.newPage();
          call.on("console", (m) => m.type() === "error" && errors.push(m.text()));
          call.on("pageerror", (e) => errors.push(e.message));
          await call.goto(url);
          const tiles = await galleryTiles(call);
          const tab = await tabId(b.worker, url);
          const popup = await openPage(b.context, b.page(`popup.html?tab=${tab}`));
          popup.on("console", (m) => m.type() === "error" && errors.push(m.text()));
          const started = Date.now();
          await popup.click("#toggle");
          await call.bringToFront();
          await waitForOverlay(
            call,
            ".box",
            (els) => tiles.every((r) => els.some((el) => el.label && centreIn(el, r))),
            30_000,
          );
          console.log(`  gallery: every tile labelled ${Date.now() - started} ms after turning on`);
          // Faces are numbered in the page's order of the tiles, whichever was analysed first.
          const labels = await waitForOverlay(call, ".box", (els) => els.length >= 9);
          tiles.forEach((r, i) => {
            const inTile = labels.filter((el) => centreIn(el, r)).map((el) => el.label.split(" ")[0]);
            assert.ok(inTile.includes(String(i + 1)), `tile ${i + 1} shows faces ${inTile.join(", ")}`);
          });
          await call.waitForTimeout(1500);
          await screenshot(call, "gallery");
          // In a window too narrow for whole tags, every tag stays inside its own tile.
          await call.setViewportSize({ width: 560, height: 420 });
          await call.waitForTimeout(1500);
          const narrow = await galleryTiles(call);
          const tags = await overlayElements(call, ".label");
          assert.ok(tags.length >= 9, `${tags.length} tags`);
          for (const tag of tags) {
            assert.ok(
              narrow.some((r) =>
                tag.x >= r.x - 3 && tag.y >= r.y - 3 && tag.x + tag.width <= r.x + r.width + 3 &&
                tag.y + tag.height <= r.y + r.height + 3
              ),
              `tag "${tag.label}" at ${JSON.stringify(tag)} spills out of its tile`,
            );
          }
          await screenshot(call, "gallery-narrow");
          await call.setViewportSize({ width: 1000, height: 700 });
          await popup.bringToFront();
          await popup.waitForFunction(
            () =>
              /^9 videos, 9 faces in view, [\d.]+ frames\/s analysed per video \(60\/s shared by the tab\)/
                .test(
                  document.getElementById("status")!.textContent!,
                ),
            null,
            { timeout: 10_000 },
          );
          console.log(`  gallery popup: ${await popup.textContent("#status")}`);
          // One chart per participant, and the popup fits Chrome's 600 px with its buttons in view.
          await popup.waitForFunction(() => document.querySelectorAll("#charts canvas").length >= 9);
          const titles = await popup.locator("#charts .chart span").allTextContents();
          assert.equal(titles.length, 9, titles.join("; "));
          // Five rows in view, a line saying how many more are below (until the list is scrolled to its
          // end), and the charts' time axis under them.
          const list = await popup.locator("#charts").evaluate((el) => ({
            scroll: el.scrollHeight,
            client: el.clientHeight,
          }));
          assert.ok(list.scroll > list.client && list.client >= 5 * 28 - 1, JSON.stringify(list));
          assert.equal(await popup.textContent("#moreFaces"), "▾ 4 more faces below: scroll the list");
          assert.ok(await popup.locator("#axis").isVisible());
          assert.match((await popup.locator("#axis").textContent())!, /^\d+ (s|min)( \d+ s)? agonow$/);
          await screenshot(popup, "popup-gallery");
          await popup.locator("#charts").evaluate((el) => el.scrollTop = el.scrollHeight);
          await popup.waitForSelector("#moreFaces", { state: "hidden" });
          await popup.waitForTimeout(1200); // a redraw keeps the list where it was scrolled
          assert.ok(await popup.locator("#moreFaces").isHidden());
          assert.equal(await popup.locator("#charts .chart").last().isVisible(), true);
          const popupHeight = await popup.evaluate(() => document.body.getBoundingClientRect().bottom);
          assert.ok(popupHeight <= 600, `popup is ${popupHeight} px high`);
          const off = Date.now();
          await popup.click("#toggle");
          await call.waitForFunction(() => !document.querySelector("mien-overlay"), null, { timeout: 5000 });
          console.log(`  gallery: overlay gone ${Date.now() - off} ms after switching off`);
          assert.ok(Date.now() - off < 2000, `switching off took ${Date.now() - off} ms`);
          assert.deepEqual(errors, []);
          await popup.close();
          await call.close();
        },
      });

      await t.step({
        name: "a page that navigates the analyzer frame or embeds it gets no token, no port and no labels",
        ignore: !media,
        fn: async () => {
          const call = await openPlaying(b, site.url("/video.html"));
          // The attack: for as long as the overlay starts up, point every child frame the page can
          // reach (window.frames, or the overlay's iframe if its shadow root were open) at the page's
          // own document, and collect anything any frame is sent.
          await call.evaluate(() => {
            const w = globalThis as unknown as { stolen: unknown[]; hijacked: number };
            w.stolen = [];
            w.hijacked = 0;
            addEventListener("message", (e) => e.data?.stolen !== undefined && w.stolen.push(e.data));
            const evil = `${location.origin}/evil.html`;
            const timer = setInterval(() => {
              for (let i = 0; i < frames.length; i++) {
                try {
                  if (frames[i].location.href === evil) continue;
                } catch { /* cross-origin: not ours yet */ }
                frames[i].location.href = evil;
                w.hijacked++;
              }
              const root = document.querySelector("mien-overlay")?.shadowRoot;
              for (const frame of root?.querySelectorAll("iframe") ?? []) {
                if ((frame as HTMLIFrameElement).src !== evil) {
                  (frame as HTMLIFrameElement).src = evil;
                  w.hijacked++;
                }
              }
            }, 5);
            setTimeout(() => clearInterval(timer), 6000);
          });
          const tab = await tabId(b.worker, site.url("/video.html"));
          const popup = await openPage(b.context, b.page(`popup.html?tab=${tab}`));
          await popup.click("#toggle");
          await call.waitForTimeout(6000);
          const seen = await call.evaluate(() => {
            const w = globalThis as unknown as { stolen: unknown[]; hijacked: number };
            return {
              stolen: w.stolen,
              hijacked: w.hijacked,
              shadowVisible: document.querySelector("mien-overlay")?.shadowRoot !== null,
            };
          });
          console.log(
            `  frames the page could navigate: ${seen.hijacked}; messages it caught: ${seen.stolen.length}`,
          );
          assert.deepEqual(seen.stolen, [], "the page caught a message meant for the analyzer");
          assert.equal(seen.shadowVisible, false, "the overlay's shadow root is closed to the page");

          // The page embeds the analyzer frame itself (by the static URL it may know) and offers a port.
          const rogue = await call.evaluate(async (url) => {
            const frame = document.createElement("iframe");
            frame.src = url;
            document.body.append(frame);
            await new Promise((r) => {
              frame.onload = r;
              frame.onerror = r;
              setTimeout(r, 2000);
            });
            const channel = new MessageChannel();
            const answer = new Promise((r) => {
              channel.port1.onmessage = (e) => r(e.data.type);
              setTimeout(() => r("nothing"), 3000);
            });
            frame.contentWindow!.postMessage({ type: "mien:port", token: "a guess" }, "*", [channel.port2]);
            const got = await answer;
            frame.remove();
            return got;
          }, b.page("frame.html"));
          assert.equal(rogue, "nothing");
          // Meanwhile the tab's own analysis runs untouched: its boxes, and the popup counts them.
          const boxes = await waitForOverlay(call, ".box .label", (els) => els.length > 0, 30_000);
          await popup.waitForFunction(() =>
            /^1 videos?, [1-9]\d* faces?/.test(document.getElementById("status")!.textContent!)
          );
          assert.ok(boxes.length >= 1);
          await popup.click("#toggle");

          // Without the attacker, the same tab works again: a fresh token for the new page.
          await call.reload();
          await untilPlaying(call);
          await popup.click("#toggle");
          await waitForOverlay(call, ".box .label", (els) => els.length > 0, 30_000);
          await popup.click("#toggle");
          await popup.close();
          await call.close();
        },
      });

      await t.step({
        name: "overlay in remote mode: video frames send crops only; an unreachable API shows in the popup",
        ignore: !media,
        fn: async () => {
          const api = await edgeApi();
          await setSettings(b.worker, {
            mode: "remote",
            apiUrl: api.url,
            apiKey: "",
            fallback: true,
            budget: 60,
          });
          const call = await b.context.newPage();
          await call.goto(site.url("/video.html"));
          const tab = await tabId(b.worker, site.url("/video.html"));
          const popup = await openPage(b.context, b.page(`popup.html?tab=${tab}`));
          try {
            await popup.click("#toggle");
            await popup.waitForFunction(
              () =>
                /[1-9]\d* faces? in view, [\d.]+ frames\/s analysed with the Edge API/.test(
                  document.getElementById("status")!.textContent!,
                ),
              null,
              { timeout: 30_000 },
            );
            assert.ok(api.posts.length >= 1);
            for (const post of api.posts) {
              const form = await new Response(post.body, { headers: { "content-type": post.type } })
                .formData();
              assert.deepEqual([...new Set(form.keys())], ["face"]);
              for (const crop of form.getAll("face") as File[]) {
                assert.deepEqual(imageSize(new Uint8Array(await crop.arrayBuffer())), {
                  width: 112,
                  height: 112,
                });
              }
            }

            // Nothing listens on port 9 of 127.0.0.1: the popup says so and the device classifies meanwhile.
            const apiUrl = "http://127.0.0.1:9";
            await setSettings(b.worker, { mode: "remote", apiUrl, apiKey: "", fallback: true, budget: 60 });
            await popup.waitForFunction(
              () => /unreachable/.test(document.getElementById("problem")!.textContent!),
              null,
              {
                timeout: 30_000,
              },
            );
            assert.match(
              (await popup.textContent("#problem"))!,
              /^Edge API at http:\/\/127\.0\.0\.1:9 is unreachable: .*\. Classifying on this device meanwhile\.$/,
            );
            await popup.waitForFunction(() =>
              /analysed on this device/.test(document.getElementById("status")!.textContent!)
            );
            await waitForOverlay(call, ".label", (els) => els.length > 0);
            assert.match(
              (await popup.textContent("#status"))!,
              /analysed on this device, not the Edge API\.$/,
            );
            await waitForOverlay(
              call,
              ".note",
              (els) =>
                els.some((el) => /unreachable.*Classifying on this device meanwhile\.$/.test(el.label)),
            );
            await screenshot(popup, "popup-remote-unreachable");
            // Without the device to fall back on: no expressions, and both the popup and the video say why.
            await setSettings(b.worker, { mode: "remote", apiUrl, apiKey: "", fallback: false, budget: 60 });
            await popup.waitForFunction(
              () => /no expressions are shown/.test(document.getElementById("status")!.textContent!),
              null,
              { timeout: 30_000 },
            );
            assert.match(
              (await popup.textContent("#problem"))!,
              /^Edge API at http:\/\/127\.0\.0\.1:9 is unreachable/,
            );
            const notes = await waitForOverlay(
              call,
              ".note",
              (els) => els.some((el) => /Mien shows no expressions meanwhile\.$/.test(el.label)),
            );
            assert.equal((await overlayBoxes(call)).length, 0, "no boxes");
            assert.ok(notes.length >= 1);
            await call.bringToFront();
            await screenshot(call, "overlay-remote-unreachable");
            await popup.bringToFront();
            await screenshot(popup, "popup-remote-failed");
            await popup.click("#toggle");
          } finally {
            await setSettings(b.worker, null);
            await popup.close();
            await call.close();
            await api.server.shutdown();
          }
        },
      });

      await t.step({
        name: "a video from another origin: the popup says it cannot be read and offers tab capture",
        ignore: !media,
        fn: async () => {
          const call = await openPlaying(b, site.url("/foreign.html"));
          const tab = await tabId(b.worker, site.url("/foreign.html"));
          const popup = await openPage(b.context, b.page(`popup.html?tab=${tab}`));
          await popup.click("#toggle");
          await popup.waitForSelector("#capture:not([hidden])", { timeout: 30_000 });
          assert.match((await popup.textContent("#problem"))!, /cannot be read/);
          await call.bringToFront();
          const notes = await waitForOverlay(call, ".note", (els) => els.length > 0);
          assert.match(notes[0].label, /Mien cannot read this video/);
          assert.equal((await overlayBoxes(call)).length, 0);
          await screenshot(popup, "popup-unreadable");
          await popup.click("#toggle");
          await popup.close();
          await call.close();
        },
      });

      await t.step({
        name: "webcam page with the fake camera: live boxes, labels and fps",
        ignore: !media,
        fn: async () => {
          const page = await openPage(b.context, b.page("webcam.html"));
          await page.waitForFunction(
            () => Number(document.getElementById("stats")?.dataset.analysed ?? 0) >= 20,
            null,
            {
              timeout: 60_000,
            },
          );
          const stats = await page.evaluate(() => ({ ...document.getElementById("stats")!.dataset }));
          console.log(`  webcam: ${stats.fps} frames/s analysed, first label ${stats.firstLabelMs} ms`);
          assert.ok(Number(stats.fps) > 0);
          assert.ok(Number(stats.firstLabelMs) > 0);
          assert.equal(await page.textContent("#problem"), "");
          // What a person sees: a plain status, a card per face with its bars, and no developer figures.
          await page.waitForFunction(() =>
            /^Webcam on: [1-9]\d* faces?, \d+\.\d frames\/s analysed on this device\.$/.test(
              document.getElementById("stats")!.textContent!,
            )
          );
          await page.waitForSelector("#faces .mien-card .mien-bar");
          // Mirrored as a mirror shows a face (as the GET / page shows it), the cards beside the picture.
          assert.match(
            await page.locator("#video").evaluate((v) => getComputedStyle(v).transform),
            /^matrix\(-1,/,
          );
          const [stage, cards] = await Promise.all(
            [".stage", "#faces"].map((s) => page.locator(s).boundingBox()),
          );
          assert.ok(cards!.x >= stage!.x + stage!.width, "cards beside the picture");
          await screenshot(page, "webcam");
          // Stop clears the picture, the cards and the status; start brings them back.
          await page.click("#toggle");
          assert.equal(await page.textContent("#stats"), "Webcam off.");
          assert.equal(await page.locator("#faces .mien-card").count(), 0);
          assert.equal(await page.textContent("#toggle"), "Start webcam");
          await page.click("#toggle");
          await page.waitForSelector("#faces .mien-card", { timeout: 30_000 });
          await page.close();
        },
      });

      await t.step(
        "options page saves the mode and refuses non-https URLs (but http to this computer)",
        async () => {
          const page = await openPage(b.context, b.page("options.html"));
          await page.check("input[value=remote]");
          for (const url of ["ftp://mien.example/", "http://mien.example/", "http://192.168.1.5:8787"]) {
            await page.fill("input[name=apiUrl]", url);
            await page.click("button[type=submit]");
            assert.equal(
              await page.textContent("#saved"),
              "The Edge API URL must use https, or a loopback address (http://localhost or http://127.0.0.1).",
              url,
            );
          }
          // Fixing the value clears the error before saving.
          await page.fill("input[name=apiUrl]", "http://127.0.0.1:8787");
          assert.equal(await page.textContent("#saved"), "");
          await page.click("button[type=submit]");
          await page.waitForFunction(() => document.getElementById("saved")!.textContent === "Saved.");
          // Test connection against a real Edge API: a wrong key, the right key, nothing listening.
          const api = await edgeApi("the-key");
          try {
            await page.fill("input[name=apiUrl]", api.url);
            await page.fill("input[name=apiKey]", "a-wrong-key");
            await page.click("#test");
            await page.waitForFunction(() =>
              !/Testing/.test(document.getElementById("tested")!.textContent!)
            );
            assert.match((await page.textContent("#tested"))!, /refused this key/);
            await page.fill("input[name=apiKey]", "the-key");
            await page.click("#test");
            await page.waitForFunction(() =>
              /^Connected: mien-fer@/.test(document.getElementById("tested")!.textContent!)
            );
          } finally {
            await api.server.shutdown();
          }
          await page.fill("input[name=apiUrl]", "http://127.0.0.1:9");
          await page.click("#test");
          await page.waitForFunction(() =>
            /Nothing answered/.test(document.getElementById("tested")!.textContent!)
          );
          await page.fill("input[name=apiUrl]", "https://mien.example/");
          assert.equal(await page.textContent("#tested"), "", "a changed URL clears the last test");
          await page.click("button[type=submit]");
          await page.waitForFunction(() => document.getElementById("saved")!.textContent === "Saved.");
          // "Saved." goes with the first change; an invalid value says why as soon as the edit is done.
          await page.fill("input[name=apiUrl]", "mien.example");
          assert.equal(await page.textContent("#saved"), "");
          await page.locator("input[name=apiUrl]").blur();
          assert.match(
            (await page.textContent("#saved"))!,
            /^The Edge API URL must use https, or a loopback address/,
          );
          await page.click("#test");
          assert.equal(await page.textContent("#tested"), await page.textContent("#saved"));
          await screenshot(page, "options-invalid");
          await page.fill("input[name=apiUrl]", "https://mien.example/");
          assert.equal(await page.textContent("#saved"), "", "fixing the value clears the error");
          await page.click("button[type=submit]");
          await page.waitForFunction(() => document.getElementById("saved")!.textContent === "Saved.");
          await screenshot(page, "options");
          const stored = await b.worker.evaluate(async () =>
            // deno-lint-ignore no-explicit-any
            (await (globalThis as any).chrome.storage.local.get("settings")).settings
          );
          assert.equal(stored.mode, "remote");
          assert.equal(stored.apiUrl, "https://mien.example/");
          await setSettings(b.worker, null);
          await page.close();
        },
      );
    } finally {
      await b.context.close();
      await site.server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
