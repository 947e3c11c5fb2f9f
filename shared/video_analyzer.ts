/**
 * The video verb: `createVideoAnalyzer(options)` then `analyzeVideoFrame(frame, timeMs)` for each frame,
 * in the spirit of MediaPipe's detectForVideo. Faces are followed, not re-found: each tracked face is
 * re-detected in an enlarged region around its last box with a small detector, and the full detector
 * runs only on a schedule, on scene cuts and when a track is lost (its faces merged with the followed
 * ones, so a face it misses now and then stays). A followed face is re-detected every 50 ms (every other
 * frame at 30 fps) and moved on in between at the speed it had between its last two detections, never
 * further than it moved then, and slower when the detector disagreed with where it was expected; a face
 * its region re-detection misses twice in a row is dropped, and a scene cut clears every face at once.
 * Region boxes are calibrated to the full detector's per face, so a face has one box in every view. A face
 * is classified at a set rate (every 100 ms by default, on frames where it was found); smoothed scores
 * come from the shared tracker, and each face's number (1, 2, 3 … per video) from face_numbers.ts.
 */
import { modelInput } from "./align.ts";
import type { Detection, FaceDetector } from "./detector.ts";
import { type Label, LABELS, scoresRecord } from "./labels.ts";
import { argmax } from "./metrics.ts";
import type { ExpressionModel } from "./model.ts";
import type { Box, Frame } from "./preprocess.ts";
import { createFaceNumbers, type FaceNumberOptions } from "./face_numbers.ts";
import { createTracker, dampedMotion, iou, matchInOrder, type Motion, moveOn } from "./tracker.ts";

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
  /** Mean absolute change of a 32-px thumbnail (0..255) above which a frame is a scene cut (default 20), if
   * its brightness histogram changed too (see isCut). */
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
  /** When a new face gets its number, and how long one that left keeps it (see shared/face_numbers.ts). */
  numbers?: FaceNumberOptions;
}

