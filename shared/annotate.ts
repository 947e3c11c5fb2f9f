import type { FaceResult } from "./analyzer.ts";
import { type Canvas, drawText, fillRect, lineHeight, strokeBox, textWidth, toCanvas, wrap } from "./draw.ts";
import { LABELS } from "./labels.ts";
import { LABEL_COLORS, type Rgb, textOn } from "./palette.ts";
import type { Frame } from "./preprocess.ts";
import { numberFaces, placeFaces, topLabel, type ViewFace } from "./view_faces.ts";

/** The note the other views show beside results. */
const NOTE = "Expression estimates from the pixels of each face: how a face looks, not what a person feels.";
const INK: Rgb = [34, 34, 34];
const MUTED: Rgb = [102, 102, 102];
const BORDER: Rgb = [221, 221, 221];
const TRACK: Rgb = [232, 232, 232];

/** Sizes of the card strip at one scale (`u` px per CSS px of the page's cards). */
interface CardLayout {
  u: number;
  gap: number;
  pad: number;
  perRow: number;
  cardW: number;
  cardH: number;
  titleH: number;
  rowH: number;
  nameW: number;
  valueW: number;
}

/** Cards as the page lays them out: at least 240 px wide, as many per row as fit, filling the strip. */
function cardLayout(width: number, faces: number, u: number): CardLayout {
  const gap = 12 * u;
  const pad = 9 * u;
  const perRow = Math.max(1, Math.min(faces, Math.floor((width - gap) / (240 * u + gap))));
  const cardW = Math.floor((width - gap) / perRow - gap);
  const titleH = lineHeight(14 * u, "bold") + 4 * u;
  const rowH = 17 * u;
  const cardH = Math.round(2 * pad + titleH + LABELS.length * rowH);
  return { u, gap, pad, perRow, cardW, cardH, titleH, rowH, nameW: 76 * u, valueW: 40 * u };
}

/** One face's card, as the page draws it: "Face N: label NN%" after a stripe in the label's colour, a bar per class. */
function drawCard(canvas: Canvas, face: ViewFace, x: number, y: number, l: CardLayout) {
  const u = l.u;
  const label = topLabel(face.scores);
  fillRect(canvas, x, y, l.cardW, l.cardH, BORDER);
  fillRect(canvas, x + u, y + u, l.cardW - 2 * u, l.cardH - 2 * u, [255, 255, 255]);
  const title = `Face ${face.number}: ${label} ${Math.round(100 * face.scores[label])}%`;
  fillRect(canvas, x + l.pad, y + l.pad, 6 * u, lineHeight(14 * u, "bold"), LABEL_COLORS[label]);
  drawText(canvas, title, x + l.pad + 12 * u, y + l.pad, INK, 14 * u, "bold");
  const trackX = x + l.pad + l.nameW;
  const trackW = Math.max(u, l.cardW - 2 * l.pad - l.nameW - l.valueW);
  LABELS.forEach((name, k) => {
    const rowY = y + l.pad + l.titleH + k * l.rowH;
    const textY = rowY + (l.rowH - lineHeight(12 * u)) / 2;
    drawText(canvas, name, x + l.pad, textY, INK, 12 * u);
    const barY = rowY + (l.rowH - 8 * u) / 2;
    fillRect(canvas, trackX, barY, trackW, 8 * u, TRACK);
    fillRect(canvas, trackX, barY, Math.max(u, trackW * face.scores[name]), 8 * u, LABEL_COLORS[name]);
    const value = `${Math.round(100 * face.scores[name])}%`;
    drawText(canvas, value, x + l.cardW - l.pad - textWidth(value, 12 * u), textY, INK, 12 * u);
  });
}

/** Each face's box (clipped to the frame) and its tag, placed as the page places them. */
function drawBoxes(canvas: Canvas, frame: Frame, faces: ViewFace[], u: number) {
  const font = 13 * u;
  const measure = (text: string) => textWidth(text, font, "bold") + font * 0.8;
  for (
    const { box, color, tag } of placeFaces(faces, frame.width, frame.height, measure, Math.round(font * 1.5))
  ) {
    strokeBox(canvas, box, color, Math.max(2, Math.round(2 * u)));
    fillRect(canvas, tag.x, tag.y, tag.width, tag.height, color);
    const textY = tag.y + (tag.height - lineHeight(font, "bold")) / 2;
    drawText(canvas, tag.text, tag.x + font * 0.4, textY, textOn(color), font, "bold");
  }
}

/**
 * The frame with every face drawn as the page draws it: faces numbered left to right (unless they come
 * numbered, as a video's faces do), a box in the label's colour (clipped to the frame) with a
 * "N · label NN%" tag (shortened alike for every face where a tag would not fit); below the picture, a
 * strip of cards filling its width, one per face with "Face N: label NN%" and a bar (track and value) per
 * class, so nothing covers a face, and the note that these are estimates (`cards: false` keeps the frame's
 * size: boxes and tags only, as video frames need). Text is set in the views' sans-serif, scaled with the
 * picture so that it reads as the page's does.
 */
export function annotate(
  frame: Frame,
  result: { faces: (FaceResult & { number?: number })[] },
  { cards = true }: { cards?: boolean } = {},
): Canvas {
  const u = Math.max(1, Math.round((2 * Math.max(frame.width, frame.height)) / 900) / 2);
  // Faces that come numbered (a video's, numbered for the whole video) keep their numbers.
  const numbered = result.faces.every((f) => f.number !== undefined)
    ? result.faces as (FaceResult & { number: number })[]
    : numberFaces(result.faces);
  const faces = numbered.map((f) => ({
    number: f.number,
    box: f.box,
    scores: f.expression.scores,
  }));
  const layout = cardLayout(frame.width, faces.length, u);
  const showCards = cards && faces.length > 0;
  const rows = Math.ceil(faces.length / layout.perRow);
  const noteLines = wrap(NOTE, frame.width - 2 * layout.gap, 12 * u);
  const stripH = showCards
    ? Math.round(
      layout.gap + rows * (layout.cardH + layout.gap) + noteLines.length * lineHeight(12 * u) + layout.gap,
    )
    : 0;
  const canvas: Canvas = {
    data: new Uint8ClampedArray(frame.width * (frame.height + stripH) * 4).fill(255),
    width: frame.width,
    height: frame.height + stripH,
  };
  canvas.data.set(toCanvas(frame).data);
  drawBoxes(canvas, frame, faces, u);
  if (!showCards) return canvas;
  faces.forEach((face, i) => {
    const cx = layout.gap + (i % layout.perRow) * (layout.cardW + layout.gap);
    const cy = frame.height + layout.gap + Math.floor(i / layout.perRow) * (layout.cardH + layout.gap);
    drawCard(canvas, face, cx, cy, layout);
  });
  const noteY = frame.height + layout.gap + rows * (layout.cardH + layout.gap);
  noteLines.forEach((line, k) =>
    drawText(canvas, line, layout.gap, noteY + k * lineHeight(12 * u), MUTED, 12 * u)
  );
  return canvas;
}
