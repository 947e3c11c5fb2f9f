/** Messages between the extension's parts (runtime messages, and the content script's port to its frame). */
import type { Box } from "../shared/preprocess.ts";

/** What the popup shows about a tab's overlay (answered by the tab's analyzer frame). */
export interface TabStatus {
  mode: "local" | "remote";
  /** Where the latest faces were classified (remote mode falls back to "local" when allowed). */
  source: "local" | "remote";
  /** Frames analysed per second, over all videos, in the last few seconds. */
  fps: number;
  /** Videos on the page, and faces in the latest results. */
  videos: number;
  faces: number;
  /** Set when a video's frames cannot be read (cross-origin or protected). */
  unreadable: string | null;
  /** Edge API problem (with local classification standing in when allowed). */
  problem: string | null;
  /** Analysis failed altogether. */
  error: string | null;
  /** Analysing a capture of the whole tab instead of reading the videos. */
  tabCapture: boolean;
}

/** Runtime messages: `type` names the request. */
export type RuntimeMessage =
  | { type: "mien:token" }
  | { type: "mien:check"; token: string }
  | { type: "mien:toggle"; tabId: number; on: boolean }
  | { type: "mien:state"; tabId: number }
  | { type: "mien:status"; tabId: number }
  | { type: "mien:session"; tabId: number }
  | { type: "mien:tab-capture"; tabId: number; streamId: string }
  | { type: "mien:stop" };

/** A face as the overlay draws it. */
export interface OverlayFace {
  /** Tracked face number within the tab. */
  face: number;
  /** Box in the analysed frame's pixels. */
  box: Box;
  label: string;
  confidence: number;
}

/** Content script -> frame. `video` -1 stands for a capture of the whole tab. */
export type ToFrame =
  | { type: "frame"; video: number; bitmap: ImageBitmap; mediaTime: number }
  | { type: "videos"; count: number }
  | { type: "unreadable"; reason: string };

/** Frame -> content script. */
export type FromFrame =
  | { type: "ready" }
  | { type: "result"; video: number; mediaTime: number; width: number; height: number; faces: OverlayFace[] }
  | { type: "unreadable"; video: number; reason: string }
  | { type: "capture"; on: boolean };
