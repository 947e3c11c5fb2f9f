/// <reference lib="dom" />
/**
 * The worker's `GET /` page: a dropped photo (or a sample) goes to /v1/analyze, scaled down first when it
 * is larger than uploads need to be, and each face's feature maps come from /v1/explain; a video file and
 * the webcam are analysed here, with the shared core on WebAssembly (nothing is uploaded).
 */
import { createFrameGate } from "../../shared/frame_gate.ts";
import {
  createFollowedTimes,
  faceCountText,
  timelineCsv,
  timelinePlan,
  type TimelineRow,
  timelineRows,
} from "../../shared/timeline.ts";
import type { VideoFace } from "../../shared/video_analyzer.ts";
import { css } from "../../shared/palette.ts";
import { createWebVideoAnalyzer, type WebAssets } from "../../shared/web_analyzer.ts";
import type { Label } from "../../shared/labels.ts";
import type { Box } from "../../shared/preprocess.ts";
import {
  drawFaceBoxes,
  faceCard,
  numberFaces,
  useResultStyles,
  type ViewFace,
} from "../../shared/result_view.ts";
import { SAMPLE_PHOTOS } from "./samples.ts";
import { modelInput } from "../../shared/align.ts";
import { explainFace, renderExplanation } from "../../shared/explain.ts";

/** The video verb of this page (model and detectors loaded from the server). */
type VideoVerb = Awaited<ReturnType<typeof createWebVideoAnalyzer>>;

/** A face before numbering: its box and scores. */
type ShownFace = { box: Box; scores: Record<Label, number> };

useResultStyles();

/** Draw the numbered faces on the view (over the picture already there). */
function show(faces: ViewFace[]) {
  drawFaceBoxes(ctx, faces, view.width / Math.max(1, view.getBoundingClientRect().width));
}

/** List the faces' cards (the numbers of their boxes). */
function listFaces(list: HTMLElement, faces: ViewFace[]) {
  list.replaceChildren(...faces.map(faceCard));
}

/** Draw a video's current picture on the view, mirrored (as a mirror shows a face) for the webcam. */
function drawVideo(video: HTMLVideoElement, mirrored = false) {
  if (!mirrored) return ctx.drawImage(video, 0, 0, view.width, view.height);
  ctx.save();
  ctx.translate(view.width, 0);
  ctx.scale(-1, 1);
  ctx.drawImage(video, 0, 0, view.width, view.height);
  ctx.restore();
}

/** Show a video's current frame with one result's boxes (drawn where that result's cards are listed). */
function paintFrame(video: HTMLVideoElement, faces: ViewFace[], mirrored = false) {
  drawVideo(video, mirrored);
  show(faces);
}

/** Followed faces with the numbers the video verb gives them (as the timeline and CSV have them), in order. */
function trackedFaces(faces: VideoFace[]): ViewFace[] {
  return faces
    .map((f) => ({ number: f.number, box: f.box, scores: f.expression.scores }))
    .sort((a, b) => a.number - b.number);
}

