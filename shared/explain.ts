import { type Canvas, drawText, fillRect, lineHeight, type Rgb, textWidth, wrap } from "./draw.ts";
import { type Label, LABELS } from "./labels.ts";
import { LABEL_COLORS } from "./palette.ts";
import { argmax } from "./metrics.ts";
import type { ExpressionModel } from "./model.ts";
import { resampleGray } from "./preprocess.ts";
import { tf } from "./tf.ts";

/** One conv block's activations, tiled as a grey grid image (each channel scaled to its own max). */
export interface FeatureGrid {
  layer: string;
  /** Activation map size and channel count of the block. */
  width: number;
  height: number;
  channels: number;
  /** Channels shown (the most active first), in `columns` columns. */
  shown: number;
  columns: number;
  grid: { data: Uint8Array; width: number; height: number };
}

/** Why the model said what it said for one face. */
export interface Explanation {
  classIndex: number;
  label: Label;
  probs: Float32Array;
  /** The model's input (size x size grey in [0,1]). */
  face: Float32Array;
  size: number;
  featureMaps: FeatureGrid[];
  /** Grad-CAM of the last conv block for `classIndex`, upsampled to size x size, in [0,1]. */
  gradCam: Float32Array;
}

function tile(
  layer: string,
  values: Float32Array,
  h: number,
  w: number,
  c: number,
  maxChannels: number,
): FeatureGrid {
  const mean = new Float32Array(c);
  for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) mean[k] += values[i * c + k];
  const order = Array.from({ length: c }, (_, k) => k).sort((a, b) => mean[b] - mean[a] || a - b);
  const shown = Math.min(maxChannels, c);
  const columns = Math.ceil(Math.sqrt(shown));
  const rows = Math.ceil(shown / columns);
  const gw = columns * (w + 1) - 1;
  const gh = rows * (h + 1) - 1;
  const data = new Uint8Array(gw * gh).fill(BACKGROUND);
  order.slice(0, shown).forEach((k, n) => {
    let max = 0;
    for (let i = 0; i < h * w; i++) max = Math.max(max, values[i * c + k]);
    const ox = (n % columns) * (w + 1);
    const oy = Math.floor(n / columns) * (h + 1);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        data[(oy + y) * gw + ox + x] = max > 0 ? Math.round((255 * values[(y * w + x) * c + k]) / max) : 0;
      }
    }
  });
  return { layer, width: w, height: h, channels: c, shown, columns, grid: { data, width: gw, height: gh } };
}

/**
 * Class activation before ReLU: at each of `pixels` positions, the classifier's weights for the
 * class dotted with the `channels` activations (its mean plus the bias is the class's logit).
 */
export function classActivation(
  features: Float32Array,
  pixels: number,
  channels: number,
  weights: Float32Array,
  classIndex: number,
): Float32Array {
  const out = new Float32Array(pixels);
  for (let i = 0; i < pixels; i++) {
    let sum = 0;
    for (let k = 0; k < channels; k++) {
      sum += features[i * channels + k] * weights[k * LABELS.length + classIndex];
    }
    out[i] = sum;
  }
  return out;
}

/**
 * Feature maps of every conv block and a Grad-CAM heatmap for one preprocessed face. Mien's head is
 * global average pooling + a linear layer, so the Grad-CAM weights of the last block are exactly
 * the classifier's weights for the class over the pooled area: no gradient kernel is needed.
 */
export async function explainFace(
  model: ExpressionModel,
  face: Float32Array,
  options: { classIndex?: number; maxChannels?: number } = {},
): Promise<Explanation> {
  const { info, graph } = model;
  const size = info.inputSize;
  if (face.length !== size * size) {
    throw new RangeError(`face has ${face.length} values; expected ${size * size}`);
  }
  const outputs = tf.tidy(() => {
    const x = tf.tensor4d(face, [1, size, size, 1]);
    return graph.execute(x, [...info.features, info.output]) as tf.Tensor[];
  });
  const data = await Promise.all(outputs.map((t) => t.data() as Promise<Float32Array>));
  const shapes = outputs.map((t) => t.shape);
  outputs.forEach((t) => t.dispose());
  const probs = data.at(-1)!;
  const classIndex = options.classIndex ?? argmax(probs);
  if (!(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < LABELS.length)) {
    throw new RangeError(`class index must be 0..${LABELS.length - 1}`);
  }
  const featureMaps = info.features.map((layer, i) => {
    const [, h, w, c] = shapes[i];
    return tile(layer, data[i], h, w, c, options.maxChannels ?? 32);
  });

  const [, h, w, c] = shapes[info.features.length - 1];
  const last = data[info.features.length - 1];
  const weights = graph.weights["logits/weights"]?.[0];
  if (!weights) throw new Error("model has no logits/weights node: cannot compute Grad-CAM");
  const wc = (await weights.data()) as Float32Array; // [c, classes]
  const cam = classActivation(last, h * w, c, wc, classIndex).map((v) => Math.max(0, v));
  const max = Math.max(...cam);
  const up = resampleGray(cam, w, h, { x: 0, y: 0, width: w, height: h }, size);
  const gradCam = up.map((v) => (max > 0 ? Math.min(1, Math.max(0, v / max)) : 0));
  return { classIndex, label: LABELS[classIndex], probs, face, size, featureMaps, gradCam };
}

