/// <reference lib="dom" />
/**
 * Webcam page: the webcam, mirrored as a mirror shows a face, with live numbered boxes, a card per face
 * (bars per class) beside it (below it in a narrow window), the analysed frame rate, a webcam picker and a
 * stop button. Frames are analysed by the video verb as fast as the webcam gives them.
 */
import { createFrameGate } from "../shared/frame_gate.ts";
import { count } from "../shared/labels.ts";
import { drawFaceBoxes, faceCard, useResultStyles } from "../shared/result_view.ts";
import type { Box } from "../shared/preprocess.ts";
import { bundledAssets } from "./browser.ts";
import { createEngine } from "./engine.ts";
import { loadSettings } from "./settings.ts";
import { $, ESTIMATE_NOTE } from "./ui.ts";

const video = $<HTMLVideoElement>("video");
const canvas = $<HTMLCanvasElement>("overlay");
const stats = $("stats");
const problem = $("problem");
const faceList = $("faces");
const toggle = $<HTMLButtonElement>("toggle");
const picker = $<HTMLSelectElement>("camera");
$("note").textContent = ESTIMATE_NOTE;
useResultStyles();

const settings = await loadSettings();
// A webcam shows faces near the camera: the short-range detector finds and follows them.
const engine = await createEngine(settings, bundledAssets(), { detector: "blazeface-short" });
// The video verb: faces followed between detections, labels smoothed over 300 ms.
const verb = engine.video({ halfLifeMs: 300, maxFaces: 4 });
// One new camera frame at a time, as fast as the camera gives them: frames are shown on the screen's
// refresh, so two can come 17 ms apart; a 30/s cap would drop one of those.
const gate = createFrameGate({ maxFps: 60 });
const grab = new OffscreenCanvas(1, 1);
const grabCtx = grab.getContext("2d", { willReadFrequently: true })!;
const ctx = canvas.getContext("2d")!;
const opened = performance.now();
const done: number[] = [];
let firstLabelMs: number | null = null;
let stream: MediaStream | undefined;
/** A camera frame arrived since the last analysis started. */
let fresh = false;

/** Cards are rebuilt at most this often (ms); boxes are drawn for every analysed frame. */
const CARDS_EVERY_MS = 100;
let cardsAt = -Infinity;

/** A box in the mirrored picture. */
function mirrored(box: Box): Box {
  return { ...box, x: video.videoWidth - box.x - box.width };
}

/** Numbered boxes and tags over the (mirrored) webcam picture, and the same numbers on the cards. */
function draw(faces: Awaited<ReturnType<typeof verb.analyzeVideoFrame>>["faces"]) {
  if (canvas.width !== video.videoWidth || canvas.height !== video.videoHeight) {
    [canvas.width, canvas.height] = [video.videoWidth, video.videoHeight];
  } else ctx.clearRect(0, 0, canvas.width, canvas.height);
  // Each face keeps the number the video verb gave it for as long as it is followed.
  const shown = faces.map((f) => ({ number: f.number, box: mirrored(f.box), scores: f.expression.scores }));
  drawFaceBoxes(ctx, shown, canvas.width / Math.max(1, canvas.clientWidth));
  const now = performance.now();
  if (now - cardsAt >= CARDS_EVERY_MS || faceList.childElementCount !== shown.length) {
    faceList.replaceChildren(...shown.map(faceCard));
    cardsAt = now;
  }
}

async function analyse() {
  const started = performance.now();
  if (!stream || !gate.tryStart(started)) return;
  fresh = false;
  try {
    if (grab.width !== video.videoWidth || grab.height !== video.videoHeight) {
      grab.width = video.videoWidth;
      grab.height = video.videoHeight;
    }
    grabCtx.drawImage(video, 0, 0);
    const result = await verb.analyzeVideoFrame(grabCtx.getImageData(0, 0, grab.width, grab.height), started);
    if (!stream) return;
    draw(result.faces);
    if (result.faces.length && firstLabelMs === null) firstLabelMs = Math.round(performance.now() - opened);
    const end = performance.now();
    done.push(end);
    while (end - done[0] > 3000) done.shift();
    const fps = done.length > 1 ? ((done.length - 1) * 1000) / (end - done[0]) : 0;
    const where = verb.last.source === "remote" ? "with your Edge API (face crops only)" : "on this device";
    stats.textContent = `Webcam on: ${count(result.faces.length, "face")}, ${
      fps.toFixed(1)
    } frames/s analysed ${where}.`;
    // Figures for the benchmark and tests, not shown.
    Object.assign(stats.dataset, {
      fps: fps.toFixed(2),
      analysed: String(Number(stats.dataset.analysed ?? 0) + 1),
      faces: String(result.faces.length),
      firstLabelMs: String(firstLabelMs ?? ""),
    });
    problem.textContent = verb.last.problem ?? "";
  } catch (error) {
    problem.textContent = plainError(error);
  } finally {
    gate.finish();
    if (fresh) setTimeout(analyse, Math.max(0, 1000 / 30 - (performance.now() - started)));
  }
}

// Analyse the newest camera frame as soon as the previous analysis is done.
function onVideoFrame() {
  if (!stream) return;
  fresh = true;
  analyse();
  video.requestVideoFrameCallback(onVideoFrame);
}

/** Plain words for the browser's webcam errors (as the GET / page words them). */
const CAMERA_ERRORS: Record<string, string> = {
  NotFoundError: "No webcam found.",
  NotAllowedError: "Webcam permission was refused: allow it in the address bar.",
  NotReadableError: "The webcam is in use by another app.",
};

/** An error as the user reads it: ours as they are, a browser's own inside a sentence. */
function plainError(error: unknown): string {
  const message = (error as Error).message;
  return /^[A-Z]/.test(message) ? message : `Analysis failed: ${message}.`;
}

/** Open the chosen camera (or the default one) and start analysing it. */
async function start(deviceId?: string) {
  stop();
  stats.textContent = "Starting the webcam…";
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) },
      audio: false,
    });
  } catch (error) {
    stats.textContent = "Webcam off.";
    problem.textContent = CAMERA_ERRORS[(error as Error).name] ?? "The webcam could not be started.";
    return;
  }
  problem.textContent = "";
  video.srcObject = stream;
  await video.play();
  verb.reset();
  toggle.textContent = "Stop webcam";
  await listCameras(stream.getVideoTracks()[0]?.getSettings().deviceId);
  video.requestVideoFrameCallback(onVideoFrame);
}

/** Stop the camera and clear the picture, the cards and the status. */
function stop() {
  stream?.getTracks().forEach((t) => t.stop());
  stream = undefined;
  video.srcObject = null;
  canvas.width = canvas.height = 0;
  faceList.replaceChildren();
  stats.textContent = "Webcam off.";
  toggle.textContent = "Start webcam";
}

/** Fill the camera picker (labels are known once the camera may be used). */
async function listCameras(current?: string) {
  const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
  picker.replaceChildren(...cameras.map((camera, i) => {
    const option = document.createElement("option");
    option.value = camera.deviceId;
    option.textContent = camera.label || `Webcam ${i + 1}`;
    option.selected = camera.deviceId === current;
    return option;
  }));
  picker.hidden = cameras.length < 2;
}

toggle.addEventListener("click", () => (stream ? stop() : start(picker.value || undefined)));
picker.addEventListener("change", () => start(picker.value));
await start();