/** One followed face in a video frame. */
export interface VideoFace {
  /** The face's number in this video: 1, 2, 3 … in order of first appearance, kept while it is followed and
   * when it comes back near where it left within a few seconds (see shared/face_numbers.ts). */
  number: number;
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

/** Share of a thumbnail's histogram that must move for a change to be a cut (motion moves pixels, not tones). */
const CUT_HISTOGRAM = 0.16;

/** A thumbnail's brightness histogram, 16 bins, as shares. */
function histogram(thumb: Float32Array): Float32Array {
  const bins = new Float32Array(16);
  for (const v of thumb) bins[Math.min(15, Math.floor(v / 16))] += 1 / thumb.length;
  return bins;
}

/**
 * Whether the frame whose thumbnail is `now` cuts to a new scene from the one before: its thumbnail changed
 * by more than `threshold` on average and its histogram by more than CUT_HISTOGRAM (fast motion seen a few
 * frames apart changes the first, not the second).
 */
function isCut(before: Float32Array, now: Float32Array, threshold: number): boolean {
  let diff = 0;
  for (let i = 0; i < now.length; i++) diff += Math.abs(now[i] - before[i]);
  if (diff / now.length <= threshold) return false;
  const [a, b] = [histogram(before), histogram(now)];
  let moved = 0;
  for (let i = 0; i < a.length; i++) moved += Math.abs(a[i] - b[i]) / 2;
  return moved > CUT_HISTOGRAM;
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

/**
 * How the region detector's box of a face maps onto the full detector's box of it: centre shift as a
 * share of the region box's side, and scale of each side. Learnt per face where both found it on one frame,
 * so that a followed face's box is cut as a photo's is (one box for a face, in every view).
 */
interface Calibration {
  dx: number;
  dy: number;
  sw: number;
  sh: number;
}

/** The region detector's box carried over to the full detector's convention. */
function calibrate(box: Box, c: Calibration | undefined): Box {
  if (!c) return box;
  const width = box.width * c.sw;
  const height = box.height * c.sh;
  const cx = box.x + box.width * (0.5 + c.dx);
  const cy = box.y + box.height * (0.5 + c.dy);
  return { x: cx - width / 2, y: cy - height / 2, width, height };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The calibration taking `region` onto `full` (bounded), averaged half and half with the face's last one. */
function learnCalibration(region: Box, full: Box, before: Calibration | undefined): Calibration {
  const sample: Calibration = {
    dx: clamp((full.x + full.width / 2 - region.x - region.width / 2) / region.width, -0.3, 0.3),
    dy: clamp((full.y + full.height / 2 - region.y - region.height / 2) / region.height, -0.3, 0.3),
    sw: clamp(full.width / region.width, 0.6, 1.6),
    sh: clamp(full.height / region.height, 0.6, 1.6),
  };
  if (!before) return sample;
  return {
    dx: (before.dx + sample.dx) / 2,
    dy: (before.dy + sample.dy) / 2,
    sw: (before.sw + sample.sw) / 2,
    sh: (before.sh + sample.sh) / 2,
  };
}

/** Whether `point` lies inside `box`. */
const inside = (x: number, y: number, box: Box) =>
  x >= box.x && x <= box.x + box.width && y >= box.y && y <= box.y + box.height;

/**
 * Whether two boxes are one face: they overlap enough, or each one's centre lies inside the other (a face
 * the detector frames differently from one look to the next, as it does a face in profile).
 */
function sameFace(a: Box, b: Box): boolean {
  return iou(a, b) >= MIN_FOLLOW_IOU ||
    (inside(a.x + a.width / 2, a.y + a.height / 2, b) && inside(b.x + b.width / 2, b.y + b.height / 2, a));
}

/**
 * Whether `a` lies near `b` at about its size (centres at most one face width apart, sides within a factor
 * of 0.6): where a face held after a missed re-detection may have gone.
 */
function near(a: Box, b: Box): boolean {
  const ratio = a.width / b.width;
  const distance = Math.hypot(a.x + a.width / 2 - b.x - b.width / 2, a.y + a.height / 2 - b.y - b.height / 2);
  return ratio >= 0.6 && ratio <= 1 / 0.6 && distance <= Math.max(a.width, b.width);
}

/** A face being followed: where it was last found and its latest classification. */
type Followed = Detection & {
  latest?: { at: number; probs: ArrayLike<number> };
  /** Where a detector last found it, and when (ms); its box moves on from there (see moveOn). */
  seen?: { box: Box; at: number };
  motion?: Motion;
  /** Its box in this frame was moved on (or held), not found: it waits for a found box to be classified. */
  moved?: boolean;
  /** Region re-detections failed in a row (at the second it is dropped, not left to drift). */
  misses?: number;
  /** The region detector's own box for it in this frame, where it ran. */
  regionBox?: Box;
  /** The full detector's confidence for it in this frame, where it ran and found it. */
  fullScore?: number;
  calibration?: Calibration;
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
          detections.map((d) => modelInput(frame, d, detector, model.info)),
        )
      : null);
  if (!classify) throw new TypeError("createVideoAnalyzer needs a model or a classify function");
  const tracker = createTracker({ halfLifeMs, maxAgeMs: maxMissMs });
  const numbers = createFaceNumbers(options.numbers);
  let faces: Followed[] = [];
  let lastFull = -Infinity;
  let previous: Float32Array | null = null;
  let sceneBreak = false;

  /** The region detector's hits in the search region around `box`, in frame pixels. */
  const regionHits = (frame: Frame, box: Box): Detection[] => {
    const region = searchRegion(box, regionScale);
    const x0 = Math.round(region.x);
    const y0 = Math.round(region.y);
    return regionDetector.detect(cropFrame(frame, region), { maxFaces: 3, minFaceSize })
      .map((hit) => ({ score: hit.score, box: { ...hit.box, x: hit.box.x + x0, y: hit.box.y + y0 } }));
  };

  /**
   * Re-find each followed face in its region: the hit that overlaps where it was expected most, its box
   * calibrated. A face not due (found less than followEveryMs ago) moves on; a face not found is held where
   * it was last found once, and dropped the second time. `lost` when a face was not found or two faces
   * landed on one (kept once). `all`: re-detect every face (a frame the full detector also searches).
   */
  const follow = (frame: Frame, timeMs: number, all: boolean): { found: Followed[]; lost: boolean } => {
    const found: Followed[] = [];
    let lost = false;
    for (const face of faces) {
      const { seen, motion, calibration } = face;
      const elapsed = seen ? timeMs - seen.at : 0;
      const expected = seen ? moveOn(seen.box, motion, elapsed) : face.box;
      if (!all && seen && elapsed >= 0 && elapsed < followEveryMs) {
        found.push({ ...face, box: expected, moved: true, regionBox: undefined, fullScore: undefined });
        continue;
      }
      const best = regionHits(frame, expected)
        .map((hit) => ({ hit, box: calibrate(hit.box, calibration) }))
        .map((c) => ({ ...c, overlap: iou(c.box, expected) }))
        .sort((a, b) => b.overlap - a.overlap)[0];
      if (
        !best || best.overlap < MIN_FOLLOW_IOU ||
        found.some((o) => !o.moved && iou(o.box, best.box) > MAX_TRACK_OVERLAP)
      ) {
        lost = true;
        const misses = (face.misses ?? 0) + 1;
        // Held where it was last found (not moved on), for one more try.
        if (misses < 2 && seen) {
          found.push({
            ...face,
            box: seen.box,
            motion: undefined,
            moved: true,
            misses,
            regionBox: undefined,
            fullScore: undefined,
          });
        }
        continue;
      }
      const span = seen ? timeMs - seen.at : 0;
      found.push({
        ...face,
        score: best.hit.score,
        box: best.box,
        regionBox: best.hit.box,
        seen: { box: best.box, at: timeMs },
        motion: seen && span > 0 && span <= 4 * followEveryMs
          ? dampedMotion(seen.box, best.box, span, expected)
          : undefined,
        moved: false,
        misses: 0,
        fullScore: undefined,
      });
    }
    return { found, lost };
  };

  /**
   * The full detector's faces merged with the followed ones: a followed face takes the full detector's box
   * where they are the same face (sameFace; best overlap first, one each; the calibration of its region box
   * learnt from the pair; a face held after a missed re-detection also takes a detection near it) and keeps
   * its own where the detector missed it (a borderline face stays); a full detection is a new face only where
   * it is no followed face (not a second box on one).
   */
  const detectAll = (frame: Frame, followed: Followed[], timeMs: number): Followed[] => {
    const full: Detection[] = detector.detect(frame, { maxFaces, minFaceSize, minScore });
    const pairs = followed.flatMap((a) => full.map((b) => ({ a, b, overlap: iou(b.box, a.box) })))
      .filter(({ a, b }) => sameFace(b.box, a.box) || (a.misses && near(b.box, a.box)))
      .sort((p, q) => q.overlap - p.overlap);
    const match = new Map(matchInOrder(pairs).map(({ a, b }) => [a, b]));
    const used = new Set(match.values());
    const kept = followed.map((f): Followed => {
      const d = match.get(f);
      if (!d) return f;
      const regionBox = f.regionBox ?? regionHits(frame, d.box)
        .sort((a, b) => iou(b.box, d.box) - iou(a.box, d.box))
        .find((hit) => iou(hit.box, d.box) >= MIN_FOLLOW_IOU)?.box;
      const motion = f.seen && timeMs > f.seen.at && timeMs - f.seen.at <= 4 * followEveryMs
        ? dampedMotion(
          f.seen.box,
          d.box,
          timeMs - f.seen.at,
          moveOn(f.seen.box, f.motion, timeMs - f.seen.at),
        )
        : f.motion;
      return {
        ...f,
        ...d,
        seen: { box: d.box, at: timeMs },
        motion,
        moved: false,
        misses: 0,
        fullScore: d.score,
        calibration: regionBox ? learnCalibration(regionBox, d.box, f.calibration) : f.calibration,
      };
    });
    const fresh = full.filter((d) => !used.has(d) && !followed.some((f) => sameFace(d.box, f.box)))
      .map((d): Followed => {
        const hit = regionHits(frame, d.box)
          .sort((a, b) => iou(b.box, d.box) - iou(a.box, d.box))
          .find((h) => iou(h.box, d.box) >= MIN_FOLLOW_IOU);
        return {
          ...d,
          seen: { box: d.box, at: timeMs },
          fullScore: d.score,
          calibration: hit && learnCalibration(hit.box, d.box, undefined),
        };
      });
    return [...kept, ...fresh].slice(0, maxFaces);
  };

  return {
    /** Analyse the frame shown at `timeMs` (frames in time order; any rate). */
    async analyzeVideoFrame(frame: Frame, timeMs: number): Promise<VideoFrameResult> {
      const start = performance.now();
      const thumb = thumbnail(frame);
      const changed = previous !== null && previous.length === thumb.length &&
        isCut(previous, thumb, cutThreshold);
      const cut = previous !== null && (sceneBreak || changed);
      previous = thumb;
      sceneBreak = false;
      // With no face to follow, every frame is searched whole (a paused video sends just one).
      let reason: VideoFrameResult["reason"] = lastFull === -Infinity
        ? "start"
        : cut
        ? "cut"
        : faces.length === 0 || timeMs - lastFull >= fullEveryMs
        ? "schedule"
        : "tracking";
      // A cut clears every box at once: the new scene's faces are searched for, not followed.
      const followed = reason === "start" || reason === "cut"
        ? { found: [], lost: false }
        : follow(frame, timeMs, reason === "schedule");
      if (reason === "tracking" && followed.lost) reason = "lost";
      let detections = followed.found;
      if (reason !== "tracking") {
        if (cut) {
          tracker.reset();
          // After a seek to a picture like the one before, a face found near where one was keeps its number.
          if (changed) numbers.cut();
          else numbers.jump();
        }
        detections = detectAll(frame, followed.found, timeMs);
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
      const numbered = numbers.assign(
        tracks.map((t, i) => ({
          track: t.id,
          box: detections[i].box,
          fullScore: detections[i].fullScore,
          found: !detections[i].moved,
        })),
        timeMs,
        reason === "start" || reason === "cut",
      );
      faces = detections;
      const shown = tracks.flatMap((t, i) => {
        const number = numbered[i];
        if (number === undefined) return [];
        return [{
          number,
          box: detections[i].box,
          score: detections[i].score,
          raw: Array.from(detections[i].latest!.probs),
          expression: { label: LABELS[argmax(t.scores)], scores: scoresRecord(t.scores) },
        }];
      });
      return {
        faces: shown.sort((a, b) => a.number - b.number),
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
    /**
     * The next frame starts a new scene (a seek or a loop): its faces are searched for, not followed; numbers
     * go on, and a face found near where one just was keeps its number unless the picture changed like a cut.
     */
    newScene() {
      sceneBreak = true;
    },
    /** Forget every face, numbers included (a new video). */
    reset() {
      tracker.reset();
      numbers.reset();
      faces = [];
      lastFull = -Infinity;
      previous = null;
      sceneBreak = false;
    },
  };
}
