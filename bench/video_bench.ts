/**
 * `deno task bench:video`: Mien on video, per frame (full detector every frame) against the video verb
 * (faces followed between detections), on a 640x480 one-face call, a 2x2 gallery of four faces with a
 * cut, and ../shared/media's clip. Per entrant and video: median and p90 ms per frame, analysed frames
 * per second, face recall and label agreement against per-frame full-range detection (IoU >= 0.5),
 * identity switches. Writes bench/video_results.json and prints the table.
 */
import { parseArgs } from "node:util";
import { createDenoAnalyzer, loadDetector } from "../cli/deno_analyzer.ts";
import { probeVideo, readFrames, scaledSize } from "../cli/ffmpeg.ts";
import { decodeImage } from "../shared/decode.ts";
import type { Box, Frame } from "../shared/preprocess.ts";
import { createTracker, iou } from "../shared/tracker.ts";
import { createVideoAnalyzer } from "../shared/video_analyzer.ts";
import { compose, paste, patch } from "../tests/synthetic_video.ts";
import { quantile } from "./stats.ts";

const HELP = `Usage: deno task bench:video [--frames N] [--media DIR] [--json FILE]

  --frames N    frames per synthetic video (default 150, at 30 fps)
  --media DIR   folder with short_hamilton_clip.mp4 (default ../shared/media; skipped if absent)
  --json FILE   results file (default bench/video_results.json)`;

const ROOT = new URL("../", import.meta.url);

/** What one entrant reports per video. */
interface Figures {
  entrant: string;
  video: string;
  frames: number;
  medianMs: number;
  p90Ms: number;
  fps: number;
  recall: number;
  labelAgreement: number;
  identitySwitches: number;
}

/** One frame's faces as an entrant sees them. */
interface Seen {
  box: Box;
  label: string;
  id: number;
}

/** The synthetic call videos: faces from face-api's demo photos, drifting as people in calls do. */
async function syntheticVideos(count: number): Promise<Record<string, Frame[]>> {
  const detector = await loadDetector("blazeface");
  const faces: Frame[] = [];
  for (const name of ["sample2.jpg", "sample3.jpg", "sample4.jpg"]) {
    const photo = await decodeImage(
      await Deno.readFile(new URL(`node_modules/@vladmandic/face-api/demo/${name}`, ROOT)),
    );
    for (const d of detector.detect(photo)) faces.push(patch(photo, d.box, 220));
  }
  detector.dispose();
  const small = faces.map((f) => ({ ...f, ...shrinkTo(f, 150) }));
  const one = Array.from({ length: count }, (_, i) => {
    return compose([[faces[0], 210 + 40 * Math.sin(i / 20), 110 + 15 * Math.sin(i / 13)]], 96);
  });
  const four = Array.from({ length: count }, (_, i) => {
    const frame = compose([], 96);
    for (let k = 0; k < 4; k++) {
      // Tile 3 switches to another person halfway (a cut in that tile).
      const face = small[k === 3 && i >= count / 2 ? 5 : k];
      paste(
        frame,
        face,
        (k % 2) * 320 + 85 + 10 * Math.sin(i / 15 + k),
        Math.floor(k / 2) * 240 + 45 + 6 * Math.cos(i / 11 + k),
      );
    }
    return frame;
  });
  return { "1 face, 640x480": one, "4 faces, 640x480": four };
}

function shrinkTo(f: Frame, side: number): Frame {
  return patch(f, { x: f.width / 4, y: f.height / 4, width: f.width / 2, height: f.height / 2 }, side);
}

/** The clip's frames at 640 px (decoded once, kept in memory for equal timing of every entrant). */
async function clipFrames(media: string): Promise<Frame[] | null> {
  const path = `${media}/short_hamilton_clip.mp4`;
  try {
    await Deno.stat(path);
  } catch {
    return null;
  }
  const frames: Frame[] = [];
  for await (const frame of readFrames(path, scaledSize(await probeVideo(path), 640))) {
    frames.push({ ...frame, data: frame.data.slice() }); // readFrames reuses its buffer
  }
  return frames;
}

