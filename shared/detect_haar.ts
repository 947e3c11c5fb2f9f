import type { OpenCv } from "./opencv.ts";
import type { Detection, DetectOptions, FaceDetector } from "./detector.ts";
import { type Frame, resampleGray, toGray } from "./preprocess.ts";

/** URL of the shipped frontal-face Haar cascade (OpenCV, Intel licence header kept in the file). */
export const HAAR_CASCADE_URL = new URL("../models/haarcascade_frontalface_default.xml", import.meta.url);

/** Crop margin for Haar boxes, chosen with `deno task bench:crop` (see the model card). */
export const HAAR_CROP_MARGIN = 0;

let cascadeCount = 0;

/**
 * The Haar-cascade detector (as the course project used) on a grey frame downscaled so that its
 * longer side is at most `detectSize` pixels; boxes are mapped back to frame pixels.
 */
export function createHaarDetector(
  cv: OpenCv,
  cascadeXml: Uint8Array,
  { detectSize = 320, minNeighbors = 4, scaleFactor = 1.1 } = {},
): FaceDetector {
  const file = `haar_${cascadeCount++}.xml`;
  cv.FS_createDataFile("/", file, cascadeXml, true, false, false);
  const classifier = new cv.CascadeClassifier();
  if (!classifier.load(file)) {
    classifier.delete();
    throw new Error("the Haar cascade XML did not load");
  }
  return {
    name: "haar",
    cropMargin: HAAR_CROP_MARGIN,
    detect(frame: Frame, options: DetectOptions = {}): Detection[] {
      const { maxFaces = 10, minFaceSize = 24 } = options;
      const scale = Math.min(1, detectSize / Math.max(frame.width, frame.height));
      const w = Math.max(1, Math.round(frame.width * scale));
      const h = Math.max(1, Math.round(frame.height * scale));
      const small = resampleGray(
        toGray(frame),
        frame.width,
        frame.height,
        {
          x: 0,
          y: 0,
          width: frame.width,
          height: frame.height,
        },
        w,
        h,
      );
      const mat = new cv.Mat(h, w, cv.CV_8UC1);
      const faces = new cv.RectVector();
      const counts = new cv.IntVector();
      try {
        const bytes = mat.data as Uint8Array;
        for (let i = 0; i < small.length; i++) bytes[i] = small[i] + 0.5;
        cv.equalizeHist(mat, mat);
        const min = Math.max(1, Math.round(minFaceSize * scale));
        classifier.detectMultiScale2(mat, faces, counts, scaleFactor, minNeighbors, 0, new cv.Size(min, min));
        const found: Detection[] = [];
        for (let i = 0; i < faces.size(); i++) {
          const r = faces.get(i);
          found.push({
            box: { x: r.x / scale, y: r.y / scale, width: r.width / scale, height: r.height / scale },
            // Neighbour count as confidence: Haar has no probability; 1 - e^(-n/8) maps it to [0,1).
            score: 1 - Math.exp(-counts.get(i) / 8),
          });
        }
        return found.sort((a, b) => b.score - a.score).slice(0, maxFaces);
      } finally {
        mat.delete();
        faces.delete();
        counts.delete();
      }
    },
    dispose() {
      classifier.delete();
    },
  };
}
