import type { AnalysisResult } from "./analyzer.ts";
import { type Canvas, drawText, fillRect, strokeBox, textWidth, toCanvas } from "./draw.ts";
import { LABELS } from "./labels.ts";
import { LABEL_COLORS } from "./palette.ts";
import type { Frame } from "./preprocess.ts";

/** The frame with a box, label, confidence and a 7-bar chart drawn for every face. */
export function annotate(frame: Frame, result: Pick<AnalysisResult, "faces">): Canvas {
  const canvas = toCanvas(frame);
  const scale = Math.max(1, Math.round(Math.max(frame.width, frame.height) / 500));
  const line = 9 * scale;
  for (const face of result.faces) {
    const { label, scores } = face.expression;
    const color = LABEL_COLORS[label];
    strokeBox(canvas, face.box, color, 2 * scale);
    const title = `${label} ${Math.round(100 * scores[label])}%`;
    const titleY = Math.max(0, face.box.y - line - 2 * scale);
    fillRect(canvas, face.box.x, titleY, textWidth(title, scale) + 2 * scale, line + scale, [0, 0, 0]);
    drawText(canvas, title, face.box.x + scale, titleY + scale, color, scale);
    // Bars below the box (or inside it when the box reaches the bottom edge).
    const chartH = LABELS.length * line + 2 * scale;
    let y = face.box.y + face.box.height + 2 * scale;
    if (y + chartH > frame.height) y = Math.max(0, face.box.y + face.box.height - chartH);
    const labelW = textWidth("sur ", scale);
    const barMax = 40 * scale;
    fillRect(canvas, face.box.x, y, labelW + barMax + 2 * scale, chartH, [0, 0, 0]);
    LABELS.forEach((name, i) => {
      const rowY = y + scale + i * line;
      drawText(canvas, name.slice(0, 3), face.box.x + scale, rowY, [255, 255, 255], scale);
      fillRect(
        canvas,
        face.box.x + labelW,
        rowY,
        Math.max(1, barMax * scores[name]),
        7 * scale,
        LABEL_COLORS[name],
      );
    });
  }
  return canvas;
}
