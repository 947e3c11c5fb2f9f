/**
 * Recorded video → a timeline: every (or every n-th) frame through the video verb, one row per face and
 * frame (CSV or JSON lines, docs/CSV.md), optionally an annotated copy of the video and a chart of each
 * face's expression mix over time, every one with the face numbers the verb gives. Frames are streamed;
 * Ctrl-C stops early and keeps what was written.
 */
import { annotate } from "../shared/annotate.ts";
import {
  createFollowedTimes,
  CSV_HEADER,
  csvRow,
  timelineChart,
  type TimelineRow,
  timelineRows,
} from "../shared/timeline.ts";
import type { ExpressionModel } from "../shared/model.ts";
import type { FaceDetector } from "../shared/detector.ts";
import { createVideoAnalyzer, type VideoFrameResult } from "../shared/video_analyzer.ts";
import { frameTimes, probeVideo, readFrames, scaledSize, videoWriter } from "./ffmpeg.ts";
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

/** When frame `i` shows (s), from the video's frame times (past their end: one frame apart at `fps`). */
function frameTime(times: number[], i: number, fps: number): number {
  if (i < times.length) return times[i];
  return (times.length ? times[times.length - 1] + 1 / fps : 0) + (i - Math.max(1, times.length)) / fps;
}

/** Analyse a video file; returns what was analysed (and whether it was stopped early). */
export async function analyzeVideoFile(job: VideoJob) {
  const info = await probeVideo(job.path);
  const size = scaledSize(info, job.maxSide);
  // Each frame's time as a player shows it (the bundled clip's first frame comes at 0.852 s).
  const times = await frameTimes(job.path);
  const total = Math.max(1, times.length || Math.round(info.durationS * info.fps));
  const video = createVideoAnalyzer({
    model: job.model,
    detector: job.detector,
    regionDetector: job.regionDetector,
    maxFaces: job.maxFaces,
    minFaceSize: job.minFaceSize,
  });
  const encoder = new TextEncoder();
  const writer = job.annotate ? videoWriter(job.annotate, size, info.fps) : undefined;
  const rows: TimelineRow[] = []; // kept only for --chart
  const followed = createFollowedTimes();
  // Rows give boxes in the video's own pixels (clipped to it), whatever size it was analysed at.
  const scale = info.width / size.width;
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
      const timeS = frameTime(times, frames, info.fps);
      if (frames % job.every === 0) {
        last = await video.analyzeVideoFrame(frame, timeS * 1000);
        analysed++;
        const batch = timelineRows(last, timeS, Math.round(timeS * info.fps), info, scale);
        if (job.chart) rows.push(...batch);
        followed.add(timeS, last.faces.map((f) => f.number));
        const text = batch.map((r) => (job.format === "csv" ? csvRow(r) : JSON.stringify(r))).join("\n");
        if (text) await job.out.write(encoder.encode(text + "\n"));
      }
      if (writer) {
        // After Ctrl-C in a terminal the encoder got the signal too and finishes the file on its own.
        await writer.write(annotate(frame, { faces: last?.faces ?? [] }, { cards: false })).catch((error) => {
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
    if (job.chart) await writePng(job.chart, timelineChart(rows, frameTime(times, frames, info.fps)));
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    frames,
    analysed,
    seconds,
    videoSeconds: frameTime(times, frames, info.fps),
    stopped,
    faces: followed.count(),
  };
}
