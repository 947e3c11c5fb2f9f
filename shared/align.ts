import type { Detection } from "./detector.ts";
import { type Box, faceInput, type Frame } from "./preprocess.ts";

/** A point in frame pixels. */
export interface Point {
  x: number;
  y: number;
}

/** The square region the model sees for a face, turned by `angle` radians about its centre. */
export interface FaceCrop {
  box: Box;
  /** Roll of the face: the crop's x axis points this many radians clockwise of the frame's (y down). */
  angle: number;
}

/** The eyes of a detection (the person's right eye is on the image's left), if the detector gave them. */
export function eyesOf(detection: Pick<Detection, "keypoints">): { right: Point; left: Point } | undefined {
  const right = detection.keypoints?.find((k) => k.name === "rightEye");
  const left = detection.keypoints?.find((k) => k.name === "leftEye");
  return right && left ? { right, left } : undefined;
}

/** Roll of a face in radians from its eyes: 0 when level, positive when the image-right eye is lower. */
export function rollOf(eyes: { right: Point; left: Point }): number {
  return Math.atan2(eyes.left.y - eyes.right.y, eyes.left.x - eyes.right.x);
}

/** The square crop for a face box: centred, enlarged by `margin` per side (shrunk when negative). */
export function faceCrop(box: Box, margin: number): Box {
  const side = Math.max(box.width, box.height) * (1 + 2 * margin);
  return {
    x: box.x + box.width / 2 - side / 2,
    y: box.y + box.height / 2 - side / 2,
    width: side,
    height: side,
  };
}

/**
 * The crop the model sees for a detection: the square `faceCrop` of its box, turned by the eyes' roll
 * when `align` is on and the detector found eyes (level eyes in the model's input), else upright.
 */
export function alignedCrop(
  detection: Pick<Detection, "box" | "keypoints">,
  margin: number,
  align: boolean,
): FaceCrop {
  const eyes = align ? eyesOf(detection) : undefined;
  return { box: faceCrop(detection.box, margin), angle: eyes ? rollOf(eyes) : 0 };
}

/** What a model's metadata says about the crops it takes (shared/model.ts ModelInfo). */
export interface CropPolicy {
  inputSize: number;
  align?: boolean;
  extraMargin?: number;
}

/** The crop margin per side for a model's faces from a detector: the detector's, plus the model's own extra. */
export function cropMarginFor(
  detector: { cropMargin: number },
  info: Pick<CropPolicy, "extraMargin">,
): number {
  return detector.cropMargin + (info.extraMargin ?? 0);
}

/**
 * The crop a model takes of a detector's face: the model's margin (or `margin`, which replaces it), turned to
 * level eyes if the model was trained so.
 */
export function modelCrop(
  detection: Pick<Detection, "box" | "keypoints">,
  detector: { cropMargin: number },
  info: CropPolicy,
  margin: number = cropMarginFor(detector, info),
): FaceCrop {
  return alignedCrop(detection, margin, Boolean(info.align));
}

/** A model's input for a detector's face in a frame (modelCrop, resampled to the model's size). */
export function modelInput(
  frame: Frame,
  detection: Pick<Detection, "box" | "keypoints">,
  detector: { cropMargin: number },
  info: CropPolicy,
  margin?: number,
): Float32Array {
  const crop = modelCrop(detection, detector, info, margin);
  return faceInput(frame, info.inputSize, crop.box, crop.angle);
}
