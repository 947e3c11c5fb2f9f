/// <reference lib="dom" />

/** Shown wherever expressions are: what the numbers are, and are not. */
export const ESTIMATE_NOTE =
  "Expressions are estimates from the pixels of a face, not a reading of anyone's feelings or inner state.";

/** The element with this id (throws when the page lacks it). */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page has no #${id}`);
  return el as T;
}

/** Save text as a file through a download link. */
export function download(name: string, text: string, type = "text/csv") {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
