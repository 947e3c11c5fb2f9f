/// <reference lib="dom" />
/**
 * Content script for a tab the user turned on: finds the page's videos (also ones added later),
 * sends downscaled frames to the tab's analyzer frame as ImageBitmaps — one at a time, the video chosen
 * by the tab's analysis budget (scheduler.ts) — and draws each tracked face's box and label over its
 * video. Turning off removes every element and stops all work.
 */
import type { Label } from "../shared/labels.ts";
import { css, LABEL_COLORS, textOn } from "../shared/palette.ts";
import { chooseTagForm, type TagForm, tagText } from "../shared/view_faces.ts";
import { browser } from "./browser.ts";
import {
  type FromFrame,
  type OverlayFace,
  parseRuntimeMessage,
  type Question,
  type ToFrame,
} from "./messages.ts";
import { boxVelocity, moveOn } from "../shared/tracker.ts";
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

/** A tag's font, and its height (CSS px) with its line height. */
const TAG_FONT = "600 12px system-ui, sans-serif";
const TAG_HEIGHT = 17;

const STYLE = `
.layer { position: fixed; inset: 0; pointer-events: none; z-index: 2147483647; overflow: hidden; }
.box { position: fixed; border: 2px solid; border-radius: 4px; box-sizing: border-box; }
.label { position: absolute; left: -2px; bottom: 100%;
  font: ${TAG_FONT}; line-height: ${TAG_HEIGHT}px; padding: 0 5px; border-radius: 3px 3px 0 0; white-space: nowrap; }
.label.inside { bottom: auto; top: 0; left: 0; border-radius: 0 0 3px 0; }
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
  /** Its on-screen area (CSS px²), measured at most every GEOMETRY_MS. */
  area: number;
  unreadable: string | null;
  /**
   * Where the browser tells (requestVideoFrameCallback): the time (s) of the frame last presented, of the
   * frame last sent, and the shortest step seen between two presented frames (one frame's duration).
   */
  presented: number;
  sentPresented: number;
  frameS: number;
  result?: Extract<FromFrame, { type: "result" }>;
  /** The result before it (for the faces' speed). */
  previous?: Extract<FromFrame, { type: "result" }>;
}

/** How far ahead of its frame a box is moved at the face's speed, in seconds of video. */
const MAX_AHEAD_S = 0.25;
/** How often the videos' on-screen areas are measured for the scheduler, in ms. */
const GEOMETRY_MS = 250;

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
  let measuredAt = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let capture: Extract<FromFrame, { type: "result" }> | undefined;
  let capturing = false;
  let scanTimer: ReturnType<typeof setTimeout> | undefined;
  let redrawQueued = false;
  let stopped = false;

  const send = (message: ToFrame, transfer: Transferable[] = []) => port?.postMessage(message, transfer);
  /** The popup's questions waiting for the analyzer's answer, by id. */
  const answers = new Map<number, (value: unknown) => void>();
  let asked = 0;

  function scan() {
    for (const video of document.querySelectorAll("video")) {
      if (!videos.has(video)) {
        videos.set(video, {
          id: nextId++,
          video,
          sentAt: -Infinity,
          lastTime: -1,
          change: 1,
          area: 0,
          unreadable: null,
          presented: Infinity,
          sentPresented: Infinity,
          frameS: Infinity,
        });
        watchFrames(videos.get(video)!);
      }
    }
    for (const video of videos.keys()) if (!video.isConnected) videos.delete(video);
    send({ type: "videos", ids: [...videos.values()].map((t) => t.id) });
    queueRedraw();
  }

  /**
   * Watch the frames a video presents (where the browser tells): the shortest step between two is one frame's
   * duration, for the frame indices of the session's rows.
   */
  function watchFrames(t: Tracked) {
    if (!("requestVideoFrameCallback" in t.video)) return;
    const step = (_now: number, meta: { mediaTime: number }) => {
      if (stopped || videos.get(t.video) !== t) return;
      const since = meta.mediaTime - t.presented;
      if (since > 0.004) t.frameS = Math.min(t.frameS, since);
      t.presented = meta.mediaTime;
      t.video.requestVideoFrameCallback(step);
    };
    t.video.requestVideoFrameCallback(step);
  }

  /**
   * Whether a video has a frame to analyse now: readable, loaded, not seeking, and a frame not analysed yet
   * (where the browser tells which frame shows; else: playing, or paused where it was not analysed). A frame
   * that stays on screen (a paused video, a video's first frame before its time comes) is analysed once.
   * While a video seeks, its currentTime is already the target's but the picture is still the old frame:
   * sampled then, the old face's box would be reported for the new time.
   */
  function hasFrame(t: Tracked): boolean {
    const { video } = t;
    if (t.unreadable || video.readyState < 2 || !video.videoWidth || !video.videoHeight) return false;
    if (video.seeking) return false;
    if (typeof video.requestVideoFrameCallback === "function") {
      // Each frame once: the one showing when the video was found, then each new one the browser presents.
      return Number.isFinite(t.presented) ? t.presented !== t.sentPresented : t.lastTime === -1;
    }
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
    t.sentPresented = t.presented;
    try {
      const bitmap = await createImageBitmap(video, {
        resizeWidth: Math.round(w * scale),
        resizeHeight: Math.round(h * scale),
        resizeQuality: "medium",
      });
      send({
        type: "frame",
        video: t.id,
        bitmap,
        mediaTime: t.lastTime,
        frameTime: Number.isFinite(t.sentPresented) ? t.sentPresented : t.lastTime,
        scale: w / bitmap.width,
        size: { width: w, height: h },
        frameS: Number.isFinite(t.frameS) ? t.frameS : null,
      }, [bitmap]);
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
      if (performance.now() - measuredAt > GEOMETRY_MS) {
        for (const t of videos.values()) t.area = areaOnScreen(t.video);
        measuredAt = performance.now();
      }
      const candidates = [...videos.values()].filter(hasFrame);
      const tiles: Tile[] = candidates.map((t) => ({
        id: t.id,
        area: t.area,
        change: t.change,
        lastSent: t.sentAt,
      }));
      const rates = tileRates(tiles, { perSecond: budget });
      const now = performance.now();
      const next = nextTile(tiles, rates, now);
      if (next.id !== null) {
        const t = candidates.find((t) => t.id === next.id)!;
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
    if (message.type === "answer") {
      answers.get(message.id)?.(message.value);
      answers.delete(message.id);
      return;
    }
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
        t.previous = t.result;
        t.result = message;
      }
      tick();
    }
    queueRedraw();
  }

  /** The layer's elements from the last redraw, by key ("video:face", or "note:video"), kept while shown. */
  const shown = new Map<string, HTMLElement>();
  let drawn = new Set<string>();

  /** The element for `key` (made on first use), marked as drawn in this redraw. */
  function element(key: string, make: () => HTMLElement): HTMLElement {
    drawn.add(key);
    let el = shown.get(key);
    if (!el) {
      el = make();
      shown.set(key, el);
      layer.append(el);
    }
    return el;
  }

  /** Set a style or text only when it changed (no needless style recalculation). */
  function set(el: HTMLElement, values: Record<string, string>, text?: string) {
    for (const [k, v] of Object.entries(values)) {
      if (el.style.getPropertyValue(k) !== v) el.style.setProperty(k, v);
    }
    if (text !== undefined && el.textContent !== text) el.textContent = text;
  }

  /** A tag's width in CSS px (its text and padding). */
  const measureContext = new OffscreenCanvas(1, 1).getContext("2d")!;
  measureContext.font = TAG_FONT;
  const measure = (text: string) => measureContext.measureText(text).width + 10;

  /**
   * Draw one video's faces, their tags all in one form (the longest that fits every face: within twice its
   * box's width, inside the video and clear of the other tags), above each box, or inside its top where
   * the video has no room above it, so that no tag reaches into a neighbouring tile.
   */
  function drawFaces(
    video: number,
    faces: OverlayFace[],
    place: ReturnType<typeof placeFrame>,
    width: number,
    mediaTime: number,
  ) {
    const onPage = faces.map((face) => ({ face, box: toPage(face.box, place, width) }))
      .filter((f): f is { face: OverlayFace; box: NonNullable<typeof f.box> } => f.box !== null);
    const tag = (face: OverlayFace) => (form: TagForm) =>
      tagText(face.face, face.label, face.confidence, form);
    const form = chooseTagForm(
      onPage.map(({ face, box }) => ({
        tag: tag(face),
        x: box.x,
        y: Math.max(box.y, place.clip.y + TAG_HEIGHT),
        width: box.width,
        maxRight: place.clip.x + place.clip.width,
      })),
      measure,
      TAG_HEIGHT,
      // A video's faces are its own (a gallery tile holds one or a few): its edges and the other tags are
      // the bounds, so a small face in a tile keeps its label, which the overlay has no card to give.
      Infinity,
    );
    for (const { face, box } of onPage) {
      const el = element(`${video}:${face.face}`, () => {
        const el = document.createElement("div");
        el.className = "box";
        const label = document.createElement("div");
        label.className = "label";
        el.append(label);
        return el;
      });
      const color = LABEL_COLORS[face.label as Label] ?? LABEL_COLORS.neutral;
      set(el, {
        left: `${box.x}px`,
        top: `${box.y}px`,
        width: `${box.width}px`,
        height: `${box.height}px`,
        "border-color": css(color),
      });
      el.dataset.face = String(face.face);
      el.dataset.mediaTime = String(mediaTime);
      const label = el.firstElementChild as HTMLElement;
      label.classList.toggle("inside", box.y - TAG_HEIGHT < place.clip.y);
      set(label, { background: css(color), color: css(textOn(color)) }, tag(face)(form));
    }
  }

  /** Remove the elements not drawn in this redraw. */
  function sweep() {
    for (const [key, el] of shown) {
      if (!drawn.has(key)) {
        el.remove();
        shown.delete(key);
      }
    }
    drawn = new Set();
  }

  /**
   * Where a face is now: its box moved on at the speed it had between the video's last two results, for
   * the video time since its frame (at most MAX_AHEAD_S, and never further than it moved between those two
   * results), so boxes keep up with faces between results; a face's number is one person's, so this is
   * never one person's box sent towards another's.
   */
  function boxNow(face: OverlayFace, t: Tracked, videoTime: number): OverlayFace {
    const before = t.previous?.faces.find((f) => f.face === face.face);
    const span = t.result!.mediaTime - (t.previous?.mediaTime ?? 0);
    const ahead = Math.min(MAX_AHEAD_S, videoTime - t.result!.mediaTime);
    if (!before || !(span > 0 && span <= 0.5) || !(ahead > 0)) return face;
    // A jump of more than half a face between two results is a seek or a loop, not motion: no move-on.
    const shift = Math.hypot(
      face.box.x + face.box.width / 2 - before.box.x - before.box.width / 2,
      face.box.y + face.box.height / 2 - before.box.y - before.box.height / 2,
    );
    if (shift > face.box.width / 2) return face;
    return {
      ...face,
      box: moveOn(face.box, { velocity: boxVelocity(before.box, face.box, span), span }, ahead),
    };
  }

  function redraw() {
    redrawQueued = false;
    if (capturing) {
      if (capture) {
        const view = { x: 0, y: 0, width: innerWidth, height: innerHeight };
        drawFaces(
          -1,
          capture.faces,
          placeFrame(view, capture.width, capture.height, "fill"),
          capture.width,
          0,
        );
      }
      return sweep();
    }
    // Read every video's geometry first, then change the layer: no layout forced in between.
    const views = [...videos].map(([video, t]) => {
      const r = video.getBoundingClientRect();
      const style = t.result && !t.unreadable ? getComputedStyle(video) : null;
      return { video, t, r, fit: style?.objectFit, transform: style?.transform, time: video.currentTime };
    });
    let moving = false;
    for (const { video, t, r, fit, transform, time } of views) {
      if (!r.width || !r.height) continue;
      if (t.unreadable) {
        const note = element(`note:${t.id}`, () => {
          const note = document.createElement("div");
          note.className = "note";
          note.textContent = "Mien cannot read this video: see the toolbar popup";
          return note;
        });
        set(note, { left: `${r.x + 4}px`, top: `${r.y + 4}px` });
        continue;
      }
      if (!t.result) continue;
      const { width, height, faces, mediaTime, notice } = t.result;
      if (notice) {
        // Where the user looks: the Edge API (or the analysis) failing, on the video itself.
        const note = element(`notice:${t.id}`, () => {
          const note = document.createElement("div");
          note.className = "note";
          return note;
        });
        set(note, {
          left: `${r.x + 4}px`,
          top: `${r.y + 4}px`,
          "max-width": `${Math.max(120, r.width - 8)}px`,
        }, notice);
      }
      const mirrored = new DOMMatrix(transform === "none" ? undefined : transform).a < 0;
      const place = placeFrame(
        { x: r.x, y: r.y, width: r.width, height: r.height },
        width,
        height,
        fit ?? "contain",
        mirrored,
        video.videoWidth / width,
      );
      drawFaces(t.id, faces.map((f) => boxNow(f, t, time)), place, width, mediaTime);
      moving ||= !video.paused && faces.length > 0;
    }
    sweep();
    if (moving) queueRedraw();
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
    /** Pass one of the popup's questions to the analyzer; undefined when it has none to give (yet). */
    ask(question: Question): Promise<unknown> {
      if (!port) return Promise.resolve(undefined);
      const id = ++asked;
      return new Promise((resolve) => {
        answers.set(id, resolve);
        send({ type: "ask", id, ...question });
        setTimeout(() => answers.delete(id) && resolve(undefined), 5000);
      });
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
  // The extension's own messages only: stop, and the popup's questions for this tab's analyzer (the popup
  // asks here because Firefox does not pass runtime messages to extension frames inside web pages).
  browser.runtime.onMessage.addListener((raw, sender) => {
    const message = parseRuntimeMessage(raw);
    if (sender.id !== browser.runtime.id || !message) return undefined;
    if (message.type === "mien:stop") {
      globalThis.mienOverlay?.stop();
      globalThis.mienOverlay = undefined;
      return Promise.resolve(true);
    }
    const overlay = globalThis.mienOverlay;
    if (message.type === "mien:status") return overlay?.ask({ question: "status" });
    if (message.type === "mien:session") return overlay?.ask({ question: "session" });
    if (message.type === "mien:clear-session") return overlay?.ask({ question: "clear-session" });
    if (message.type === "mien:tab-capture") {
      return overlay?.ask({ question: "tab-capture", streamId: message.streamId });
    }
    return undefined;
  });
}
