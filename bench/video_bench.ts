/**
 * `deno task bench:video`: Mien's video verb (faces followed between detections) against Mien per frame
 * (full detector on every frame), Human in its video mode and per frame, and face-api.js per frame, on a
 * 640x480 one-face call, a 2x2 gallery of four faces with a cut in one tile, a face panning across the
 * frame in 1 s, and ../shared/media's clip. Per entrant and video: median and p90 ms per frame, analysed
 * frames per second, recall of the faces per-frame full-range detection finds, extra faces, label agreement
 * with the library's own per-frame pipeline, identity switches and identities, and where the boxes are
 * (mean IoU, share under 0.5, largest centre error). Writes bench/video_results.json and prints the tables.
 */
import { parseArgs } from "node:util";
import { createDenoAnalyzer, loadDetector } from "../runtime/deno_analyzer.ts";
import { probeVideo, readFrames, scaledSize } from "../cli/ffmpeg.ts";
import { decodeImage } from "../shared/decode.ts";
import { LABELS } from "../shared/labels.ts";
import { argmax } from "../shared/metrics.ts";
import type { Box, Frame } from "../shared/preprocess.ts";
import { createTracker, iou, matchInOrder } from "../shared/tracker.ts";
import { createVideoAnalyzer } from "../shared/video_analyzer.ts";
import { compose, paste, patch } from "../tests/synthetic_video.ts";
import { rgbaPixels } from "./peers/peer.ts";
import { runPeer, type VideoManifest } from "./peers/run_peer.ts";
import { quantile } from "./stats.ts";

const HELP = `Measure video analysis: Mien following faces between detections against Mien, Human and
face-api.js per frame, on a synthetic call, a 2x2 gallery, a face panning across the frame in 1 s and
../shared/media's clip (ms per frame, frames per second, recall, extra faces, label agreement, identity
switches, and box quality against the full-range detector on every frame: mean IoU, share under 0.5,
largest centre error).

Usage: deno task bench:video [--frames N] [--media DIR] [--json FILE] [--no-peers]

  --frames N    frames per synthetic video (default 150, at 30 fps)
  --media DIR   folder with short_hamilton_clip.mp4 and obama.jpg (default ../shared/media; the clip
                is skipped and the pan uses a face-api demo face if absent)
  --json FILE   results file (default bench/video_results.json)
  --no-peers    Mien's rows only (Human and face-api run in their own processes otherwise)
  -h, --help    show this help`;

const ROOT = new URL("../", import.meta.url);

/** What one entrant reports per video. */
interface Figures {
  entrant: string;
  video: string;
  frames: number;
  medianMs: number;
  p90Ms: number;
  fps: number;
  /** Reference faces found with IoU >= 0.5 (meaningful for Mien, whose boxes follow the reference's convention). */
  recall: number;
  /** Reference faces found, each box's centre inside the other (any library's box convention). */
  recallCentres: number;
  /** Mean faces reported per frame (1 and 4 on the synthetic videos; real faces the reference misses count too). */
  facesPerFrame: number;
  /** Top label equal to the same library's per-frame pipeline on the same face (null for per-frame entrants). */
  labelAgreement: number | null;
  /** Changes of identity on a reference face (entrants without identities get Mien's tracker). */
  identitySwitches: number;
  /** Distinct identities reported over the video. */
  identities: number;
  /** Box quality against the reference, over its faces paired with a box (see boxQuality). */
  meanIoU: number;
  lowIoU: number;
  maxCentreError: number;
}

/** One frame's faces as an entrant sees them. */
interface Seen {
  box: Box;
  label: string;
  id: number;
}

const ENTRANTS = ["mien per frame", "mien video", "human per frame", "human video", "face-api per frame"];
/** Peer entrants: process id for bench/peers/run_peer.ts, and whose per-frame labels they are compared with. */
const PEERS: Record<string, { peer: string; perFrame?: string }> = {
  "human per frame": { peer: "human" },
  "human video": { peer: "human-video", perFrame: "human per frame" },
  "face-api per frame": { peer: "face-api" },
};

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

/**
 * A face panning across a 640x480 frame and back, each way in 1 s (up to 27 px a frame at 30 fps, slowing
 * at the edges as a moving head does): the face of ../shared/media's obama.jpg where present (a face-api
 * demo face otherwise), made here each run.
 */
