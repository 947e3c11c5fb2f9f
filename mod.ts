/**
 * Mien in Deno: `const mien = await load()`, then `mien.analyze(frame)` for the faces and expressions in a
 * frame (numbered 1, 2, … from left to right, as every view numbers them), `mien.classify(face)` for one face image, `mien.createVideoAnalyzer()` to follow faces through video.
 * Frames are ImageData-shaped; `decodeImage(bytes)` makes one from a PNG, JPEG, WebP or BMP file.
 *
 * @module
 */
import type { AnalysisResult, AnalyzerOptions, FaceResult } from "./shared/analyzer.ts";
import type { DetectOptions, DetectorName } from "./shared/detector.ts";
import { type Label, LABELS, scoresRecord } from "./shared/labels.ts";
import { argmax } from "./shared/metrics.ts";
import { BUNDLED_MODELS, type ModelChoice } from "./shared/model.ts";
import { type Box, faceInput, type Frame } from "./shared/preprocess.ts";
import { numberFaces } from "./shared/view_faces.ts";
import {
  createVideoAnalyzer,
  type VideoAnalyzerOptions,
  type VideoFrameResult,
} from "./shared/video_analyzer.ts";
import { createDenoAnalyzer, loadDetector } from "./runtime/deno_analyzer.ts";

/** The seven expression names, in the order of every list of probabilities. */
export { type Label, LABELS } from "./shared/labels.ts";
/** Decode a PNG, JPEG, WebP or BMP file's bytes into an RGBA frame. */
export { decodeImage } from "./shared/decode.ts";
/** An ImageData-shaped frame, and a box in its pixels. */
export type { Box, Frame } from "./shared/preprocess.ts";
/** What analyze() returns: each face's box, detector confidence and expression. */
export type { AnalysisResult, FaceResult } from "./shared/analyzer.ts";
/** The names of the bundled models: "small" and "large". */
export type { ModelChoice } from "./shared/model.ts";
/** Per-call detection limits, and the names of the face detectors. */
export type { DetectOptions, DetectorName } from "./shared/detector.ts";
/** What a video analyzer returns for each frame: followed faces with identities and smoothed expressions. */
export type { VideoFace, VideoFrameResult } from "./shared/video_analyzer.ts";

/** A face as analyze() returns it: its number (1, 2, … from left to right), box, confidence and expression. */
export type NumberedFace = FaceResult & { number: number };

/** What analyze() returns: the frame's size, its faces from left to right, and the time each step took. */
export type Analysis = Omit<AnalysisResult, "faces"> & { faces: NumberedFace[] };

/** An expression: the most likely label and the seven probabilities. */
export interface Expression {
  label: Label;
  scores: Record<Label, number>;
}

/** Options for load(): the face detector, the model, and the analyzer's defaults. */
export interface LoadOptions extends Partial<Omit<AnalyzerOptions, "model" | "detector">> {
  /** "blazeface" (default), "blazeface-short" (faces near the camera, faster) or "haar" (OpenCV, photos only). */
  detector?: DetectorName;
  /** "small" (default: mien-fer, the extension's) or "large" (mien-fer-large: twice the work, the more accurate). */
  model?: ModelChoice;
  /** A model.json other than the bundled ones (instead of `model`). */
  modelUrl?: string | URL;
}

/** Options for createVideoAnalyzer(): how often to search, classify and smooth (see shared/video_analyzer.ts). */
export type VideoOptions = Omit<VideoAnalyzerOptions, "model" | "detector" | "regionDetector" | "classify">;

/** Follows faces through the frames of one video. */
export interface VideoAnalyzer {
  /** The followed faces in the next frame, `timeMs` its time in the video. */
  analyzeVideoFrame(frame: Frame, timeMs: number): Promise<VideoFrameResult>;
  /** Forget every face (a new video). */
  reset(): void;
}

/** A loaded Mien: the verbs, and dispose() to free the model and detectors. */
export interface Mien {
  /** Find the faces in a frame and estimate each one's expression; faces are numbered from left to right. */
  analyze(frame: Frame, options?: DetectOptions): Promise<Analysis>;
  /** The expression of a face image already cropped to the face (or of `box` within the frame). */
  classify(face: Frame, box?: Box): Promise<Expression>;
  /** Start following faces through a video (BlazeFace detectors only). */
  createVideoAnalyzer(options?: VideoOptions): VideoAnalyzer;
  /** Free the model and the detectors. */
  dispose(): void;
}

/** Start tfjs on wasm in Deno, then load a bundled expression model (the small one unless asked) and the face detectors. */
export async function load(options: LoadOptions = {}): Promise<Mien> {
  const [analyzer, follower] = await Promise.all([
    createDenoAnalyzer({
      ...options,
      modelUrl: options.modelUrl ?? BUNDLED_MODELS[options.model ?? "small"],
    }),
    loadDetector("blazeface-short"),
  ]);
  const { model, detector } = analyzer;
  return {
    async analyze(frame, detectOptions) {
      const result = await analyzer.analyze(frame, detectOptions);
      return { ...result, faces: numberFaces(result.faces) };
    },
    async classify(face, box) {
      const [probs] = await model.classify([faceInput(face, model.info.inputSize, box)]);
      return { label: LABELS[argmax(probs)], scores: scoresRecord(probs) };
    },
    createVideoAnalyzer(videoOptions = {}) {
      if (options.detector === "haar") throw new TypeError("video follows faces with BlazeFace, not haar");
      return createVideoAnalyzer({ ...videoOptions, model, detector, regionDetector: follower });
    },
    dispose() {
      analyzer.dispose();
      follower.dispose();
    },
  };
}
