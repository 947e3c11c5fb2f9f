/**
 * The video verb: `createVideoAnalyzer(options)` then `analyzeVideoFrame(frame, timeMs)` for each frame,
 * in the spirit of MediaPipe's detectForVideo. Faces are followed, not re-found: each tracked face is
 * re-detected in an enlarged region around its last box with a small detector, and the full detector
 * runs only on a schedule, on scene cuts and when a track is lost. Identities and smoothed scores come
 * from the shared tracker.
 */
import { faceCrop } from "./analyzer.ts";
import type { Detection, FaceDetector } from "./detector.ts";
import { type Label, LABELS, scoresRecord } from "./labels.ts";
import { argmax } from "./metrics.ts";
import type { ExpressionModel } from "./model.ts";
import { type Box, faceInput, type Frame, shrinkRgb } from "./preprocess.ts";
import { createTracker } from "./tracker.ts";

/** Options for createVideoAnalyzer. */
export interface VideoAnalyzerOptions {
  /** The expression model (what classifies faces unless `classify` is given). */
  model?: ExpressionModel;
  /** Classify the detected faces of a frame some other way (e.g. on an Edge API); probabilities in LABELS order. */
  classify?: (frame: Frame, detections: Detection[]) => Promise<ArrayLike<number>[]>;
  /** Finds new faces in the whole frame (full-range BlazeFace). */
  detector: FaceDetector;
  /** Re-finds a tracked face in the region around it (short-range BlazeFace); default: `detector`. */
  regionDetector?: FaceDetector;
  /** While following faces, run the full detector at least this often, in ms, to find faces that came in
   * (default 500); with no face to follow it runs on every frame. */
  fullEveryMs?: number;
  /** Side of the search region around a tracked face, as a multiple of its box (default 2.2). */
  regionScale?: number;
  /** Mean absolute change of a 32-px thumbnail (0..255) above which a frame is a scene cut (default 30). */
  cutThreshold?: number;
  /** Score half-life for the smoothed expression, in ms (default 400). */
  halfLifeMs?: number;
  /** Keep an identity through misses this long, in ms (default 1000). */
  maxMissMs?: number;
  /** Most faces followed (default 10). */
  maxFaces?: number;
  /** Smallest face in frame pixels (default 24). */
  minFaceSize?: number;
}

/** One followed face in a video frame. */
export interface VideoFace {
  /** Identity, stable while the face stays in view (and through misses up to maxMissMs). */
  id: number;
  box: Box;
  /** Detector confidence for this frame. */
  score: number;
  /** This frame's probabilities (LABELS order). */
  raw: number[];
  /** Smoothed over time: label and scores. */
  expression: { label: Label; scores: Record<Label, number> };
}

/** What analyzeVideoFrame returns. */
export interface VideoFrameResult {
  faces: VideoFace[];
  timeMs: number;
  /** Whether the full detector ran on this frame, and why. */
  full: boolean;
  reason: "start" | "schedule" | "cut" | "lost" | "tracking";
  timings: { detectMs: number; classifyMs: number; totalMs: number };
}

/** A 32-px-wide grey thumbnail, for cut detection. */
function thumbnail(frame: Frame): Float32Array {
  const small = shrinkRgb(frame, 32);
  const grey = new Float32Array(small.width * small.height);
  for (let i = 0; i < grey.length; i++) {
    grey[i] = 0.299 * small.data[i * 3] + 0.587 * small.data[i * 3 + 1] + 0.114 * small.data[i * 3 + 2];
  }
  return grey;
}

/** A region of a frame copied out as its own RGBA frame (parts outside the frame are black). */
export function cropFrame(frame: Frame, region: Box): Frame {
  const channels = frame.channels ?? 4;
  const x0 = Math.round(region.x);
  const y0 = Math.round(region.y);
  const width = Math.max(1, Math.round(region.width));
  const height = Math.max(1, Math.round(region.height));
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = y0 + y;
    if (sy < 0 || sy >= frame.height) continue;
    for (let x = 0; x < width; x++) {
      const sx = x0 + x;
      if (sx < 0 || sx >= frame.width) continue;
      const s = (sy * frame.width + sx) * channels;
      const o = (y * width + x) * 4;
      const [g, b] = channels < 3 ? [0, 0] : [1, 2];
      data[o] = frame.data[s];
      data[o + 1] = frame.data[s + g];
      data[o + 2] = frame.data[s + b];
      data[o + 3] = 255;
    }
  }
  return { data, width, height, channels: 4 };
}

