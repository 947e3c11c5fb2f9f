/**
 * The API's face steps over a held Picture (worker/decoding.ts): faces are detected on its small
 * preview on the event loop, crops are cut where the picture is held, and the model runs on the
 * crops' small inputs.
 */
import { modelCrop } from "../shared/align.ts";
import { type AnalysisResult, faceResults } from "../shared/analyzer.ts";
import type { Detection, DetectOptions, FaceDetector } from "../shared/detector.ts";
import type { ExpressionModel } from "../shared/model.ts";
import type { Picture } from "./decoding.ts";

/**
 * Longest side of the preview faces are detected on. Every shipped detector works at 320 px or less
 * (BlazeFace 256 or 128, Haar 320), so a larger frame loses nothing they would see; a photo up to
 * this size is detected on exactly its own pixels.
 */
export const PREVIEW_SIDE = 640;

/** The detection (box and keypoints) moved from preview pixels to picture pixels, `k` of them per preview pixel. */
function toPicture(detection: Detection, k: number): Detection {
  if (k === 1) return detection;
  const { x, y, width, height } = detection.box;
  return {
    ...detection,
    box: { x: x * k, y: y * k, width: width * k, height: height * k },
    keypoints: detection.keypoints?.map((p) => ({ ...p, x: p.x * k, y: p.y * k })),
  };
}

/** Faces found on a picture's preview, in the picture's pixels (minFaceSize too is in its pixels). */
export function findFaces(
  detector: FaceDetector,
  picture: Picture,
  options: Required<Pick<DetectOptions, "maxFaces" | "minFaceSize">>,
): Detection[] {
  const { preview } = picture;
  const k = Math.max(picture.width, picture.height) / Math.max(preview.width, preview.height);
  return detector.detect(preview, { maxFaces: options.maxFaces, minFaceSize: options.minFaceSize / k })
    .map((detection) => toPicture(detection, k));
}

/** What shared/analyzer.ts's analyze() gives, for a held picture: one batch for the model, timings. */
export async function analyzePicture(
  picture: Picture,
  model: ExpressionModel,
  detector: FaceDetector,
  options: Required<Pick<DetectOptions, "maxFaces" | "minFaceSize">>,
): Promise<AnalysisResult> {
  const start = performance.now();
  const faces = findFaces(detector, picture, options);
  const detected = performance.now();
  // The crops shared/analyzer.ts cuts: turned to level eyes for a model trained so.
  const crops = faces.map((face) => modelCrop(face, detector, model.info));
  const probs = await model.classify(await picture.crops(crops, model.info.inputSize));
  const done = performance.now();
  return {
    faces: faceResults(faces, probs),
    width: picture.width,
    height: picture.height,
    timings: { detectMs: detected - start, classifyMs: done - detected, totalMs: done - start },
  };
}
