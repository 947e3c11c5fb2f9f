/// <reference lib="dom" />
/**
 * The tab's analyzer: an extension page in a hidden iframe that the content script adds, in the
 * extension's process, off the page's main thread; frames arrive as transferred ImageBitmaps and their
 * pixels go on to its worker (analyzer_worker.ts), which runs the models, so this page's thread (shared with
 * the popup and the options page) stays free. It numbers the faces and keeps the tab's status and session
 * (memory only; the session's copy in the extension's session storage, which the background keeps, outlives
 * switching off, until the popup clears it or the tab closes, and is taken up again when the tab is switched
 * on).
 */
import { LABELS } from "../shared/labels.ts";
import { videoBox } from "../shared/timeline.ts";
import { browser, bundledAssets } from "./browser.ts";
import { createFaceNumbers } from "./face_numbers.ts";
import type { FromFrame, FromWorker, OverlayFace, TabStatus, ToFrame, ToWorker } from "./messages.ts";
import { createSession, type SessionFaces } from "./session.ts";
import { loadSettings, onSettingsChanged, type Settings } from "./settings.ts";

// The content script hands over a MessagePort and its tab's token once this page has loaded; the
// background confirms the token belongs to this frame's tab and spends it (one use per page load).
// Pages that embed this frame themselves, or that navigate it, get nothing.
let port: MessagePort | undefined;
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
  port = offered;
  await setup;
  await takeUpKeptSession();
  port.onmessage = (e) => onFrame(e.data as ToFrame);
  toWorker({ type: "start", settings, assets: bundledAssets() });
});

const worker = new Worker(browser.runtime.getURL("analyzer_worker.js"), { type: "module" });
/** Who waits for the worker's answers to the frames sent, oldest first (it answers each, in order). */
const waiting: ((answer: Extract<FromWorker, { type: "result" }>) => void)[] = [];
worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const message = event.data;
  if (message.type === "ready") post({ type: "ready" }, { type: "config", budget: settings.budget });
  else if (message.type === "failed") status.error = `The analyzer failed to load: ${message.message}`;
  else waiting.shift()?.(message);
};

function toWorker(message: ToWorker, transfer: Transferable[] = []) {
  worker.postMessage(message, transfer);
}

let settings: Settings = await loadSettings();
let session = createSession();
let faceNumbers = createFaceNumbers();
let keptAt = 0;

/**
 * The kept copy of this tab's session, in the background's storage.session (Firefox gives extension frames
 * inside web pages none of their own): read, replaced or removed; null when that failed.
 */
function keptSession(op: "get" | "set" | "remove", session?: SessionFaces): Promise<unknown> {
  return browser.runtime.sendMessage({ type: "mien:kept-session", op, session }).catch(() => null);
}

/** Go on with the session kept from the last time this tab was on (its faces' numbers continue after it). */
async function takeUpKeptSession() {
  const kept = await keptSession("get");
  if (!kept) return;
  session = createSession({ restore: kept as SessionFaces });
  faceNumbers = createFaceNumbers(session.lastNumber() + 1);
}

/** Keep a copy of the session (at most once a second) where it outlives switching off. */
function keepSession(now: number) {
  if (now - keptAt < 1000 || !session.takeChanged()) return;
  keptAt = now;
  keptSession("set", session.snapshot());
}
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

onSettingsChanged((next) => {
  settings = next;
  status.mode = next.mode;
  status.budget = next.budget;
  post({ type: "config", budget: next.budget });
  if (port) toWorker({ type: "start", settings: next, assets: bundledAssets() });
});

function post(...messages: FromFrame[]) {
  for (const message of messages) port?.postMessage(message);
}

/** A message as a sentence: ending in a full stop. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

const canvas = new OffscreenCanvas(1, 1);
const ctx = canvas.getContext("2d", { willReadFrequently: true })!;

/**
 * A frame's pixels, read here and handed to the worker as plain data (Firefox's wasm there once ran about 80
 * times slower after drawing in the worker; the same slow mode was later seen with the pixels read here, on a
 * busy machine, so the cause is Firefox's, see docs/EXTENSION.md). Null for a frame from another site (the
 * browser refuses to read its pixels).
 */
function pixelsOf(bitmap: ImageBitmap): ImageData | null {
  const { width, height } = bitmap;
  if (canvas.width !== width || canvas.height !== height) [canvas.width, canvas.height] = [width, height];
  try {
    ctx.drawImage(bitmap, 0, 0);
    return ctx.getImageData(0, 0, width, height);
  } catch (error) {
    if ((error as Error).name === "SecurityError") return null; // a tainted (cross-origin) frame
    throw error;
  } finally {
    bitmap.close();
  }
}