/** The square search region around a box, `scale` times its larger side, centred on it. */
function searchRegion(box: Box, scale: number): Box {
  const side = Math.max(box.width, box.height) * scale;
  return {
    x: box.x + box.width / 2 - side / 2,
    y: box.y + box.height / 2 - side / 2,
    width: side,
    height: side,
  };
}

/** Follow faces through a video: see the module comment. */
export function createVideoAnalyzer(options: VideoAnalyzerOptions) {
  const {
    model,
    detector,
    regionDetector = detector,
    fullEveryMs = 500,
    regionScale = 2.2,
    cutThreshold = 30,
    halfLifeMs = 400,
    maxMissMs = 1000,
    maxFaces = 10,
    minFaceSize = 24,
  } = options;
  const classify = options.classify ??
    (model
      ? (frame: Frame, detections: Detection[]) =>
        model.classify(
          detections.map((d) => faceInput(frame, model.info.inputSize, faceCrop(d.box, detector.cropMargin))),
        )
      : null);
  if (!classify) throw new TypeError("createVideoAnalyzer needs a model or a classify function");
  const tracker = createTracker({ halfLifeMs, maxAgeMs: maxMissMs });
  let boxes: Box[] = [];
  let lastFull = -Infinity;
  let previous: Float32Array | null = null;

  /** Re-find each tracked face in its region; null when one of them is not found there. */
  const followAll = (frame: Frame): Detection[] | null => {
    const found: Detection[] = [];
    for (const box of boxes) {
      const region = searchRegion(box, regionScale);
      const hits = regionDetector.detect(cropFrame(frame, region), { maxFaces: 1, minFaceSize });
      if (!hits.length) return null;
      const hit = hits[0];
      found.push({
        score: hit.score,
        box: {
          x: hit.box.x + Math.round(region.x),
          y: hit.box.y + Math.round(region.y),
          width: hit.box.width,
          height: hit.box.height,
        },
      });
    }
    return found;
  };

  return {
    /** Analyse the frame shown at `timeMs` (frames in time order; any rate). */
    async analyzeVideoFrame(frame: Frame, timeMs: number): Promise<VideoFrameResult> {
      const start = performance.now();
      const thumb = thumbnail(frame);
      let cut = false;
      if (previous && previous.length === thumb.length) {
        let diff = 0;
        for (let i = 0; i < thumb.length; i++) diff += Math.abs(thumb[i] - previous[i]);
        cut = diff / thumb.length > cutThreshold;
      }
      previous = thumb;
      // With no face to follow, every frame is searched whole (a paused video sends just one).
      let reason: VideoFrameResult["reason"] = lastFull === -Infinity
        ? "start"
        : cut
        ? "cut"
        : boxes.length === 0 || timeMs - lastFull >= fullEveryMs
        ? "schedule"
        : "tracking";
      let detections = reason === "tracking" ? followAll(frame) : null;
      if (detections === null) {
        if (reason === "tracking") reason = "lost";
        if (cut) tracker.reset();
        detections = detector.detect(frame, { maxFaces, minFaceSize });
        lastFull = timeMs;
      }
      const detected = performance.now();
      const probs = detections.length ? await classify(frame, detections) : [];
      const classified = performance.now();
      const tracks = tracker.update(detections.map((d, i) => ({ box: d.box, scores: probs[i] })), timeMs);
      boxes = detections.map((d) => d.box);
      return {
        faces: tracks.map((t, i) => ({
          id: t.id,
          box: detections![i].box,
          score: detections![i].score,
          raw: Array.from(probs[i]),
          expression: { label: LABELS[argmax(t.scores)], scores: scoresRecord(t.scores) },
        })),
        timeMs,
        full: reason !== "tracking",
        reason,
        timings: {
          detectMs: detected - start,
          classifyMs: classified - detected,
          totalMs: classified - start,
        },
      };
    },
    /** Forget every face (a new video). */
    reset() {
      tracker.reset();
      boxes = [];
      lastFull = -Infinity;
      previous = null;
    },
  };
}
