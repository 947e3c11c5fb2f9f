/**
 * The models bundled in models/ (file: URLs in Deno, resolved against this module), kept apart from
 * shared/model.ts so that naming a model loads no tfjs: "small" (mien-fer, the one browsers and the
 * extension run) and "large" (mien-fer-large, the API's and the CLI's default: the small network answering
 * for each face and its mirror image, the two answers averaged).
 */
export const BUNDLED_MODELS: Readonly<Record<ModelChoice, URL>> = {
  small: new URL("../models/mien-fer/model.json", import.meta.url),
  large: new URL("../models/mien-fer-large/model.json", import.meta.url),
};

/** The name of a bundled model: "small" or "large". */
export type ModelChoice = "small" | "large";

/** The bundled models' names, the small one (the browsers') first. */
export const MODEL_CHOICES: readonly ModelChoice[] = ["small", "large"];

/** URL of the small bundled model, the one browsers and the extension run. */
export const BUNDLED_MODEL_URL: URL = BUNDLED_MODELS.small;
