/// <reference lib="dom" />
/** Webcam page: the camera with live boxes, labels and the analysed frame rate. */
import { createFrameGate } from "../shared/frame_gate.ts";
import { count } from "../shared/labels.ts";
import { drawFaceBoxes, numberFaces } from "../shared/result_view.ts";
import { createEngine } from "./engine.ts";
import { loadSettings } from "./settings.ts";
import { $, ESTIMATE_NOTE } from "./ui.ts";

const video = $<HTMLVideoElement>("video");
const canvas = $<HTMLCanvasElement>("overlay");
const stats = $("stats");
const problem = $("problem");
$("note").textContent = ESTIMATE_NOTE;

const settings = await loadSettings();
// A webcam shows faces near the camera: the short-range detector finds them ~4x faster.
const enginePromise = createEngine(settings, { detector: "blazeface-short" });
let stream: MediaStream;
try {
  stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 } }, audio: false });
} catch (error) {
  problem.textContent = `No camera: ${(error as Error).message}`;
  throw error;
}
video.srcObject = stream;
await video.play();
const engine = await enginePromise;

const gate = createFrameGate({ maxFps: 30 });
// The video verb: faces followed between detections, labels smoothed over 300 ms.
const verb = engine.video({ halfLifeMs: 300, maxFaces: 4 });
const grab = new OffscreenCanvas(1, 1);
const grabCtx = grab.getContext("2d", { willReadFrequently: true })!;
const ctx = canvas.getContext("2d")!;
const done: number[] = [];
let firstLabelMs: number | null = null;
/** A camera frame arrived since the last analysis started. */
let fresh = false;

/** Numbered boxes and tags over the camera picture, in each label's colour. */
function draw(faces: Awaited<ReturnType<typeof verb.analyzeVideoFrame>>["faces"]) {
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const shown = numberFaces(faces.map((f) => ({ box: f.box, scores: f.expression.scores })));
  drawFaceBoxes(ctx, shown, canvas.width / Math.max(1, canvas.getBoundingClientRect().width));
}

async function analyse() {
  const started = performance.now();
  if (!gate.tryStart(started)) return;
  fresh = false;
  try {
    if (grab.width !== video.videoWidth || grab.height !== video.videoHeight) {
      grab.width = video.videoWidth;
      grab.height = video.videoHeight;
    }
    grabCtx.drawImage(video, 0, 0);
    const result = await verb.analyzeVideoFrame(grabCtx.getImageData(0, 0, grab.width, grab.height), started);
    const tracks = result.faces;
    draw(tracks);
    if (tracks.length && firstLabelMs === null) firstLabelMs = Math.round(performance.now());
    const end = performance.now();
    done.push(end);
    while (end - done[0] > 3000) done.shift();
    const fps = done.length > 1 ? ((done.length - 1) * 1000) / (end - done[0]) : 0;
    stats.textContent =
      `${fps.toFixed(1)} frames/s analysed (${verb.last.source}), ${count(tracks.length, "face")}` +
      (firstLabelMs === null ? "" : `, first label ${firstLabelMs} ms after opening`);
    Object.assign(stats.dataset, {
      fps: fps.toFixed(2),
      analysed: String(Number(stats.dataset.analysed ?? 0) + 1),
      faces: String(tracks.length),
      firstLabelMs: String(firstLabelMs ?? ""),
    });
    problem.textContent = verb.last.problem ?? "";
  } catch (error) {
    problem.textContent = (error as Error).message;
  } finally {
    gate.finish();
    if (fresh) setTimeout(analyse, Math.max(0, 1000 / 30 - (performance.now() - started)));
  }
}

// Analyse the newest camera frame as soon as the previous analysis is done (at most 30/s).
function onVideoFrame() {
  fresh = true;
  analyse();
  video.requestVideoFrameCallback(onVideoFrame);
}
video.requestVideoFrameCallback(onVideoFrame);
