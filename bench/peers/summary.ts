/** Medians, spreads and Mien's ratios to each peer from the peer benchmark's raw runs, and its Markdown table. */

// deno-lint-ignore no-explicit-any
type Raw = Record<string, any>;

/** A median with its spread: p10–p90 for pooled samples, min–max for one figure per process. */
export interface Stat {
  median: number;
  low: number;
  high: number;
  n: number;
}

/** Median and the [q, 1-q] quantiles (nearest rank) of samples; q = 0 gives min–max. */
export function stat(xs: number[], q = 0.1): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
  const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: mid, low: at(q), high: at(1 - q), n: s.length };
}

const PEERS = ["face-api", "human"] as const;

/** Per-entrant figures and Mien's ratios (peer ÷ Mien for costs, points ahead for accuracy). */
export function summarise(accuracy: Raw[], models: Raw[], pipelines: Raw[]) {
  const byPeer = (rows: Raw[]) => Object.groupBy(rows, (r) => r.peer as string) as Record<string, Raw[]>;
  const acc = Object.fromEntries(accuracy.map((a) => [a.peer, a]));
  const model = Object.fromEntries(
    Object.entries(byPeer(models)).map(([peer, rs]) => [peer, {
      library: rs[0].library,
      bytes: rs[0].bytes,
      coldLoadMs: stat(rs.map((r) => r.coldLoadMs), 0),
      batch1MsPerFace: stat(rs.flatMap((r) => r.batch1)),
      batch32MsPerFace: stat(rs.flatMap((r) => r.batch32)),
    }]),
  );
  const pipeline = Object.fromEntries(
    Object.entries(byPeer(pipelines)).map(([peer, rs]) => [peer, {
      library: rs[0].library,
      bytes: rs[0].bytes,
      coldLoadMs: stat(rs.map((r) => r.coldLoadMs), 0),
      peakRssBytes: stat(rs.map((r) => r.peakRssBytes), 0),
      frames: Object.fromEntries(
        Object.keys(rs[0].perFrame).map((name) => [name, {
          ms: stat(rs.flatMap((r) => r.perFrame[name].ms)),
          faces: rs[0].perFrame[name].faces,
          expected: rs[0].perFrame[name].expected,
        }]),
      ),
      facesFound: rs[0].facesFound,
    }]),
  );
  const ratio = (peer: number | undefined, mien: number | undefined) =>
    peer === undefined || mien === undefined ? undefined : +(peer / mien).toFixed(3);
  const points = (mien: number | undefined, peer: number | undefined) =>
    peer === undefined || mien === undefined ? undefined : +(100 * (mien - peer)).toFixed(4);
  /** Mien entrant `own` against each peer. */
  const against = (own: string) =>
    Object.fromEntries(PEERS.map((p) => {
      const [m, q, mp, qp] = [model[own], model[p], pipeline[own], pipeline[p]];
      return [p, {
        accuracyPoints: points(acc[own]?.accuracy, acc[p]?.accuracy),
        meanRecallPoints: points(acc[own]?.meanRecall, acc[p]?.meanRecall),
        macroF1Points: points(acc[own]?.macroF1, acc[p]?.macroF1),
        fer2013AccuracyPoints: points(acc[own]?.fer2013Original?.accuracy, acc[p]?.fer2013Original?.accuracy),
        fasterBatch1: ratio(q?.batch1MsPerFace.median, m?.batch1MsPerFace.median),
        fasterBatch32: ratio(q?.batch32MsPerFace.median, m?.batch32MsPerFace.median),
        smallerModel: ratio(q?.bytes, m?.bytes),
        fasterColdLoad: ratio(q?.coldLoadMs.median, m?.coldLoadMs.median),
        fasterFrame: Object.fromEntries(
          Object.keys(mp?.frames ?? {}).map((
            f,
          ) => [f, ratio(qp?.frames[f].ms.median, mp.frames[f].ms.median)]),
        ),
        lessPeakRss: ratio(qp?.peakRssBytes.median, mp?.peakRssBytes.median),
        smallerPipelineModels: ratio(qp?.bytes, mp?.bytes),
      }];
    }));
  return { accuracy: acc, model, pipeline, ratios: against("mien"), largeRatios: against("mien-large") };
}

const pct = (v: number | undefined) => (v === undefined ? "–" : `${(100 * v).toFixed(2)}%`);
const ms = (s: Stat | undefined, digits = 2) =>
  s ? `${s.median.toFixed(digits)} (${s.low.toFixed(digits)}–${s.high.toFixed(digits)})` : "–";
/** A peer ÷ Mien cost ratio in words: "3.10x faster" when Mien is ahead, "1.03x slower" when not. */
const x = (r: number | undefined, ahead: string, behind: string) =>
  r === undefined ? "–" : r >= 1 ? `${r.toFixed(2)}x ${ahead}` : `${(1 / r).toFixed(2)}x ${behind}`;
