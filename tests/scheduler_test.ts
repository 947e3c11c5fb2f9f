import assert from "node:assert/strict";
import { nextTile, sentTime, type Tile, tileRates } from "../extension/scheduler.ts";

const tile = (id: number, extra: Partial<Tile> = {}): Tile => ({
  id,
  area: 320 * 240,
  change: 0,
  lastSent: -Infinity,
  ...extra,
});
const sum = (rates: Map<number, number>) => [...rates.values()].reduce((a, b) => a + b, 0);

Deno.test("scheduler: a 3x3 and a 4x4 gallery share the budget evenly, one video gets a camera's rate", () => {
  const nine = tileRates(Array.from({ length: 9 }, (_, i) => tile(i)), { perSecond: 60 });
  for (const rate of nine.values()) assert.ok(Math.abs(rate - 60 / 9) < 1e-6);
  const sixteen = tileRates(Array.from({ length: 16 }, (_, i) => tile(i)), { perSecond: 60 });
  for (const rate of sixteen.values()) assert.ok(rate >= 3);
  assert.ok(Math.abs(sum(sixteen) - 60) < 1e-6);
  assert.deepEqual([...tileRates([tile(0)], { perSecond: 60 }).values()], [30]);
});

Deno.test("scheduler: visible, larger and changing tiles get more; every visible tile its minimum", () => {
  const rates = tileRates([
    tile(0, { area: 0 }),
    tile(1, { area: 1280 * 720 }),
    tile(2),
    tile(3, { change: 1 }),
    tile(4, { area: 40 * 30 }),
  ], { perSecond: 40 });
  assert.equal(rates.has(0), false, "a tile scrolled away gets nothing");
  assert.ok(rates.get(1)! > rates.get(2)!, "larger");
  assert.ok(rates.get(3)! > rates.get(2)!, "changing");
  assert.ok(rates.get(4)! >= 3, "minimum");
  assert.ok(Math.abs(sum(rates) - 40) < 1e-6, "the whole budget, no more");
  // Too small a budget for every minimum: an even share.
  const thin = tileRates(Array.from({ length: 10 }, (_, i) => tile(i, { area: 1000 * (i + 1) })), {
    perSecond: 20,
  });
  for (const rate of thin.values()) assert.equal(rate, 2);
  // What a capped tile cannot take goes to the others.
  const capped = tileRates([tile(0, { area: 4000 * 3000 }), tile(1)], { perSecond: 50 });
  assert.equal(capped.get(0), 30);
  assert.ok(Math.abs(capped.get(1)! - 20) < 1e-6);
});

Deno.test("scheduler: one analyzer, frames sent to the most overdue tile, each tile at its rate", () => {
  const tiles = Array.from({ length: 9 }, (_, i) => tile(i, { area: i === 0 ? 640 * 480 : 320 * 240 }));
  const rates = tileRates(tiles, { perSecond: 60 });
  const counts = new Map<number, number>();
  // 10 s of an analyzer that takes 12 ms a frame (one frame at a time).
  for (let now = 0; now < 10_000;) {
    const next = nextTile(tiles, rates, now);
    if (next.id === null) {
      assert.ok(next.wait > 0 && next.wait < Infinity);
      now += next.wait;
      continue;
    }
    tiles[next.id].lastSent = sentTime(tiles[next.id].lastSent, rates.get(next.id)!, now);
    counts.set(next.id, (counts.get(next.id) ?? 0) + 1);
    now += 12;
  }
  for (const t of tiles) {
    const expected = rates.get(t.id)! * 10;
    assert.ok(
      Math.abs(counts.get(t.id)! - expected) <= 2,
      `tile ${t.id}: ${counts.get(t.id)} vs ${expected}`,
    );
  }
  assert.ok(counts.get(0)! > counts.get(1)!, "the larger tile more often");
  assert.deepEqual(nextTile([], new Map(), 0), { id: null, wait: Infinity });
});