/** Analyse one frame of a video (or of the tab capture, -1) and tell the content script what is where. */
async function analyse(
  video: number,
  bitmap: ImageBitmap,
  mediaTime: number,
  {
    frameTime = mediaTime,
    scale = 1,
    size = { width: bitmap.width, height: bitmap.height },
    frameS = null as number | null,
  } = {},
) {
  const { width, height } = bitmap;
  // In a gallery each tile is analysed a few times a second: a whole-frame search every 500 ms per tile
  // would be most of the work, and a tile rarely gains a face; its faces are followed in between.
  const fullEveryMs = Math.min(2000, 500 * Math.max(1, status.videos / 3));
  const image = pixelsOf(bitmap);
  const answer = image && await new Promise<Extract<FromWorker, { type: "result" }>>((resolve) => {
    waiting.push(resolve);
    toWorker({ type: "frame", video, image, mediaTime, fullEveryMs }, [image.data.buffer]);
  });
  if (!answer) {
    status.unreadable = "A video on this page comes from another site and cannot be read.";
    return post({ type: "unreadable", video, reason: status.unreadable });
  }
  if (answer.error) {
    status.error = answer.error;
    const notice = `${sentence(answer.error)} Mien shows no expressions meanwhile.`;
    return post({ type: "result", video, mediaTime, width, height, faces: [], notice });
  }
  if (answer.black) {
    blackFrames.set(video, (blackFrames.get(video) ?? 0) + 1);
    if (blackFrames.get(video)! >= 10) {
      status.unreadable = "A video on this page only shows black frames (protected playback?).";
      post({ type: "unreadable", video, reason: status.unreadable });
    }
  } else blackFrames.delete(video);
  const now = performance.now();
  const numbers = faceNumbers.assign(video, answer.faces.map((f) => f.track));
  const faces: OverlayFace[] = answer.faces.map((f, i) => ({
    face: numbers[i],
    box: f.box,
    label: f.label,
    confidence: f.scores[LABELS.indexOf(f.label)],
  }));
  // The session holds boxes in the video's own pixels (clipped to it, as every export's) and the frame's
  // number (time x frame rate, if known).
  session.add(
    { video, timeS: frameTime, frame: frameS ? Math.round(frameTime / frameS) : null },
    answer.faces.map((f, i) => ({ face: numbers[i], box: videoBox(f.box, scale, size), scores: f.scores })),
    Date.now(),
  );
  keepSession(now);
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
  status.problem = answer.problem;
  status.source = answer.source;
  status.error = null;
  const notice = answer.problem
    ? `${sentence(answer.problem)} Classifying on this device meanwhile.`
    : undefined;
  post({ type: "result", video, mediaTime, width, height, faces, notice });
}

async function onFrame(message: ToFrame) {
  if (message.type === "videos") {
    status.videos = message.ids.length;
    if (message.ids.length > 1) faceNumbers.reserve(message.ids);
    return;
  }
  if (message.type === "unreadable") {
    status.unreadable = message.reason;
    return;
  }
  if (message.type === "ask") return answer(message);
  await analyse(message.video, message.bitmap, message.mediaTime, message);
}

/** Start analysing a capture of the whole tab (for videos that cannot be read); it runs until it ends. */
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
  analyseCapture(video, capture.getVideoTracks()[0]);
}

/** Analyse the capture's frames at the tab's rate until its track ends. */
async function analyseCapture(video: HTMLVideoElement, track: MediaStreamTrack) {
  while (track.readyState === "live") {
    const started = performance.now();
    try {
      await analyse(-1, await createImageBitmap(video), video.currentTime);
    } catch (error) {
      status.error = (error as Error).message;
    }
    const every = 1000 / Math.min(30, settings.budget);
    await new Promise((r) => setTimeout(r, Math.max(0, every - (performance.now() - started))));
  }
  status.tabCapture = false;
  post({ type: "capture", on: false });
}

/** The popup's questions, passed on by the content script. */
async function answer(message: Extract<ToFrame, { type: "ask" }>) {
  let value: unknown;
  if (message.question === "status") value = status;
  else if (message.question === "session") value = session.snapshot();
  else if (message.question === "clear-session") {
    session = createSession();
    value = await keptSession("remove") === true;
  } else {
    value = await startCapture(message.streamId).then(() => true, (e) => {
      status.error = `Tab capture failed: ${(e as Error).message}`;
      return false;
    });
  }
  post({ type: "answer", id: message.id, value });
}

setupDone!();
