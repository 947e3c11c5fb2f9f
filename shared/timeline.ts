/** A video's expression timeline: rows per face and frame, their CSV form, and a chart of them. */
import { LABEL_COLORS } from "./palette.ts";
import { type Canvas, drawText, fillRect, type Rgb } from "./draw.ts";
import { LABELS } from "./labels.ts";
import type { Box } from "./preprocess.ts";
import type { VideoFrameResult } from "./video_analyzer.ts";

/**
 * One face in one analysed frame: what the CSV/JSON rows hold, the same from the command line, the page and
 * the extension's popup (docs/CSV.md).
 */
export interface TimelineRow {
  /** When the frame shows, in seconds from the video's start as a player counts them. */
  timeS: number;
  /** The frame's number: its time times the video's frame rate, rounded (from 0 at time 0; null where the
   * browser does not tell the frame rate). */
  frame: number | null;
  /** The face's number in the video (in the popup: in the tab), as every view shows it. */
  face: number;
  /** The face's box in the video's own pixels, clipped to the video (videoBox). */
  box: Box;
  label: string;
  /** The smoothed scores, LABELS order. */
  scores: number[];
}

/** The CSV header of the timeline. */
export const CSV_HEADER = `time_s,frame,face,x,y,width,height,label,${LABELS.join(",")}`;

/** One row as a CSV line (under CSV_HEADER). */
export function csvRow(r: TimelineRow): string {
  const b = r.box;
  return [
    r.timeS.toFixed(3),
    r.frame ?? "",
    r.face,
    ...[b.x, b.y, b.width, b.height].map((v) => v.toFixed(1)),
    r.label,
    ...r.scores.map((s) => s.toFixed(4)),
  ].join(",");
}

/** A box found in a frame analysed at 1/`scale` of the video's size, in the video's pixels and clipped to it. */
export function videoBox(box: Box, scale: number, video: { width: number; height: number }): Box {
  // A face at the edge gets a detector box past it: rows keep the part inside the video. Edges are
  // rounded to the 0.1 px the CSV prints, so that a printed box never ends past the video either.
  const edge = (v: number, max: number) => Math.round(Math.min(max, Math.max(0, v)) * 10) / 10;
  const x = edge(box.x * scale, video.width);
  const y = edge(box.y * scale, video.height);
  return {
    x,
    y,
    width: Math.max(0, edge((box.x + box.width) * scale, video.width) - x),
    height: Math.max(0, edge((box.y + box.height) * scale, video.height) - y),
  };
}

/**
 * The rows of one analysed frame, at `timeS` seconds from the video's start, frame index `frame`; boxes
 * multiplied by `scale` (the video's own size over the size it was analysed at) and clipped to the
 * video's own `video` size (videoBox).
 */
export function timelineRows(
  result: VideoFrameResult,
  timeS: number,
  frame: number | null,
  video: { width: number; height: number },
  scale = 1,
): TimelineRow[] {
  return result.faces.map((f) => ({
    timeS,
    frame,
    face: f.number,
    box: videoBox(f.box, scale, video),
    label: f.expression.label,
    scores: LABELS.map((l) => f.expression.scores[l]),
  }));
}

/** The rows as a CSV file (header and a line per row). */
export function timelineCsv(rows: TimelineRow[]): string {
  return [CSV_HEADER, ...rows.map(csvRow)].join("\n") + "\n";
}

/** A face counts once followed this long in all, in seconds (a briefer one is mostly a face seen in passing). */
export const COUNTED_FACE_S = 1;
/** Time between two analysed frames that both show a face counts up to this, in seconds. */
export const FOLLOWED_GAP_S = 1;

/** How many faces were followed for at least COUNTED_FACE_S in all, and how many more only briefly. */
export function countFaces(followedS: Iterable<number>): { faces: number; brief: number } {
  let faces = 0;
  let brief = 0;
  for (const s of followedS) {
    if (s >= COUNTED_FACE_S) faces++;
    else brief++;
  }
  return { faces, brief };
}

