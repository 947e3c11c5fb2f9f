/// <reference lib="dom" />
/**
 * The worker's `GET /` page: a dropped photo goes to /v1/analyze; a video file and the webcam are
 * analysed here, with the shared core on WebAssembly (nothing is uploaded).
 */
import { createFrameGate } from "../../shared/frame_gate.ts";
import { CSV_HEADER, csvRow, timelineChart, type TimelineRow, timelineRows } from "../../shared/timeline.ts";
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

/** Draw the numbered faces on the view and list their cards (same numbers, left to right). */
function show(faces: ViewFace[]) {
  drawFaceBoxes(ctx, faces, view.width / Math.max(1, view.getBoundingClientRect().width));
}

function listFaces(list: HTMLElement, faces: ViewFace[]) {
  list.replaceChildren(...faces.map(faceCard));
}

/** Remove the shown picture, cards and timeline (a new upload, a failure, the webcam stopped). */
function clearResult() {
  view.width = view.height = 0;
  faceList.replaceChildren();
  timeline.hidden = true;
  csvButton.hidden = true;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const view = $<HTMLCanvasElement>("view");
const ctx = view.getContext("2d", { willReadFrequently: true })!;
const status = $("status");
const faceList = $("faces");
const fpsLabel = $("fps");
const webcamButton = $<HTMLButtonElement>("webcam");
const timeline = $<HTMLCanvasElement>("timeline");
const csvButton = $<HTMLButtonElement>("csv");
const ASSETS: WebAssets = {
  wasm: "/static/wasm/",
  model: "/static/models/mien-fer/",
  blazeface: "/static/models/blazeface/",
};

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
}

/** Draw the timeline rows so far into the page's timeline canvas. */
function showTimeline(rows: TimelineRow[], durationS: number) {
  const chart = timelineChart(rows, durationS, 940);
  timeline.width = chart.width;
  timeline.height = chart.height;
  timeline.hidden = false;
  const pixels = new ImageData(chart.width, chart.height);
  pixels.data.set(chart.data);
  timeline.getContext("2d")!.putImageData(pixels, 0, 0);
}

/**
 * Play a video file in the page and analyse its frames as they show (the video verb: faces followed
 * between detections), drawing boxes, the face cards and the timeline as it plays; CSV at the end.
 */
async function analyzeVideo(file: File) {
  stopWebcam();
  stopVideo();
  csvButton.hidden = true;
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
    const started = performance.now();
    const step = (_now: number, meta: { mediaTime: number }) => {
      if (playing !== video) return;
      frames++;
      ctx.drawImage(video, 0, 0, view.width, view.height);
      if (!busy) {
        busy = true;
        const frame = ctx.getImageData(0, 0, view.width, view.height);
        const timeS = meta.mediaTime;
        local.analyzeVideoFrame(frame, timeS * 1000).then((result) => {
          analysed++;
          rows.push(...timelineRows(result, timeS, frames));
          shown = numberFaces(result.faces.map((f) => ({ box: f.box, scores: f.expression.scores })));
          listFaces(faceList, shown);
          document.body.dataset.videoAnalysed = String(analysed);
          if (performance.now() - lastChart > 500) {
            lastChart = performance.now();
            showTimeline(rows, video.duration);
          }
        }).catch((e) => say(`Analysis failed: ${(e as Error).message}`, true)).finally(() => busy = false);
      }
      show(shown);
      video.requestVideoFrameCallback(step);
    };
    video.onended = () => {
      if (playing !== video) return;
      playing = undefined;
      showTimeline(rows, video.duration);
      const seconds = (performance.now() - started) / 1000;
      const faces = new Set(rows.map((r) => r.face)).size;
      say(
        `${file.name}: ${analysed} of ${frames} shown frames analysed in this page ` +
          `(${video.duration.toFixed(1)} s of video in ${seconds.toFixed(1)} s); ${faces} face${
            faces === 1 ? "" : "s"
          } ` +
          `followed. Nothing was uploaded.`,
      );
      csvButton.hidden = false;
      csvButton.onclick = () => {
        const link = document.createElement("a");
        link.href = URL.createObjectURL(
          new Blob([[CSV_HEADER, ...rows.map(csvRow)].join("\n") + "\n"], { type: "text/csv" }),
        );
        link.download = `${file.name.replace(/\.[^.]+$/, "")}-mien.csv`;
        link.click();
      };
      document.body.dataset.videoDone = "1";
      local.dispose();
    };
    say(`Playing ${file.name}: frames are analysed in this page as it plays; nothing is uploaded.`);
    video.requestVideoFrameCallback(step);
    await video.play();
  } catch (e) {
    stopVideo();
    say(`Cannot analyse ${file.name}: ${(e as Error).message}`, true);
  }
}

/** A photo goes to the API; a video is analysed here. */
function analyzeFile(file: File) {
  if (file.type.startsWith("video/")) analyzeVideo(file);
  else analyzeUpload(file);
}

/** Send a photo to the API and show its faces. */
async function analyzeUpload(file: File) {
  stopWebcam();
  stopVideo();
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
      say(`The server refused the photo: ${body.error?.message ?? response.statusText}`, true);
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
        ? `${faces.length} face${faces.length === 1 ? "" : "s"} found in ${
          Math.round(body.timings.totalMs)
        } ms.`
        : "No face found: faces must be at least 24 px and turned to the camera; try a larger or closer photo.",
    );
  } catch (e) {
    clearResult();
    say(`Could not reach the API: ${(e as Error).message}`, true);
  }
}

let webcamVerb: ReturnType<typeof createWebVideoAnalyzer> | undefined;
let stream: MediaStream | undefined;
let running = false;

function stopWebcam() {
  if (running) {
    clearResult();
    say("");
  }
  running = false;
  stream?.getTracks().forEach((t) => t.stop());
  stream = undefined;
  webcamButton.textContent = "Start webcam";
  fpsLabel.textContent = "";
}

/** Open the camera and analyse its frames locally with the video verb (faces followed, labels smoothed). */
async function startWebcam() {
  stopVideo();
  say("Starting the camera and the model (local, on WebAssembly)…");
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
    const gate = createFrameGate({ maxFps: 30 });
    let shown: ViewFace[] = [];
    const done: number[] = [];
    let analysed = 0;
    const loop = (now: number) => {
      if (!running) return;
      ctx.drawImage(video, 0, 0, view.width, view.height);
      if (gate.tryStart(now)) {
        const frame = ctx.getImageData(0, 0, view.width, view.height);
        local.analyzeVideoFrame(frame, performance.now()).then((result) => {
          shown = numberFaces(result.faces.map((f) => ({ box: f.box, scores: f.expression.scores })));
          listFaces(faceList, shown);
          analysed++;
          document.body.dataset.analysed = String(analysed);
          const t = performance.now();
          done.push(t);
          while (done.length && t - done[0] > 1000) done.shift();
          fpsLabel.textContent = `${done.length} analysed frames/s`;
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
    say("Webcam on: frames are analysed in this page; nothing is uploaded.");
    nextFrame(loop);
  } catch (e) {
    stopWebcam();
    say(`Webcam unavailable: ${(e as Error).message}`, true);
  }
}

$<HTMLInputElement>("file").addEventListener("change", (e) => {
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
webcamButton.addEventListener("click", () => (running ? stopWebcam() : startWebcam()));
