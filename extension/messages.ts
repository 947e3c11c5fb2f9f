/** Messages between the extension's parts (runtime messages, and the content script's port to its frame). */
import type { Label } from "../shared/labels.ts";
import type { Box } from "../shared/preprocess.ts";
import type { WebAssets } from "../shared/web_analyzer.ts";
import type { Settings } from "./settings.ts";

/** What the popup shows about a tab's overlay (answered by the tab's analyzer frame). */
export interface TabStatus {
  mode: "local" | "remote";
  /** Where the latest faces were classified (remote mode falls back to "local" when allowed). */
  source: "local" | "remote";
  /** Frames analysed per second, over all videos, in the last few seconds. */
  fps: number;
  /** Frames analysed per second and video (the videos analysed in the last few seconds), and the slowest video's. */
  perVideo: number;
  slowestVideo: number;
  /** The tab's budget: frames analysed per second, shared by its videos. */
  budget: number;
  /** Videos on the page, and faces seen in them in the last two seconds. */
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
  | { type: "mien:clear-session"; tabId: number }
  | { type: "mien:tab-capture"; tabId: number; streamId: string }
  /** The analyzer frame's kept copy of its tab's session, in the background's care: read, replaced, removed. */
  | { type: "mien:kept-session"; op: "get" | "set" | "remove"; session?: unknown }
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

/** What the popup asks a tab's analyzer, through the tab's content script. */
export type Question =
  | { question: "status" }
  | { question: "session" }
  | { question: "clear-session" }
  | { question: "tab-capture"; streamId: string };

/** Content script -> frame. `video` -1 stands for a capture of the whole tab. */
export type ToFrame =
  | {
    type: "frame";
    video: number;
    bitmap: ImageBitmap;
    /** The video's time when the frame was taken (s), as its player shows it. */
    mediaTime: number;
    /** When that frame shows in the video (s): its presentation time where the browser tells, else mediaTime. */
    frameTime: number;
    /** The video's pixels per bitmap pixel, and one frame's duration (s) where the browser tells. */
    scale: number;
    frameS: number | null;
    /** The video's own size (its pixels): session boxes are clipped to it. */
    size: { width: number; height: number };
  }
  | ({ type: "ask"; id: number } & Question)
  /** The page's videos, in page order (as first found). */
  | { type: "videos"; ids: number[] }
  | { type: "unreadable"; reason: string };

/** Which frame a result is about: its video (-1: a capture of the tab), time in the video and size. */
export interface AnalysedFrame {
  video: number;
  mediaTime: number;
  width: number;
  height: number;
}

/** Frame -> content script. `config` carries only what the page side needs (never the API key). */
export type FromFrame =
  | { type: "ready" }
  | { type: "config"; budget: number }
  | AnalysedFrame & {
    type: "result";
    faces: OverlayFace[];
    /** Shown on the video when the analysis fails or the Edge API does (what the popup says, in short). */
    notice?: string;
  }
  | { type: "unreadable"; video: number; reason: string }
  | { type: "capture"; on: boolean }
  | { type: "answer"; id: number; value: unknown };

/** Frame -> its analyzer worker. */
export type ToWorker =
  | { type: "start"; settings: Settings; assets: WebAssets }
  | { type: "frame"; video: number; image: ImageData; mediaTime: number; fullEveryMs: number };

/** A followed face as the worker reports it: its number in that video, box and smoothed expression. */
export interface WorkerFace {
  track: number;
  box: Box;
  label: Label;
  /** Smoothed probabilities, LABELS order. */
  scores: number[];
}

/** Analyzer worker -> its frame: one answer per frame (in order), or that the engine failed to load. */
export type FromWorker =
  | { type: "ready" }
  | { type: "failed"; message: string }
  | AnalysedFrame & {
    type: "result";
    faces: WorkerFace[];
    /** Every sampled pixel (nearly) black: protected playback, perhaps. */
    black: boolean;
    source: "local" | "remote";
    problem: string | null;
    /** The frame could not be analysed. */
    error: string | null;
  };

const isTabId = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;

/** A runtime message of ours with well-typed fields, or null for anything else. */
export function parseRuntimeMessage(raw: unknown): RuntimeMessage | null {
  if (!raw || typeof raw !== "object") return null;
  const m = raw as Record<string, unknown>;
  switch (m.type) {
    case "mien:token":
    case "mien:stop":
      return m as RuntimeMessage;
    case "mien:check":
      return typeof m.token === "string" && m.token.length <= 64 ? m as RuntimeMessage : null;
    case "mien:toggle":
      return isTabId(m.tabId) && typeof m.on === "boolean" ? m as RuntimeMessage : null;
    case "mien:state":
    case "mien:status":
    case "mien:session":
    case "mien:clear-session":
      return isTabId(m.tabId) ? m as RuntimeMessage : null;
    case "mien:tab-capture":
      return isTabId(m.tabId) && typeof m.streamId === "string" ? m as RuntimeMessage : null;
    case "mien:kept-session":
      return ["get", "remove"].includes(m.op as string) ||
          (m.op === "set" && !!m.session && typeof m.session === "object")
        ? m as RuntimeMessage
        : null;
    default:
      return null;
  }
}

/** Whether a runtime message came from one of this extension's own pages (popup, options, frame), not a content script. */
export function fromExtensionPage(sender: { id?: string; url?: string }, extensionId: string): boolean {
  return sender.id === extensionId && /^(chrome|moz)-extension:\/\//.test(sender.url ?? "");
}
