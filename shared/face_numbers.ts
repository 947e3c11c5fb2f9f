/**
 * Face numbers for one video: 1, 2, 3 … in the order faces are confirmed, one per person, the same in every
 * output of the video (rows, chart, drawn video, page, overlay, popup). A face the tracker has just started
 * following gets its number when it is found again after the full detector scored it at least `sureScore`
 * (a photo's threshold; it may miss the face on later searches, which region re-detection bridges), or at
 * once on the first frame of a scene (the start, a cut, a seek: the frame may be all there is, as in a paused
 * video), or once it has been followed for `confirmMs` (a face the detector stays unsure of, as it can be of a
 * small one): a one-frame false detection while faces are followed, or a borderline one followed briefly,
 * takes no number and is not shown, whatever the frame rate. A face that
 * leaves and comes back within `rememberMs`, near where it left and at about its size, with no scene cut in
 * between, takes back its number (after a seek or a loop within the same scene, up to twice as far): that is
 * as far as boxes can tell people apart.
 */
import type { Box } from "./preprocess.ts";

/** Options for createFaceNumbers. */
export interface FaceNumberOptions {
  /** A new face is numbered when found again after the full detector scored it at least this (default 0.6, a
   * photo's threshold)… */
  sureScore?: number;
  /** …or once it has been followed this long, in ms (default 1500). */
  confirmMs?: number;
  /** A face that left keeps its number this long, in ms, should it come back (default 3000). */
  rememberMs?: number;
  /** How near it must come back: centre distance in face widths (default 1). */
  maxShift?: number;
}

/** One followed face in a frame, as the tracker knows it. */
export interface TrackSighting {
  /** The tracker's id for it (internal; reused by nothing else). */
  track: number;
  box: Box;
  /** The full detector's confidence where it found the face in this frame (none: it did not look). */
  fullScore?: number;
  /** Found by a detector in this frame (not moved on from an earlier one). */
  found: boolean;
}

interface Entry {
  number?: number;
  /** Last seen before a seek or a loop (it may come back further from where it was). */
  jumped?: boolean;
  firstSeen: number;
  lastSeen: number;
  box: Box;
  /** Frames it was found in, and whether the full detector was ever sure of it. */
  found: number;
  sure: boolean;
}

const centreDistance = (a: Box, b: Box) =>
  Math.hypot(a.x + a.width / 2 - b.x - b.width / 2, a.y + a.height / 2 - b.y - b.height / 2);

/** Number the faces of one video: see the module comment. */
export function createFaceNumbers(options: FaceNumberOptions = {}) {
  const { sureScore = 0.6, confirmMs = 1500, rememberMs = 3000, maxShift = 1 } = options;
  let tracks = new Map<number, Entry>();
  let next = 1;

  /** The number of a face that left near `box` (at about its size) and is not back, if any. */
  const comeBack = (box: Box, present: Set<number>, timeMs: number): [number, Entry] | undefined => {
    let best: [number, Entry] | undefined;
    let bestDistance = Infinity;
    for (const [track, e] of tracks) {
      if (e.number === undefined || present.has(track) || timeMs - e.lastSeen > rememberMs) continue;
      const ratio = box.width / e.box.width;
      const distance = centreDistance(box, e.box) / Math.max(box.width, e.box.width);
      const limit = e.jumped ? 2 * maxShift : maxShift;
      if (ratio < 0.6 || ratio > 1 / 0.6 || distance > limit || distance >= bestDistance) continue;
      best = [track, e];
      bestDistance = distance;
    }
    return best;
  };

  return {
    /**
     * This frame's numbers, in input order (undefined: not confirmed yet, so not shown); `sceneStart` on the
     * first frame of a scene.
     */
    assign(faces: TrackSighting[], timeMs: number, sceneStart = false): (number | undefined)[] {
      const present = new Set(faces.map((f) => f.track));
      for (const [track, e] of tracks) {
        const gone = !present.has(track);
        if (gone && (e.number === undefined || timeMs - e.lastSeen > rememberMs)) tracks.delete(track);
      }
      const confirmed: { face: TrackSighting; entry: Entry }[] = [];
      for (const face of faces) {
        let entry = tracks.get(face.track);
        if (!entry) {
          const back = comeBack(face.box, present, timeMs);
          if (back) tracks.delete(back[0]);
          entry = {
            number: back?.[1].number,
            firstSeen: timeMs,
            lastSeen: timeMs,
            box: face.box,
            found: 0,
            sure: false,
          };
          tracks.set(face.track, entry);
        }
        if (face.found) entry.found++;
        entry.sure ||= (face.fullScore ?? 0) >= sureScore;
        const sure = entry.sure && (entry.found >= 2 || sceneStart);
        if (entry.number === undefined && (sure || timeMs - entry.firstSeen >= confirmMs)) {
          confirmed.push({ face, entry });
        }
        entry.box = face.box;
        entry.lastSeen = timeMs;
      }
      // Faces confirmed in the same frame are numbered in the order they appeared, then left to right.
      confirmed.sort((a, b) =>
        a.entry.firstSeen - b.entry.firstSeen || a.face.box.x + a.face.box.width / 2 -
          (b.face.box.x + b.face.box.width / 2)
      );
      for (const { entry } of confirmed) entry.number = next++;
      return faces.map((f) => tracks.get(f.track)!.number);
    },
    /**
     * A seek or a loop that shows the same scene: its people are the ones there before, so a face found up to
     * twice as far from where one was (2 x maxShift) takes back its number.
     */
    jump() {
      for (const entry of tracks.values()) entry.jumped = true;
    },
    /** A scene cut: the faces before it are not given back their numbers (boxes cannot tell who is who). */
    cut() {
      tracks = new Map();
    },
    /** A new video: numbers start again from 1. */
    reset() {
      tracks = new Map();
      next = 1;
    },
  };
}
