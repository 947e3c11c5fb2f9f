import { faceCrop, modelInput } from "./align.ts";
import type { Detection, DetectOptions, FaceDetector } from "./detector.ts";
import { type Label, LABELS, scoresRecord } from "./labels.ts";
import { argmax } from "./metrics.ts";
import type { ExpressionModel } from "./model.ts";
import type { Box, Frame } from "./preprocess.ts";

/** Options for createAnalyzer. */
export interface AnalyzerOptions extends DetectOptions {
  model: ExpressionModel;
  detector: FaceDetector;
  /** Share of the face box added on every side before cropping (default: the detector's). */
  cropMargin?: number;
  /** Average each face with its mirror image (2x model work). */
  flip?: boolean;
}

/** One face in a frame. */
export interface FaceResult {
  /** Detector box in frame pixels. */
  box: Box;
  /** Detector confidence in [0,1]. */
  score: number;
  expression: { label: Label; scores: Record<Label, number> };
}

/** What analyze() returns for one frame. */
export interface AnalysisResult {
  faces: FaceResult[];
  width: number;
  height: number;
  timings: { detectMs: number; classifyMs: number; totalMs: number };
}

export { faceCrop };

/** Check that a frame is ImageData-shaped with enough bytes. */
function checkFrame(frame: Frame) {
  const channels = frame.channels ?? 4;
  if (
    !(Number.isInteger(frame.width) && Number.isInteger(frame.height) && frame.width > 0 && frame.height > 0)
  ) {
    throw new RangeError(`frame size must be positive integers, got ${frame.width}x${frame.height}`);
  }
  if (!frame.data || frame.data.length < frame.width * frame.height * channels) {
    throw new RangeError(`frame data is shorter than ${frame.width}x${frame.height}x${channels}`);
  }
}

/** Each detection with its expression, from the model's probabilities for it (in the same order). */
export function faceResults(detections: Detection[], probs: Float32Array[]): FaceResult[] {
  return detections.map((d, i) => ({
    box: d.box,
    score: d.score,
    expression: { label: LABELS[argmax(probs[i])], scores: scoresRecord(probs[i]) },
  }));
}

/** Find faces in a frame, crop each as the model was trained, classify them in one batch. */
export function createAnalyzer(options: AnalyzerOptions) {
  const { model, detector } = options;
  return {
    /** Analyse one RGBA (or grey/RGB with `channels`) frame. */
    async analyze(frame: Frame, overrides: DetectOptions = {}): Promise<AnalysisResult> {
      checkFrame(frame);
      const start = performance.now();
      const detections = detector.detect(frame, {
        maxFaces: overrides.maxFaces ?? options.maxFaces,
        minFaceSize: overrides.minFaceSize ?? options.minFaceSize,
      });
      const detected = performance.now();
      const inputs = detections.map((d) => modelInput(frame, d, detector, model.info, options.cropMargin));
      const probs = await model.classify(inputs, { flip: options.flip });
      const done = performance.now();
      return {
        faces: faceResults(detections, probs),
        width: frame.width,
        height: frame.height,
        timings: { detectMs: detected - start, classifyMs: done - detected, totalMs: done - start },
      };
    },
  };
}
