/// <reference lib="dom" />
/**
 * The tab's analyzer: an extension page in a hidden iframe that the content script adds. It runs in
 * the extension's process, off the page's main thread; frames arrive as transferred ImageBitmaps.
 * It keeps the tab's trackers and session (memory only: both go away with the tab).
 */
import { LABELS } from "../shared/labels.ts";
import { browser } from "./browser.ts";
import { createEngine, type Engine } from "./engine.ts";
import {
  fromExtensionPage,
  type FromFrame,
  type OverlayFace,
  parseRuntimeMessage,
  type TabStatus,
  type ToFrame,
} from "./messages.ts";
import { createSession } from "./session.ts";
import { loadSettings, onSettingsChanged, type Settings } from "./settings.ts";

// The content script hands over a MessagePort and its tab's token once this page has loaded; the
// background confirms the token belongs to this frame's tab and spends it (one use per page load).
// Pages that embed this frame themselves, or that navigate it, get nothing.
let port: MessagePort | undefined;
let tabId = -1;
let engine: Promise<Engine> | undefined;
let setupDone: () => void;
const setup = new Promise<void>((resolve) => setupDone = resolve);
globalThis.addEventListener("message", async (event) => {
  if (event.source !== parent || event.data?.type !== "mien:port" || !event.ports[0] || port) return;
  const offered = event.ports[0];
  const id = await browser.runtime.sendMessage<number>({
    type: "mien:check",
    token: String(event.data.token),
  });
  if (id < 0 || port) return offered.close();
  [port, tabId] = [offered, id];
  await setup;
  engine = createEngine(settings);
  port.onmessage = (e) => onFrame(e.data as ToFrame);
  engine.then(
    () => post({ type: "ready" }, { type: "config", budget: settings.budget }),
    (e) => status.error = `analyzer failed to load: ${e.message}`,
  );
});

let settings: Settings = await loadSettings();
const session = createSession();
/** One video verb per video of the tab (faces followed between detections), made by the current engine. */
const verbs = new Map<number, ReturnType<Engine["video"]>>();
const faceNumbers = new Map<string, number>();
/** Recent analyses (when, which video), for the rates; when each face number was last seen. */
const analysed: { at: number; video: number }[] = [];
const seenAt = new Map<number, number>();
/** A face missed for less than this still counts as on screen (a detector misses a frame now and then). */
const PRESENT_MS = 2000;
const blackFrames = new Map<number, number>();
const status: TabStatus = {
  mode: settings.mode,
  source: "local",
  fps: 0,
  perVideo: 0,
  slowestVideo: 0,
  budget: settings.budget,
  videos: 0,
  faces: 0,
  unreadable: null,
  problem: null,
  error: null,
  tabCapture: false,
};
let capture: MediaStream | undefined;

onSettingsChanged(async (next) => {
  const old = engine;
  settings = next;
  status.mode = next.mode;
  status.budget = next.budget;
  post({ type: "config", budget: next.budget });
  if (!old) return;
  engine = createEngine(next);
  verbs.clear();
  (await old).dispose();
});

function post(...messages: FromFrame[]) {
  for (const message of messages) port?.postMessage(message);
}

/**
 * The number a face goes by in the overlay and the popup (per tab, from 1). With one video, one number per
 * track; in a gallery (several videos), one per place in its tile (left to right), so that a participant
 * keeps one number and one chart while their tile's tracks restart.
 */
function faceNumber(video: number, track: number, place: number): number {
  const key = status.videos > 1 ? `${video}@${place}` : `${video}:${track}`;
  if (!faceNumbers.has(key)) faceNumbers.set(key, faceNumbers.size + 1);
  return faceNumbers.get(key)!;
}

