/// <reference lib="dom" />
/**
 * How every browser view shows a result (the page, the right-click page, the webcam page; the overlay
 * and popup use its colours and numbering): numbered faces left to right, boxes in their label's
 * colour with a readable tag, and cards with a bar per class (track and value).
 */
import { type Label, LABELS } from "./labels.ts";
import { argmax } from "./metrics.ts";
import { css, LABEL_COLORS, textOn } from "./palette.ts";
import type { Box } from "./preprocess.ts";

/** A face as views show it: its number (1-based, left to right), box and scores. */
export interface ViewFace {
  number: number;
  box: Box;
  scores: Record<Label, number>;
}

/** The label with the highest score. */
export function topLabel(scores: Record<Label, number>): Label {
  return LABELS[argmax(LABELS.map((name) => scores[name]))];
}

/** Number faces 1, 2, … from left to right (by box centre), the order views list them in. */
export function numberFaces<T extends { box: Box }>(faces: T[]): (T & { number: number })[] {
  return [...faces]
    .sort((a, b) => a.box.x + a.box.width / 2 - (b.box.x + b.box.width / 2))
    .map((face, i) => ({ ...face, number: i + 1 }));
}

/** The tag text of a face: "2 · happiness 81%". */
export function faceTag(face: ViewFace): string {
  const label = topLabel(face.scores);
  return `${face.number} · ${label} ${Math.round(100 * face.scores[label])}%`;
}

type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

/**
 * Draw each face's box (clipped to the canvas) and tag on a canvas that already shows the image; a tag
 * shows just the face's number where the whole tag would be more than twice the box's width or cover
 * another tag. `pixelsPerCssPx` is canvas pixels per CSS pixel as displayed, so text is ~13 CSS px at any
 * scale.
 */
export function drawFaceBoxes(ctx: Context2D, faces: ViewFace[], pixelsPerCssPx = 1) {
  const { width, height } = ctx.canvas;
  const unit = Math.max(0.5, pixelsPerCssPx);
  const font = 13 * unit;
  ctx.save();
  ctx.lineWidth = 2 * unit;
  ctx.font = `600 ${font}px system-ui, sans-serif`;
  ctx.textBaseline = "middle";
  const placed: { x: number; y: number; w: number }[] = [];
  for (const face of faces) {
    const color = LABEL_COLORS[topLabel(face.scores)];
    const x = Math.max(0, face.box.x);
    const y = Math.max(0, face.box.y);
    const w = Math.min(width, face.box.x + face.box.width) - x;
    const h = Math.min(height, face.box.y + face.box.height) - y;
    if (w <= 0 || h <= 0) continue;
    ctx.strokeStyle = css(color);
    ctx.strokeRect(x + ctx.lineWidth / 2, y + ctx.lineWidth / 2, w - ctx.lineWidth, h - ctx.lineWidth);
    // The whole tag where it fits; just the number (its card has the rest) on a small face or where the
    // whole tag would cover another face's tag.
    const tagH = font * 1.5;
    const place = (text: string) => {
      const tagW = ctx.measureText(text).width + font * 0.8;
      const tagX = Math.min(Math.max(0, x), Math.max(0, width - tagW));
      const tagY = y - tagH >= 0 ? y - tagH : Math.min(y + h, height - tagH);
      return { text, x: tagX, y: tagY, w: tagW };
    };
    const whole = place(faceTag(face));
    const clashes = placed.some((p) =>
      whole.x < p.x + p.w && p.x < whole.x + whole.w && Math.abs(whole.y - p.y) < tagH
    );
    const tag = whole.w > 2 * w || clashes ? place(String(face.number)) : whole;
    placed.push(tag);
    const { text, x: tagX, y: tagY, w: tagW } = tag;
    ctx.fillStyle = css(color);
    ctx.fillRect(tagX, tagY, tagW, tagH);
    ctx.fillStyle = css(textOn(color));
    ctx.fillText(text, tagX + font * 0.4, tagY + tagH / 2);
  }
  ctx.restore();
}

/** A bar per class: name, a track with the filled share in the class colour, and the value. */
export function classBars(scores: Record<Label, number>): HTMLElement {
  const list = document.createElement("div");
  list.className = "mien-bars";
  for (const label of LABELS) {
    const row = document.createElement("div");
    row.className = "mien-bar";
    const name = document.createElement("span");
    name.textContent = label;
    const track = document.createElement("span");
    track.className = "mien-track";
    const fill = document.createElement("span");
    fill.style.width = `${(scores[label] * 100).toFixed(1)}%`;
    fill.style.background = css(LABEL_COLORS[label]);
    track.append(fill);
    const value = document.createElement("span");
    value.className = "mien-value";
    value.textContent = `${Math.round(scores[label] * 100)}%`;
    row.append(name, track, value);
    list.append(row);
  }
  return list;
}

/** A card for one face: "Face N: label NN%" in the label's colour, then its bars. */
export function faceCard(face: ViewFace): HTMLElement {
  const card = document.createElement("li");
  card.className = "mien-card";
  const label = topLabel(face.scores);
  const title = document.createElement("strong");
  title.className = "label";
  title.textContent = `Face ${face.number}: ${label} ${Math.round(100 * face.scores[label])}%`;
  title.style.borderLeft = `6px solid ${css(LABEL_COLORS[label])}`;
  title.style.paddingLeft = "6px";
  card.dataset.face = String(face.number);
  card.append(title, classBars(face.scores));
  return card;
}

/** The stylesheet the cards and bars need (one copy per document). */
export const RESULT_CSS = `
.mien-card { list-style: none; border: 1px solid #ddd; border-radius: 6px; padding: .5rem .6rem; min-width: 220px; }
.mien-card .label { display: block; margin-bottom: .3rem; }
.mien-bar { display: grid; grid-template-columns: 72px 1fr 38px; align-items: center; gap: .4rem; font-size: 12px; }
.mien-track { height: 8px; background: #e8e8e8; border-radius: 4px; overflow: hidden; }
.mien-track span { display: block; height: 100%; }
.mien-value { text-align: right; font-variant-numeric: tabular-nums; }
`;

/** Add RESULT_CSS to a document once. */
export function useResultStyles(doc: Document = document) {
  if (doc.getElementById("mien-result-css")) return;
  const style = doc.createElement("style");
  style.id = "mien-result-css";
  style.textContent = RESULT_CSS;
  doc.head.append(style);
}
