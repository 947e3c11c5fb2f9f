/// <reference lib="dom" />
/**
 * Toolbar popup: turn the current tab on or off, its status and errors, and its session's charts; the
 * session stays after switching off (kept in the extension's session storage) until cleared here or the tab
 * closes, and exports as CSV in the schema of every export (docs/CSV.md).
 */
import { count, LABELS } from "../shared/labels.ts";
import { browser, tabCapture } from "./browser.ts";
import type { TabStatus } from "./messages.ts";
import {
  binMeans,
  chartSpan,
  keptSessionKey,
  sessionCount,
  sessionCsv,
  type SessionFaces,
  sessionMix,
} from "./session.ts";
import { faceCountText } from "../shared/timeline.ts";
import { css, LABEL_COLOR_LIST } from "../shared/palette.ts";
import { $, download, ESTIMATE_NOTE } from "./ui.ts";

const BINS = 30;
/** A chart's size in CSS px (as style.css lays it out), and how many rows the list shows before it scrolls. */
const CHART_WIDTH = 172;
const CHART_HEIGHT = 22;
const VISIBLE_CHARTS = 5;
const ROW_HEIGHT = 28;

/** The tab this popup is about: ?tab=ID (when opened as a page), else the active tab. */
async function targetTab(): Promise<number> {
  const param = new URLSearchParams(location.search).get("tab");
  if (param) return Number(param);
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  return tab?.id ?? -1;
}

const tabId = await targetTab();
const toggle = $<HTMLInputElement>("toggle");
const statusLine = $("status");
const problem = $("problem");
const captureButton = $<HTMLButtonElement>("capture");
let session: SessionFaces = { windowMs: 0, faces: [] };
let tabOn = false;
let captureError: string | null = null;

$("note").textContent = ESTIMATE_NOTE;
$("legend").append(...LABELS.map((label, i) => {
  const item = document.createElement("span");
  const swatch = document.createElement("i");
  swatch.style.background = css(LABEL_COLOR_LIST[i]);
  item.append(swatch);
  item.append(label);
  return item;
}));

function showProblem(text: string | null) {
  problem.textContent = text ?? "";
  problem.hidden = !text;
}

toggle.addEventListener("change", async () => {
  toggle.disabled = true;
  const result = await browser.runtime.sendMessage<{ on: boolean; error?: string }>({
    type: "mien:toggle",
    tabId,
    on: toggle.checked,
  });
  toggle.checked = result.on;
  toggle.disabled = false;
  showProblem(result.error ?? null);
  await refresh();
});

/** Why the capture button does nothing where there is no tab capture (Firefox). */
const NO_TAB_CAPTURE =
  "This browser cannot capture a tab (only Chrome can), so such a video is not analysed here.";

captureButton.addEventListener("click", async () => {
  if (!tabCapture) {
    captureError = NO_TAB_CAPTURE;
    return showProblem(captureError);
  }
  try {
    const streamId = await tabCapture.getMediaStreamId({ targetTabId: tabId });
    await browser.tabs.sendMessage(tabId, { type: "mien:tab-capture", tabId, streamId });
  } catch (error) {
    captureError = `Tab capture failed: ${(error as Error).message}`;
    showProblem(captureError);
  }
});

$("csv").addEventListener("click", () => download(`mien-session-tab${tabId}.csv`, sessionCsv(session)));
$("clear").addEventListener("click", async () => {
  // The tab's analyzer clears its session and the kept copy; with the tab off, the copy is all there is.
  const cleared = await browser.tabs.sendMessage(tabId, { type: "mien:clear-session", tabId }).catch(() =>
    null
  );
  if (!cleared) await browser.storage.session.remove(keptSessionKey(tabId));
  session = { windowMs: 0, faces: [] };
  drawSession();
});
$("webcam").addEventListener(
  "click",
  () => browser.tabs.create({ url: browser.runtime.getURL("webcam.html") }),
);
$("options").addEventListener("click", () => browser.runtime.openOptionsPage());

function drawChart(
  canvas: HTMLCanvasElement,
  samples: SessionFaces["faces"][number]["samples"],
  span: number,
  now: number,
) {
  const ctx = canvas.getContext("2d")!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  // One bar per second of session at first (samples come once a second), at most BINS.
  const bins = Math.max(5, Math.min(BINS, Math.round(span / 1000)));
  const w = canvas.width / bins;
  binMeans(samples, span, now, bins).forEach((mean, bin) => {
    if (!mean) return;
    let y = canvas.height;
    mean.forEach((p, k) => {
      const h = p * canvas.height;
      ctx.fillStyle = css(LABEL_COLOR_LIST[k]);
      ctx.fillRect(bin * w, y - h, w - 1, h);
      y -= h;
    });
  });
}

/** "1 min 20 s", "45 s": a span of time in words. */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
}

/** "Mostly neutral (58%), then happiness (24%)": the session's mix in one line. */
function summary(mix: number[]): string {
  const [first, second] = mix.map((p, i) => ({ p, label: LABELS[i] })).sort((a, b) => b.p - a.p);
  const pct = (p: number) => `${Math.round(p * 100)}%`;
  return `Mostly ${first.label} (${pct(first.p)}), then ${second.label} (${pct(second.p)}), across ${
    faceCountText(sessionCount(session), true)
  }.`;
}