/**
 * Each face's time followed in one video, in seconds, from every analysed frame (with faces or without):
 * the time between two analysed frames counts for a face seen in both (up to FOLLOWED_GAP_S), so the total
 * is the same however many frames were analysed. Every view counts faces from it, so the page, the command
 * line and the popup agree.
 */
export function createFollowedTimes(start: Iterable<[number, number]> = []) {
  const followed = new Map<number, number>(start);
  let previous: { timeS: number; faces: Set<number> } | undefined;
  return {
    /** One analysed frame at `timeS` seconds, with the numbers of the faces in it. */
    add(timeS: number, faces: number[]) {
      for (const face of faces) {
        const gap = previous?.faces.has(face)
          ? Math.min(FOLLOWED_GAP_S, Math.max(0, timeS - previous.timeS))
          : 0;
        followed.set(face, (followed.get(face) ?? 0) + gap);
      }
      previous = { timeS, faces: new Set(faces) };
    },
    /** Each face's time followed so far, by face number. */
    times(): Map<number, number> {
      return new Map(followed);
    },
    /** The count of faces, as countFaces gives it. */
    count() {
      return countFaces(followed.values());
    },
  };
}

/**
 * "7 faces", or "7 faces (and 1 seen for under a second)": a count as countFaces gives it, in words
 * (`short`: "7 faces (+1 seen briefly)", where room is scarce).
 */
export function faceCountText({ faces, brief }: { faces: number; brief: number }, short = false): string {
  const main = `${faces} face${faces === 1 ? "" : "s"}`;
  if (!brief) return main;
  return short ? `${main} (+${brief} seen briefly)` : `${main} (and ${brief} seen for under a second)`;
}

/** A chart as coloured rectangles and text (top-left positions, `textPx` high, in `ink`) on white. */
export interface ChartPlan {
  width: number;
  height: number;
  textPx: number;
  ink: Rgb;
  /** Where time runs: x of 0 s and the width of the whole duration. */
  plot: { x: number; width: number };
  rects: { x: number; y: number; w: number; h: number; color: Rgb }[];
  texts: { text: string; x: number; y: number }[];
}

/** The ink of a chart's text and ticks. */
const INK: Rgb = [30, 30, 30];

/** Faces drawn at most in a chart. */
const MAX_CHART_FACES = 10;

/** The rows per face of the (at most 10) most-seen faces, in face-number order, and how many are left out. */
function chartFaces(rows: TimelineRow[]): { faces: [number, TimelineRow[]][]; more: number } {
  const byFace = new Map<number, TimelineRow[]>();
  for (const r of rows) byFace.set(r.face, [...(byFace.get(r.face) ?? []), r]);
  const faces = [...byFace.entries()]
    .sort((a, b) => b[1].length - a[1].length)
    .slice(0, MAX_CHART_FACES)
    .sort((a, b) => a[0] - b[0]);
  return { faces, more: byFace.size - faces.length };
}

/** The mean scores per time bin of one face's rows; a bin up to `hold` s after a sample repeats it. */
function binnedMeans(samples: TimelineRow[], bins: number, span: number, hold = 0.5): (number[] | null)[] {
  const sums = Array.from({ length: bins }, () => new Array(LABELS.length).fill(0));
  const counts = new Array(bins).fill(0);
  for (const s of samples) {
    const bin = Math.min(bins - 1, Math.floor((s.timeS / span) * bins));
    s.scores.forEach((p, c) => (sums[bin][c] += p));
    counts[bin]++;
  }
  let previous: number[] | null = null;
  let previousBin = -Infinity;
  return sums.map((sum, bin) => {
    if (counts[bin]) {
      previous = sum.map((total) => total / counts[bin]);
      previousBin = bin;
      return previous;
    }
    return previous && ((bin - previousBin) * span) / bins <= hold ? previous : null;
  });
}

