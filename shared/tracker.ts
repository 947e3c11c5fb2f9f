import type { Box } from "./preprocess.ts";

/** A face seen in one frame: its box and class probabilities. */
export interface FaceObservation {
  box: Box;
  scores: ArrayLike<number>;
}

/** A face followed across frames, with probabilities smoothed over time. */
export interface TrackedFace {
  id: number;
  box: Box;
  /** Exponentially smoothed probabilities (half-life in ms). */
  scores: number[];
  /** Frames in which this face was matched. */
  hits: number;
  lastSeen: number;
}

/** Options for createTracker. */
export interface TrackerOptions {
  /** Time for an old observation's weight to halve, in ms (default 500). */
  halfLifeMs?: number;
  /** Minimum box overlap (intersection over union) to continue a track (default 0.3). */
  minIou?: number;
  /** Forget a face not seen for this long, in ms (default 1000). */
  maxAgeMs?: number;
}

/** Intersection over union of two boxes. */
export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/** One-to-one pairs taken from `candidates` in their order (best first): each `a` and each `b` in one pair at most. */
export function matchInOrder<P extends { a: unknown; b: unknown }>(candidates: P[]): P[] {
  const [usedA, usedB] = [new Set<unknown>(), new Set<unknown>()];
  return candidates.filter(({ a, b }) => {
    if (usedA.has(a) || usedB.has(b)) return false;
    usedA.add(a);
    usedB.add(b);
    return true;
  });
}

/** How fast each of a box's x, y, width and height changed from `from` to `to` over `time` (per unit of time). */
export function boxVelocity(from: Box, to: Box, time: number): Box {
  return {
    x: (to.x - from.x) / time,
    y: (to.y - from.y) / time,
    width: (to.width - from.width) / time,
    height: (to.height - from.height) / time,
  };
}

/** A box moved on for `time` at `velocity` (as boxVelocity gives it; none: where it is). */
export function moveBox(box: Box, velocity: Box | undefined, time: number): Box {
  if (!velocity) return box;
  return {
    x: box.x + velocity.x * time,
    y: box.y + velocity.y * time,
    width: box.width + velocity.width * time,
    height: box.height + velocity.height * time,
  };
}

/** How a face moved between two sightings: its box's speed and the time that speed was measured over. */
export interface Motion {
  velocity: Box;
  span: number;
}

/**
 * Where a box seen `elapsed` ago is now: moved on at its motion's speed for at most the motion's span, so it
 * never goes further than the face moved between the two sightings (no motion, or time running backwards:
 * where it was seen).
 */
export function moveOn(box: Box, motion: Motion | undefined, elapsed: number): Box {
  if (!motion || !(elapsed > 0)) return box;
  return moveBox(box, motion.velocity, Math.min(elapsed, motion.span));
}

/**
 * The motion between a face's last sighting `from` and the new one `to`, `span` later, damped where the
 * detector disagreed with where the face was expected (`expected`, the box moved on from `from`): the
 * speed is scaled by 1 − (centre miss in face widths) / `tolerance` (0 at or beyond it), so a detector's
 * jitter or a turn of the head does not fling the box on.
 */
export function dampedMotion(from: Box, to: Box, span: number, expected: Box, tolerance = 0.5): Motion {
  const miss = Math.hypot(
    to.x + to.width / 2 - (expected.x + expected.width / 2),
    to.y + to.height / 2 - (expected.y + expected.height / 2),
  ) / Math.max(1, to.width);
  const keep = Math.max(0, 1 - miss / tolerance);
  const v = boxVelocity(from, to, span);
  return {
    velocity: { x: v.x * keep, y: v.y * keep, width: v.width * keep, height: v.height * keep },
    span,
  };
}

/**
 * Keeps face identities across frames by greedy IoU matching and smooths their scores with a
 * time-based EMA, so labels do not flicker; frames may arrive at any rate (skipped under load).
 */
export function createTracker(options: TrackerOptions = {}) {
  const { halfLifeMs = 500, minIou = 0.3, maxAgeMs = 1000 } = options;
  let tracks: TrackedFace[] = [];
  let nextId = 1;
  return {
    /** Match this frame's faces to tracks (time in ms); returns the tracks seen in this frame, in input order. */
    update(faces: FaceObservation[], timeMs: number): TrackedFace[] {
      tracks = tracks.filter((t) => timeMs - t.lastSeen <= maxAgeMs);
      const pairs = faces.flatMap((face, a) => tracks.map((b) => ({ a, b, overlap: iou(face.box, b.box) })))
        .filter((p) => p.overlap >= minIou)
        .sort((p, q) => q.overlap - p.overlap);
      const matched = new Map(matchInOrder(pairs).map(({ a, b }) => [a, b]));
      return faces.map((face, i) => {
        const track = matched.get(i);
        if (!track) {
          const created: TrackedFace = {
            id: nextId++,
            box: { ...face.box },
            scores: Array.from(face.scores),
            hits: 1,
            lastSeen: timeMs,
          };
          tracks.push(created);
          return created;
        }
        const keep = Math.pow(0.5, Math.max(0, timeMs - track.lastSeen) / halfLifeMs);
        track.scores = track.scores.map((s, j) => keep * s + (1 - keep) * face.scores[j]);
        track.box = { ...face.box };
        track.hits++;
        track.lastSeen = timeMs;
        return track;
      });
    },
    /** Forget every face. */
    reset() {
      tracks = [];
    },
  };
}
