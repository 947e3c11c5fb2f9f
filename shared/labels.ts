/** Expression classes in RAF-DB order, used by every model output and report in Mien. */
export const LABELS = [
  "surprise",
  "fear",
  "disgust",
  "happiness",
  "sadness",
  "anger",
  "neutral",
] as const;

/** One of the seven expression names. */
export type Label = typeof LABELS[number];

const ALIASES: Record<string, Label> = {
  happy: "happiness",
  angry: "anger",
  sad: "sadness",
  surprised: "surprise",
  fearful: "fear",
  disgusted: "disgust",
};

/** Index of a class name or alias (case-insensitive), or -1 when it is not one of ours. */
export function labelIndex(name: string): number {
  const lower = name.toLowerCase();
  const canonical = ALIASES[lower] ?? lower;
  return (LABELS as readonly string[]).indexOf(canonical);
}

/** Probabilities as a `{ surprise, …, neutral }` record. */
export function scoresRecord(probs: ArrayLike<number>): Record<Label, number> {
  return Object.fromEntries(LABELS.map((label, i) => [label, probs[i]])) as Record<Label, number>;
}

/** "1 face", "3 faces": a count with its noun, singular or plural. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
