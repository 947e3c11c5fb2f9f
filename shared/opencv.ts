// deno-lint-ignore-file no-explicit-any
/** The opencv.js module object (embind; untyped here on purpose: we use a handful of calls). */
export type OpenCv = any;

let loading: Promise<OpenCv> | undefined;

/**
 * Load @techstark/opencv-js once and wait for its runtime. The module object has a `then` that
 * never settles, so it is returned inside a wrapper and never awaited or resolved directly.
 */
export function loadOpenCv(): Promise<{ cv: OpenCv }> {
  loading ??= (async () => {
    const cv = (await import("@techstark/opencv-js")).default as OpenCv;
    await new Promise<void>((resolve) => {
      if (cv.Mat) resolve();
      else cv.onRuntimeInitialized = () => resolve();
    });
    return { cv };
  })() as Promise<OpenCv>;
  return loading;
}