/** The picture's background (also between and after the maps of a grid): white, as the other views. */
const BACKGROUND = 255;
const INK: Rgb = [34, 34, 34];
const MUTED: Rgb = [102, 102, 102];
const TRACK: Rgb = [232, 232, 232];

/** Jet-like colour for v in [0,1]. */
function heat(v: number): [number, number, number] {
  const f = (x: number) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - x))));
  return [f(3), f(2), f(1)];
}

/**
 * One picture in the views' light look and type: the face the model saw and its Grad-CAM overlay, the
 * class bars as the cards draw them, then every block's feature maps (dark is quiet, light is active),
 * laid out to fill the picture's width at a size that reads at 1:1.
 */
export function renderExplanation(e: Explanation, scale = 4): Canvas {
  const panel = e.size * scale;
  const pad = 16;
  const barsW = 260;
  const width = 2 * panel + 4 * pad + barsW;
  const inner = width - 2 * pad;
  const captionH = Math.ceil(lineHeight(12)) + 6;
  const headH = Math.ceil(lineHeight(13, "bold")) + 6;
  // Each map at about 64 px (at most 8x its size), as many per row as fit.
  const layouts = e.featureMaps.map((m) => {
    const s = Math.max(1, Math.min(8, Math.floor(64 / m.width)));
    const cell = (m.width + 1) * s;
    const columns = Math.max(1, Math.min(m.shown, Math.floor((inner + s) / cell)));
    const rows = Math.ceil(m.shown / columns);
    return { m, s, cell, columns, height: rows * (m.height + 1) * s - s };
  });
  const top = pad + panel + captionH + pad;
  const height = top + layouts.reduce((a, l) => a + headH + l.height + pad, 0);
  const canvas: Canvas = { data: new Uint8ClampedArray(width * height * 4), width, height };
  fillRect(canvas, 0, 0, width, height, [BACKGROUND, BACKGROUND, BACKGROUND]);
  for (let y = 0; y < panel; y++) {
    for (let x = 0; x < panel; x++) {
      const i = Math.floor(y / scale) * e.size + Math.floor(x / scale);
      const g = Math.round(255 * e.face[i]);
      const [r, gg, b] = heat(e.gradCam[i]);
      fillRect(canvas, pad + x, pad + y, 1, 1, [g, g, g]);
      fillRect(canvas, 2 * pad + panel + x, pad + y, 1, 1, [(g + r) >> 1, (g + gg) >> 1, (g + b) >> 1]);
    }
  }
  drawText(canvas, `What the model sees (${e.size}x${e.size})`, pad, pad + panel + 4, MUTED, 12);
  drawText(canvas, `Where it looks for ${e.label}`, 2 * pad + panel, pad + panel + 4, MUTED, 12);
  // The class bars, as the cards show them.
  const barsX = 3 * pad + 2 * panel;
  const title = `${e.label} ${Math.round(100 * e.probs[e.classIndex])}%`;
  fillRect(canvas, barsX, pad, 6, lineHeight(14, "bold"), LABEL_COLORS[e.label]);
  drawText(canvas, title, barsX + 12, pad, INK, 14, "bold");
  const rowH = 19;
  const trackX = barsX + 80;
  const trackW = barsW - 80 - 42;
  LABELS.forEach((name, i) => {
    const y = pad + lineHeight(14, "bold") + 8 + i * rowH;
    const textY = y + (rowH - lineHeight(12)) / 2;
    drawText(canvas, name, barsX, textY, INK, 12, name === e.label ? "bold" : "regular");
    fillRect(canvas, trackX, y + (rowH - 8) / 2, trackW, 8, TRACK);
    fillRect(canvas, trackX, y + (rowH - 8) / 2, Math.max(1, trackW * e.probs[i]), 8, LABEL_COLORS[name]);
    const value = `${Math.round(100 * e.probs[i])}%`;
    drawText(canvas, value, barsX + barsW - textWidth(value, 12), textY, INK, 12);
  });
  const noteY = pad + lineHeight(14, "bold") + 8 + LABELS.length * rowH + 6;
  wrap("Expression estimates from the pixels of a face, not a reading of feelings.", barsW, 12).forEach(
    (line, k) => drawText(canvas, line, barsX, noteY + k * lineHeight(12), MUTED, 12),
  );
  let y = top;
  for (const { m, s, cell, columns, height: gridH } of layouts) {
    const head = `${m.layer}: ${m.width}x${m.height}, ${m.channels} channels (the ${m.shown} most active)`;
    drawText(canvas, head, pad, y, INK, 13, "bold");
    y += headH;
    for (let n = 0; n < m.shown; n++) {
      const sx = (n % m.columns) * (m.width + 1);
      const sy = Math.floor(n / m.columns) * (m.height + 1);
      const dx = pad + (n % columns) * cell;
      const dy = y + Math.floor(n / columns) * (m.height + 1) * s;
      for (let py = 0; py < m.height * s; py++) {
        for (let px = 0; px < m.width * s; px++) {
          const v = m.grid.data[(sy + Math.floor(py / s)) * m.grid.width + sx + Math.floor(px / s)];
          const o = ((dy + py) * width + dx + px) * 4;
          canvas.data[o] = canvas.data[o + 1] = canvas.data[o + 2] = v;
          canvas.data[o + 3] = 255;
        }
      }
    }
    y += gridH + pad;
  }
  return canvas;
}
