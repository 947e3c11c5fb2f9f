import type { AnalysisResult } from "./analyzer.ts";
import { type Canvas, drawText, fillRect, strokeBox, textWidth, toCanvas } from "./draw.ts";
import { LABELS } from "./labels.ts";
import { LABEL_COLORS, textOn } from "./palette.ts";
import type { Frame } from "./preprocess.ts";

/**
 * The frame with every face drawn as the other views draw it: faces numbered left to right, a box
 * in the label's colour (clipped to the frame) with a "N label NN%" tag; below the picture, a card per
 * face with its number and a bar (track and value) per class, so nothing covers a face (`cards: false`
 * keeps the frame's size: boxes and tags only, as video frames need).
 */
export function annotate(
  frame: Frame,
  result: Pick<AnalysisResult, "faces">,
  { cards = true }: { cards?: boolean } = {},
): Canvas {
  const scale = Math.max(1, Math.round(Math.max(frame.width, frame.height) / 700));
  const line = 9 * scale;
  const faces = [...result.faces].sort((a, b) => a.box.x + a.box.width / 2 - (b.box.x + b.box.width / 2));
  const labelW = textWidth("happiness ", scale);
  const barMax = 50 * scale;
  const valueW = textWidth(" 100%", scale);
  const cardW = labelW + barMax + valueW + 6 * scale;
  const cardH = (LABELS.length + 1) * line + 6 * scale;
  const perRow = Math.max(1, Math.floor(frame.width / (cardW + 4 * scale)));
  const stripH = cards && faces.length
    ? Math.ceil(faces.length / perRow) * (cardH + 4 * scale) + 4 * scale
    : 0;
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
    const title = `${i + 1} ${label} ${Math.round(100 * scores[label])}%`;
    const titleW = textWidth(title, scale) + 4 * scale;
    const titleX = Math.min(box.x, Math.max(0, frame.width - titleW));
    const titleY = box.y >= line + 2 * scale
      ? box.y - line - 2 * scale
      : Math.min(box.y + box.height, frame.height - line - 2 * scale);
    fillRect(canvas, titleX, titleY, titleW, line + 2 * scale, color);
    drawText(canvas, title, titleX + 2 * scale, titleY + scale, textOn(color), scale);
    if (!cards) return;
    // The face's card in the strip below the picture.
    const cx = 4 * scale + (i % perRow) * (cardW + 4 * scale);
    const cy = frame.height + 4 * scale + Math.floor(i / perRow) * (cardH + 4 * scale);
    fillRect(canvas, cx, cy, cardW, cardH, [245, 245, 245]);
    fillRect(canvas, cx, cy, 3 * scale, cardH, color);
    drawText(canvas, `face ${i + 1}: ${label}`, cx + 5 * scale, cy + 2 * scale, [20, 20, 20], scale);
    LABELS.forEach((name, k) => {
      const rowY = cy + 3 * scale + (k + 1) * line;
      drawText(canvas, name, cx + 5 * scale, rowY, [40, 40, 40], scale);
      fillRect(canvas, cx + labelW, rowY, barMax, 7 * scale, [220, 220, 220]);
      fillRect(canvas, cx + labelW, rowY, Math.max(1, barMax * scores[name]), 7 * scale, LABEL_COLORS[name]);
      drawText(canvas, `${Math.round(100 * scores[name])}%`, cx + labelW + barMax + 2 * scale, rowY, [
        40,
        40,
        40,
      ], scale);
    });
  });
  return canvas;
}
