/// <reference lib="dom" />
/**
 * Content script for a tab the user turned on: finds the page's videos (also ones added later),
 * sends downscaled frames to the tab's analyzer frame as ImageBitmaps — one at a time, the video chosen
 * by the tab's analysis budget (scheduler.ts) — and draws each tracked face's box and label over its
 * video. Turning off removes every element and stops all work.
 */
import type { Label } from "../shared/labels.ts";
import { css, LABEL_COLORS, textOn } from "../shared/palette.ts";
import { browser } from "./browser.ts";
import type { FromFrame, OverlayFace, RuntimeMessage, ToFrame } from "./messages.ts";
import { placeFrame, toPage } from "./overlay.ts";
import { nextTile, sentTime, type Tile, tileRates } from "./scheduler.ts";
import { DEFAULT_SETTINGS } from "./settings.ts";

/** Longest side of the frames sent for analysis (BlazeFace works at 256 anyway). */
const MAX_SIDE = 640;
/**
 * The analyzer frame's URL and the origin of the document it loads, fixed now: the handshake goes to
 * this origin only, wherever the iframe is navigated. In Chrome the URL is the per-session dynamic one
 * (use_dynamic_url) while the document's origin stays chrome-extension://<id>.
 */
const FRAME_URL = browser.runtime.getURL("frame.html");
const FRAME_ORIGIN = new URL(FRAME_URL).protocol === "chrome-extension:"
  ? `chrome-extension://${browser.runtime.id}`
  : new URL(FRAME_URL).origin;

const STYLE = `
.layer { position: fixed; inset: 0; pointer-events: none; z-index: 2147483647; overflow: hidden; }
.box { position: fixed; border: 2px solid; border-radius: 4px; box-sizing: border-box; }
.label { position: absolute; left: -2px; bottom: 100%;
  font: 600 12px/1.4 system-ui, sans-serif; padding: 0 5px; border-radius: 3px 3px 0 0; white-space: nowrap; }
.note { position: fixed; background: rgba(0,0,0,.75); color: #fff; font: 12px system-ui, sans-serif;
  padding: 3px 6px; border-radius: 3px; }
iframe { position: fixed; width: 1px; height: 1px; border: 0; opacity: 0; left: 0; top: 0; }
`;

interface Tracked {
  id: number;
  video: HTMLVideoElement;
  /** When the latest frame was sent (performance.now()). */
  sentAt: number;
  lastTime: number;
  /** How much its faces changed between its last two results (0..1, smoothed). */
  change: number;
  unreadable: string | null;
  result?: Extract<FromFrame, { type: "result" }>;
}