/** Under a list longer than its box: how many faces are below the rows in view (nothing at the end). */
function showMoreFaces() {
  const charts = $("charts");
  const below = Math.round((charts.scrollHeight - charts.clientHeight - charts.scrollTop) / ROW_HEIGHT);
  charts.classList.toggle("end", below <= 0);
  $("moreFaces").hidden = below <= 0;
  $("moreFaces").textContent = `▾ ${count(below, "more face")} below: scroll the list`;
}
$("charts").addEventListener("scroll", showMoreFaces);

function drawSession() {
  const charts = $("charts");
  const scrolled = charts.scrollTop; // kept: the list is rebuilt every second
  charts.replaceChildren();
  $<HTMLButtonElement>("csv").disabled = session.faces.length === 0;
  $<HTMLButtonElement>("clear").disabled = session.faces.length === 0;
  const mix = sessionMix(session);
  $("summary").textContent = mix ? summary(mix) : "";
  // While on, the charts end now; a session kept after switching off ends at its last sample.
  const now = tabOn ? Date.now() : Math.max(0, ...session.faces.flatMap((f) => f.samples.map((s) => s.t)));
  const span = chartSpan(session, now);
  $("axisEnd").textContent = tabOn ? "now" : "switched off";
  const n = session.faces.length;
  $("legend").hidden = n === 0;
  $("axis").hidden = n === 0;
  $("axisStart").textContent = `${duration(span)} ${tabOn ? "ago" : "before"}`;
  // Kept after switching off too (the analyzer keeps a copy), until cleared or the tab closes.
  $("span").textContent = "Kept in memory until you clear it or close the tab.";
  charts.classList.toggle("more", n > VISIBLE_CHARTS);
  if (session.faces.length === 0) {
    charts.textContent = "No faces yet.";
    return;
  }
  for (const { face, samples } of session.faces) {
    const row = document.createElement("div");
    row.className = "chart";
    const title = document.createElement("span");
    const last = samples[samples.length - 1].scores;
    title.textContent = `Face ${face}: ${LABELS[last.indexOf(Math.max(...last))]}`;
    title.title = `Face ${face}, now ${LABELS[last.indexOf(Math.max(...last))]}`;
    const canvas = document.createElement("canvas");
    canvas.width = CHART_WIDTH * devicePixelRatio;
    canvas.height = CHART_HEIGHT * devicePixelRatio;
    drawChart(canvas, samples, span, now);
    row.append(title, canvas);
    charts.append(row);
  }
  charts.scrollTop = scrolled;
  showMoreFaces();
}

/** The session kept for this tab while it is off (none: an empty one). */
async function keptSession(): Promise<SessionFaces> {
  const key = keptSessionKey(tabId);
  const kept = (await browser.storage.session.get(key))[key] as SessionFaces | undefined;
  return kept ?? { windowMs: 0, faces: [] };
}

async function refresh() {
  const on = await browser.runtime.sendMessage<boolean>({ type: "mien:state", tabId });
  tabOn = on;
  if (!toggle.disabled) toggle.checked = on;
  // The tab's content script passes the question to its analyzer; undefined (not up yet) counts as none.
  const status = on
    ? await browser.tabs.sendMessage<TabStatus | undefined>(tabId, { type: "mien:status", tabId }).then(
      (s) => s ?? null,
      () => null,
    )
    : null;
  if (!on) statusLine.textContent = "Off for this tab.";
  else if (!status) statusLine.textContent = "Starting…";
  else if (status.error) {
    // Nothing is being analysed: say so first (the reason is the message below).
    statusLine.textContent = `${count(status.videos, "video")}; no expressions are shown: see why below.`;
  } else if (status.videos === 0 && !status.tabCapture) {
    statusLine.textContent = "No video on this page yet: Mien starts as soon as one plays.";
  } else {
    // "With the Edge API" only while it answers; after a failure, where the faces were classified instead.
    const where = status.source === "remote"
      ? "with the Edge API (face crops only)"
      : status.mode === "remote"
      ? "on this device, not the Edge API"
      : "on this device";
    const rate = status.videos > 1
      ? `${status.perVideo.toFixed(1)} frames/s analysed per video (${status.budget}/s shared by the tab)`
      : `${status.fps.toFixed(1)} frames/s analysed`;
    statusLine.textContent = `${count(status.videos, "video")}, ${
      count(status.faces, "face")
    } in view, ${rate} ${where}${status.tabCapture ? ", from a tab capture" : ""}.`;
  }
  const unreadable = status?.unreadable && !tabCapture
    ? `${status.unreadable} ${NO_TAB_CAPTURE}`
    : status?.unreadable;
  const text = status?.error ?? captureError ?? unreadable ??
    (status?.problem
      ? `${status.problem}${status.mode === "remote" ? ". Classifying on this device meanwhile." : ""}`
      : null);
  if (on) showProblem(text);
  captureButton.hidden = !tabCapture || !status?.unreadable || status.tabCapture;
  // Switched off: the session kept when the tab's analyzer went (until it is cleared or the tab closes).
  session = on
    ? await browser.tabs.sendMessage<SessionFaces | undefined>(tabId, { type: "mien:session", tabId }).then(
      (s) => s ?? session,
      () => session,
    )
    : await keptSession();
  drawSession();
}

await refresh();
setInterval(refresh, 1000);