async function fastVideo(count: number, media: string): Promise<Frame[]> {
  const detector = await loadDetector("blazeface");
  const file = `${media}/obama.jpg`;
  const bytes = await Deno.readFile(file).catch(() =>
    Deno.readFile(new URL("node_modules/@vladmandic/face-api/demo/sample3.jpg", ROOT))
  );
  const photo = await decodeImage(bytes);
  const face = patch(photo, detector.detect(photo)[0].box, 200);
  detector.dispose();
  return Array.from({ length: count }, (_, i) => {
    const x = 220 - 260 * Math.cos((Math.PI * i) / 30);
    return compose([[face, x, 140 + 20 * Math.sin(i / 9)]], 96);
  });
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

const centre = (b: Box) => [b.x + b.width / 2, b.y + b.height / 2];
const inside = ([x, y]: number[], b: Box) =>
  x >= b.x && x <= b.x + b.width && y >= b.y && y <= b.y + b.height;
/** Whether two boxes are one face: IoU >= 0.5, or (`centres`) each box's centre inside the other. */
function sameFace(a: Box, b: Box, centres: boolean): boolean {
  return centres ? inside(centre(a), b) && inside(centre(b), a) : iou(a, b) >= 0.5;
}

/** For each face of `ref`, the face of `seen` that is the same face (best IoU first), or undefined. */
function pair(ref: Seen[], seen: Seen[], centres: boolean): (Seen | undefined)[] {
  return ref.map((r) =>
    seen.filter((s) => sameFace(s.box, r.box, centres)).sort((a, b) =>
      iou(b.box, r.box) - iou(a.box, r.box)
    )[0]
  );
}

/**
 * Where an entrant's boxes are, against the reference's: each reference face is paired with the entrant's
 * box nearest its centre (one each, nearest pairs first) if that centre lies within 1.5 face widths of it;
 * over the pairs, the mean IoU, the share with IoU < 0.5 and the largest centre error in reference face
 * widths. A box left on the neck or drifting off a face pairs with it and counts; faces with no box near
 * them are what recall counts.
 */
function boxQuality(reference: Seen[][], seen: Seen[][]) {
  const ious: number[] = [];
  let maxCentreError = 0;
  reference.forEach((ref, i) => {
    const pairs = ref.flatMap((r, a) =>
      seen[i].map((s, b) => {
        const [rx, ry] = centre(r.box);
        const [sx, sy] = centre(s.box);
        return { a, b, error: Math.hypot(rx - sx, ry - sy) / r.box.width };
      })
    ).filter((p) => p.error <= 1.5).sort((p, q) => p.error - q.error);
    for (const { a, b, error } of matchInOrder(pairs)) {
      ious.push(iou(ref[a].box, seen[i][b].box));
      maxCentreError = Math.max(maxCentreError, error);
    }
  });
  return {
    meanIoU: ious.length ? ious.reduce((x, y) => x + y, 0) / ious.length : 0,
    lowIoU: ious.length ? ious.filter((v) => v < 0.5).length / ious.length : 0,
    maxCentreError,
  };
}

/** Identities for faces seen without them: Mien's tracker over the boxes, as the per-frame reference gets. */
function withIds(frames: { box: Box; label: string }[][], dtMs: number): Seen[][] {
  const tracker = createTracker({ halfLifeMs: 400 });
  return frames.map((faces, i) => {
    const tracks = tracker.update(faces.map((f) => ({ box: f.box, scores: [] })), i * dtMs);
    return faces.map((f, k) => ({ ...f, id: tracks[k].id }));
  });
}

/**
 * Score an entrant against the reference (Mien per frame) and, for labels, against `own` (its library's
 * per-frame pipeline; none for per-frame entrants).
 */
function score(reference: Seen[][], seen: Seen[][], own: Seen[][] | null, centres: boolean) {
  let total = 0;
  let found = 0;
  let foundCentres = 0;
  let reported = 0;
  let switches = 0;
  let compared = 0;
  let agree = 0;
  const lastId = new Map<number, number>();
  reference.forEach((ref, i) => {
    total += ref.length;
    found += pair(ref, seen[i], false).filter(Boolean).length;
    const matched = pair(ref, seen[i], true);
    foundCentres += matched.filter(Boolean).length;
    reported += seen[i].length;
    matched.forEach((s, k) => {
      if (!s) return;
      const before = lastId.get(ref[k].id);
      if (before !== undefined && before !== s.id) switches++;
      lastId.set(ref[k].id, s.id);
    });
    if (own) {
      pair(own[i], seen[i], centres).forEach((s, k) => {
        if (!s) return;
        compared++;
        if (s.label === own[i][k].label) agree++;
      });
    }
  });
  return {
    recall: total ? found / total : 1,
    recallCentres: total ? foundCentres / total : 1,
    facesPerFrame: reported / reference.length,
    labelAgreement: own ? (compared ? agree / compared : 1) : null,
    identitySwitches: switches,
    identities: new Set(seen.flat().map((s) => s.id)).size,
  };
}

/** Each peer entrant's faces and ms per frame on every video, each peer library in its own process. */
async function runPeers(videos: Record<string, Frame[]>) {
  const dir = await Deno.makeTempDir({ prefix: "mien-bench-video-" });
  try {
    const manifest: VideoManifest = { videos: [] };
    for (const [name, frames] of Object.entries(videos)) {
      const file = `${dir}/${manifest.videos.length}.rgba`;
      using out = await Deno.open(file, { write: true, create: true });
      for (const f of frames) await out.write(rgbaPixels(f).data);
      manifest.videos.push({
        name,
        file,
        width: frames[0].width,
        height: frames[0].height,
        frames: frames.length,
      });
    }
    await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(manifest));
    const runs: Record<string, Record<string, { ms: number[]; faces: { box: Box; label: string }[][] }>> = {};
    for (const [entrant, { peer }] of Object.entries(PEERS)) {
      const result = await runPeer(peer, "video", ["--manifest", `${dir}/manifest.json`]);
      const list = result.videos as { name: string; ms: number[]; faces: { box: Box; label: string }[][] }[];
      runs[entrant] = Object.fromEntries(list.map((v) => [v.name, v]));
    }
    return runs;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      frames: { type: "string", default: "150" },
      media: { type: "string", default: new URL("../shared/media", ROOT).pathname },
      json: { type: "string", default: new URL("bench/video_results.json", ROOT).pathname },
      "no-peers": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  const videos = await syntheticVideos(Number(values.frames));
  videos["fast pan, 640x480"] = await fastVideo(Number(values.frames), values.media!);
  const clip = await clipFrames(values.media!);
  if (clip) videos["clip (640x360)"] = clip;
  else console.warn(`no short_hamilton_clip.mp4 in ${values.media}: the clip row is skipped`);

  const peers = values["no-peers"] ? {} : await runPeers(videos);

  const perFrame = await createDenoAnalyzer({ detector: "blazeface" });
  const regionDetector = await loadDetector("blazeface-short");
  const results: Figures[] = [];
  const dt = 1000 / 30;
  for (const [name, frames] of Object.entries(videos)) {
    // Reference and the "mien per frame" entrant: the full pipeline on every frame, tracked (identities,
    // smoothed labels) as the video paths did before the video verb.
    const tracker = createTracker({ halfLifeMs: 400 });
    const runs: Record<string, { ms: number[]; seen: Seen[][] }> = {};
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
      reference.push(
        r.faces.map((f, k) => ({ box: f.box, label: LABELS[argmax(tracks[k].scores)], id: tracks[k].id })),
      );
    }
    runs["mien per frame"] = { ms: fullTimes, seen: reference };
    const video = createVideoAnalyzer({ model: perFrame.model, detector: perFrame.detector, regionDetector });
    runs["mien video"] = { ms: [], seen: [] };
    for (const [i, frame] of frames.entries()) {
      const t0 = performance.now();
      const r = await video.analyzeVideoFrame(frame, i * dt);
      runs["mien video"].ms.push(performance.now() - t0);
      runs["mien video"].seen.push(
        r.faces.map((f) => ({ box: f.box, label: f.expression.label, id: f.number })),
      );
    }
    for (const [entrant, byVideo] of Object.entries(peers)) {
      runs[entrant] = { ms: byVideo[name].ms, seen: withIds(byVideo[name].faces, dt) };
    }
    for (const entrant of ENTRANTS.filter((e) => runs[e])) {
      const { ms, seen } = runs[entrant];
      const own = entrant === "mien video" ? reference : runs[PEERS[entrant]?.perFrame ?? ""]?.seen ?? null;
      results.push({
        entrant,
        video: name,
        frames: frames.length,
        medianMs: quantile(ms, 0.5),
        p90Ms: quantile(ms, 0.9),
        fps: 1000 / (ms.reduce((a, b) => a + b, 0) / ms.length),
        ...score(reference, seen, own, entrant in PEERS),
        ...boxQuality(reference, seen),
      });
    }
    console.error(`${name}: done`);
  }
  perFrame.dispose();
  regionDetector.dispose();
  await Deno.writeTextFile(values.json!, JSON.stringify(results, null, 2) + "\n");
  printTable(results, Object.keys(videos));
}

