import { LABELS } from "../shared/labels.ts";

/** One tracked face's smoothed probabilities at one moment. */
export interface Sample {
  /** Epoch ms. */
  t: number;
  scores: number[];
}

/** What the popup charts: each tracked face's samples over the window. */
export interface SessionFaces {
  windowMs: number;
  faces: { face: number; samples: Sample[] }[];
}

/**
 * Expression mix per tracked face over the last `windowMs`, one sample per face every `everyMs`;
 * memory only (it lives in the tab's analyzer frame and goes away with the tab).
 */
export function createSession({ windowMs = 5 * 60_000, everyMs = 1000 } = {}) {
  const faces = new Map<number, Sample[]>();
  return {
    /** Record the faces seen at `t` (epoch ms), each as (face number, smoothed scores). */
    add(seen: { face: number; scores: number[] }[], t: number) {
      for (const { face, scores } of seen) {
        const samples = faces.get(face) ?? [];
        if (samples.length && t - samples[samples.length - 1].t < everyMs) continue;
        samples.push({ t, scores: scores.map((s) => Math.round(s * 1000) / 1000) });
        faces.set(face, samples);
      }
      for (const [face, samples] of faces) {
        const keep = samples.findIndex((s) => t - s.t <= windowMs);
        if (keep === -1) faces.delete(face);
        else if (keep > 0) samples.splice(0, keep);
      }
    },
    /** Everything kept, for the popup. */
    snapshot(): SessionFaces {
      return { windowMs, faces: [...faces].map(([face, samples]) => ({ face, samples })) };
    },
  };
}

/** The session as CSV: time, face, label, then one column per class. */
export function sessionCsv(session: SessionFaces): string {
  const rows = [["time", "face", "label", ...LABELS].join(",")];
  for (const { face, samples } of session.faces) {
    for (const s of samples) {
      const best = s.scores.indexOf(Math.max(...s.scores));
      rows.push([new Date(s.t).toISOString(), face, LABELS[best], ...s.scores].join(","));
    }
  }
  return rows.join("\n") + "\n";
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
  samples: Sample[],
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