/** Remove the shown picture, cards, feature maps, timeline and status (a new file, a failure, the webcam). */
function clearResult() {
  view.width = view.height = 0;
  faceList.replaceChildren();
  explainView.hidden = true;
  $("explain").removeAttribute("src");
  timeline.hidden = true;
  playhead.hidden = true;
  csvButton.hidden = true;
  delete status.dataset.analysed;
  delete status.dataset.frames;
  say("");
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const view = $<HTMLCanvasElement>("view");
const ctx = view.getContext("2d", { willReadFrequently: true })!;
const status = $("status");
const result = $("result");
const faceList = $("faces");
const fileInput = $<HTMLInputElement>("file");
const player = $("player");
const playButton = $<HTMLButtonElement>("play");
const seekBar = $<HTMLInputElement>("seek");
const clock = $("clock");
const stopButton = $<HTMLButtonElement>("stop");
const webcamButton = $<HTMLButtonElement>("webcam");
const timeline = $<HTMLCanvasElement>("timeline");
const csvButton = $<HTMLButtonElement>("csv");
const explainView = $("explainView");
const ASSETS: WebAssets = {
  wasm: "/static/wasm/",
  model: "/static/models/mien-fer/",
  blazeface: "/static/models/blazeface/",
};

/** Show a status line (an error in red). */
function say(message: string, isError = false) {
  status.textContent = message;
  status.className = isError ? "error" : "";
}

/** When the result does not fit below the controls (as on a phone), scroll its status line to the top. */
function revealResult() {
  const { top, bottom } = result.getBoundingClientRect();
  if (top > innerHeight / 3 && bottom > innerHeight) status.scrollIntoView({ behavior: "smooth" });
}

/** What to say when the model or the wasm files could not be loaded from the server (tried again next time). */
const MODEL_UNAVAILABLE =
  "Could not load the model from this website's server: it may be down. Try again in a moment.";
/** What to say when a photo could not be sent. */
const SERVER_UNREACHABLE = "Could not reach this website's server: it may be down. Try again in a moment.";

interface ApiFace {
  box: ShownFace["box"];
  expression: { scores: ShownFace["scores"] };
}

/** The video file shown (playing or paused); its analyzer is freed by `closeVideo`. */
let playing: HTMLVideoElement | undefined;
let closeVideo: (() => void) | undefined;

/** Stop a video file being analysed and free its analyzer (its timeline and CSV stay). */
function stopVideo() {
  playing?.pause();
  playing = undefined;
  closeVideo?.();
  closeVideo = undefined;
  player.hidden = true;
  timeline.classList.remove("seekable");
  timeline.title = "";
  playhead.hidden = true;
}

/** The rows and duration last charted (redrawn at the new width when the window resizes). */
let charted: [TimelineRow[], number] | undefined;
/** Where time runs on the chart, in CSS px: the x of 0 s and the width of the whole video. */
let chartPlot = { x: 0, width: 1 };

/** Draw the timeline rows so far across the timeline's width, text at the page's text size. */
function showTimeline(rows: TimelineRow[], durationS: number) {
  charted = [rows, durationS];
  timeline.hidden = false;
  const unit = globalThis.devicePixelRatio || 1;
  const plan = timelinePlan(rows, durationS, Math.round(Math.max(320, timeline.clientWidth) * unit), unit);
  timeline.width = plan.width;
  timeline.height = plan.height;
  chartPlot = { x: plan.plot.x / unit, width: plan.plot.width / unit };
  const g = timeline.getContext("2d")!;
  g.fillStyle = "#fff";
  g.fillRect(0, 0, plan.width, plan.height);
  for (const r of plan.rects) {
    g.fillStyle = css(r.color);
    const [x, y] = [Math.round(r.x), Math.round(r.y)];
    g.fillRect(x, y, Math.round(r.x + r.w) - x, Math.round(r.y + r.h) - y); // whole pixels: no seams
  }
  g.fillStyle = css(plan.ink);
  g.font = `${1.6 * plan.textPx}px system-ui, sans-serif`;
  g.textBaseline = "top";
  for (const t of plan.texts) g.fillText(t.text, t.x, t.y);
}

/** A line over the timeline at the video's current time (a box over the canvas: no redraw per frame). */
const playhead = document.createElement("div");
playhead.hidden = true;
playhead.style.cssText = "position:absolute;width:2px;background:#111;pointer-events:none";
document.body.append(playhead);

/** Put the playhead at `timeS` of `durationS`, over the chart's bands. */
function movePlayhead(timeS: number, durationS: number) {
  if (timeline.hidden || !(durationS > 0)) return;
  const r = timeline.getBoundingClientRect();
  playhead.hidden = false;
  playhead.style.left = `${r.left + scrollX + chartPlot.x + (chartPlot.width * timeS) / durationS - 1}px`;
  playhead.style.top = `${r.top + scrollY + 24}px`;
  playhead.style.height = `${Math.max(0, r.height - 70)}px`;
}

/** Offer the rows as a CSV download named after the video. */
function offerCsv(rows: TimelineRow[], name: string) {
  csvButton.hidden = false;
  csvButton.onclick = () => {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(
      new Blob([timelineCsv(rows)], { type: "text/csv" }),
    );
    link.download = `${name.replace(/\.[^.]+$/, "")}-mien.csv`;
    link.click();
  };
}

/** "1 face", "3 faces". */
function faceCount(n: number): string {
  return `${n} face${n === 1 ? "" : "s"}`;
}

/** "0:07", "1:02:03": a time in the video. */
function clockTime(s: number): string {
  const t = Math.max(0, Math.floor(s || 0));
  const mm = `${Math.floor((t % 3600) / 60)}`.padStart(t >= 3600 ? 2 : 1, "0");
  return `${t >= 3600 ? `${Math.floor(t / 3600)}:` : ""}${mm}:${`${t % 60}`.padStart(2, "0")}`;
}

/** Wait until the video's first frame can be shown. */
function firstFrame(video: HTMLVideoElement): Promise<unknown> {
  if (video.readyState >= 2) return Promise.resolve();
  return new Promise((resolve, reject) => {
    video.onloadeddata = resolve;
    video.onerror = () => reject(new Error("unplayable"));
    if (video.error) reject(new Error("unplayable"));
  });
}

/**
 * Play a video file in the page and analyse its frames as they show (the video verb: faces followed
 * between detections), drawing boxes, the face cards and the timeline as it plays; CSV at the end. It can
 * be paused, sought (on the bar or by clicking the timeline) and replayed; a seek is a new scene.
 */
async function analyzeVideo(file: File) {
  stopWebcam();
  stopVideo();
  clearResult();
  say(`Loading the model to analyse ${file.name} in this page…`);
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.src = URL.createObjectURL(file);
  playing = video;
  let local: VideoVerb;
  try {
    local = await createWebVideoAnalyzer(ASSETS);
  } catch {
    if (playing === video) {
      stopVideo();
      say(MODEL_UNAVAILABLE, true);
    }
    return;
  }
  if (playing !== video) return local.dispose(); // another file or the webcam came meanwhile
  let pending: Promise<unknown> = Promise.resolve();
  closeVideo = () => {
    pending.finally(() => local.dispose());
    URL.revokeObjectURL(video.src);
  };
  try {
    await firstFrame(video);
  } catch {
    stopVideo();
    say(`This browser cannot play ${file.name}: try an MP4 (H.264) or WebM video.`, true);
    return;
  }
  view.width = video.videoWidth;
  view.height = video.videoHeight;
  let rows: TimelineRow[] = [];
  /** Each face's time followed, for the count of faces (as the command line and the popup count them). */
  let followed = createFollowedTimes();
  let frames = 0;
  let frameS = Infinity;
  let lastMediaTime = Infinity;
  /** A frame's index in the video, from its time (null until the frame rate is known). */
  const frameIndex = (timeS: number) =>
    timeS === 0 ? 0 : frameS < Infinity ? Math.round(timeS / frameS) : null;
  let analysed = 0;
  let busy = false;
  let shown: ViewFace[] = [];
  let lastChart = 0;
  let ended = false;
  /** Draw the frame shown and, unless one is in flight, analyse it (its time in the video: `timeS`). */
  const analyseShown = (timeS: number) => {
    frames++;
    drawVideo(video);
    if (!busy) {
      busy = true;
      const frame = ctx.getImageData(0, 0, view.width, view.height);
      pending = local.analyzeVideoFrame(frame, timeS * 1000).then((result) => {
        if (playing !== video) return;
        analysed++;
        rows.push(...timelineRows(result, timeS, frameIndex(timeS), view));
        followed.add(timeS, result.faces.map((f) => f.number));
        shown = trackedFaces(result.faces);
        paintFrame(video, shown);
        listFaces(faceList, shown);
        if (video.paused) offerLocalMaps(video, local, shown);
        if (performance.now() - lastChart > 500 || video.paused) {
          lastChart = performance.now();
          showTimeline(rows, video.duration);
        }
      }).catch(() => say("Analysis of this frame failed; the video goes on.", true)).finally(() =>
        busy = false
      );
    }
    show(shown);
    showTime();
  };
  const step = (_now: number, meta: { mediaTime: number }) => {
    if (playing !== video) return;
    // The shortest step between frames shown is one frame: the video's frame rate, for frame indices.
    const since = meta.mediaTime - lastMediaTime;
    if (since > 0.004) frameS = Math.min(frameS, since);
    lastMediaTime = meta.mediaTime;
    analyseShown(meta.mediaTime);
    video.requestVideoFrameCallback(step);
  };
  const showTime = () => {
    seekBar.max = String(video.duration || 1);
    if (document.activeElement !== seekBar) seekBar.value = String(video.currentTime);
    clock.textContent = `${clockTime(video.currentTime)} / ${clockTime(video.duration)}`;
    movePlayhead(video.currentTime, video.duration);
  };
  // At the end or on Stop: the rows so far stay, as the timeline and a CSV.
  const finish = (stopped: boolean) => {
    if (playing !== video) return;
    showTimeline(rows, video.duration);
    for (const r of rows) r.frame = frameIndex(r.timeS);
    const faces = faceCountText(followed.count());
    say(
      `${file.name}: ${
        stopped ? "stopped; " : ""
      }video analysed in this page: ${faces} followed. Nothing was uploaded.`,
    );
    status.dataset.analysed = String(analysed);
    status.dataset.frames = String(frames);
    offerCsv(rows, file.name);
    document.body.dataset.videoDone = "1";
    if (stopped) stopVideo();
    else {
      ended = true;
      stopButton.hidden = true;
      playButton.textContent = "Replay";
      showTime();
    }
  };
  /** Go to `timeS`: a new scene for the analyzer (its faces searched for, not followed from before). */
  const seek = (timeS: number) => {
    local.newScene();
    video.currentTime = Math.min(Math.max(0, timeS), video.duration || 0);
  };
  video.onended = () => finish(false);
  video.onseeked = () => {
    // Paused: show the frame sought to, with its faces.
    if (playing === video && video.paused) analyseShown(video.currentTime);
  };
  video.onplay = () => {
    playButton.textContent = "Pause";
    explainView.hidden = true;
  };
  // Paused (or at the end): each face's feature maps are a click away.
  video.onpause = () => {
    if (!ended) playButton.textContent = "Play";
    if (playing === video) offerLocalMaps(video, local, shown);
  };
  playButton.onclick = () => {
    if (ended) {
      // Replay: a fresh pass from the start (new rows, faces searched for anew).
      ended = false;
      rows = [];
      followed = createFollowedTimes();
      frames = analysed = 0;
      delete document.body.dataset.videoDone;
      stopButton.hidden = false;
      local.reset(); // numbers start again from 1 with the new rows
      seek(0);
      video.play();
      say(`Playing ${file.name} again: analysed in this page as it plays; nothing is uploaded.`);
    } else if (video.paused) video.play();
    else video.pause();
  };
  seekBar.oninput = () => seek(Number(seekBar.value));
  timeline.classList.add("seekable");
  timeline.title = "Click to go to that moment of the video";
  timeline.onclick = (event) => {
    if (playing !== video) return;
    const x = event.clientX - timeline.getBoundingClientRect().left - chartPlot.x;
    if (x >= 0 && x <= chartPlot.width) seek((x / chartPlot.width) * video.duration);
  };
  stopButton.onclick = () => finish(true);
  stopButton.hidden = false;
  playButton.textContent = "Pause";
  player.hidden = false;
  say(`Playing ${file.name}: analysed in this page as it plays; nothing is uploaded.`);
  revealResult();
  video.requestVideoFrameCallback(step);
  await video.play();
}

/** The file types the page takes (the API reads these photos; browsers play these videos). */
const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp", "image/bmp"];
const VIDEO_TYPES = ["video/mp4", "video/webm", "video/quicktime"];
const UNREADABLE =
  "Mien can't read this file: choose a JPEG, PNG, WebP or BMP photo, or an MP4 or WebM video.";

/** Whether a file starts as a JPEG, PNG, WebP or BMP image does. */
async function looksLikePhoto(file: File): Promise<boolean> {
  const b = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  const text = (from: number, to: number) => String.fromCharCode(...b.slice(from, to));
  return (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) || text(1, 4) === "PNG" ||
    (text(0, 4) === "RIFF" && text(8, 12) === "WEBP") || text(0, 2) === "BM";
}

/** A photo goes to the API; a video is analysed here; anything else is refused here. */
async function analyzeFile(file: File) {
  if (VIDEO_TYPES.includes(file.type)) return analyzeVideo(file);
  if (PHOTO_TYPES.includes(file.type) && await looksLikePhoto(file)) return analyzeUpload(file);
  stopWebcam();
  stopVideo();
  clearResult();
  say(UNREADABLE, true);
}

/**
 * Photos are sent at most this large (pixels, bytes): the API takes up to 40 megapixels in 8 MB, and a
 * face of 24 px or more in the original is still found at this size.
 */
const UPLOAD_PIXELS = 16_000_000;
const UPLOAD_BYTES = 6_000_000;

/** The photo as sent: the file itself, or a JPEG of it scaled down to UPLOAD_PIXELS when it is larger. */
async function uploadable(file: File, bitmap: ImageBitmap): Promise<{ body: Blob; scaled: boolean }> {
  const pixels = bitmap.width * bitmap.height;
  if (pixels <= UPLOAD_PIXELS && file.size <= UPLOAD_BYTES) return { body: file, scaled: false };
  const scale = Math.min(1, Math.sqrt(UPLOAD_PIXELS / pixels));
  const canvas = new OffscreenCanvas(
    Math.max(1, Math.floor(bitmap.width * scale)),
    Math.max(1, Math.floor(bitmap.height * scale)),
  );
  const g = canvas.getContext("2d")!;
  g.imageSmoothingQuality = "high";
  g.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return { body: await canvas.convertToBlob({ type: "image/jpeg", quality: 0.92 }), scaled: true };
}

/** The request headers the API needs: the photo's type, and the key when one is given. */
function apiHeaders(type: string, accept = "application/json"): Record<string, string> {
  const headers: Record<string, string> = { "content-type": type || "application/octet-stream", accept };
  const key = $<HTMLInputElement>("key").value.trim();
  if (key) headers.authorization = `Bearer ${key}`;
  return headers;
}

/** The model= query parameter of the model chosen under Server settings. */
function modelQuery(): string {
  return `model=${encodeURIComponent($<HTMLSelectElement>("model").value)}`;
}

/** Send a photo to the API (scaled down first when large) and show its faces, each with its feature maps. */
async function analyzeUpload(file: File) {
  stopWebcam();
  stopVideo();
  clearResult();
  say(`Analysing ${file.name}…`);
  // A file this browser cannot decode still goes to the API, which says what is wrong with it.
  const bitmap = await createImageBitmap(file).catch(() => null);
  const { body, scaled } = bitmap ? await uploadable(file, bitmap) : { body: file, scaled: false };
  let response: Response;
  try {
    response = await fetch(`/v1/analyze?maxFaces=50&${modelQuery()}`, {
      method: "POST",
      body,
      headers: apiHeaders(body.type),
    });
  } catch {
    clearResult();
    return say(SERVER_UNREACHABLE, true);
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    clearResult();
    return say(refusal(response.status, answer.error), true);
  }
  // Boxes are in the pixels sent: draw the picture at that size.
  const sent = scaled ? await createImageBitmap(body) : bitmap;
  const faces = numberFaces<ShownFace>(
    answer.faces.map((f: ApiFace) => ({ box: f.box, scores: f.expression.scores })),
  );
  if (sent) {
    view.width = sent.width;
    view.height = sent.height;
    ctx.drawImage(sent, 0, 0);
    show(faces);
  }
  faceList.replaceChildren(...faces.map((face) => {
    const card = faceCard(face);
    card.append(mapsButton(face.number, () => apiExplanation(body, face.number)));
    return card;
  }));
  const size = (w: number, h: number) => `${w.toLocaleString("en-US")}x${h.toLocaleString("en-US")}`;
  const note = scaled && bitmap && sent
    ? ` The photo was scaled down from ${size(bitmap.width, bitmap.height)} to ${
      size(sent.width, sent.height)
    } pixels before sending.`
    : "";
  say(
    (faces.length
      ? `${faceCount(faces.length)} found.`
      : "No face found: faces must be at least 24 px and turned to the camera; try a larger or closer photo.") +
      note,
  );
  revealResult();
}

/** A button on a face's card that shows (or hides) its feature maps, the picture made by `picture`. */
function mapsButton(face: number, picture: () => Promise<Blob | null>): HTMLButtonElement {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Show feature maps";
  button.addEventListener("click", () => toggleExplanation(face, button, picture));
  return button;
}

/** Show (or hide, when shown) one face's feature maps and Grad-CAM; `picture` gives them as a PNG (or null). */
async function toggleExplanation(
  face: number,
  button: HTMLButtonElement,
  picture: () => Promise<Blob | null>,
) {
  const image = $<HTMLImageElement>("explain");
  if (!explainView.hidden && explainView.dataset.face === String(face)) {
    explainView.hidden = true;
    button.textContent = "Show feature maps";
    return;
  }
  faceList.querySelectorAll<HTMLButtonElement>(".mien-card button").forEach((b) =>
    b.textContent = "Show feature maps"
  );
  button.textContent = "Loading feature maps…";
  const png = await picture();
  if (!png) {
    button.textContent = "Show feature maps";
    return;
  }
  URL.revokeObjectURL(image.src);
  image.src = URL.createObjectURL(png);
  image.alt = `Face ${face}: what the model looks at`;
  $("explainTitle").textContent = `Face ${face}: the model's feature maps, block by block, and Grad-CAM`;
  explainView.dataset.face = String(face);
  explainView.hidden = false;
  button.textContent = "Hide feature maps";
  await image.decode().catch(() => {});
  explainView.scrollIntoView({ behavior: "smooth", block: "start" });
}

/** One face's feature maps from the API's /v1/explain (null, said in the status line, when it fails). */
async function apiExplanation(photo: Blob, face: number): Promise<Blob | null> {
  let response: Response;
  try {
    response = await fetch(`/v1/explain?face=${face}&${modelQuery()}`, {
      method: "POST",
      body: photo,
      headers: apiHeaders(photo.type, "image/png"),
    });
  } catch {
    say(SERVER_UNREACHABLE, true);
    return null;
  }
  if (!response.ok) {
    const answer = await response.json().catch(() => ({}));
    say(refusal(response.status, answer.error), true);
    return null;
  }
  return await response.blob();
}

/**
 * Give each card of a paused video's frame its face's feature maps, computed in this page from the frame
 * shown (nothing is uploaded).
 */
function offerLocalMaps(video: HTMLVideoElement, local: VideoVerb, faces: ViewFace[]) {
  const still = new OffscreenCanvas(view.width, view.height);
  const g = still.getContext("2d")!;
  g.drawImage(video, 0, 0, still.width, still.height);
  const frame = g.getImageData(0, 0, still.width, still.height);
  for (const card of faceList.querySelectorAll<HTMLElement>(".mien-card")) {
    const face = faces.find((f) => String(f.number) === card.dataset.face);
    if (!face || card.querySelector("button")) continue;
    card.append(mapsButton(face.number, async () => {
      const input = modelInput(frame, face, local.detector, local.model.info);
      const picture = renderExplanation(await explainFace(local.model, input));
      const canvas = new OffscreenCanvas(picture.width, picture.height);
      canvas.getContext("2d")!.putImageData(
        new ImageData(new Uint8ClampedArray(picture.data), picture.width, picture.height),
        0,
        0,
      );
      return await canvas.convertToBlob({ type: "image/png" });
    }));
  }
}

/** What to tell the user when the API refuses a photo (an unreadable one in plain words). */
function refusal(httpStatus: number, error: { code?: string; message?: string } | undefined): string {
  if (httpStatus === 415 || error?.code === "invalid_image") return UNREADABLE;
  if (httpStatus === 401) return "This server asks for an API key: enter it under Server settings.";
  const message = error?.message ?? `it answered HTTP ${httpStatus}`;
  return `The server refused the photo: ${message}${/[.!?]$/.test(message) ? "" : "."}`;
}

let webcamVerb: ReturnType<typeof createWebVideoAnalyzer> | undefined;
let stream: MediaStream | undefined;
let running = false;

/** Stop the camera (and clear what it showed). */
function stopWebcam() {
  if (running) clearResult();
  running = false;
  stream?.getTracks().forEach((t) => t.stop());
  stream = undefined;
  webcamButton.textContent = "Start webcam";
}

/** Plain words for the browser's camera errors. */
const CAMERA_ERRORS: Record<string, string> = {
  NotFoundError: "No webcam found.",
  NotAllowedError: "Webcam permission was refused: allow it in the address bar.",
  NotReadableError: "The webcam is in use by another app.",
};

const NO_FACE_IN_VIEW = "No face in view: face the webcam, in good light.";

/** "Webcam on: 1 face, 29.8 frames/s analysed in this page; nothing is uploaded." */
function webcamStatus(faces: number, fps: number): string {
  return `Webcam on: ${faceCount(faces)}, ${
    fps.toFixed(1)
  } frames/s analysed in this page; nothing is uploaded.`;
}

/**
 * Open the camera and analyse its frames locally with the video verb (faces followed, labels smoothed),
 * shown mirrored as a mirror shows a face. A model that failed to load is loaded again next time.
 */
async function startWebcam() {
  stopVideo();
  clearResult();
  fileInput.value = "";
  say("Starting the webcam and the model (in this page)…");
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (e) {
    stopWebcam();
    return say(CAMERA_ERRORS[(e as Error).name] ?? "The webcam could not be started.", true);
  }
  let local: Awaited<NonNullable<typeof webcamVerb>>;
  try {
    webcamVerb ??= createWebVideoAnalyzer(ASSETS, { maxFaces: 4 });
    local = await webcamVerb;
  } catch {
    webcamVerb = undefined;
    stopWebcam();
    return say(MODEL_UNAVAILABLE, true);
  }
  local.reset();
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  await video.play();
  view.width = video.videoWidth;
  view.height = video.videoHeight;
  running = true;
  webcamButton.textContent = "Stop webcam";
  // One new camera frame at a time, as fast as the camera gives them (frames shown on the screen's refresh
  // can come 17 ms apart: a 30/s cap would drop one of those).
  const gate = createFrameGate({ maxFps: 60 });
  let shown: ViewFace[] = [];
  let analysed = 0;
  const done: number[] = [];
  const loop = (now: number) => {
    if (!running) return;
    drawVideo(video, true);
    if (gate.tryStart(now)) {
      const frame = ctx.getImageData(0, 0, view.width, view.height);
      local.analyzeVideoFrame(frame, performance.now()).then((result) => {
        if (!running) return;
        shown = trackedFaces(result.faces);
        paintFrame(video, shown, true);
        listFaces(faceList, shown);
        const end = performance.now();
        done.push(end);
        while (end - done[0] > 3000) done.shift();
        const fps = done.length > 1 ? ((done.length - 1) * 1000) / (end - done[0]) : 0;
        say(shown.length ? webcamStatus(shown.length, fps) : NO_FACE_IN_VIEW);
        analysed++;
        document.body.dataset.analysed = String(analysed);
      }).catch(() => say("Analysis of a webcam frame failed; it goes on with the next.", true)).finally(
        () => gate.finish(),
      );
    }
    show(shown);
    nextFrame(loop);
  };
  // One step per new camera frame where the browser can tell (else per display frame).
  const nextFrame = (step: (now: number) => void) =>
    "requestVideoFrameCallback" in video
      ? video.requestVideoFrameCallback(step)
      : requestAnimationFrame(step);
  say(webcamStatus(0, 0));
  revealResult();
  nextFrame(loop);
}

/** Offer the sample photos (when the server has them) as buttons that analyse them like a chosen file. */
function offerSamples() {
  const samples = $("samples");
  for (const [i, name] of SAMPLE_PHOTOS.entries()) {
    const button = document.createElement("button");
    button.type = "button";
    button.title = `Analyse sample photo ${i + 1}`;
    const image = document.createElement("img");
    image.alt = `Sample photo ${i + 1}`;
    image.src = `/static/samples/${name}`;
    image.onload = () => samples.hidden = false;
    image.onerror = () => button.remove();
    button.append(image);
    button.addEventListener("click", async () => {
      fileInput.value = "";
      const response = await fetch(image.src).catch(() => null);
      if (!response?.ok) return say(SERVER_UNREACHABLE, true);
      analyzeFile(new File([await response.blob()], `sample photo ${i + 1}`, { type: "image/jpeg" }));
    });
    samples.append(button);
  }
}

fileInput.addEventListener("change", (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) analyzeFile(file);
});
const drop = $("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const file = e.dataTransfer?.files[0];
  if (file) analyzeFile(file);
});
addEventListener("resize", () => {
  if (charted && !timeline.hidden) showTimeline(...charted);
  if (playing) movePlayhead(playing.currentTime, playing.duration);
});
webcamButton.addEventListener("click", () => (running ? stopWebcam() : startWebcam()));
offerSamples();
