/// <reference lib="dom" />
/**
 * The worker's `GET /` page: a dropped photo goes to /v1/analyze; a video file and the webcam are
 * analysed here, with the shared core on WebAssembly (nothing is uploaded).
 */
import { createFrameGate } from "../../shared/frame_gate.ts";
import { CSV_HEADER, csvRow, timelinePlan, type TimelineRow, timelineRows } from "../../shared/timeline.ts";
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

/** Show a video's current frame with one result's boxes (drawn where that result's cards are listed). */
function paintFrame(video: HTMLVideoElement, faces: ViewFace[]) {
  ctx.drawImage(video, 0, 0, view.width, view.height);
  show(faces);
}

/** Followed faces numbered by their tracker id (as the timeline and CSV are), in number order. */
function trackedFaces(faces: VideoFace[]): ViewFace[] {
  return faces
    .map((f) => ({ number: f.id, box: f.box, scores: f.expression.scores }))
    .sort((a, b) => a.number - b.number);
}

/** Remove the shown picture, cards, timeline and status (a new file, a failure, the webcam). */
function clearResult() {
  view.width = view.height = 0;
  faceList.replaceChildren();
  timeline.hidden = true;
  csvButton.hidden = true;
  delete status.dataset.analysed;
  delete status.dataset.frames;
  say("");
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const view = $<HTMLCanvasElement>("view");
const ctx = view.getContext("2d", { willReadFrequently: true })!;
const status = $("status");
const faceList = $("faces");
const fileInput = $<HTMLInputElement>("file");
const stopButton = $<HTMLButtonElement>("stop");
const webcamButton = $<HTMLButtonElement>("webcam");
const timeline = $<HTMLCanvasElement>("timeline");
const csvButton = $<HTMLButtonElement>("csv");
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

interface ApiFace {
  box: ShownFace["box"];
  expression: { scores: ShownFace["scores"] };
}

let playing: HTMLVideoElement | undefined;

/** Stop a video file being analysed (its timeline and CSV stay). */
function stopVideo() {
  playing?.pause();
  playing = undefined;
  stopButton.hidden = true;
}

/** The rows and duration last charted (redrawn at the new width when the window resizes). */
let charted: [TimelineRow[], number] | undefined;

/** Draw the timeline rows so far across the timeline's width, text at the page's text size. */
function showTimeline(rows: TimelineRow[], durationS: number) {
  charted = [rows, durationS];
  timeline.hidden = false;
  const unit = globalThis.devicePixelRatio || 1;
  const plan = timelinePlan(rows, durationS, Math.round(Math.max(320, timeline.clientWidth) * unit), unit);
  timeline.width = plan.width;
  timeline.height = plan.height;
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

/** Offer the rows as a CSV download named after the video. */
function offerCsv(rows: TimelineRow[], name: string) {
  csvButton.hidden = false;
  csvButton.onclick = () => {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(
      new Blob([[CSV_HEADER, ...rows.map(csvRow)].join("\n") + "\n"], { type: "text/csv" }),
    );
    link.download = `${name.replace(/\.[^.]+$/, "")}-mien.csv`;
    link.click();
  };
}

/** "1 face", "3 faces". */
function faceCount(n: number): string {
  return `${n} face${n === 1 ? "" : "s"}`;
}

/**
 * Play a video file in the page and analyse its frames as they show (the video verb: faces followed
 * between detections), drawing boxes, the face cards and the timeline as it plays; CSV at the end.
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
  try {
    const local = await createWebVideoAnalyzer(ASSETS, { maxFaces: 6 });
    if (video.readyState < 2) {
      await new Promise((resolve, reject) => {
        video.onloadeddata = resolve;
        video.onerror = () => reject(new Error("this browser cannot play the file"));
        if (video.error) reject(new Error("this browser cannot play the file"));
      });
    }
    view.width = video.videoWidth;
    view.height = video.videoHeight;
    const rows: TimelineRow[] = [];
    let frames = 0;
    let analysed = 0;
    let busy = false;
    let shown: ViewFace[] = [];
    let lastChart = 0;
    let pending: Promise<unknown> = Promise.resolve();
    const step = (_now: number, meta: { mediaTime: number }) => {
      if (playing !== video) return;
      frames++;
      ctx.drawImage(video, 0, 0, view.width, view.height);
      if (!busy) {
        busy = true;
        const frame = ctx.getImageData(0, 0, view.width, view.height);
        const timeS = meta.mediaTime;
        pending = local.analyzeVideoFrame(frame, timeS * 1000).then((result) => {
          if (playing !== video) return;
          analysed++;
          rows.push(...timelineRows(result, timeS, frames));
          shown = trackedFaces(result.faces);
          paintFrame(video, shown);
          listFaces(faceList, shown);
          if (performance.now() - lastChart > 500) {
            lastChart = performance.now();
            showTimeline(rows, video.duration);
          }
        }).catch((e) => say(`Analysis failed: ${(e as Error).message}`, true)).finally(() => busy = false);
      }
      show(shown);
      video.requestVideoFrameCallback(step);
    };
    // At the end or on Stop: the rows so far stay, as the timeline and a CSV.
    const finish = (stopped: boolean) => {
      if (playing !== video) return;
      stopVideo();
      showTimeline(rows, video.duration);
      const faces = faceCount(new Set(rows.map((r) => r.face)).size);
      say(
        `${file.name}: ${
          stopped ? "stopped; " : ""
        }video analysed in this page: ${faces} followed. Nothing was uploaded.`,
      );
      status.dataset.analysed = String(analysed);
      status.dataset.frames = String(frames);
      offerCsv(rows, file.name);
      document.body.dataset.videoDone = "1";
      pending.finally(() => local.dispose());
    };
    video.onended = () => finish(false);
    stopButton.onclick = () => finish(true);
    stopButton.hidden = false;
    say(`Playing ${file.name}: analysed in this page as it plays; nothing is uploaded.`);
    video.requestVideoFrameCallback(step);
    await video.play();
  } catch (e) {
    stopVideo();
    say(`Cannot analyse ${file.name}: ${(e as Error).message}`, true);
  }
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

/** Send a photo to the API and show its faces. */
async function analyzeUpload(file: File) {
  stopWebcam();
  stopVideo();
  clearResult();
  say(`Analysing ${file.name}…`);
  const headers: Record<string, string> = { "content-type": file.type || "application/octet-stream" };
  const key = $<HTMLInputElement>("key").value.trim();
  if (key) headers.authorization = `Bearer ${key}`;
  try {
    const [response, bitmap] = await Promise.all([
      fetch("/v1/analyze?maxFaces=10", { method: "POST", body: file, headers }),
      createImageBitmap(file).catch(() => null),
    ]);
    const body = await response.json();
    if (!response.ok) {
      clearResult();
      say(refusal(response.status, body.error), true);
      return;
    }
    const faces = numberFaces<ShownFace>(
      body.faces.map((f: ApiFace) => ({ box: f.box, scores: f.expression.scores })),
    );
    if (bitmap) {
      view.width = bitmap.width;
      view.height = bitmap.height;
      ctx.drawImage(bitmap, 0, 0);
      show(faces);
    }
    listFaces(faceList, faces);
    say(
      faces.length
        ? `${faceCount(faces.length)} found.`
        : "No face found: faces must be at least 24 px and turned to the camera; try a larger or closer photo.",
    );
  } catch (e) {
    clearResult();
    say(`Could not reach the API: ${(e as Error).message}`, true);
  }
}

/** What to tell the user when the API refuses a photo (an unreadable one in plain words). */
function refusal(httpStatus: number, error: { code?: string; message?: string } | undefined): string {
  if (httpStatus === 415 || error?.code === "invalid_image") return UNREADABLE;
  return `The server refused the photo: ${error?.message ?? `HTTP ${httpStatus}`}`;
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
  NotFoundError: "No camera found.",
  NotAllowedError: "Camera permission was refused: allow it in the address bar.",
  NotReadableError: "The camera is in use by another app.",
};

const WEBCAM_ON = "Webcam on: frames are analysed in this page; nothing is uploaded.";
const NO_FACE_IN_VIEW = "No face in view: face the camera, in good light.";

/** Open the camera and analyse its frames locally with the video verb (faces followed, labels smoothed). */
async function startWebcam() {
  stopVideo();
  clearResult();
  fileInput.value = "";
  say("Starting the camera and the model (in this page)…");
  try {
    webcamVerb ??= createWebVideoAnalyzer(ASSETS, { maxFaces: 4 });
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    const local = await webcamVerb;
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
    const loop = (now: number) => {
      if (!running) return;
      ctx.drawImage(video, 0, 0, view.width, view.height);
      if (gate.tryStart(now)) {
        const frame = ctx.getImageData(0, 0, view.width, view.height);
        local.analyzeVideoFrame(frame, performance.now()).then((result) => {
          if (!running) return;
          shown = trackedFaces(result.faces);
          paintFrame(video, shown);
          listFaces(faceList, shown);
          say(shown.length ? WEBCAM_ON : NO_FACE_IN_VIEW);
          analysed++;
          document.body.dataset.analysed = String(analysed);
        }).catch((e) => say(`Analysis failed: ${(e as Error).message}`, true)).finally(() => gate.finish());
      }
      show(shown);
      nextFrame(loop);
    };
    // One step per new camera frame where the browser can tell (else per display frame).
    const nextFrame = (step: (now: number) => void) =>
      "requestVideoFrameCallback" in video
        ? video.requestVideoFrameCallback(step)
        : requestAnimationFrame(step);
    say(WEBCAM_ON);
    nextFrame(loop);
  } catch (e) {
    stopWebcam();
    say(CAMERA_ERRORS[(e as Error).name] ?? `Webcam unavailable: ${(e as Error).message}`, true);
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
});
webcamButton.addEventListener("click", () => (running ? stopWebcam() : startWebcam()));
