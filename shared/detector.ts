import type { Box, Frame } from "./preprocess.ts";

/** The face detectors Mien ships; the first is the default. */
export const DETECTOR_NAMES = ["blazeface", "blazeface-short", "haar"] as const;
/** One of DETECTOR_NAMES. */
export type DetectorName = typeof DETECTOR_NAMES[number];

/** Names of BlazeFace's six face keypoints, in its output order (the person's right eye is on the image's left). */
export const KEYPOINT_NAMES = [
  "rightEye",
  "leftEye",
  "noseTip",
  "mouthCenter",
  "rightEarTragion",
  "leftEarTragion",
] as const;

/** One named face keypoint in frame pixels. */
export interface Keypoint {
  x: number;
  y: number;
  name: typeof KEYPOINT_NAMES[number];
}

/** One detected face: its box in frame pixels, a confidence in [0,1] and, where the detector finds them, keypoints. */
export interface Detection {
  box: Box;
  score: number;
  keypoints?: Keypoint[];
}

/** Limits for one detection call. */
export interface DetectOptions {
  /** Keep at most this many faces, the most confident first (default 10). */
  maxFaces?: number;
  /** Ignore faces smaller than this many pixels (frame scale; default 24). */
  minFaceSize?: number;
  /** Keep faces at least this confident, in [0,1] (default: the detector's own threshold). */
  minScore?: number;
}

/** A face detector over RGBA/grey frames. */
export interface FaceDetector {
  name: string;
  /** Margin per side that makes this detector's boxes frame faces as the training crops do (bench:crop). */
  cropMargin: number;
  detect(frame: Frame, options?: DetectOptions): Detection[];
  dispose(): void;
}
