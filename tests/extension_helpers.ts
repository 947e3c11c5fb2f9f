/// <reference lib="dom" />
/**
 * Chromium with the built extension for the extension tests and the benchmark: a loopback HTTPS
 * server that answers for a call-site host name (so the shipped host permissions apply), the clip
 * as WebM and a .y4m fake camera made by ffmpeg, and helpers to reach the extension's parts.
 */
import { existsSync } from "node:fs";
import { type BrowserContext, chromium, type Page, type Worker } from "playwright-core";
import assert from "node:assert/strict";
import { buildExtension, DIST } from "../extension/build.ts";
import { loadDetector } from "../runtime/deno_analyzer.ts";
import { decodeImage } from "../shared/decode.ts";
import { iou } from "../shared/tracker.ts";
import { MEDIA, ROOT } from "./helpers.ts";

/** Debian's Chromium (apt-get install chromium). */
export const CHROMIUM = "/usr/bin/chromium";
/** The test pages' origin: a host in the manifest's host permissions, resolved to 127.0.0.1. */
export const SITE_HOST = "mien-test.zoom.us";
/** Where screenshots of each view are saved (git-ignored). */
export const SCREENSHOTS = `${ROOT}dist/screenshots/`;
/** The clip that the overlay and webcam checks play (read-only, never copied into the project). */
export const CLIP = `${MEDIA}/short_hamilton_clip.mp4`;

/** Whether ffmpeg is on the PATH. */
export function hasFfmpeg(): boolean {
  try {
    return new Deno.Command("ffmpeg", { args: ["-version"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[]) {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr).slice(-500)}`);
}

/**
 * The clip as VP8 WebM for <video> (whole), as a .y4m fake camera (640x360, 30 fps) from its 3-7 s
 * stretch, where one face faces the camera as in a webcam, and its 3.5-7 s part, forwards then backwards,
 * as a 320x240 WebM for a call's gallery tiles; made in `dir`. Null without the clip or ffmpeg.
 */
export async function makeMedia(dir: string): Promise<{ webm: string; y4m: string; tile: string } | null> {
  if (!existsSync(CLIP) || !hasFfmpeg()) return null;
  const webm = `${dir}/clip.webm`;
  const y4m = `${dir}/camera.y4m`;
  const tile = `${dir}/tile.webm`;
  const quiet = ["-hide_banner", "-loglevel", "error", "-y"];
  const vp8 = ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M"];
  await run("ffmpeg", [...quiet, "-i", CLIP, "-an", ...vp8, webm]);
  await run("ffmpeg", [
    ...quiet,
    "-ss",
    "3",
    "-t",
    "4",
    "-i",
    CLIP,
    "-an",
    "-vf",
    "fps=30",
    "-pix_fmt",
    "yuv420p",
    y4m,
  ]);
  // From 3.5 s: the face is visible in every frame of a tile (the stretch's first half second turns away).
  // Played forwards then backwards, so that the tile loops without a jump (as a call's tile never jumps).
  const pingPong = "scale=320:180,pad=320:240:0:30,split[a][b];[b]reverse[r];[a][r]concat=n=2:v=1:a=0";
  await run("ffmpeg", [
    ...[...quiet, "-ss", "3.5", "-t", "3.5", "-i", CLIP, "-an", "-filter_complex", pingPong],
    ...[...vp8, tile],
  ]);
  return { webm, y4m, tile };
}

/** A self-signed certificate for SITE_HOST (openssl), as PEM strings. */
async function certificate(dir: string): Promise<{ cert: string; key: string }> {
  await run("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
    ...["-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`, "-days", "1", "-subj", `/CN=${SITE_HOST}`],
    ...["-addext", `subjectAltName=DNS:${SITE_HOST}`],
  ]);
  return { cert: await Deno.readTextFile(`${dir}/cert.pem`), key: await Deno.readTextFile(`${dir}/key.pem`) };
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  jpg: "image/jpeg",
  webm: "video/webm",
  mp4: "video/mp4",
};

/** The loopback test site: `files` maps a path ("/clip.webm") to a file on disk or an HTML string. */
export async function serveSite(dir: string, files: Record<string, string>) {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {}, ...(await certificate(dir)) },
    async (req) => {
      const path = new URL(req.url).pathname;
      const entry = files[path];
      if (entry === undefined) return new Response("not found", { status: 404 });
      const type = TYPES[path.split(".").pop()!] ?? "application/octet-stream";
      const body = type.startsWith("text/html") ? entry : await Deno.readFile(entry);
      return new Response(body, { headers: { "content-type": type, "cache-control": "no-store" } });
    },
  );
  return { server, files, port: server.addr.port, url: (path: string) => `https://${SITE_HOST}${path}` };
}

