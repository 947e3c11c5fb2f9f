/** One palette for every view: a colour per expression, and the text colour that reads on it. */
import { type Label, LABELS } from "./labels.ts";

/** An RGB colour. */
export type Rgb = [number, number, number];

/** One colour per expression (every view: CLI pictures, the page, the overlay, popup, webcam, charts). */
export const LABEL_COLORS: Record<Label, Rgb> = {
  surprise: [255, 196, 0],
  fear: [155, 89, 182],
  disgust: [39, 174, 96],
  happiness: [245, 120, 30],
  sadness: [52, 120, 219],
  anger: [226, 50, 50],
  neutral: [130, 136, 140],
};

/** The colours in LABELS order. */
export const LABEL_COLOR_LIST: Rgb[] = LABELS.map((l) => LABEL_COLORS[l]);

/** A colour as CSS. */
export function css([r, g, b]: Rgb): string {
  return `rgb(${r} ${g} ${b})`;
}

/** Black or white, whichever reads better on `background` (by relative luminance). */
export function textOn([r, g, b]: Rgb): Rgb {
  const lin = (v: number) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return luminance > 0.3 ? [17, 17, 17] : [255, 255, 255];
}
