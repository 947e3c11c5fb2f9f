/// <reference lib="dom" />
/**
 * `deno task bench:extension`: the extension's figures in headless Chromium: webcam page frame rate
 * and first label, the video page's own frame rate with and without the overlay, how soon labels
 * appear, a call's gallery of 9 and of 16 one-face tiles (rate per tile, time until every tile is
 * labelled, the popup's reply time and how soon switching off takes effect), and the bundle's size.
 */
import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import { buildExtension, bundleSizes, formatSizes } from "../extension/build.ts";
import {
  centreIn,
  CLIP,
  galleryPage,
  galleryTiles,
  launch,
  type Launched,
  makeMedia,
  openPage,
  overlayBoxes,
  type Rect,
  screenshot,
  serveSite,
  tabId,
  VIDEO_PAGE,
  waitForOverlay,
} from "../tests/extension_helpers.ts";

const HELP = `Benchmark the browser extension in headless Chromium (needs ../shared/media and ffmpeg).

Usage: deno task bench:extension [--seconds N] [--runs N] [--only LIST] [--json FILE]

  --seconds N   length of each measuring window (default 8)
  --runs N      overlay off/on measurements, alternated (default 3)
  --only LIST   scenarios, comma-separated: webcam, overlay, gallery (default all)
  --json FILE   also write the figures as JSON
  -h, --help    show this help
`;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "8" },
    runs: { type: "string", default: "3" },
    only: { type: "string", default: "webcam,overlay,gallery" },
    json: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(HELP);
  Deno.exit(0);
}
const seconds = Number(values.seconds);
const runs = Number(values.runs);

/** Webcam page: ms from opening to the first label, and analysed frames/s over a window. */
async function webcam(b: Launched) {
  const page = await openPage(b.context, b.page("webcam.html"));
  const stat = (key: string) =>
    page.evaluate((k) => Number(document.getElementById("stats")!.dataset[k] ?? 0), key);
  await page.waitForFunction(
    () => Number(document.getElementById("stats")?.dataset.analysed ?? 0) >= 10,
    null,
    {
      timeout: 60_000,
    },
  );
  const firstLabelMs = await stat("firstLabelMs");
  // The camera's own rate, counted beside the analysis: frames the page was shown.
  await page.evaluate(() => {
    const scope = globalThis as unknown as { cameraFrames: number };
    scope.cameraFrames = 0;
    const video = document.querySelector("video")!;
    const count = () => (scope.cameraFrames++, video.requestVideoFrameCallback(count));
    video.requestVideoFrameCallback(count);
  });
  const before = await stat("analysed");
  const start = performance.now();
  await page.waitForTimeout(seconds * 1000);
  const elapsed = (performance.now() - start) / 1000;
  const fps = ((await stat("analysed")) - before) / elapsed;
  const cameraFps =
    await page.evaluate(() => (globalThis as unknown as { cameraFrames: number }).cameraFrames) /
    elapsed;
  await page.close();
  return { fps, cameraFps, firstLabelMs };
}

/** The video page's painted frames/s and shown video frames/s over a window. */
async function pageRates(page: Awaited<ReturnType<typeof openPage>>) {
  const count = () =>
    page.evaluate(
      () => [
        (globalThis as unknown as { paints: number }).paints,
        (globalThis as unknown as { videoFrames: number }).videoFrames,
      ],
    );
  const [p0, v0] = await count();
  const start = performance.now();
  await page.waitForTimeout(seconds * 1000);
  const [p1, v1] = await count();
  const s = (performance.now() - start) / 1000;
  return { paintFps: (p1 - p0) / s, videoFps: (v1 - v0) / s };
}

/** Overlay: labels-appear ms per turn-on, and page rates with the overlay off and on (alternated). */
async function overlay(b: Launched, url: string) {
  const call = await b.context.newPage();
  await call.goto(url);
  await call.waitForFunction(() => (document.getElementById("v") as HTMLVideoElement).currentTime > 0.5);
  const tab = await tabId(b.worker, url);
  const popup = await openPage(b.context, b.page(`popup.html?tab=${tab}`));
  const off: { paintFps: number; videoFps: number }[] = [];
  const on: { paintFps: number; videoFps: number; analysedFps: number }[] = [];
  const labelsMs: number[] = [];
  for (let run = 0; run < runs; run++) {
    await call.bringToFront();
    off.push(await pageRates(call));
    const started = performance.now();
    await popup.click("#toggle");
    await waitForOverlay(call, ".label", (els) => els.length > 0, 30_000);
    labelsMs.push(performance.now() - started);
    await call.bringToFront();
    await call.waitForTimeout(1000);
    const rates = await pageRates(call);
    const status = await popup.textContent("#status");
    on.push({ ...rates, analysedFps: Number(status?.match(/([\d.]+) frames\/s analysed/)?.[1] ?? NaN) });
    await popup.click("#toggle");
    await call.waitForFunction(() => !document.querySelector("mien-overlay"));
  }
  await popup.close();
  await call.close();
  return { off, on, labelsMs };
}