/** Chromium with dist/extension loaded (built first), the site mapped to `port`, and a fake camera. */
export async function launch(options: { port: number; y4m?: string; userDataDir: string }) {
  await buildExtension();
  const context = await chromium.launchPersistentContext(options.userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    ignoreDefaultArgs: ["--disable-extensions"],
    ignoreHTTPSErrors: true,
    viewport: { width: 1000, height: 700 },
    args: [
      ...["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
      ...["--disable-sync", "--no-first-run", "--disable-quic", "--ignore-certificate-errors"],
      `--host-resolver-rules=MAP ${SITE_HOST} 127.0.0.1:${options.port}`,
      `--disable-extensions-except=${DIST}`,
      `--load-extension=${DIST}`,
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      ...(options.y4m ? [`--use-file-for-fake-video-capture=${options.y4m}`] : []),
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
  const worker = context.serviceWorkers()[0] ?? await context.waitForEvent("serviceworker");
  const id = new URL(worker.url()).host;
  return { context, worker, id, page: (path: string) => `chrome-extension://${id}/${path}` };
}

/** A launched browser, as launch() returns it. */
export type Launched = Awaited<ReturnType<typeof launch>>;

/** The id of the newest tab showing `url`, from the service worker. */
export function tabId(worker: Worker, url: string): Promise<number> {
  return worker.evaluate(async (u) => {
    // deno-lint-ignore no-explicit-any
    const tabs: { url: string; id: number }[] = await (globalThis as any).chrome.tabs.query({});
    // The newest such tab (ids grow), so that a tab a failed step left open is not picked.
    return Math.max(...tabs.filter((t) => t.url === u).map((t) => t.id));
  }, url);
}

/** Store extension settings (what the options page saves), from the service worker. */
export function setSettings(worker: Worker, settings: Record<string, unknown> | null) {
  return worker.evaluate(async (s) => {
    // deno-lint-ignore no-explicit-any
    const storage = (globalThis as any).chrome.storage.local;
    await (s ? storage.set({ settings: s }) : storage.remove("settings"));
  }, settings);
}

/** An element of the overlay: its page-viewport rect, text and the frame time it shows (boxes). */
export interface OverlayElement {
  x: number;
  y: number;
  width: number;
  height: number;
  label: string;
  mediaTime: number;
}

interface CdpNode {
  nodeId: number;
  nodeName: string;
  children?: CdpNode[];
  shadowRoots?: CdpNode[];
}

function findNode(node: CdpNode, name: string): CdpNode | undefined {
  if (node.nodeName === name) return node;
  for (const child of [...(node.children ?? []), ...(node.shadowRoots ?? [])]) {
    const found = findNode(child, name);
    if (found) return found;
  }
  return undefined;
}

/**
 * Elements matching `selector` in the overlay's closed shadow root, read over the DevTools protocol
 * (as a person sees them; the page's own scripts cannot reach them).
 */
export async function overlayElements(page: Page, selector = ".box"): Promise<OverlayElement[]> {
  // The overlay redraws every frame: a node can go between two protocol calls, so read it again.
  for (let attempt = 0;; attempt++) {
    try {
      return await readOverlay(page, selector);
    } catch (error) {
      if (attempt >= 20 || !/Could not find node|No node with given id/.test(String(error))) throw error;
    }
  }
}

async function readOverlay(page: Page, selector: string): Promise<OverlayElement[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = await cdp.send("DOM.getDocument", { depth: -1, pierce: true }) as { root: CdpNode };
    const shadow = findNode(root, "MIEN-OVERLAY")?.shadowRoots?.[0];
    if (!shadow) return [];
    const { nodeIds } = await cdp.send("DOM.querySelectorAll", { nodeId: shadow.nodeId, selector });
    const out: OverlayElement[] = [];
    for (const nodeId of nodeIds) {
      const box = await cdp.send("DOM.getBoxModel", { nodeId });
      const quad = box.model.border;
      const xs = [quad[0], quad[2], quad[4], quad[6]];
      const ys = [quad[1], quad[3], quad[5], quad[7]];
      const { attributes } = await cdp.send("DOM.getAttributes", { nodeId });
      const { outerHTML } = await cdp.send("DOM.getOuterHTML", { nodeId });
      const at = attributes.indexOf("data-media-time");
      out.push({
        x: Math.min(...xs),
        y: Math.min(...ys),
        width: Math.max(...xs) - Math.min(...xs),
        height: Math.max(...ys) - Math.min(...ys),
        label: outerHTML.replace(/<[^>]*>/g, ""),
        mediaTime: at >= 0 ? Number(attributes[at + 1]) : NaN,
      });
    }
    return out;
  } finally {
    await cdp.detach();
  }
}

/** Boxes the overlay draws in a page: viewport rects, labels and the frame time they show. */
export function overlayBoxes(page: Page): Promise<OverlayElement[]> {
  return overlayElements(page, ".box");
}

/** Wait until the overlay's elements matching `selector` satisfy `ok`; returns them. */
export async function waitForOverlay(
  page: Page,
  selector: string,
  ok: (elements: OverlayElement[]) => boolean,
  timeoutMs = 10_000,
): Promise<OverlayElement[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const elements = await overlayElements(page, selector);
    if (ok(elements)) return elements;
    if (performance.now() > deadline) {
      throw new Error(
        `overlay ${selector} not as expected after ${timeoutMs} ms: ${JSON.stringify(elements)}`,
      );
    }
    await page.waitForTimeout(100);
  }
}

/** Save a screenshot of a view under SCREENSHOTS. */
export async function screenshot(page: Page, name: string) {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png` });
}

/** Open an extension page (popup, webcam, …) in a new tab. */
export async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

/** The test page that plays the clip; it counts its own painted frames (requestAnimationFrame) and video frames shown. */
export const VIDEO_PAGE = videoPage("/clip.webm");

/** VIDEO_PAGE playing the video at `src`. */
export function videoPage(src: string): string {
  return `<!doctype html><html><head><title>call</title>
<style>body{margin:0;background:#222} video{display:block;width:640px;margin:40px}</style></head>
<body><video id="v" src="${src}" muted autoplay loop playsinline></video>
<script>
  window.paints = 0;
  window.videoFrames = 0;
  const count = () => { window.paints++; requestAnimationFrame(count); };
  requestAnimationFrame(count);
  const v = document.getElementById("v");
  const frames = () => { window.videoFrames++; v.requestVideoFrameCallback(frames); };
  v.requestVideoFrameCallback(frames);
</script></body></html>`;
}

/**
 * A call's gallery: `count` tiles in a square grid filling the window, each a <video> of `src` (a one-face
 * tile) started at its own point; the page counts its painted frames and each tile's shown frames.
 */
export function galleryPage(count: number, src: string): string {
  const side = Math.ceil(Math.sqrt(count));
  return `<!doctype html><html><head><title>gallery</title>
<style>body{margin:0;background:#222;display:grid;grid-template-columns:repeat(${side},1fr);gap:4px;height:100vh}
video{width:100%;height:100%;object-fit:contain;background:#000;min-height:0}</style></head>
<body>${
    Array.from({ length: count }, (_, i) =>
      `<video src="${src}" muted autoplay loop playsinline data-i="${i}"></video>`).join("")
  }
<script>
  window.paints = 0;
  window.videoFrames = 0;
  const count = () => { window.paints++; requestAnimationFrame(count); };
  requestAnimationFrame(count);
  document.querySelectorAll("video").forEach((v, i) => {
    v.addEventListener("loadedmetadata", () => { v.currentTime = (i * 0.37) % v.duration; }, { once: true });
    const frames = () => { window.videoFrames++; v.requestVideoFrameCallback(frames); };
    v.requestVideoFrameCallback(frames);
  });
</script></body></html>`;
}

/** A rectangle in viewport pixels. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Once every video of a gallery page plays: each tile's rect on screen, in page order. */
export async function galleryTiles(page: Page): Promise<Rect[]> {
  await page.waitForFunction(() =>
    [...document.querySelectorAll("video")].every((v) => !v.paused && v.currentTime > 0)
  );
  return await page.evaluate(() =>
    [...document.querySelectorAll("video")].map((v) => {
      const r = v.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    })
  );
}

/** Whether a box's centre lies inside a rect (a drawn box on a gallery's tile). */
export function centreIn(box: Rect, rect: Rect): boolean {
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
  return x > rect.x && x < rect.x + rect.width && y > rect.y && y < rect.y + rect.height;
}

/** The test page with a photo (face-api's demo sample, three faces) for the context menu. */
export const IMAGE_PAGE = `<!doctype html><html><head><title>photo</title></head>
<body><img id="photo" src="/faces.jpg" width="640"></body></html>`;

/** face-api's demo photo with three faces (an npm devDependency, always present). */
export const FACES_JPG = `${ROOT}node_modules/@vladmandic/face-api/demo/sample1.jpg`;

/**
 * Assert that each overlay box (viewport pixels) lies on a face BlazeFace finds in the same frame (IoU >= 0.6):
 * `shot` is that frame as a PNG data URL and the video's on-screen rect.
 */
export async function assertOnFaces(
  shot: { png: string; rect: { x: number; y: number; width: number } },
  boxes: { x: number; y: number; width: number; height: number }[],
) {
  const frame = await decodeImage(Uint8Array.from(atob(shot.png.split(",")[1]), (c) => c.charCodeAt(0)));
  const detector = await loadDetector("blazeface");
  const detected = detector.detect(frame);
  detector.dispose();
  assert.ok(detected.length >= 1 && boxes.length >= 1, `${detected.length} faces, ${boxes.length} boxes`);
  const scale = frame.width / shot.rect.width;
  for (const box of boxes) {
    const inFrame = {
      x: (box.x - shot.rect.x) * scale,
      y: (box.y - shot.rect.y) * scale,
      width: box.width * scale,
      height: box.height * scale,
    };
    const best = Math.max(...detected.map((d) => iou(d.box, inFrame)));
    assert.ok(best >= 0.6, `overlay box ${JSON.stringify(inFrame)} vs detector: IoU ${best.toFixed(2)}`);
  }
}
