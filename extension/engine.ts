/// <reference lib="dom" />
import { faceCrop } from "../shared/analyzer.ts";
import { cropMarginFor, modelInput } from "../shared/align.ts";
import type { Detection } from "../shared/detector.ts";
import { type Label, LABELS } from "../shared/labels.ts";
import { argmax } from "../shared/metrics.ts";
import type { Frame } from "../shared/preprocess.ts";
import * as tfconv from "@tensorflow/tfjs-converter";
import { BLAZEFACE_FILES, createBlazeFaceDetector } from "../shared/detect_blazeface.ts";
import { createVideoAnalyzer, type VideoAnalyzerOptions } from "../shared/video_analyzer.ts";
import {
  createWebAnalyzer,
  warmUp,
  type WebAnalyzerOptions,
  type WebAssets,
} from "../shared/web_analyzer.ts";
import { classifyRemote, RemoteError } from "./remote.ts";
import type { Settings } from "./settings.ts";

/** Side of the square face crops sent to the Edge API (never whole frames): room for any model's input size. */
export const CROP_SIZE = 112;

/** One face found in an image. */
export interface EngineFace {
  box: Detection["box"];
  score: number;
  label: Label;
  /** Probabilities in LABELS order. */
  scores: number[];
}

/** Faces in one image, where they were classified, and any problem with the Edge API. */
export interface EngineResult {
  faces: EngineFace[];
  source: "local" | "remote";
  /** Set when the Edge API failed (and local classification stood in, if allowed). */
  problem?: string;
  ms: number;
}

/** Which BlazeFace: full range (default), or short range for faces near the camera (~4x faster). */
export type DetectorName = NonNullable<WebAnalyzerOptions["detector"]>;

/** The square crops (CROP_SIZE PNGs) that remote mode sends for `boxes` of `image`. */
export function cropBlobs(image: ImageData, boxes: Detection["box"][], margin: number): Promise<Blob[]> {
  const source = new OffscreenCanvas(image.width, image.height);
  source.getContext("2d")!.putImageData(image, 0, 0);
  return Promise.all(boxes.map((box) => {
    const c = faceCrop(box, margin);
    const crop = new OffscreenCanvas(CROP_SIZE, CROP_SIZE);
    crop.getContext("2d")!.drawImage(source, c.x, c.y, c.width, c.height, 0, 0, CROP_SIZE, CROP_SIZE);
    return crop.convertToBlob({ type: "image/png" });
  }));
}

/** Where a batch of faces was classified, their probabilities, and any Edge API problem. */
export interface Classified {
  probs: number[][];
  source: "local" | "remote";
  problem?: string;
}

/**
 * Detect faces on this device and classify them here ("local") or by sending only the face crops
 * to the Edge API ("remote"); after an Edge API failure, classify locally when the settings allow
 * it, and leave the API alone for `retryMs`. `video()` gives a video verb (faces followed between
 * detections, short-range BlazeFace in their regions) that classifies the same way.
 */
export async function createEngine(
  settings: Settings,
  assets: WebAssets,
  { retryMs = 10_000, detector = "blazeface" as DetectorName } = {},
) {
  const analyzer = await createWebAnalyzer(assets, { detector });
  const follow = detector === "blazeface-short" ? analyzer.detector : createBlazeFaceDetector(
    await tfconv.loadGraphModel(`${assets.blazeface}${BLAZEFACE_FILES["blazeface-short"]}`),
  );
  await warmUp(analyzer.model, analyzer.detector === follow ? [follow] : [analyzer.detector, follow]);
  const margin = cropMarginFor(analyzer.detector, analyzer.model.info);
  let retryAt = 0;
  let lastProblem: string | undefined;

  async function classifyHere(frame: Frame, detections: Detection[]): Promise<number[][]> {
    const inputs = detections.map((d) => modelInput(frame, d, analyzer.detector, analyzer.model.info));
    return (await analyzer.model.classify(inputs)).map((p) => Array.from(p));
  }

  /** Classify the detected faces of one RGBA image, here or on the Edge API (see above). */
  async function classify(image: ImageData, detections: Detection[]): Promise<Classified> {
    if (settings.mode === "local" || detections.length === 0) {
      // No face to send: the Edge API's last failure still stands until it is tried again.
      const failing = settings.mode === "remote" && performance.now() < retryAt;
      if (failing && !settings.fallback) throw new RemoteError("unreachable", lastProblem!);
      return {
        probs: await classifyHere(image, detections),
        source: settings.mode === "local" || failing ? "local" : "remote",
        ...(failing ? { problem: lastProblem } : {}),
      };
    }
    if (performance.now() >= retryAt) {
      try {
        const crops = await cropBlobs(image, detections.map((d) => d.box), margin);
        const probs = await classifyRemote(settings.apiUrl, settings.apiKey, crops);
        lastProblem = undefined;
        return { probs, source: "remote" };
      } catch (error) {
        if (!(error instanceof RemoteError)) throw error;
        lastProblem = error.message;
        retryAt = performance.now() + retryMs;
      }
    }
    if (!settings.fallback) throw new RemoteError("unreachable", lastProblem ?? "Edge API unavailable");
    return { probs: await classifyHere(image, detections), source: "local", problem: lastProblem };
  }

  return {
    analyzer,
    classify,
    /** Analyse one RGBA image. */
    async analyze(image: ImageData, { maxFaces = 10, minFaceSize = 24 } = {}): Promise<EngineResult> {
      const start = performance.now();
      const detections = analyzer.detector.detect(image, { maxFaces, minFaceSize });
      const { probs, source, problem } = await classify(image, detections);
      return {
        faces: detections.map((d, i) => ({
          box: d.box,
          score: d.score,
          label: LABELS[argmax(probs[i])],
          scores: probs[i],
        })),
        source,
        problem,
        ms: performance.now() - start,
      };
    },
    /**
     * A video verb for one video: analyzeVideoFrame(image, timeMs) → followed faces; the latest frame's
     * classification source and problem in `last`.
     */
    video(options: Omit<VideoAnalyzerOptions, "model" | "detector" | "regionDetector" | "classify"> = {}) {
      const last: Omit<Classified, "probs"> = { source: settings.mode };
      const verb = createVideoAnalyzer({
        ...options,
        detector: analyzer.detector,
        regionDetector: follow,
        classify: async (frame, detections) => {
          const result = await classify(frame as ImageData, detections);
          last.source = result.source;
          last.problem = result.problem;
          return result.probs;
        },
      });
      return { ...verb, last };
    },
    /** Free the models. */
    dispose() {
      analyzer.dispose();
      if (follow !== analyzer.detector) follow.dispose();
    },
  };
}

/** An engine as createEngine makes it. */
export type Engine = Awaited<ReturnType<typeof createEngine>>;
