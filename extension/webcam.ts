/// <reference lib="dom" />
/**
 * Webcam page: the camera with live numbered boxes and a card per face (bars per class), a camera
 * picker and a stop button. Frames are analysed by the video verb as fast as the camera gives them.
 */
import { createFrameGate } from "../shared/frame_gate.ts";
import { count } from "../shared/labels.ts";
import { drawFaceBoxes, faceCard, numberFaces, useResultStyles } from "../shared/result_view.ts";
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

/** Numbered boxes and tags over the camera picture, and the same numbers on the cards. */
function draw(faces: Awaited<ReturnType<typeof verb.analyzeVideoFrame>>["faces"]) {
  if (canvas.width !== video.videoWidth || canvas.height !== video.videoHeight) {
    [canvas.width, canvas.height] = [video.videoWidth, video.videoHeight];
  } else ctx.clearRect(0, 0, canvas.width, canvas.height);
  const shown = numberFaces(faces.map((f) => ({ box: f.box, scores: f.expression.scores })));
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
    stats.textContent = `Camera on: ${count(result.faces.length, "face")}, analysed ${where}.`;
    // Figures for the benchmark and tests, not shown.
    Object.assign(stats.dataset, {
      fps: fps.toFixed(2),
      analysed: String(Number(stats.dataset.analysed ?? 0) + 1),
      faces: String(result.faces.length),
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

// Analyse the newest camera frame as soon as the previous analysis is done.
function onVideoFrame() {
  if (!stream) return;
  fresh = true;
  analyse();
  video.requestVideoFrameCallback(onVideoFrame);
}

/** Open the chosen camera (or the default one) and start analysing it. */
async function start(deviceId?: string) {
  stop();
  stats.textContent = "Starting the camera…";
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) },
      audio: false,
    });
  } catch (error) {
    stats.textContent = "Camera off.";
    problem.textContent = `No camera: ${(error as Error).message}`;
    return;
  }
  problem.textContent = "";
  video.srcObject = stream;
  await video.play();
  verb.reset();
  toggle.textContent = "Stop camera";
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
  stats.textContent = "Camera off.";
  toggle.textContent = "Start camera";
}

/** Fill the camera picker (labels are known once the camera may be used). */
async function listCameras(current?: string) {
  const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
  picker.replaceChildren(...cameras.map((camera, i) => {
    const option = document.createElement("option");
    option.value = camera.deviceId;
    option.textContent = camera.label || `Camera ${i + 1}`;
    option.selected = camera.deviceId === current;
    return option;
  }));
  picker.hidden = cameras.length < 2;
}

toggle.addEventListener("click", () => (stream ? stop() : start(picker.value || undefined)));
picker.addEventListener("change", () => start(picker.value));
await start();
