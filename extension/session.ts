import type { Box } from "../shared/preprocess.ts";
import { LABELS } from "../shared/labels.ts";
import { argmax } from "../shared/metrics.ts";
import { countFaces, createFollowedTimes, timelineCsv, type TimelineRow } from "../shared/timeline.ts";

/** One face's smoothed probabilities at one moment, and where it was in its video. */
export interface Sample {
  /** Epoch ms. */
  t: number;
  /** Seconds from its video's start, and that frame's index (null where the browser does not tell). */
  timeS: number;
  frame: number | null;
  /** Its box in the video's own pixels. */
  box: Box;
  scores: number[];
}

/** What the popup charts and exports: each face's samples over the window, and its time followed (s). */
export interface SessionFaces {
  windowMs: number;
  faces: { face: number; followedS: number; samples: Sample[] }[];
}

/** One analysed frame of one video: which, its time (s) and number (null: not known). */
export interface AnalysedFrame {
  video: number;
  timeS: number;
  frame: number | null;
}

/** One face seen in an analysed frame: its number in the tab, box (the video's pixels) and smoothed scores. */
export interface Sighting {
  face: number;
  box: Box;
  scores: number[];
}

/**
 * Expression mix per face over the last `windowMs`, one sample per face every `everyMs`; memory only (it lives
 * in the tab's analyzer frame, which keeps a copy in the extension's session storage so that it outlives
 * switching off until the user clears it or closes the tab). `restore` starts from such a copy.
 */
export function createSession(
  { windowMs = 5 * 60_000, everyMs = 1000, restore }: {
    windowMs?: number;
    everyMs?: number;
    restore?: SessionFaces;
  } = {},
) {
  const faces = new Map<number, SessionFaces["faces"][number]>(
    (restore?.faces ?? []).map((f) => [f.face, structuredClone(f)]),
  );
  /** Each video's faces' time followed (its frames, with faces or without, come in order). */
  const followed = new Map<number, ReturnType<typeof createFollowedTimes>>();
  let changed = false;
  return {
    /** Record an analysed frame (with faces or without) and the faces seen in it, at `t` (epoch ms). */
    add({ video, timeS, frame }: AnalysedFrame, seen: Sighting[], t: number) {
      const times = followed.get(video) ?? createFollowedTimes();
      followed.set(video, times);
      times.add(timeS, seen.map((s) => s.face));
      const followedS = times.times();
      for (const { face, box, scores } of seen) {
        const entry = faces.get(face) ?? { face, followedS: 0, samples: [] };
        entry.followedS = followedS.get(face) ?? 0;
        faces.set(face, entry);
        const { samples } = entry;
        if (samples.length && t - samples[samples.length - 1].t < everyMs) continue;
        samples.push({ t, timeS, frame, box, scores: scores.map((s) => Math.round(s * 1000) / 1000) });
        changed = true;
      }
      for (const [face, entry] of faces) {
        const keep = entry.samples.findIndex((s) => t - s.t <= windowMs);
        if (keep === -1) faces.delete(face);
        else if (keep > 0) entry.samples.splice(0, keep);
      }
    },
    /** Everything kept, for the popup. */
    snapshot(): SessionFaces {
      return { windowMs, faces: [...faces.values()] };
    },
    /** Whether samples came since the last call (then a kept copy is due). */
    takeChanged(): boolean {
      const was = changed;
      changed = false;
      return was;
    },
    /** The highest face number held (0: none). */
    lastNumber(): number {
      return Math.max(0, ...faces.keys());
    },
  };
}

/** Where a tab's session is kept (the extension's session storage: memory only) while the tab is off. */
export function keptSessionKey(tabId: number): string {
  return `session:${tabId}`;
}

/** The session's samples as timeline rows, in the order they were taken. */
export function sessionRows(session: SessionFaces): TimelineRow[] {
  return session.faces
    .flatMap(({ face, samples }) => samples.map((s) => ({ face, s })))
    .sort((a, b) => a.s.t - b.s.t || a.face - b.face)
    .map(({ face, s }) => ({
      timeS: s.timeS,
      frame: s.frame,
      face,
      box: s.box,
      label: LABELS[argmax(s.scores)],
      scores: s.scores,
    }));
}

/** The session as CSV, in the one schema of every export (docs/CSV.md). */
export function sessionCsv(session: SessionFaces): string {
  return timelineCsv(sessionRows(session));
}

/** How many faces the session followed for at least a second, and how many more briefly (as every view counts). */
export function sessionCount(session: SessionFaces): { faces: number; brief: number } {
  return countFaces(session.faces.map((f) => f.followedS));
}

/** The time the charts should span: the session so far (at least `minMs`), at most the kept window. */
export function chartSpan(session: SessionFaces, now: number, minMs = 3000): number {
  const first = Math.min(...session.faces.map((f) => f.samples[0]?.t ?? now), now);
  return Math.min(session.windowMs, Math.max(minMs, now - first));
}

/** Mean scores over every sample of every face (null: no samples), for a one-line summary of the mix. */
export function sessionMix(session: SessionFaces): number[] | null {
  const samples = session.faces.flatMap((f) => f.samples);
  if (!samples.length) return null;
  const sum = new Array(LABELS.length).fill(0);
  for (const s of samples) s.scores.forEach((v, i) => (sum[i] += v));
  return sum.map((v) => v / samples.length);
}

/** Mean scores per face over `bins` equal slices of the window ending at `now` (null: no samples). */
export function binMeans(
  samples: Pick<Sample, "t" | "scores">[],
  windowMs: number,
  now: number,
  bins: number,
): (number[] | null)[] {
  const sums: (number[] | null)[] = Array.from({ length: bins }, () => null);
  const counts = new Array(bins).fill(0);
  for (const s of samples) {
    const bin = Math.min(bins - 1, Math.floor(((s.t - (now - windowMs)) / windowMs) * bins));
    if (bin < 0 || bin >= bins) continue;
    sums[bin] = (sums[bin] ?? new Array(LABELS.length).fill(0)).map((v, i) => v + s.scores[i]);
    counts[bin]++;
  }
  return sums.map((sum, i) => sum && sum.map((v) => v / counts[i]));
}