/** The README's table and the speed ratios. */
function printTable(results: Figures[], videos: string[]) {
  const pct = (v: number | null) => (v === null ? "—" : `${(100 * v).toFixed(1)}%`);
  console.log(
    "| video | entrant | median ms | p90 ms | frames/s | recall (IoU ≥ 0.5) | recall (centres) | faces/frame | " +
      "label agreement | id switches | identities |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.video} | ${r.entrant} | ${r.medianMs.toFixed(1)} | ${r.p90Ms.toFixed(1)} | ${
        r.fps.toFixed(1)
      } | ` +
        `${pct(r.recall)} | ${pct(r.recallCentres)} | ${r.facesPerFrame.toFixed(2)} | ${
          pct(r.labelAgreement)
        } | ` +
        `${r.identitySwitches} | ${r.identities} |`,
    );
  }
  console.log("\nBox quality against the full-range detector on every frame (Mien per frame):\n");
  console.log("| video | entrant | mean IoU | IoU < 0.5 | largest centre error (face widths) |");
  console.log("|---|---|---|---|---|");
  for (const r of results.filter((r) => r.entrant !== "mien per frame")) {
    console.log(
      `| ${r.video} | ${r.entrant} | ${r.meanIoU.toFixed(3)} | ${pct(r.lowIoU)} | ${
        r.maxCentreError.toFixed(2)
      } |`,
    );
  }
  for (const name of videos) {
    const fps = (entrant: string) => results.find((r) => r.video === name && r.entrant === entrant)?.fps;
    const verb = fps("mien video")!;
    const against = ["mien per frame", "human video", "human per frame", "face-api per frame"]
      .filter((e) => fps(e))
      .map((e) => `${(verb / fps(e)!).toFixed(2)}x ${e}`);
    console.log(`${name}: mien video runs at ${against.join(", ")}`);
  }
}
