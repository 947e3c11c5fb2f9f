/// <reference lib="dom" />
import { LABELS } from "../shared/labels.ts";

/** One colour per class, in LABELS order (charts, bars and legends share them). */
export const CLASS_COLORS = ["#f5a623", "#9b59b6", "#27ae60", "#f1c40f", "#3498db", "#e74c3c", "#95a5a6"];

/** Shown wherever expressions are: what the numbers are, and are not. */
export const ESTIMATE_NOTE =
  "Expressions are estimates from the pixels of a face, not a reading of anyone's feelings or inner state.";

/** The element with this id (throws when the page lacks it). */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page has no #${id}`);
  return el as T;
}

/** Per-class bars (label, bar, percent) for one face's probabilities. */
export function classBars(scores: number[]): HTMLElement {
  const list = document.createElement("div");
  list.className = "bars";
  LABELS.forEach((label, i) => {
    const row = document.createElement("div");
    row.className = "bar-row";
    const name = document.createElement("span");
    name.textContent = label;
    const bar = document.createElement("span");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.style.width = `${(scores[i] * 100).toFixed(1)}%`;
    fill.style.background = CLASS_COLORS[i];
    bar.append(fill);
    const pct = document.createElement("span");
    pct.textContent = `${Math.round(scores[i] * 100)}%`;
    row.append(name, bar, pct);
    list.append(row);
  });
  return list;
}

/** Save text as a file through a download link. */
export function download(name: string, text: string, type = "text/csv") {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