/** CPU seconds used so far by the extension's renderer process (where its pages and the analyzer run). */
function extensionCpuSeconds(): number {
  let ticks = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (!Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).includes("--extension-process")) continue;
      const fields = Deno.readTextFileSync(`/proc/${entry.name}/stat`).split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    } catch { /* gone meanwhile */ }
  }
  return ticks / 100; // USER_HZ
}

/** How old the frame each drawn box comes from is, against its tile's current time: seconds, per sample. */
async function boxAges(call: Page, tiles: Rect[]) {
  const ages: number[] = [];
  for (let i = 0; i < 10; i++) {
    const times = await call.evaluate(() =>
      [...document.querySelectorAll("video")].map((v) => v.currentTime)
    );
    for (const box of await overlayBoxes(call)) {
      const tile = tiles.findIndex((r) => centreIn(box, r));
      const age = tile >= 0 ? times[tile] - box.mediaTime : NaN;
      if (age >= 0 && age < 2) ages.push(age); // a looped tile reads negative: skipped
    }
    await call.waitForTimeout(150);
  }
  return ages;
}

/** A gallery of `count` tiles: every tile labelled after switching on, rates per tile, popup replies, off. */
async function gallery(b: Launched, url: string, count: number) {
  const call = await b.context.newPage();
  await call.goto(url);
  const tiles = await galleryTiles(call);
  const tab = await tabId(b.worker, url);
  const popup = await openPage(b.context, b.page(`popup.html?tab=${tab}`));
  await call.bringToFront(); // measured in front, as with the overlay on
  const off = await pageRates(call);
  const started = performance.now();
  await popup.click("#toggle");
  await call.bringToFront();
  await waitForOverlay(
    call,
    ".box",
    (els) => tiles.every((r) => els.some((el) => centreIn(el, r))),
    60_000,
  );
  const labelledMs = performance.now() - started;
  await call.waitForTimeout(3000);
  const cpu0 = extensionCpuSeconds();
  const wall0 = performance.now();
  const on = await pageRates(call);
  const extensionCores = (extensionCpuSeconds() - cpu0) / ((performance.now() - wall0) / 1000);
  const ages = await boxAges(call, tiles);
  await screenshot(call, `gallery-${count}`);
  // The popup's questions while the tiles are analysed: reply times, and the tab's rates.
  const replies: number[] = [];
  const faceCounts: number[] = [];
  let status: Record<string, number> = {};
  for (let i = 0; i < 10; i++) {
    const r = await popup.evaluate(async (tabId) => {
      const t = performance.now();
      const tabs = (globalThis as unknown as {
        chrome: { tabs: { sendMessage(tab: number, m: unknown): Promise<Record<string, number>> } };
      }).chrome.tabs;
      const status = await tabs.sendMessage(tabId, { type: "mien:status", tabId });
      return { ms: performance.now() - t, status };
    }, tab);
    replies.push(r.ms);
    status = r.status;
    faceCounts.push(status.faces);
    await popup.waitForTimeout(200);
  }
  // Switching off as a user does, with the popup in front: from the click to the overlay's removal in the
  // call's page (a mutation observer there notes the time; both pages read the same clock).
  await call.evaluate(() => {
    const scope = globalThis as unknown as { goneAt?: number };
    new MutationObserver(() => {
      if (!document.querySelector("mien-overlay")) scope.goneAt ??= Date.now();
    }).observe(document.documentElement, { childList: true, subtree: true });
  });
  await popup.bringToFront();
  const clicked = await popup.evaluate(() => {
    const at = Date.now();
    document.getElementById("toggle")!.click();
    return at;
  });
  await call.waitForFunction(() => (globalThis as unknown as { goneAt?: number }).goneAt, null, {
    timeout: 10_000,
  });
  const offMs = await call.evaluate(() => (globalThis as unknown as { goneAt: number }).goneAt) - clicked;
  const shown = await popup.textContent("#status");
  await popup.close();
  await call.close();
  return {
    tiles: count,
    labelledMs,
    perVideo: status.perVideo,
    slowestVideo: status.slowestVideo,
    faces: status.faces,
    faceCounts,
    replyMs: { median: median(replies), max: Math.max(...replies) },
    offMs,
    popupText: shown,
    extensionCores,
    boxAgeS: { mean: mean(ages), max: Math.max(...ages), samples: ages.length },
    off,
    on,
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const loadBefore = Deno.loadavg()[0];
const dir = await Deno.makeTempDir({ prefix: "mien-ext-bench-" });
const media = await makeMedia(dir);
const figures: Record<string, unknown> = { loadBefore };
if (media) {
  const site = await serveSite(dir, {
    "/video.html": VIDEO_PAGE,
    "/clip.webm": media.webm,
    "/tile.webm": media.tile,
    "/gallery9.html": galleryPage(9, "/tile.webm"),
    "/gallery16.html": galleryPage(16, "/tile.webm"),
  });
  const b = await launch({ port: site.port, y4m: media.y4m, userDataDir: `${dir}/profile` });
  try {
    const only = values.only!.split(",");
    if (only.includes("webcam")) figures.webcam = await webcam(b);
    if (only.includes("overlay")) figures.overlay = await overlay(b, site.url("/video.html"));
    if (only.includes("gallery")) {
      figures.gallery = [
        await gallery(b, site.url("/gallery9.html"), 9),
        await gallery(b, site.url("/gallery16.html"), 16),
      ];
    }
  } finally {
    await b.context.close();
    await site.server.shutdown();
  }
} else {
  console.error(`${CLIP} or ffmpeg missing: only the bundle is measured`);
  await buildExtension();
}
await Deno.remove(dir, { recursive: true });
const sizes = await bundleSizes();
figures.bundle = sizes;

console.log(
  `Mien extension, headless Chromium, ${navigator.hardwareConcurrency} cores (1-min load average before: ` +
    `${loadBefore.toFixed(2)}), ${runs} runs of ${seconds} s`,
);
if (figures.webcam) {
  const w = figures.webcam as Awaited<ReturnType<typeof webcam>>;
  console.log(
    `webcam page (fake camera, 640x360): ${w.fps.toFixed(1)} frames/s analysed of the camera's ${
      w.cameraFps.toFixed(1)
    }, first label ${w.firstLabelMs} ms after opening`,
  );
}
if (figures.overlay) {
  const o = figures.overlay as Awaited<ReturnType<typeof overlay>>;
  const offPaint = mean(o.off.map((r) => r.paintFps));
  const onPaint = mean(o.on.map((r) => r.paintFps));
  const offVideo = mean(o.off.map((r) => r.videoFps));
  const onVideo = mean(o.on.map((r) => r.videoFps));
  console.log(
    `video page, overlay off: ${offPaint.toFixed(1)} paints/s, ${offVideo.toFixed(1)} video frames/s`,
  );
  console.log(
    `video page, overlay on:  ${onPaint.toFixed(1)} paints/s, ${onVideo.toFixed(1)} video frames/s ` +
      `(drop ${(100 * (1 - onPaint / offPaint)).toFixed(1)}% / ${
        (100 * (1 - onVideo / offVideo)).toFixed(1)
      }%), ` +
      `${mean(o.on.map((r) => r.analysedFps)).toFixed(1)} frames/s analysed`,
  );
  console.log(
    `labels appear ${Math.round(median(o.labelsMs))} ms (median) after turning on (${
      o.labelsMs.map(Math.round).join(", ")
    })`,
  );
}
for (const g of (figures.gallery ?? []) as Awaited<ReturnType<typeof gallery>>[]) {
  console.log(
    `gallery of ${g.tiles} one-face tiles (budget 60/s): every tile labelled ${
      Math.round(g.labelledMs)
    } ms after ` +
      `turning on; ${g.perVideo?.toFixed(1)} frames/s analysed per tile, slowest tile ${
        g.slowestVideo?.toFixed(1)
      }/s; popup: ${Math.min(...g.faceCounts)}–${Math.max(...g.faceCounts)} faces, replies median ${
        g.replyMs.median.toFixed(0)
      } ms (max ${g.replyMs.max.toFixed(0)}), off → overlay gone ${Math.round(g.offMs)} ms; page ${
        g.off.paintFps.toFixed(1)
      } → ${g.on.paintFps.toFixed(1)} paints/s, ${g.off.videoFps.toFixed(1)} → ${
        g.on.videoFps.toFixed(1)
      } video frames/s (all tiles); ` +
      `extension process ${(100 * g.extensionCores).toFixed(0)}% of a core; boxes drawn from frames ` +
      `${(1000 * g.boxAgeS.mean).toFixed(0)} ms old on average (max ${
        (1000 * g.boxAgeS.max).toFixed(0)
      } ms), ` +
      `moved on at the face's speed since`,
  );
}
console.log(`bundle (dist/extension):\n${formatSizes(sizes)}`);
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(figures, null, 2) + "\n");
