/// <reference lib="dom" />
import { faceCrop } from "../shared/analyzer.ts";
import type { Detection } from "../shared/detector.ts";
import { type Label, LABELS } from "../shared/labels.ts";
import { argmax } from "../shared/metrics.ts";
import { faceInput, type Frame } from "../shared/preprocess.ts";
import { createWebAnalyzer, type WebAnalyzerOptions } from "../shared/web_analyzer.ts";
import { browser } from "./browser.ts";
import { classifyRemote, RemoteError } from "./remote.ts";
import type { Settings } from "./settings.ts";

/** Side of the square face crops sent to the Edge API (never whole frames). */
export const CROP_SIZE = 96;

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

/** The analyzer as extension pages load it: files from the bundle, tfjs wasm without threads. */
export function loadAnalyzer(detector: DetectorName = "blazeface") {
  return createWebAnalyzer({
    wasm: browser.runtime.getURL("wasm/"),
    model: browser.runtime.getURL("models/mien-fer/"),
    blazeface: browser.runtime.getURL("models/blazeface/"),
  }, { detector });
}

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

/**
 * Detect faces on this device and classify them here ("local") or by sending only the face crops
 * to the Edge API ("remote"); after an Edge API failure, classify locally when the settings allow
 * it, and leave the API alone for `retryMs`.
 */
export async function createEngine(
  settings: Settings,
  { retryMs = 10_000, detector = "blazeface" as DetectorName } = {},
) {
  const analyzer = await loadAnalyzer(detector);
  const size = analyzer.model.info.inputSize;
  const margin = analyzer.detector.cropMargin;
  let retryAt = 0;
  let lastProblem: string | undefined;

  async function classifyHere(frame: Frame, detections: Detection[]): Promise<number[][]> {
    const inputs = detections.map((d) => faceInput(frame, size, faceCrop(d.box, margin)));
    return (await analyzer.model.classify(inputs)).map((p) => Array.from(p));
  }

  return {
    analyzer,
    /** Analyse one RGBA image. */
    async analyze(image: ImageData, { maxFaces = 10, minFaceSize = 24 } = {}): Promise<EngineResult> {
      const start = performance.now();
      if (settings.mode === "local") {
        const result = await analyzer.analyze(image, { maxFaces, minFaceSize });
        return {
          faces: result.faces.map((f) => ({
            box: f.box,
            score: f.score,
            label: f.expression.label,
            scores: LABELS.map((l) => f.expression.scores[l]),
          })),
          source: "local",
          ms: performance.now() - start,
        };
      }
      const detections = analyzer.detector.detect(image, { maxFaces, minFaceSize });
      let probs: number[][] | undefined;
      let source: EngineResult["source"] = "remote";
      if (detections.length === 0) probs = [];
      else if (performance.now() >= retryAt) {
        try {
          const crops = await cropBlobs(image, detections.map((d) => d.box), margin);
          probs = await classifyRemote(settings.apiUrl, settings.apiKey, crops);
          lastProblem = undefined;
        } catch (error) {
          if (!(error instanceof RemoteError)) throw error;
          lastProblem = error.message;
          retryAt = performance.now() + retryMs;
        }
      }
      if (!probs) {
        if (!settings.fallback) throw new RemoteError("unreachable", lastProblem ?? "Edge API unavailable");
        probs = await classifyHere(image, detections);
        source = "local";
      }
      return {
        faces: detections.map((d, i) => ({
          box: d.box,
          score: d.score,
          label: LABELS[argmax(probs[i])],
          scores: probs[i],
        })),
        source,
        problem: lastProblem,
        ms: performance.now() - start,
      };
    },
    /** Free the models. */
    dispose: () => analyzer.dispose(),
  };
}

/** An engine as createEngine makes it. */
export type Engine = Awaited<ReturnType<typeof createEngine>>;
