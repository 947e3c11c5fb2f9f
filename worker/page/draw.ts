/// <reference lib="dom" />
import { LABEL_COLORS } from "../../shared/annotate.ts";
import { type Label, LABELS } from "../../shared/labels.ts";
import { argmax } from "../../shared/metrics.ts";
import type { Box } from "../../shared/preprocess.ts";

/** A face as the page shows it: a box and its (possibly smoothed) scores. */
export interface ShownFace {
  box: Box;
  scores: Record<Label, number>;
}

function css([r, g, b]: number[]): string {
  return `rgb(${r} ${g} ${b})`;
}

/** The label with the highest score. */
export function topLabel(scores: Record<Label, number>): Label {
  return LABELS[argmax(LABELS.map((name) => scores[name]))];
}

/** Draw a box and "label NN%" over every face on a canvas that already shows the image. */
export function drawFaces(ctx: CanvasRenderingContext2D, faces: ShownFace[]) {
  const scale = Math.max(1, Math.round(Math.max(ctx.canvas.width, ctx.canvas.height) / 640));
  ctx.lineWidth = 2 * scale;
  ctx.font = `${14 * scale}px system-ui, sans-serif`;
  ctx.textBaseline = "bottom";
  for (const face of faces) {
    const label = topLabel(face.scores);
    const color = css(LABEL_COLORS[label]);
    const { x, y, width, height } = face.box;
    ctx.strokeStyle = color;
    ctx.strokeRect(x, y, width, height);
    const text = `${label} ${Math.round(100 * face.scores[label])}%`;
    const textY = Math.max(18 * scale, y - 2);
    ctx.fillStyle = "rgb(0 0 0 / 70%)";
    ctx.fillRect(x, textY - 17 * scale, ctx.measureText(text).width + 6 * scale, 17 * scale);
    ctx.fillStyle = color;
    ctx.fillText(text, x + 3 * scale, textY);
  }
}

/** Replace a list's items with one card per face: its label and a bar per class. */
export function listFaces(list: HTMLElement, faces: ShownFace[]) {
  list.replaceChildren(...faces.map((face, i) => {
    const item = document.createElement("li");
    const label = topLabel(face.scores);
    const title = document.createElement("strong");
    title.className = "label";
    title.textContent = `Face ${i + 1}: ${label}`;
    item.append(title);
    for (const name of LABELS) {
      const row = document.createElement("div");
      row.className = "bar";
      const pct = Math.round(100 * face.scores[name]);
      const caption = document.createElement("span");
      caption.textContent = name;
      const bar = document.createElement("i");
      bar.style.width = `${pct}px`;
      bar.style.background = css(LABEL_COLORS[name]);
      const value = document.createElement("span");
      value.textContent = `${pct}%`;
      row.append(caption, bar, value);
      item.append(row);
    }
    return item;
  }));
}