/**
 * Lay out each face's expression mix over time: one band per face (the 10 most-seen, in face-number
 * order, "+N more faces" below; lower bands past four faces), each time bin a stacked column of the
 * smoothed scores in the label colours, with a time axis and a legend that wraps to the width. Sizes are
 * multiplied by `unit`.
 */
export function timelinePlan(rows: TimelineRow[], durationS: number, width = 900, unit = 1): ChartPlan {
  const { faces, more } = chartFaces(rows);
  const [band, gap, left, top, charW, line] = [faces.length > 4 ? 44 : 70, 10, 70, 30, 6, 16].map((v) =>
    v * unit
  );
  const plotW = width - left - 20 * unit;
  const plan: ChartPlan = {
    width,
    height: 0,
    textPx: 7 * unit,
    ink: INK,
    plot: { x: left, width: plotW },
    rects: [],
    texts: [],
  };
  plan.texts.push({
    text: "Expression estimates over time (not a reading of inner states)",
    x: 8 * unit,
    y: 8 * unit,
  });
  const bins = Math.max(1, Math.min(Math.round(plotW), 300));
  const span = Math.max(durationS, 1e-3);
  const colW = plotW / bins;
  faces.forEach(([id, samples], k) => {
    const y0 = top + k * (band + gap);
    plan.rects.push({ x: left, y: y0, w: plotW, h: band, color: [238, 238, 238] });
    plan.texts.push({ text: `face ${id}`, x: 8 * unit, y: y0 + band / 2 - plan.textPx / 2 });
    binnedMeans(samples, bins, span).forEach((mean, bin) => {
      let y = y0 + band;
      mean?.forEach((p, c) => {
        const h = p * band;
        plan.rects.push({
          x: left + bin * colW,
          y: y - h,
          w: Math.ceil(colW),
          h: Math.ceil(h),
          color: LABEL_COLORS[LABELS[c]],
        });
        y -= h;
      });
    });
  });
  if (!faces.length) plan.texts.push({ text: "no face found", x: left + 10 * unit, y: top + band / 2 });
  const axisY = top + Math.max(1, faces.length) * (band + gap);
  for (let i = 0; i <= 4; i++) {
    const x = left + (plotW * i) / 4;
    const text = `${((span * i) / 4).toFixed(1)} s`;
    plan.rects.push({ x, y: axisY - 6 * unit, w: unit, h: 6 * unit, color: INK });
    plan.texts.push({ text, x: Math.min(width - text.length * charW - 2 * unit, x), y: axisY + 2 * unit });
  }
  let x = left;
  let y = axisY + 18 * unit;
  for (const label of LABELS) {
    const itemW = 14 * unit + label.length * charW + 14 * unit;
    if (x > left && x + itemW > width) [x, y] = [left, y + line];
    plan.rects.push({ x, y, w: 10 * unit, h: 10 * unit, color: LABEL_COLORS[label] });
    plan.texts.push({ text: label, x: x + 14 * unit, y: y + unit });
    x += itemW;
  }
  if (more) {
    y += line;
    plan.texts.push({ text: `+${more} more face${more === 1 ? "" : "s"}`, x: left, y: y + unit });
  }
  plan.height = Math.ceil(y + 22 * unit);
  return plan;
}

/** The timeline chart (see timelinePlan) as pixels, its text set as the page sets it. */
export function timelineChart(rows: TimelineRow[], durationS: number, width = 900): Canvas {
  const plan = timelinePlan(rows, durationS, width);
  const { height } = plan;
  const canvas: Canvas = { data: new Uint8ClampedArray(width * height * 4).fill(255), width, height };
  for (const r of plan.rects) fillRect(canvas, r.x, r.y, r.w, r.h, r.color);
  for (const t of plan.texts) drawText(canvas, t.text, t.x, t.y, plan.ink, 1.6 * plan.textPx);
  return canvas;
}
