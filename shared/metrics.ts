import { LABELS } from "./labels.ts";

/** Classification figures over a labelled set, in LABELS order. */
export interface Metrics {
  count: number;
  accuracy: number;
  /** Mean recall over the classes present in the labels. */
  meanRecall: number;
  /** Mean F1 over the classes present in the labels. */
  macroF1: number;
  /** Per class: recall, precision and F1 (null when the class is absent from the labels). */
  perClass: Record<
    string,
    { support: number; recall: number | null; precision: number | null; f1: number | null }
  >;
  /** Classes with no labelled example. */
  absent: string[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  /** Per true class: images where no face was found (prediction -1), counted as errors. */
  noFace: number[];
}

/**
 * Accuracy, mean class recall, macro-F1, per-class figures and the confusion matrix; a prediction of
 * -1 means "no face found" and counts as an error.
 */
export function computeMetrics(labels: number[], predictions: number[], classes = LABELS.length): Metrics {
  if (labels.length !== predictions.length) {
    throw new RangeError(`${labels.length} labels but ${predictions.length} predictions`);
  }
  const confusion = Array.from({ length: classes }, () => new Array(classes).fill(0));
  const noFace = new Array(classes).fill(0);
  labels.forEach((label, i) => {
    if (predictions[i] < 0) noFace[label]++;
    else confusion[label][predictions[i]]++;
  });
  const names = LABELS.slice(0, classes);
  const perClass: Metrics["perClass"] = {};
  const recalls: number[] = [];
  const f1s: number[] = [];
  let correct = 0;
  names.forEach((name, c) => {
    const support = confusion[c].reduce((a, b) => a + b, 0) + noFace[c];
    const predicted = confusion.reduce((a, row) => a + row[c], 0);
    const tp = confusion[c][c];
    correct += tp;
    if (support === 0) {
      perClass[name] = { support, recall: null, precision: predicted ? 0 : null, f1: null };
      return;
    }
    const recall = tp / support;
    const precision = predicted ? tp / predicted : 0;
    const f1 = recall + precision ? (2 * recall * precision) / (recall + precision) : 0;
    perClass[name] = { support, recall, precision, f1 };
    recalls.push(recall);
    f1s.push(f1);
  });
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    count: labels.length,
    accuracy: labels.length ? correct / labels.length : 0,
    meanRecall: mean(recalls),
    macroF1: mean(f1s),
    perClass,
    absent: names.filter((name) => perClass[name].support === 0),
    confusion,
    noFace,
  };
}

/** Index of the largest value. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** The figures as a readable text report (percentages, per-class recall, confusion matrix). */
export function formatMetrics(m: Metrics): string {
  const pct = (v: number | null) => (v === null ? "absent" : `${(100 * v).toFixed(2)}%`);
  const missed = m.noFace.reduce((a, b) => a + b, 0);
  const lines = [
    `images: ${m.count}${missed ? ` (no face found in ${missed}, counted as errors)` : ""}`,
    `accuracy: ${pct(m.accuracy)}`,
    `mean class recall: ${pct(m.meanRecall)}`,
    `macro-F1: ${pct(m.macroF1)}`,
    "",
    "per-class recall:",
    ...Object.entries(m.perClass).map(([name, c]) =>
      `  ${name.padEnd(10)} ${pct(c.recall).padStart(8)}  (n=${c.support})`
    ),
    "",
    "confusion matrix (rows = true, columns = predicted):",
    `  ${"".padEnd(10)} ${LABELS.map((l) => l.slice(0, 5).padStart(6)).join("")}${missed ? " noface" : ""}`,
    ...m.confusion.map((row, i) =>
      `  ${LABELS[i].padEnd(10)} ${row.map((v) => String(v).padStart(6)).join("")}${
        missed ? String(m.noFace[i]).padStart(7) : ""
      }`
    ),
  ];
  if (m.absent.length) lines.push("", `absent classes: ${m.absent.join(", ")}`);
  return lines.join("\n");
}
