/**
 * Recorded video → a timeline: every (or every n-th) frame through the video verb, one row per face and
 * frame (CSV or JSON lines), optionally an annotated copy of the video and a chart of each face's
 * expression mix over time. Frames are streamed; Ctrl-C stops early and keeps what was written.
 */
import { annotate, LABEL_COLORS } from "../shared/annotate.ts";
import { type Canvas, drawText, fillRect } from "../shared/draw.ts";
import { LABELS } from "../shared/labels.ts";
import type { ExpressionModel } from "../shared/model.ts";
import type { FaceDetector } from "../shared/detector.ts";
import { createVideoAnalyzer, type VideoFrameResult } from "../shared/video_analyzer.ts";
import { probeVideo, readFrames, scaledSize, videoWriter } from "./ffmpeg.ts";
import { createProgress } from "./progress.ts";
import { writePng } from "./run_cli.ts";

/** Options for analyzeVideoFile. */
export interface VideoJob {
  path: string;
  model: ExpressionModel;
  detector: FaceDetector;
  regionDetector: FaceDetector;
  /** Analyse every n-th frame (1 = all). */
  every: number;
  /** Longest side frames are analysed (and annotated) at. */
  maxSide: number;
  format: "csv" | "json";
  /** Where rows go (a file, or stdout). */
  out: WritableStreamDefaultWriter<Uint8Array>;
  annotate?: string;
  chart?: string;
  maxFaces: number;
  minFaceSize: number;
}

/** One face in one analysed frame: what the CSV/JSON rows hold. */
export interface TimelineRow {
  timeS: number;
  frame: number;
  face: number;
  box: { x: number; y: number; width: number; height: number };
  label: string;
  scores: number[];
}

/** The CSV header of the timeline. */
export const CSV_HEADER = `time_s,frame,face,x,y,width,height,label,${LABELS.join(",")}`;

function csvRow(r: TimelineRow): string {
  const b = r.box;
  return [
    r.timeS.toFixed(3),
    r.frame,
    r.face,
    ...[b.x, b.y, b.width, b.height].map((v) => v.toFixed(1)),
    r.label,
    ...r.scores.map((s) => s.toFixed(4)),
  ].join(",");
}

/** Analyse a video file; returns what was analysed (and whether it was stopped early). */
export async function analyzeVideoFile(job: VideoJob) {
  const info = await probeVideo(job.path);
  const size = scaledSize(info, job.maxSide);
  const total = Math.max(1, Math.round(info.durationS * info.fps));
  const video = createVideoAnalyzer({
    model: job.model,
    detector: job.detector,
    regionDetector: job.regionDetector,
    maxFaces: job.maxFaces,
    minFaceSize: job.minFaceSize,
  });
  const encoder = new TextEncoder();
  const writer = job.annotate ? videoWriter(job.annotate, size, info.fps) : undefined;
  const rows: TimelineRow[] = [];
  let stopped = false;
  const onInterrupt = () => {
    if (stopped) Deno.exit(130);
    stopped = true;
    console.error("\nstopping: finishing what was written (Ctrl-C again to quit at once)");
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  if (job.format === "csv") await job.out.write(encoder.encode(CSV_HEADER + "\n"));
  const progress = createProgress(total, `${job.path}: frames`);
  const started = performance.now();
  let frames = 0;
  let analysed = 0;
  let last: VideoFrameResult | undefined;
  try {
    for await (const frame of readFrames(job.path, size)) {
      if (stopped) break;
      const timeS = frames / info.fps;
      if (frames % job.every === 0) {
        last = await video.analyzeVideoFrame(frame, timeS * 1000);
        analysed++;
        const batch = last.faces.map((f) => ({
          timeS,
          frame: frames,
          face: f.id,
          box: f.box,
          label: f.expression.label,
          scores: LABELS.map((l) => f.expression.scores[l]),
        }));
        rows.push(...batch);
        const text = batch.map((r) => (job.format === "csv" ? csvRow(r) : JSON.stringify(r))).join("\n");
        if (text) await job.out.write(encoder.encode(text + "\n"));
      }
      if (writer) {
        // After Ctrl-C in a terminal the encoder got the signal too and finishes the file on its own.
        await writer.write(annotate(frame, { faces: last?.faces ?? [] })).catch((error) => {
          if (!stopped) throw error;
        });
      }
      frames++;
      progress.update(Math.min(frames, total));
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    progress.done();
    if (writer) {
      await writer.close().catch((error) => {
        if (!stopped) throw error;
      });
    }
    if (job.chart) await writePng(job.chart, timelineChart(rows, frames / info.fps));
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    frames,
    analysed,
    seconds,
    videoSeconds: frames / info.fps,
    stopped,
    faces: new Set(rows.map((r) => r.face)).size,
  };
}

/**
 * Each face's expression mix over time: one band per face (the longest-seen first, at most 6), each
 * time bin a stacked column of the smoothed scores in the label colours, with a legend and time axis.
 */
export function timelineChart(rows: TimelineRow[], durationS: number, width = 900): Canvas {
  const byFace = new Map<number, TimelineRow[]>();
  for (const r of rows) byFace.set(r.face, [...(byFace.get(r.face) ?? []), r]);
  const faces = [...byFace.entries()].sort((a, b) => b[1].length - a[1].length).slice(0, 6);
  const band = 70;
  const left = 70;
  const top = 30;
  const plotW = width - left - 20;
  const height = top + Math.max(1, faces.length) * (band + 10) + 40;
  const canvas: Canvas = { data: new Uint8ClampedArray(width * height * 4).fill(255), width, height };
  const ink: [number, number, number] = [30, 30, 30];
  drawText(canvas, "Expression estimates over time (not a reading of inner states)", left, 8, ink, 1);
  const bins = Math.min(plotW, 300);
  const span = Math.max(durationS, 1e-3);
  faces.forEach(([id, samples], k) => {
    const y0 = top + k * (band + 10);
    fillRect(canvas, left, y0, plotW, band, [238, 238, 238]);
    drawText(canvas, `face ${id}`, 8, y0 + band / 2 - 4, ink, 1);
    const sums = Array.from({ length: bins }, () => new Array(LABELS.length).fill(0));
    const counts = new Array(bins).fill(0);
    for (const s of samples) {
      const bin = Math.min(bins - 1, Math.floor((s.timeS / span) * bins));
      s.scores.forEach((p, c) => (sums[bin][c] += p));
      counts[bin]++;
    }
    const colW = plotW / bins;
    sums.forEach((sum, bin) => {
      if (!counts[bin]) return;
      let y = y0 + band;
      sum.forEach((total, c) => {
        const h = (total / counts[bin]) * band;
        fillRect(canvas, left + bin * colW, y - h, Math.ceil(colW), Math.ceil(h), LABEL_COLORS[LABELS[c]]);
        y -= h;
      });
    });
  });
  const axisY = top + Math.max(1, faces.length) * (band + 10);
  for (let i = 0; i <= 4; i++) {
    const x = left + (plotW * i) / 4;
    fillRect(canvas, x, axisY - 6, 1, 6, ink);
    drawText(canvas, `${((span * i) / 4).toFixed(1)}s`, Math.min(width - 40, x), axisY + 2, ink, 1);
  }
  let x = left;
  for (const label of LABELS) {
    fillRect(canvas, x, axisY + 18, 10, 10, LABEL_COLORS[label]);
    drawText(canvas, label, x + 14, axisY + 19, ink, 1);
    x += 20 + label.length * 6 + 14;
  }
  if (!faces.length) drawText(canvas, "no face found", left + 10, top + band / 2, ink, 1);
  return canvas;
}
