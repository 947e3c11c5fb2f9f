/// <reference lib="webworker" />
/**
 * The tab's analyzer, in a dedicated worker of the analyzer frame: the engine (tfjs wasm, models) and one
 * video verb per video run here, so the frame's thread, which the extension's pages share, stays free for
 * the popup and the options page however busy the analysis is. Frames arrive as their pixels (ImageData, the
 * buffer transferred), one at a time; each gets one answer, in order.
 */
import { LABELS } from "../shared/labels.ts";
import { createEngine, type Engine } from "./engine.ts";
import type { FromWorker, ToWorker } from "./messages.ts";

let engine: Engine | undefined;
const verbs = new Map<number, ReturnType<Engine["video"]>>();
/** Each video's last frame: its time in the video (s) and when it came (ms). */
const lastFrame = new Map<number, { media: number; wall: number }>();
/** A video time that moved this much (ms) more or less than the clock did is a seek or a loop. */
const JUMP_MS = 250;

function reply(message: FromWorker) {
  self.postMessage(message);
}

/** True when every sampled pixel is (nearly) black. */
function isBlack(image: ImageData): boolean {
  for (let i = 0; i < image.data.length; i += 4 * 97) {
    if (image.data[i] > 8 || image.data[i + 1] > 8 || image.data[i + 2] > 8) return false;
  }
  return true;
}

/** Follow the faces of one frame of a video with that video's verb. */
async function analyse(message: Extract<ToWorker, { type: "frame" }>) {
  const { video, image, mediaTime, fullEveryMs } = message;
  const { width, height } = image;
  const answer = {
    type: "result" as const,
    video,
    mediaTime,
    width,
    height,
    black: false,
    problem: null,
  };
  try {
    if (!engine) throw new Error("The analyzer is still loading");
    let verb = verbs.get(video);
    if (!verb) verbs.set(video, verb = engine.video({ halfLifeMs: 500, fullEveryMs }));
    // A seek or a loop is a new scene: its faces are searched for, not followed from where they were (a face
    // found where one just was keeps its number unless the picture changed like a cut).
    const now = performance.now();
    const last = lastFrame.get(video);
    if (last && Math.abs((mediaTime - last.media) * 1000 - (now - last.wall)) > JUMP_MS) verb.newScene();
    lastFrame.set(video, { media: mediaTime, wall: now });
    const result = await verb.analyzeVideoFrame(image, now);
    reply({
      ...answer,
      black: isBlack(image),
      faces: result.faces.map((f) => ({
        track: f.number,
        box: f.box,
        label: f.expression.label,
        scores: LABELS.map((l) => f.expression.scores[l]),
      })),
      source: verb.last.source,
      problem: verb.last.problem ?? null,
      error: null,
    });
  } catch (error) {
    reply({ ...answer, faces: [], source: "local", error: (error as Error).message });
  }
}

// Messages are handled one at a time, in order (a settings change waits for the frame before it).
let queue = Promise.resolve();
self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  queue = queue.then(async () => {
    if (message.type === "frame") return analyse(message);
    const old = engine;
    engine = undefined;
    verbs.clear();
    old?.dispose();
    try {
      engine = await createEngine(message.settings, message.assets);
      reply({ type: "ready" });
    } catch (error) {
      reply({ type: "failed", message: (error as Error).message });
    }
  });
};
