/// <reference lib="dom" />
/**
 * One count of faces for one video in every view: ../shared/media's clip through the command line
 * (`deno task analyze`), dropped on the `GET /` page (analysed in the page as it plays) and played in a
 * tab with the extension on (the popup's session): the three report the same number of faces, and the
 * page's and the popup's CSV have the command line's columns and boxes clipped to the video. Screenshots of
 * the page and the popup after the clip go to dist/screenshots/.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { CSV_HEADER } from "../shared/timeline.ts";
import { readPageFile } from "../worker/assets.ts";
import { buildPage } from "../worker/build_page.ts";
import {
  CHROMIUM,
  CLIP,
  hasFfmpeg,
  launch,
  openPage,
  screenshot,
  serveSite,
  tabId,
  waitForOverlay,
} from "./extension_helpers.ts";
import { runCli } from "./helpers.ts";

const READY = existsSync(CHROMIUM) && existsSync(CLIP) && hasFfmpeg();
if (!READY) {
  console.warn(`the clip, chromium or ffmpeg missing: the clip's face count across views is skipped`);
}

/** CSV lines whose box runs past the 640x360 clip (every writer clips boxes to the video). */
function outside(lines: string[]): string[] {
  return lines.slice(1).filter((line) => {
    const [x, y, width, height] = line.split(",").slice(3, 7).map(Number);
    return x < 0 || y < 0 || x + width > 640 || y + height > 360;
  });
}

/** The count of faces followed for a second or more in a status line ("6 faces (and 1 seen for under a second)"). */
function count(text: string, before: string): number {
  const found = text.match(new RegExp(`${before}(\\d+) faces?( \\(and \\d+ seen for under a second\\))?`));
  assert.ok(found, `no count of faces after "${before}" in: ${text}`);
  return Number(found[1]);
}

Deno.test({
  name: "the clip: the command line, the page and the popup count the same faces",
  ignore: !READY,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const cli = await runCli("cli/analyze.ts", [CLIP, "--out", "/dev/null"]);
    assert.equal(cli.code, 0, cli.stderr);
    const expected = count(cli.stderr, "real time; ");
    console.log(`  command line: ${cli.stderr.trim().split("\n").at(-1)}`);

    // The page's own files (a video is analysed in the page: no API call is made).
    await buildPage();
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
      const path = new URL(req.url).pathname;
      const file = await readPageFile(path === "/" ? "index.html" : path.replace(/^\/static\//, ""));
      if (!file) return new Response(null, { status: 404 });
      return new Response(file.body as Uint8Array<ArrayBuffer>, { headers: { "content-type": file.type } });
    });
    const dir = await Deno.makeTempDir({ prefix: "mien-count-" });
    const site = await serveSite(dir, {
      "/clip.mp4": CLIP,
      "/once.html": `<!doctype html><title>clip</title><body style="margin:0;background:#222">
        <video id="v" src="/clip.mp4" muted playsinline style="display:block;width:640px;margin:40px"></video>`,
    });
    const b = await launch({ port: site.port, userDataDir: `${dir}/profile` });
    try {
      // The page: the clip dropped on it, analysed as it plays.
      const page = await b.context.newPage();
      await page.goto(`http://127.0.0.1:${server.addr.port}/`);
      await page.setInputFiles("#file", CLIP);
      await page.waitForFunction("document.body.dataset.videoDone === '1'", null, { timeout: 120_000 });
      const status = (await page.locator("#status").textContent())!;
      const [analysed, frames] = await page.locator("#status").evaluate((e) =>
        ["analysed", "frames"].map((key) => Number((e as HTMLElement).dataset[key]))
      );
      console.log(`  page: ${status} (${analysed} of ${frames} frames shown analysed)`);
      await screenshot(page, "page-clip");
      const download = page.waitForEvent("download");
      await page.click("#csv");
      const pageCsv = (await Deno.readTextFile((await (await download).path())!)).trim().split("\n");
      assert.equal(pageCsv[0], CSV_HEADER);
      assert.deepEqual(outside(pageCsv), [], "the page's boxes inside the video");
      assert.equal(count(status, "video analysed in this page: "), expected, status);

      // The extension: the clip played once in a tab that is on; the popup's session counts its faces.
      const call = await b.context.newPage();
      await call.goto(site.url("/once.html"));
      const tab = await tabId(b.worker, site.url("/once.html"));
      const popup = await openPage(b.context, b.page(`popup.html?tab=${tab}`));
      await popup.click("#toggle");
      // Ready once the paused first frame is analysed; its session starts when the clip does.
      await waitForOverlay(call, ".box", (els) => els.length > 0, 60_000);
      await popup.click("#clear");
      await call.bringToFront();
      await call.evaluate(() => (document.getElementById("v") as HTMLVideoElement).play());
      await call.waitForFunction(() => (document.getElementById("v") as HTMLVideoElement).ended, null, {
        timeout: 60_000,
      });
      await call.waitForTimeout(1500);
      await popup.bringToFront();
      await popup.waitForTimeout(1500);
      const summary = (await popup.textContent("#summary"))!;
      console.log(`  popup: ${summary} / ${await popup.textContent("#status")}`);
      await screenshot(popup, "popup-clip");
      const popupDownload = popup.waitForEvent("download");
      await popup.click("#csv");
      const popupCsv = (await Deno.readTextFile((await (await popupDownload).path())!)).trim().split("\n");
      assert.equal(popupCsv[0], CSV_HEADER);
      assert.deepEqual(outside(popupCsv), [], "the popup's boxes inside the video");
      const times = popupCsv.slice(1).map((line) => Number(line.split(",")[0]));
      assert.equal(count(summary, "across "), expected, summary);
      assert.ok(times.every((s) => s >= 0 && s <= 10), "times in seconds from the clip's start");
    } finally {
      await b.context.close();
      await site.server.shutdown();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
