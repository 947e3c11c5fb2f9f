/**
 * One analysis budget per tab, shared by its videos: visible videos only, each guaranteed a minimum rate,
 * the rest going to larger videos and to videos whose faces changed more, none above a camera's rate.
 * The content script asks `nextTile` which video's frame to send whenever the analyzer is free.
 */

/** What the scheduler knows of one video (a tile of a call's gallery). */
export interface Tile {
  id: number;
  /** Its on-screen area, in CSS pixels (0: scrolled away, or the tab is hidden). */
  area: number;
  /** How much its faces changed between its last two results, 0 (still) to 1 (new faces, new labels). */
  change: number;
  /** When its latest frame was sent (ms, the caller's clock); -Infinity before the first. */
  lastSent: number;
}

/** The budget and its limits. */
export interface Budget {
  /** Analyses per second for the whole tab. */
  perSecond: number;
  /** Each visible video gets at least this many (when the budget allows; default 3). */
  minRate?: number;
  /** No video gets more than this many (default 30, a camera's frame rate). */
  maxRate?: number;
}

/** Analyses per second for each tile on screen (tiles with no area on screen get none). */
export function tileRates(
  tiles: Tile[],
  { perSecond, minRate = 3, maxRate = 30 }: Budget,
): Map<number, number> {
  const shown = tiles.filter((t) => t.area > 0);
  const rates = new Map<number, number>();
  if (!shown.length) return rates;
  const floor = Math.min(minRate, perSecond / shown.length, maxRate);
  for (const t of shown) rates.set(t.id, floor);
  // The rest by weight (size, then change), capped: what a capped tile cannot take goes to the others.
  let left = perSecond - floor * shown.length;
  let open = floor < maxRate ? shown : [];
  while (left > 1e-9 && open.length) {
    const weight = (t: Tile) => Math.sqrt(Math.max(1, t.area)) * (1 + Math.min(1, Math.max(0, t.change)));
    const total = open.reduce((sum, t) => sum + weight(t), 0);
    let spent = 0;
    for (const t of open) {
      const add = Math.min(maxRate - rates.get(t.id)!, (left * weight(t)) / total);
      rates.set(t.id, rates.get(t.id)! + add);
      spent += add;
    }
    left -= spent;
    open = open.filter((t) => rates.get(t.id)! < maxRate - 1e-9);
  }
  return rates;
}

/**
 * The tile whose frame to send at `now`: among tiles due (their interval since the last frame has
 * passed), the most overdue; `wait` is how long until one is due when none is.
 */
export function nextTile(
  tiles: Tile[],
  rates: Map<number, number>,
  now: number,
): { id: number | null; wait: number } {
  let best: { id: number; due: number } | null = null;
  for (const t of tiles) {
    const rate = rates.get(t.id);
    if (!rate) continue;
    const due = t.lastSent + 1000 / rate;
    if (!best || due < best.due) best = { id: t.id, due };
  }
  if (!best) return { id: null, wait: Infinity };
  return best.due <= now ? { id: best.id, wait: 0 } : { id: null, wait: best.due - now };
}

/**
 * What to record as a tile's `lastSent` when its frame goes at `now`: the time it was due, when it was
 * late by less than one interval (so waiting for the analyzer does not lower its rate), else `now`.
 */
export function sentTime(lastSent: number, rate: number, now: number): number {
  const due = lastSent + 1000 / rate;
  return now - due < 1000 / rate ? Math.min(now, due) : now;
}