const pts = (p: number | undefined) => (p === undefined ? "–" : `${p > 0 ? "+" : ""}${p.toFixed(1)} pts`);
const kb = (
  b: number | undefined,
) => (b === undefined ? "–" : `${Math.round(b / 1000).toLocaleString("en")} KB`);
const mb = (s: Stat | undefined) =>
  s
    ? `${(s.median / 2 ** 20).toFixed(0)} MiB (${(s.low / 2 ** 20).toFixed(0)}–${
      (s.high / 2 ** 20).toFixed(0)
    })`
    : "–";

/** The figures as the README's two Markdown tables (models, then frame pipelines). */
export function formatTable(report: Raw): string {
  const { accuracy: a, model: m, pipeline: p, ratios: r, largeRatios: lr = {} } = report;
  const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const modelRows = [
    row([
      "",
      "Mien",
      "Mien large",
      "face-api.js",
      "Human",
      "Mien vs face-api.js",
      "Mien vs Human",
      "Mien large vs face-api.js",
      "Mien large vs Human",
    ]),
    row(Array(9).fill("---")),
  ];
  const eachModel = (f: (peer: string) => string) => ["mien", "mien-large", "face-api", "human"].map(f);
  const vs = (f: (ratios: Raw) => string) => [
    ...PEERS.map((peer) => f(r[peer])),
    ...PEERS.map((peer) => (lr[peer] ? f(lr[peer]) : "–")),
  ];
  const vsSmall = (f: (ratios: Raw) => string) => PEERS.map((peer) => f(r[peer]));
  modelRows.push(
    row([
      "FER+ test accuracy",
      ...eachModel((q) => pct(a[q]?.accuracy)),
      ...vs((q) => pts(q.accuracyPoints)),
    ]),
    row([
      "FER+ test mean class recall",
      ...eachModel((q) => pct(a[q]?.meanRecall)),
      ...vs((q) => pts(q.meanRecallPoints)),
    ]),
    row(["FER+ test macro-F1", ...eachModel((q) => pct(a[q]?.macroF1)), ...vs((q) => pts(q.macroF1Points))]),
    row([
      "same images, FER2013's original labels: accuracy",
      ...eachModel((q) => pct(a[q]?.fer2013Original?.accuracy)),
      ...vs((q) => pts(q.fer2013AccuracyPoints)),
    ]),
    row([
      "ms per face, batch 1 (p10–p90)",
      ...eachModel((q) => ms(m[q]?.batch1MsPerFace)),
      ...vs((q) => x(q.fasterBatch1, "faster", "slower")),
    ]),
    row([
      "ms per face, batch 32 (p10–p90)",
      ...eachModel((q) => ms(m[q]?.batch32MsPerFace)),
      ...vs((q) => x(q.fasterBatch32, "faster", "slower")),
    ]),
    row([
      "expression model bytes",
      ...eachModel((q) => kb(m[q]?.bytes)),
      ...vs((q) => x(q.smallerModel, "smaller", "larger")),
    ]),
    row([
      "cold load + first inference, ms (min–max)",
      ...eachModel((q) => ms(m[q]?.coldLoadMs, 0)),
      ...vs((q) => x(q.fasterColdLoad, "faster", "slower")),
    ]),
  );
  const pipes = ["mien", "mien-haar", "face-api", "human"];
  const four = (f: (q: Raw | undefined) => string) => pipes.map((q) => f(p[q]));
  const frameNames = Object.keys(p.mien?.frames ?? {});
  const pipeRows = [
    row([
      "640x480 frame",
      "Mien (BlazeFace)",
      "Mien (Haar)",
      "face-api.js (TinyFaceDetector)",
      "Human (BlazeFace, emotion only)",
      "Mien vs face-api.js",
      "Mien vs Human",
    ]),
    row(Array(7).fill("---")),
    ...frameNames.map((f) =>
      row([
        `${f}: detect + classify ms (p10–p90), faces found`,
        ...four((q) => (q ? `${ms(q.frames[f].ms, 1)}, ${q.frames[f].faces}/${q.frames[f].expected}` : "–")),
        ...vsSmall((q) => x(q.fasterFrame[f], "faster", "slower")),
      ])
    ),
    ...Object.keys(p.mien?.facesFound ?? {}).map((set) =>
      row([
        `faces found, ${set} photos (extra boxes)`,
        ...four((q) =>
          q ? `${q.facesFound[set].found}/${q.facesFound[set].expected} (${q.facesFound[set].extra})` : "–"
        ),
        "",
        "",
      ])
    ),
    row([
      "peak RSS of the process (min–max)",
      ...four((q) => mb(q?.peakRssBytes)),
      ...vsSmall((q) => x(q.lessPeakRss, "less", "more")),
    ]),
    row([
      "detector + expression model bytes",
      ...four((q) => kb(q?.bytes)),
      ...vsSmall((q) => x(q.smallerPipelineModels, "smaller", "larger")),
    ]),
    row(["cold load + first frame, ms (min–max)", ...four((q) => ms(q?.coldLoadMs, 0)), "", ""]),
  ];
  return [...modelRows, "", ...(frameNames.length ? pipeRows : [])].join("\n");
}
