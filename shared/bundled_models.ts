/**
 * The models bundled in models/ (file: URLs in Deno, resolved against this module), kept apart from
 * shared/model.ts so that naming a model loads no tfjs: "small" (mien-fer, the one browsers run and
 * every default: the more accurate on the faces we can measure) and "large" (mien-fer-large, face-api.js's
 * expression network taught on our data, at 112x112).
 */
export const BUNDLED_MODELS: Readonly<Record<ModelChoice, URL>> = {
  small: new URL("../models/mien-fer/model.json", import.meta.url),
  large: new URL("../models/mien-fer-large/model.json", import.meta.url),
};

/** The name of a bundled model: "small" or "large". */
export type ModelChoice = "small" | "large";

/** The bundled models' names, the default (small) first. */
export const MODEL_CHOICES: readonly ModelChoice[] = ["small", "large"];

/** URL of the small bundled model, the one browsers and the extension run. */
export const BUNDLED_MODEL_URL: URL = BUNDLED_MODELS.small;