/** Compare an entrant's faces with the reference per frame: recall, label agreement, identity switches. */
function score(reference: Seen[][], seen: Seen[][]) {
  let total = 0;
  let found = 0;
  let agree = 0;
  let switches = 0;
  const lastId = new Map<number, number>();
  reference.forEach((ref, i) => {
    for (const r of ref) {
      total++;
      const best = seen[i].map((s) => ({ s, o: iou(s.box, r.box) })).sort((a, b) => b.o - a.o)[0];
      if (!best || best.o < 0.5) continue;
      found++;
      if (best.s.label === r.label) agree++;
      const before = lastId.get(r.id);
      if (before !== undefined && before !== best.s.id) switches++;
      lastId.set(r.id, best.s.id);
    }
  });
  return {
    recall: total ? found / total : 1,
    labelAgreement: found ? agree / found : 1,
    identitySwitches: switches,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      frames: { type: "string", default: "150" },
      media: { type: "string", default: new URL("../shared/media", ROOT).pathname },
      json: { type: "string", default: new URL("bench/video_results.json", ROOT).pathname },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  const videos = await syntheticVideos(Number(values.frames));
  const clip = await clipFrames(values.media!);
  if (clip) videos["clip (640x360)"] = clip;
  else console.warn(`no short_hamilton_clip.mp4 in ${values.media}: the clip row is skipped`);

  const perFrame = await createDenoAnalyzer({ detector: "blazeface" });
  const regionDetector = await loadDetector("blazeface-short");
  const results: Figures[] = [];
  for (const [name, frames] of Object.entries(videos)) {
    const dt = 1000 / 30;
    // Reference and the "per frame" entrant: the full pipeline on every frame, tracked for identities.
    const tracker = createTracker({ halfLifeMs: 400 });
    const reference: Seen[][] = [];
    const fullTimes: number[] = [];
    await perFrame.analyze(frames[0]);
    for (const [i, frame] of frames.entries()) {
      const t0 = performance.now();
      const r = await perFrame.analyze(frame);
      const tracks = tracker.update(
        r.faces.map((f) => ({ box: f.box, scores: Object.values(f.expression.scores) })),
        i * dt,
      );
      fullTimes.push(performance.now() - t0);
      reference.push(r.faces.map((f, k) => ({ box: f.box, label: f.expression.label, id: tracks[k].id })));
    }
    const video = createVideoAnalyzer({ model: perFrame.model, detector: perFrame.detector, regionDetector });
    const verbTimes: number[] = [];
    const seen: Seen[][] = [];
    for (const [i, frame] of frames.entries()) {
      const t0 = performance.now();
      const r = await video.analyzeVideoFrame(frame, i * dt);
      verbTimes.push(performance.now() - t0);
      seen.push(r.faces.map((f) => ({ box: f.box, label: f.expression.label, id: f.id })));
    }
    const figures = (entrant: string, times: number[], s: ReturnType<typeof score>): Figures => ({
      entrant,
      video: name,
      frames: frames.length,
      medianMs: quantile(times, 0.5),
      p90Ms: quantile(times, 0.9),
      fps: 1000 / (times.reduce((a, b) => a + b, 0) / times.length),
      ...s,
    });
    results.push(figures("mien per frame", fullTimes, score(reference, reference)));
    results.push(figures("mien video", verbTimes, score(reference, seen)));
    console.error(`${name}: done`);
  }
  perFrame.dispose();
  regionDetector.dispose();
  await Deno.writeTextFile(values.json!, JSON.stringify(results, null, 2) + "\n");
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  console.log("| video | entrant | median ms | p90 ms | frames/s | recall | label agreement | id switches |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.video} | ${r.entrant} | ${r.medianMs.toFixed(1)} | ${r.p90Ms.toFixed(1)} | ${
        r.fps.toFixed(1)
      } | ${pct(r.recall)} | ${pct(r.labelAgreement)} | ${r.identitySwitches} |`,
    );
  }
  for (const name of Object.keys(videos)) {
    const [a, b] = ["mien per frame", "mien video"].map((e) =>
      results.find((r) => r.video === name && r.entrant === e)!
    );
    console.log(`${name}: video verb ${(b.fps / a.fps).toFixed(2)}x the per-frame rate`);
  }
}
