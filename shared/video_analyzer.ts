/**
 * The video verb: `createVideoAnalyzer(options)` then `analyzeVideoFrame(frame, timeMs)` for each frame,
 * in the spirit of MediaPipe's detectForVideo. Faces are followed, not re-found: each tracked face is
 * re-detected in an enlarged region around its last box with a small detector, and the full detector
 * runs only on a schedule, on scene cuts and when a track is lost (its faces merged with the followed
 * ones, so a face it misses now and then stays). A followed face is re-detected every 50 ms (every other
 * frame at 30 fps) and moved on at its speed in between; it is classified at a set rate (every 100 ms by
 * default, on frames where it was found). Identities and smoothed scores come from the shared tracker.
 */
import { faceCrop } from "./analyzer.ts";
import type { Detection, FaceDetector } from "./detector.ts";
import { type Label, LABELS, scoresRecord } from "./labels.ts";
import { argmax } from "./metrics.ts";
import type { ExpressionModel } from "./model.ts";
import { type Box, faceInput, type Frame } from "./preprocess.ts";
import { boxVelocity, createTracker, iou, moveBox } from "./tracker.ts";

/** A re-detected face must overlap its last box this much (IoU) to continue its track. */
const MIN_FOLLOW_IOU = 0.3;
/** Two followed faces overlapping more than this (IoU) are one face found twice. */
const MAX_TRACK_OVERLAP = 0.5;

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
  /** Re-detect a followed face at most this often, in ms (default 50: every other frame at 30 fps); in
   * between, its box moves on at the speed it had between its last two detections. 0: every frame. */
  followEveryMs?: number;
  /** Side of the search region around a tracked face, as a multiple of its box (default 2.2). */
  regionScale?: number;
  /** Mean absolute change of a 32-px thumbnail (0..255) above which a frame is a scene cut (default 20). */
  cutThreshold?: number;
  /** Classify each face at most this often, in ms (default 100; 0: every frame); boxes move every frame. */
  classifyEveryMs?: number;
  /** Score half-life for the smoothed expression, in ms (default 400). */
  halfLifeMs?: number;
  /** Keep an identity through misses this long, in ms (default 1000). */
  maxMissMs?: number;
  /** Most faces followed (default 10). */
  maxFaces?: number;
  /** Smallest face in frame pixels (default 24). */
  minFaceSize?: number;
  /** The full detector's confidence threshold here (default 0.5, below a photo's 0.6): a borderline face is
   * picked up on a scheduled search and then kept by its region re-detections. */
  minScore?: number;
}