/** Analyse one frame of a video (or of the tab capture) and tell the content script what is where. */
async function analyse(
  video: number,
  source: CanvasImageSource,
  width: number,
  height: number,
  mediaTime: number,
) {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(source, 0, 0, width, height);
  let image: ImageData;
  try {
    image = ctx.getImageData(0, 0, width, height);
  } catch {
    status.unreadable = "A video on this page comes from another site and cannot be read.";
    post({ type: "unreadable", video, reason: status.unreadable });
    return;
  }
  if (isBlack(image)) {
    blackFrames.set(video, (blackFrames.get(video) ?? 0) + 1);
    if (blackFrames.get(video)! >= 10) {
      status.unreadable = "A video on this page only shows black frames (protected playback?).";
      post({ type: "unreadable", video, reason: status.unreadable });
    }
  } else blackFrames.delete(video);
  const current = await engine!;
  let verb = verbs.get(video);
  // In a gallery each tile is analysed a few times a second: a whole-frame search every 500 ms per tile
  // would be most of the work, and a tile rarely gains a face; its faces are followed in between.
  const fullEveryMs = Math.min(2000, 500 * Math.max(1, status.videos / 3));
  if (!verb) verbs.set(video, verb = current.video({ halfLifeMs: 500, fullEveryMs }));
  const now = performance.now();
  const result = await verb.analyzeVideoFrame(image, now);
  const order = result.faces.map((f) => f.box.x).sort((a, b) => a - b);
  const numbers = result.faces.map((f) => faceNumber(video, f.id, order.indexOf(f.box.x)));
  const faces: OverlayFace[] = result.faces.map((f, i) => ({
    face: numbers[i],
    box: f.box,
    label: f.expression.label,
    confidence: f.expression.scores[f.expression.label],
  }));
  session.add(
    result.faces.map((f, i) => ({
      face: numbers[i],
      scores: LABELS.map((l) => f.expression.scores[l]),
    })),
    Date.now(),
  );
  analysed.push({ at: now, video });
  while (analysed.length && now - analysed[0].at > 3000) analysed.shift();
  const seconds = Math.min(3, Math.max(1, (now - analysed[0].at) / 1000));
  const perVideo = new Map<number, number>();
  for (const a of analysed) perVideo.set(a.video, (perVideo.get(a.video) ?? 0) + 1);
  status.fps = analysed.length / seconds;
  status.perVideo = status.fps / perVideo.size;
  status.slowestVideo = Math.min(...perVideo.values()) / seconds;
  for (const face of faces) seenAt.set(face.face, now);
  for (const [face, at] of seenAt) if (now - at > PRESENT_MS) seenAt.delete(face);
  status.faces = seenAt.size;
  status.problem = verb.last.problem ?? null;
  status.source = verb.last.source;
  status.error = null;
  post({ type: "result", video, mediaTime, width, height, faces });
}

/** True when every sampled pixel is (nearly) black. */
function isBlack(image: ImageData): boolean {
  for (let i = 0; i < image.data.length; i += 4 * 97) {
    if (image.data[i] > 8 || image.data[i + 1] > 8 || image.data[i + 2] > 8) return false;
  }
  return true;
}

async function onFrame(message: ToFrame) {
  if (message.type === "videos") {
    status.videos = message.count;
    return;
  }
  if (message.type === "unreadable") {
    status.unreadable = message.reason;
    return;
  }
  const { video, bitmap, mediaTime } = message;
  try {
    await analyse(video, bitmap, bitmap.width, bitmap.height, mediaTime);
  } catch (error) {
    status.error = (error as Error).message;
    post({ type: "result", video, mediaTime, width: bitmap.width, height: bitmap.height, faces: [] });
  } finally {
    bitmap.close();
  }
}

/** Analyse a capture of the whole tab (for videos that cannot be read), until it ends. */
async function startCapture(streamId: string) {
  capture?.getTracks().forEach((t) => t.stop());
  capture = await navigator.mediaDevices.getUserMedia({
    video: { mandatory: { chromeMediaSource: "tab", chromeMediaSourceId: streamId } },
  } as unknown as MediaStreamConstraints);
  const video = document.createElement("video");
  video.muted = true;
  video.srcObject = capture;
  await video.play();
  status.tabCapture = true;
  status.unreadable = null;
  post({ type: "capture", on: true });
  const track = capture.getVideoTracks()[0];
  while (track.readyState === "live") {
    const started = performance.now();
    try {
      await analyse(-1, video, video.videoWidth, video.videoHeight, video.currentTime);
    } catch (error) {
      status.error = (error as Error).message;
    }
    const every = 1000 / Math.min(30, settings.budget);
    await new Promise((r) => setTimeout(r, Math.max(0, every - (performance.now() - started))));
  }
  status.tabCapture = false;
  post({ type: "capture", on: false });
}

browser.runtime.onMessage.addListener((raw, sender) => {
  const message = parseRuntimeMessage(raw);
  if (!message || !fromExtensionPage(sender, browser.runtime.id)) return undefined;
  if (!("tabId" in message) || message.tabId !== tabId) return undefined;
  if (message.type === "mien:status") return Promise.resolve(status);
  if (message.type === "mien:session") return Promise.resolve(session.snapshot());
  if (message.type === "mien:tab-capture") {
    return startCapture(message.streamId).then(() => true, (e) => {
      status.error = `tab capture failed: ${(e as Error).message}`;
      return false;
    });
  }
  return undefined;
});

setupDone!();
