/**
 * Decides which video frames to analyse: at most `maxFps`, and never while the previous analysis is
 * still running, so a slow machine skips frames instead of queueing them (the tracker bridges gaps).
 * A frame up to a tenth of an interval early still counts (a 30 fps camera's frames jitter by a
 * millisecond or two around 33.3 ms; refusing those would halve the rate).
 */
export function createFrameGate({ maxFps = 15 } = {}) {
  const interval = 1000 / maxFps;
  let busy = false;
  let lastStart = -Infinity;
  let skipped = 0;
  return {
    /** True (and the gate closes) when a frame arriving at `timeMs` should be analysed. */
    tryStart(timeMs: number): boolean {
      if (busy || timeMs - lastStart < 0.9 * interval) {
        skipped++;
        return false;
      }
      busy = true;
      lastStart = timeMs;
      return true;
    },
    /** Mark the running analysis as finished. */
    finish() {
      busy = false;
    },
    /** Frames skipped so far. */
    get skipped() {
      return skipped;
    },
  };
}