/** One followed face in a video frame. */
export interface VideoFace {
  /** Identity, stable while the face stays in view (and through misses up to maxMissMs). */
  id: number;
  box: Box;
  /** Detector confidence for this frame. */
  score: number;
  /** The latest probabilities (LABELS order), from this frame or one at most classifyEveryMs before. */
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

/** Thumbnail cells per side, and pixels sampled per cell side (a cut changes whole regions, not pixels). */
const THUMB_CELLS = 32;
const THUMB_SAMPLES = 4;

/** A THUMB_CELLS x THUMB_CELLS grey thumbnail from a sparse grid of samples, for cut detection. */
function thumbnail(frame: Frame): Float32Array {
  const channels = frame.channels ?? 4;
  const [g, b] = channels < 3 ? [0, 0] : [1, 2];
  const side = THUMB_CELLS * THUMB_SAMPLES;
  const grey = new Float32Array(THUMB_CELLS * THUMB_CELLS);
  for (let sy = 0; sy < side; sy++) {
    const row = Math.min(frame.height - 1, Math.floor(((sy + 0.5) * frame.height) / side)) * frame.width;
    const cellRow = Math.floor(sy / THUMB_SAMPLES) * THUMB_CELLS;
    for (let sx = 0; sx < side; sx++) {
      const s = (row + Math.min(frame.width - 1, Math.floor(((sx + 0.5) * frame.width) / side))) * channels;
      const d = frame.data;
      grey[cellRow + Math.floor(sx / THUMB_SAMPLES)] += 0.299 * d[s] + 0.587 * d[s + g] + 0.114 * d[s + b];
    }
  }
  for (let i = 0; i < grey.length; i++) grey[i] /= THUMB_SAMPLES * THUMB_SAMPLES;
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

/** A face being followed: where it was last found and its latest classification. */
type Followed = Detection & {
  latest?: { at: number; probs: ArrayLike<number> };
  /** Where a detector last found it, and when (ms); its box moves on from there at `velocity` px/ms. */
  seen?: { box: Box; at: number };
  velocity?: Box;
  /** Its box in this frame was moved on, not found: it waits for a found box to be classified again. */
  moved?: boolean;
};

/** Follow faces through a video: see the module comment. */
export function createVideoAnalyzer(options: VideoAnalyzerOptions) {
  const {
    model,
    detector,
    regionDetector = detector,
    fullEveryMs = 500,
    followEveryMs = 50,
    regionScale = 2.2,
    cutThreshold = 20,
    classifyEveryMs = 100,
    halfLifeMs = 400,
    maxMissMs = 1000,
    maxFaces = 10,
    minFaceSize = 24,
    minScore = 0.5,
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
  let faces: Followed[] = [];
  let lastFull = -Infinity;
  let previous: Float32Array | null = null;

  /**
   * Re-find each tracked face in its region: the hit that overlaps its last box most. `lost` when a face is
   * not found there or two tracks land on one face (kept once).
   */
  const follow = (frame: Frame, timeMs: number): { found: Followed[]; lost: boolean } => {
    const found: Followed[] = [];
    let lost = false;
    for (const face of faces) {
      const { latest, seen, velocity } = face;
      // Found less than followEveryMs ago: moved on at its speed, without the detector.
      if (seen && timeMs >= seen.at && timeMs - seen.at < followEveryMs) {
        found.push({ ...face, box: moveBox(seen.box, velocity, timeMs - seen.at), moved: true });
        continue;
      }
      const box = seen ? moveBox(seen.box, velocity, Math.max(0, timeMs - seen.at)) : face.box;
      const region = searchRegion(box, regionScale);
      const x0 = Math.round(region.x);
      const y0 = Math.round(region.y);
      const hits = regionDetector.detect(cropFrame(frame, region), { maxFaces: 3, minFaceSize })
        .map((hit) => ({ score: hit.score, box: { ...hit.box, x: hit.box.x + x0, y: hit.box.y + y0 } }));
      const best = hits.map((hit) => ({ hit, overlap: iou(hit.box, box) }))
        .sort((a, b) => b.overlap - a.overlap)[0];
      if (
        !best || best.overlap < MIN_FOLLOW_IOU ||
        found.some((o) => iou(o.box, best.hit.box) > MAX_TRACK_OVERLAP)
      ) {
        lost = true;
      } else {
        const hit = best.hit.box;
        const dt = seen ? timeMs - seen.at : 0;
        const measured = seen && dt > 0 && dt <= 4 * followEveryMs
          ? boxVelocity(seen.box, hit, dt)
          : undefined;
        found.push({ ...best.hit, latest, seen: { box: hit, at: timeMs }, velocity: measured });
      }
    }
    return { found, lost };
  };

  /**
   * The full detector's faces merged with the followed ones: a followed face takes the full detector's box
   * where they agree and keeps its own where the detector missed it (a borderline face stays); a full
   * detection is a new face only where it overlaps no followed face (not a second, partial box on one).
   */
  const detectAll = (frame: Frame, followed: Followed[]): Followed[] => {
    const full: Followed[] = detector.detect(frame, { maxFaces, minFaceSize, minScore });
    const used = new Set<Followed>();
    const kept = followed.map((f) => {
      const same = full.find((d) => !used.has(d) && iou(d.box, f.box) >= MAX_TRACK_OVERLAP);
      if (!same) return f;
      used.add(same);
      return { ...same, latest: f.latest, seen: f.seen, velocity: f.velocity };
    });
    const fresh = full.filter((d) =>
      !used.has(d) && followed.every((f) => iou(d.box, f.box) < MIN_FOLLOW_IOU)
    );
    return [...kept, ...fresh].slice(0, maxFaces);
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
        : faces.length === 0 || timeMs - lastFull >= fullEveryMs
        ? "schedule"
        : "tracking";
      const followed = reason === "start" || reason === "cut"
        ? { found: [], lost: false }
        : follow(frame, timeMs);
      if (reason === "tracking" && followed.lost) reason = "lost";
      let detections = followed.found;
      if (reason !== "tracking") {
        if (cut) tracker.reset();
        detections = detectAll(frame, followed.found);
        lastFull = timeMs;
      }
      const detected = performance.now();
      const due = detections.filter(({ latest, moved }) =>
        !latest || (!moved && !(timeMs >= latest.at && timeMs - latest.at < classifyEveryMs))
      );
      const probs = due.length ? await classify(frame, due) : [];
      due.forEach((d, i) => (d.latest = { at: timeMs, probs: probs[i] }));
      const classified = performance.now();
      const tracks = tracker.update(
        detections.map((d) => ({ box: d.box, scores: d.latest!.probs })),
        timeMs,
      );
      faces = detections;
      return {
        faces: tracks.map((t, i) => ({
          id: t.id,
          box: detections[i].box,
          score: detections[i].score,
          raw: Array.from(detections[i].latest!.probs),
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
      faces = [];
      lastFull = -Infinity;
      previous = null;
    },
  };
}
