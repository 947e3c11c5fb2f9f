/// <reference lib="dom" />
/** The worker's `GET /` page: a dropped photo goes to /v1/analyze; the webcam runs the shared core here. */
import { createFrameGate } from "../../shared/frame_gate.ts";
import { scoresRecord } from "../../shared/labels.ts";
import { createTracker } from "../../shared/tracker.ts";
import { createWebAnalyzer } from "../../shared/web_analyzer.ts";
import { drawFaces, listFaces, type ShownFace } from "./draw.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const view = $<HTMLCanvasElement>("view");
const ctx = view.getContext("2d", { willReadFrequently: true })!;
const status = $("status");
const faceList = $("faces");
const fpsLabel = $("fps");
const webcamButton = $<HTMLButtonElement>("webcam");

function say(message: string, isError = false) {
  status.textContent = message;
  status.className = isError ? "error" : "";
}

interface ApiFace {
  box: ShownFace["box"];
  expression: { scores: ShownFace["scores"] };
}

/** Send a photo to the API and show its faces. */
async function analyzeUpload(file: File) {
  stopWebcam();
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
      say(`The server refused the photo: ${body.error?.message ?? response.statusText}`, true);
      return;
    }
    const faces: ShownFace[] = body.faces.map((f: ApiFace) => ({ box: f.box, scores: f.expression.scores }));
    if (bitmap) {
      view.width = bitmap.width;
      view.height = bitmap.height;
      ctx.drawImage(bitmap, 0, 0);
      drawFaces(ctx, faces);
    }
    listFaces(faceList, faces);
    say(
      `${faces.length} face${faces.length === 1 ? "" : "s"} found in ${Math.round(body.timings.totalMs)} ms.`,
    );
  } catch (e) {
    say(`Could not reach the API: ${(e as Error).message}`, true);
  }
}

let analyzer: ReturnType<typeof createWebAnalyzer> | undefined;
let stream: MediaStream | undefined;
let running = false;

function stopWebcam() {
  running = false;
  stream?.getTracks().forEach((t) => t.stop());
  stream = undefined;
  webcamButton.textContent = "Start webcam";
  fpsLabel.textContent = "";
}

/** Open the camera and analyse its frames locally, smoothing labels per tracked face. */
async function startWebcam() {
  say("Starting the camera and the model (local, on WebAssembly)…");
  try {
    analyzer ??= createWebAnalyzer(
      { wasm: "/static/wasm/", model: "/static/models/mien-fer/", blazeface: "/static/models/blazeface/" },
      { maxFaces: 4, detector: "blazeface-short" },
    );
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    const local = await analyzer;
    const video = document.createElement("video");
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    await video.play();
    view.width = video.videoWidth;
    view.height = video.videoHeight;
    running = true;
    webcamButton.textContent = "Stop webcam";
    const tracker = createTracker({ halfLifeMs: 400 });
    const gate = createFrameGate({ maxFps: 30 });
    let shown: ShownFace[] = [];
    const done: number[] = [];
    let analysed = 0;
    const loop = (now: number) => {
      if (!running) return;
      ctx.drawImage(video, 0, 0, view.width, view.height);
      if (gate.tryStart(now)) {
        const frame = ctx.getImageData(0, 0, view.width, view.height);
        local.analyze(frame).then((result) => {
          const tracks = tracker.update(
            result.faces.map((f) => ({ box: f.box, scores: Object.values(f.expression.scores) })),
            performance.now(),
          );
          shown = tracks.map((t) => ({ box: t.box, scores: scoresRecord(t.scores) }));
          listFaces(faceList, shown);
          analysed++;
          document.body.dataset.analysed = String(analysed);
          const t = performance.now();
          done.push(t);
          while (done.length && t - done[0] > 1000) done.shift();
          fpsLabel.textContent = `${done.length} analysed frames/s`;
        }).catch((e) => say(`Analysis failed: ${(e as Error).message}`, true)).finally(() => gate.finish());
      }
      drawFaces(ctx, shown);
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
  if (file) analyzeUpload(file);
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
  if (file) analyzeUpload(file);
});
webcamButton.addEventListener("click", () => (running ? stopWebcam() : startWebcam()));
