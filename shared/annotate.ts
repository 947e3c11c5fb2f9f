import type { AnalysisResult, FaceResult } from "./analyzer.ts";
import { type Canvas, drawText, fillRect, strokeBox, textWidth, toCanvas } from "./draw.ts";
import { LABELS } from "./labels.ts";
import { LABEL_COLORS, textOn } from "./palette.ts";
import type { Frame } from "./preprocess.ts";
import { numberFaces } from "./result_view.ts";

/** The note the other views show beside results. */
const NOTE = "expression estimates, not feelings";

/** Sizes of the card strip at one scale: card size, cards per row, bar geometry. */
interface CardLayout {
  scale: number;
  line: number;
  gap: number;
  perRow: number;
  cardW: number;
  cardH: number;
  nameW: number;
  barW: number;
}

/** Cards as wide as the strip allows, as many per row as fit (at least one), bars taking the slack. */
function cardLayout(width: number, faces: number, scale: number): CardLayout {
  const line = 9 * scale;
  const gap = 4 * scale;
  const nameW = textWidth("happiness", scale) + 4 * scale;
  const valueW = textWidth("100%", scale) + 6 * scale;
  const minW = 5 * scale + nameW + 50 * scale + valueW;
  const perRow = Math.max(1, Math.min(faces, Math.floor((width - gap) / (minW + gap))));
  const cardW = Math.floor((width - gap) / perRow) - gap;
  const barW = Math.max(scale, cardW - 5 * scale - nameW - valueW);
  return { scale, line, gap, perRow, cardW, cardH: (LABELS.length + 1) * line + 6 * scale, nameW, barW };
}

/** One face's card: a stripe in its label's colour, "face N: label NN%", then a bar per class. */
function drawCard(
  canvas: Canvas,
  face: FaceResult & { number: number },
  x: number,
  y: number,
  l: CardLayout,
) {
  const { label, scores } = face.expression;
  const s = l.scale;
  fillRect(canvas, x, y, l.cardW, l.cardH, [245, 245, 245]);
  fillRect(canvas, x, y, 3 * s, l.cardH, LABEL_COLORS[label]);
  const title = `face ${face.number}: ${label} ${Math.round(100 * scores[label])}%`;
  drawText(canvas, title, x + 5 * s, y + 2 * s, [20, 20, 20], s);
  const barX = x + 5 * s + l.nameW;
  LABELS.forEach((name, k) => {
    const rowY = y + 3 * s + (k + 1) * l.line;
    drawText(canvas, name, x + 5 * s, rowY, [40, 40, 40], s);
    fillRect(canvas, barX, rowY, l.barW, 7 * s, [220, 220, 220]);
    fillRect(canvas, barX, rowY, Math.max(1, l.barW * scores[name]), 7 * s, LABEL_COLORS[name]);
    drawText(canvas, `${Math.round(100 * scores[name])}%`, barX + l.barW + 3 * s, rowY, [40, 40, 40], s);
  });
}

/**
 * The frame with every face drawn as the other views draw it: faces numbered left to right, a box
 * in the label's colour (clipped to the frame) with a "N label NN%" tag; below the picture, a strip of
 * cards filling its width, one per face with "face N: label NN%" and a bar (track and value) per class,
 * so nothing covers a face, and the note that these are estimates where it fits (`cards: false` keeps
 * the frame's size: boxes and tags only, as video frames need).
 */
export function annotate(
  frame: Frame,
  result: Pick<AnalysisResult, "faces">,
  { cards = true }: { cards?: boolean } = {},
): Canvas {
  const scale = Math.max(1, Math.round(Math.max(frame.width, frame.height) / 700));
  const line = 9 * scale;
  const faces = numberFaces(result.faces);
  const layout = cardLayout(frame.width, faces.length, scale);
  const showCards = cards && faces.length > 0;
  const cardsH = showCards
    ? layout.gap + Math.ceil(faces.length / layout.perRow) * (layout.cardH + layout.gap)
    : 0;
  const showNote = showCards && textWidth(NOTE, scale) + 2 * layout.gap <= frame.width;
  const stripH = cardsH + (showNote ? 7 * scale + layout.gap : 0);
  const picture = toCanvas(frame);
  const canvas: Canvas = {
    data: new Uint8ClampedArray(frame.width * (frame.height + stripH) * 4).fill(255),
    width: frame.width,
    height: frame.height + stripH,
  };
  canvas.data.set(picture.data);
  faces.forEach((face, i) => {
    const { label, scores } = face.expression;
    const color = LABEL_COLORS[label];
    const x0 = Math.max(0, face.box.x);
    const y0 = Math.max(0, face.box.y);
    const box = {
      x: x0,
      y: y0,
      width: Math.min(frame.width, face.box.x + face.box.width) - x0,
      height: Math.min(frame.height, face.box.y + face.box.height) - y0,
    };
    strokeBox(canvas, box, color, 2 * scale);
    const title = `${face.number} ${label} ${Math.round(100 * scores[label])}%`;
    const titleW = textWidth(title, scale) + 4 * scale;
    const titleX = Math.min(box.x, Math.max(0, frame.width - titleW));
    const titleY = box.y >= line + 2 * scale
      ? box.y - line - 2 * scale
      : Math.min(box.y + box.height, frame.height - line - 2 * scale);
    fillRect(canvas, titleX, titleY, titleW, line + 2 * scale, color);
    drawText(canvas, title, titleX + 2 * scale, titleY + scale, textOn(color), scale);
    if (!showCards) return;
    const cx = layout.gap + (i % layout.perRow) * (layout.cardW + layout.gap);
    const cy = frame.height + layout.gap + Math.floor(i / layout.perRow) * (layout.cardH + layout.gap);
    drawCard(canvas, face, cx, cy, layout);
  });
  if (showNote) drawText(canvas, NOTE, layout.gap, frame.height + cardsH, [110, 110, 110], scale);
  return canvas;
}