function createOverlay() {
  const host = document.createElement("mien-overlay");
  // Closed: the page can neither read the labels nor reach the analyzer frame's element.
  const root = host.attachShadow({ mode: "closed" });
  const style = document.createElement("style");
  style.textContent = STYLE;
  const layer = document.createElement("div");
  layer.className = "layer";
  const frame = document.createElement("iframe");
  frame.src = FRAME_URL;
  root.append(style, layer, frame);

  const videos = new Map<HTMLVideoElement, Tracked>();
  let nextId = 0;
  let port: MessagePort | undefined;
  let ready = false;
  let budget = DEFAULT_SETTINGS.budget;
  /** The one frame being analysed (sent, no result yet), and since when. */
  let inFlight: { id: number; since: number } | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let capture: Extract<FromFrame, { type: "result" }> | undefined;
  let capturing = false;
  let scanTimer: ReturnType<typeof setTimeout> | undefined;
  let redrawQueued = false;
  let stopped = false;

  const send = (message: ToFrame, transfer: Transferable[] = []) => port?.postMessage(message, transfer);

  function scan() {
    for (const video of document.querySelectorAll("video")) {
      if (!videos.has(video)) {
        videos.set(video, {
          id: nextId++,
          video,
          sentAt: -Infinity,
          lastTime: -1,
          change: 1,
          unreadable: null,
        });
      }
    }
    for (const video of videos.keys()) if (!video.isConnected) videos.delete(video);
    send({ type: "videos", count: videos.size });
    queueRedraw();
  }

  /** Whether a video has a frame to analyse now: readable, loaded, and playing or not yet analysed here. */
  function hasFrame(t: Tracked): boolean {
    const { video } = t;
    if (t.unreadable || video.readyState < 2 || !video.videoWidth || !video.videoHeight) return false;
    return !(video.paused && video.currentTime === t.lastTime);
  }

  /** The part of a video on screen, in CSS pixels² (0 when scrolled away or the tab is hidden). */
  function areaOnScreen(video: HTMLVideoElement): number {
    if (document.visibilityState === "hidden") return 0;
    const r = video.getBoundingClientRect();
    const w = Math.min(r.right, innerWidth) - Math.max(r.left, 0);
    const h = Math.min(r.bottom, innerHeight) - Math.max(r.top, 0);
    return w > 0 && h > 0 ? w * h : 0;
  }

  /** Send a video's current frame, downscaled, to the analyzer. */
  async function sample(t: Tracked) {
    const { video } = t;
    const w = video.videoWidth;
    const h = video.videoHeight;
    const scale = Math.min(1, MAX_SIDE / Math.max(w, h));
    inFlight = { id: t.id, since: performance.now() };
    t.lastTime = video.currentTime;
    try {
      const bitmap = await createImageBitmap(video, {
        resizeWidth: Math.round(w * scale),
        resizeHeight: Math.round(h * scale),
        resizeQuality: "medium",
      });
      send({ type: "frame", video: t.id, bitmap, mediaTime: t.lastTime }, [bitmap]);
    } catch (error) {
      inFlight = null;
      console.debug("Mien cannot read a video:", error);
      t.unreadable = "A video on this page comes from another site or is protected, and cannot be read.";
      send({ type: "unreadable", reason: t.unreadable });
      queueRedraw();
    }
  }

  /** Send the frame the budget says is due next, if the analyzer is free; then wait for the next one. */
  function tick() {
    if (stopped) return;
    clearTimeout(timer);
    // A frame lost on the way (the analyzer reloaded) does not stall the tab for more than 5 s.
    if (inFlight && performance.now() - inFlight.since > 5000) inFlight = null;
    let wait = 100;
    if (ready && !capturing && !inFlight) {
      const ready = [...videos.values()].filter(hasFrame);
      const tiles: Tile[] = ready.map((t) => {
        const area = areaOnScreen(t.video);
        return { id: t.id, visible: area > 0, area, change: t.change, lastSent: t.sentAt };
      });
      const rates = tileRates(tiles, { perSecond: budget });
      const now = performance.now();
      const next = nextTile(tiles, rates, now);
      if (next.id !== null) {
        const t = ready.find((t) => t.id === next.id)!;
        sample(t);
        t.sentAt = sentTime(t.sentAt, rates.get(t.id)!, now);
      } else wait = Math.min(wait, next.wait);
    }
    timer = setTimeout(tick, Math.max(1, wait));
  }

  /** How much a video's faces changed from one result to the next, 0..1. */
  function changeBetween(before: OverlayFace[] | undefined, after: OverlayFace[]): number {
    if (!before || before.length !== after.length) return 1;
    let most = 0;
    for (const face of after) {
      const old = before.find((f) => f.face === face.face);
      if (!old || old.label !== face.label) return 1;
      const shift = Math.hypot(
        face.box.x + face.box.width / 2 - old.box.x - old.box.width / 2,
        face.box.y + face.box.height / 2 - old.box.y - old.box.height / 2,
      );
      most = Math.max(most, Math.min(1, (4 * shift) / Math.max(1, face.box.width)));
    }
    return most;
  }

  function onMessage(message: FromFrame) {
    if (message.type === "ready") ready = true;
    else if (message.type === "config") budget = message.budget;
    else if (message.type === "capture") {
      capturing = message.on;
      capture = undefined;
    } else if (message.type === "result" && message.video === -1) capture = message;
    else {
      if (inFlight?.id === message.video) inFlight = null;
      const t = [...videos.values()].find((v) => v.id === message.video);
      if (t && message.type === "unreadable") t.unreadable = message.reason;
      else if (t && message.type === "result") {
        t.change = (t.change + changeBetween(t.result?.faces, message.faces)) / 2;
        t.result = message;
      }
      tick();
    }
    queueRedraw();
  }

  function drawFaces(
    faces: OverlayFace[],
    place: ReturnType<typeof placeFrame>,
    width: number,
    mediaTime: number,
  ) {
    for (const face of faces) {
      const box = toPage(face.box, place, width);
      if (!box) continue;
      const el = document.createElement("div");
      el.className = "box";
      Object.assign(el.style, {
        left: `${box.x}px`,
        top: `${box.y}px`,
        width: `${box.width}px`,
        height: `${box.height}px`,
      });
      el.dataset.face = String(face.face);
      el.dataset.mediaTime = String(mediaTime);
      const color = LABEL_COLORS[face.label as Label] ?? LABEL_COLORS.neutral;
      el.style.borderColor = css(color);
      const label = document.createElement("div");
      label.className = "label";
      label.style.background = css(color);
      label.style.color = css(textOn(color));
      label.textContent = `${face.face} · ${face.label} ${Math.round(face.confidence * 100)}%`;
      el.append(label);
      layer.append(el);
    }
  }

  function redraw() {
    redrawQueued = false;
    layer.replaceChildren();
    if (capturing) {
      if (capture) {
        const view = { x: 0, y: 0, width: innerWidth, height: innerHeight };
        drawFaces(capture.faces, placeFrame(view, capture.width, capture.height, "fill"), capture.width, 0);
      }
      return;
    }
    for (const [video, t] of videos) {
      const r = video.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      if (t.unreadable) {
        const note = document.createElement("div");
        note.className = "note";
        note.textContent = "Mien cannot read this video: see the toolbar popup";
        Object.assign(note.style, { left: `${r.x + 4}px`, top: `${r.y + 4}px` });
        layer.append(note);
        continue;
      }
      if (!t.result) continue;
      const { width, height, faces, mediaTime } = t.result;
      const css = getComputedStyle(video);
      const mirrored = new DOMMatrix(css.transform === "none" ? undefined : css.transform).a < 0;
      const place = placeFrame(
        { x: r.x, y: r.y, width: r.width, height: r.height },
        width,
        height,
        css.objectFit,
        mirrored,
        video.videoWidth / width,
      );
      drawFaces(faces, place, width, mediaTime);
    }
  }

  function queueRedraw() {
    if (redrawQueued) return;
    redrawQueued = true;
    requestAnimationFrame(redraw);
  }

  function onFullscreen() {
    // Only the fullscreen element's subtree is painted: move the overlay into it when possible.
    const full = document.fullscreenElement;
    (full && !(full instanceof HTMLVideoElement) ? full : document.documentElement).append(host);
    queueRedraw();
  }

  const observer = new MutationObserver(() => {
    clearTimeout(scanTimer);
    scanTimer = setTimeout(scan, 200);
  });

  return {
    /** Add the overlay and start sampling. */
    start() {
      const token = browser.runtime.sendMessage<string | null>({ type: "mien:token" });
      frame.addEventListener("load", async () => {
        const channel = new MessageChannel();
        port = channel.port1;
        port.onmessage = (e) => onMessage(e.data as FromFrame);
        const message = { type: "mien:port", token: await token };
        frame.contentWindow!.postMessage(message, FRAME_ORIGIN, [channel.port2]);
        scan();
      }, { once: true });
      document.documentElement.append(host);
      observer.observe(document.documentElement, { childList: true, subtree: true });
      addEventListener("scroll", queueRedraw, { capture: true, passive: true });
      addEventListener("resize", queueRedraw);
      document.addEventListener("fullscreenchange", onFullscreen);
      tick();
    },
    /** Remove everything and stop all work (the analyzer frame goes with it). */
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(scanTimer);
      observer.disconnect();
      removeEventListener("scroll", queueRedraw, { capture: true });
      removeEventListener("resize", queueRedraw);
      document.removeEventListener("fullscreenchange", onFullscreen);
      port?.close();
      host.remove();
    },
  };
}

declare global {
  var mienOverlay: ReturnType<typeof createOverlay> | undefined;
  var mienListening: boolean | undefined;
}

// Injected each time the user turns the tab on; a second injection while on does nothing.
if (!globalThis.mienOverlay) {
  globalThis.mienOverlay = createOverlay();
  globalThis.mienOverlay.start();
}
if (!globalThis.mienListening) {
  globalThis.mienListening = true;
  browser.runtime.onMessage.addListener((message, sender) => {
    if (sender.id !== browser.runtime.id || (message as RuntimeMessage)?.type !== "mien:stop") {
      return undefined;
    }
    globalThis.mienOverlay?.stop();
    globalThis.mienOverlay = undefined;
    return Promise.resolve(true);
  });
}
