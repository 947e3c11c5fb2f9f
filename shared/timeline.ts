/** A video's expression timeline: rows per face and frame, their CSV form, and a chart of them. */
import { LABEL_COLORS } from "./palette.ts";
import { type Canvas, drawText, fillRect } from "./draw.ts";
import { LABELS } from "./labels.ts";
import type { VideoFrameResult } from "./video_analyzer.ts";

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

/** One row as a CSV line (under CSV_HEADER). */
export function csvRow(r: TimelineRow): string {
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

/** The rows of one analysed frame, at `timeS` seconds, frame number `frame`. */
export function timelineRows(result: VideoFrameResult, timeS: number, frame: number): TimelineRow[] {
  return result.faces.map((f) => ({
    timeS,
    frame,
    face: f.id,
    box: f.box,
    label: f.expression.label,
    scores: LABELS.map((l) => f.expression.scores[l]),
  }));
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
    // A bin between two samples of the face (gap under `hold` seconds) shows the previous sample's mix.
    const hold = 0.5;
    let previous: number[] | null = null;
    let previousBin = -Infinity;
    sums.forEach((sum, bin) => {
      let mean: number[] | null = null;
      if (counts[bin]) {
        mean = sum.map((total) => total / counts[bin]);
        previous = mean;
        previousBin = bin;
      } else if (previous && ((bin - previousBin) * span) / bins <= hold) mean = previous;
      if (!mean) return;
      let y = y0 + band;
      mean.forEach((p, c) => {
        const h = p * band;
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
