/// <reference lib="dom" />
/**
 * How every browser view shows a result (the page, the right-click page, the webcam page; the overlay
 * and popup use its colours and numbering): numbered faces left to right, boxes in their label's
 * colour with a readable tag, and cards with a bar per class (track and value).
 */
import { type Label, LABELS } from "./labels.ts";
import { css, LABEL_COLORS, textOn } from "./palette.ts";
import { placeFaces, topLabel, type ViewFace } from "./view_faces.ts";

export {
  chooseTagForm,
  faceTag,
  numberFaces,
  type PlacedFace,
  placeFaces,
  TAG_FORMS,
  type TagForm,
  type TagSlot,
  tagText,
  topLabel,
  type ViewFace,
} from "./view_faces.ts";

type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

/**
 * Draw each face's box (clipped to the canvas) and tag on a canvas that already shows the image, every
 * tag in the form chooseTagForm picks for the whole picture (the cards have the rest). `pixelsPerCssPx`
 * is canvas pixels per CSS pixel as displayed, so text is ~13 CSS px at any scale.
 */
export function drawFaceBoxes(ctx: Context2D, faces: ViewFace[], pixelsPerCssPx = 1) {
  const unit = Math.max(0.5, pixelsPerCssPx);
  const font = 13 * unit;
  ctx.save();
  ctx.lineWidth = 2 * unit;
  ctx.font = `600 ${font}px system-ui, sans-serif`;
  ctx.textBaseline = "middle";
  const measure = (text: string) => ctx.measureText(text).width + font * 0.8;
  for (
    const { box, color, tag } of placeFaces(faces, ctx.canvas.width, ctx.canvas.height, measure, font * 1.5)
  ) {
    const line = ctx.lineWidth;
    ctx.strokeStyle = css(color);
    ctx.strokeRect(box.x + line / 2, box.y + line / 2, box.width - line, box.height - line);
    ctx.fillStyle = css(color);
    ctx.fillRect(tag.x, tag.y, tag.width, tag.height);
    ctx.fillStyle = css(textOn(color));
    ctx.fillText(tag.text, tag.x + font * 0.4, tag.y + tag.height / 2);
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
