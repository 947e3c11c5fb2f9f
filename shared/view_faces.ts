/**
 * Faces as every view numbers and tags them (no DOM: the command line's pictures and the API use it too):
 * numbered from left to right, each tag in the one form that fits every face of the picture, placed above
 * its box.
 */
import { type Label, LABELS } from "./labels.ts";
import { argmax } from "./metrics.ts";
import { LABEL_COLORS, type Rgb } from "./palette.ts";
import type { Box } from "./preprocess.ts";

/** A face as views show it: its number (1-based, left to right), box and scores. */
export interface ViewFace {
  number: number;
  box: Box;
  scores: Record<Label, number>;
}

/** The label with the highest score. */
export function topLabel(scores: Record<Label, number>): Label {
  return LABELS[argmax(LABELS.map((name) => scores[name]))];
}

/** Number faces 1, 2, … from left to right (by box centre), the order views list them in. */
export function numberFaces<T extends { box: Box }>(faces: T[]): (T & { number: number })[] {
  return [...faces]
    .sort((a, b) => a.box.x + a.box.width / 2 - (b.box.x + b.box.width / 2))
    .map((face, i) => ({ ...face, number: i + 1 }));
}

/** How much of a face's tag shows: all of it ("2 · happiness 81%"), the label ("2 · happiness") or the number. */
export type TagForm = "full" | "label" | "number";
/** The tag forms, longest first. */
export const TAG_FORMS: readonly TagForm[] = ["full", "label", "number"];

/** A tag's text in one form: "2 · happiness 81%", "2 · happiness" or "2" (`share` is the label's, 0..1). */
export function tagText(number: number, label: string, share: number, form: TagForm = "full"): string {
  if (form === "number") return String(number);
  return form === "label" ? `${number} · ${label}` : `${number} · ${label} ${Math.round(100 * share)}%`;
}

/** The tag text of a face in one form (see tagText). */
export function faceTag(face: ViewFace, form: TagForm = "full"): string {
  const label = topLabel(face.scores);
  return tagText(face.number, label, face.scores[label], form);
}

/** Where a face's tag would go: above its box from the box's left (`x`, `y`), up to `maxRight`. */
export interface TagSlot {
  /** The tag's text in a form. */
  tag: (form: TagForm) => string;
  x: number;
  y: number;
  /** The box's width. */
  width: number;
  /** The tag may not reach past this x (the picture's or the video's right edge). */
  maxRight: number;
}

/**
 * The one tag form for every face of a picture or video, so that its tags read alike: the longest whose
 * tags are each at most `maxRatio` times their box's width (twice by default: a tag should not cover the
 * faces beside its own), end before `maxRight` and cover no other tag (`measure` gives a tag's width for
 * its text, `height` is a tag's height). Every view chooses this way.
 */
export function chooseTagForm(
  slots: TagSlot[],
  measure: (text: string) => number,
  height: number,
  maxRatio = 2,
): TagForm {
  for (const form of TAG_FORMS.slice(0, -1)) {
    const tags = slots.map((s) => ({ x: s.x, y: s.y - height, w: measure(s.tag(form)), slot: s }));
    const fits = tags.every((t) => t.w <= maxRatio * t.slot.width && t.x + t.w <= t.slot.maxRight);
    const apart = tags.every((a, i) =>
      tags.every((b, j) => i === j || a.x >= b.x + b.w || b.x >= a.x + a.w || Math.abs(a.y - b.y) >= height)
    );
    if (fits && apart) return form;
  }
  return "number";
}

/** A face as a picture shows it: its box clipped to the picture, its colour, and its tag's text and place. */
export interface PlacedFace {
  face: ViewFace;
  box: Box;
  color: Rgb;
  tag: { text: string; x: number; y: number; width: number; height: number };
}

/**
 * The faces that show in a `width` x `height` picture, each box clipped to it, with every tag in the one
 * form chooseTagForm picks for the picture, above its box (inside the picture's bottom or below the box
 * where there is no room above). `measure` gives a tag's width for its text, `tagHeight` its height.
 */
export function placeFaces(
  faces: ViewFace[],
  width: number,
  height: number,
  measure: (text: string) => number,
  tagHeight: number,
): PlacedFace[] {
  const boxes = faces.map((face) => {
    const x = Math.max(0, face.box.x);
    const y = Math.max(0, face.box.y);
    const box = {
      x,
      y,
      width: Math.min(width, face.box.x + face.box.width) - x,
      height: Math.min(height, face.box.y + face.box.height) - y,
    };
    return { face, box };
  }).filter(({ box }) => box.width > 0 && box.height > 0);
  const form = chooseTagForm(
    boxes.map(({ face, box }) => ({
      tag: (f: TagForm) => faceTag(face, f),
      x: box.x,
      y: box.y,
      width: box.width,
      maxRight: width,
    })),
    measure,
    tagHeight,
  );
  return boxes.map(({ face, box }) => {
    const text = faceTag(face, form);
    const tagW = measure(text);
    const y = box.y - tagHeight >= 0 ? box.y - tagHeight : Math.min(box.y + box.height, height - tagHeight);
    return {
      face,
      box,
      color: LABEL_COLORS[topLabel(face.scores)],
      tag: { text, x: Math.min(box.x, Math.max(0, width - tagW)), y, width: tagW, height: tagHeight },
    };
  });
}
