/**
 * The API's parameters and bodies as zod schemas: the parameters are checked with them, and
 * /openapi.json describes every route from them.
 */
import { z } from "@hono/zod-openapi";
import { DETECTOR_NAMES } from "../shared/detector.ts";
import { labelIndex, LABELS } from "../shared/labels.ts";
import { MODEL_CHOICES } from "../shared/bundled_models.ts";

/** A whole number in [min, max]: a string (query, multipart) or a JSON number; "" means the default. */
function integer(min: number, max: number, fallback: number, description: string) {
  const error = `must be an integer from ${min} to ${max}`;
  return z.preprocess(
    (value) => typeof value === "string" ? value === "" ? fallback : Number(value) : value,
    z.number({ error }).int({ error }).min(min, { error }).max(max, { error }),
  ).default(fallback).openapi({ description });
}

const detector = z.preprocess(
  (value) => value === "" ? DETECTOR_NAMES[0] : value,
  z.enum(DETECTOR_NAMES, { error: `must be one of ${DETECTOR_NAMES.join(", ")}` }),
).default(DETECTOR_NAMES[0]).openapi({ description: "face detector" });

const model = z.preprocess(
  (value) => value === "" ? undefined : value,
  z.enum(MODEL_CHOICES, { error: `must be one of ${MODEL_CHOICES.join(", ")}` }).optional(),
).optional().openapi({
  enum: [...MODEL_CHOICES],
  description:
    "which model answers: large (mien-fer-large, the default: the more accurate, twice the work) " +
    "or small (mien-fer: the one the browser extension runs on the device)",
});

/** The `model` parameter alone: `/v1/model`'s and `/v1/classify`'s, from the query (or classify's body). */
export const ModelParams = z.object({ model });

/** The smallest face side, in image pixels, that /v1/analyze reports by default and /v1/explain looks for. */
export const DEFAULT_MIN_FACE_SIZE = 24;

/** `/v1/analyze`'s parameters, taken from the query or else from the body's fields. */
export const AnalyzeParams = z.object({
  maxFaces: integer(1, 50, 10, "most faces to report, the most confident first"),
  minFaceSize: integer(8, 4096, DEFAULT_MIN_FACE_SIZE, "smallest face side in pixels"),
  detector,
  model,
});

const classError = `must be one of ${LABELS.join(", ")}`;

/** `/v1/explain`'s parameters, taken from the query or else from the body's fields. */
export const ExplainParams = z.object({
  face: integer(1, 50, 1, "which detected face, numbered from 1 left to right as /v1/analyze numbers them"),
  class: z.preprocess(
    (value) => value === "" ? undefined : value,
    z.string({ error: classError }).refine((name) => labelIndex(name) !== -1, { error: classError })
      .transform(labelIndex).optional(),
  ).optional().openapi({
    enum: [...LABELS],
    description: "explain this class (case-insensitive; happy, sad, angry and the like also work); " +
      "default: the predicted one",
  }),
  crop: z.preprocess(
    (value) => typeof value === "string" ? value === "1" || value === "true" : value,
    z.boolean({ error: "must be true or false" }),
  ).default(false).openapi({ description: "the image is already a face crop (no detection)" }),
  detector,
  model,
});

const binary = z.string().openapi({ format: "binary" });
/** OpenAPI 3.1's keyword for base64 text (the metadata type knows only 3.0's keywords). */
const BASE64 = { contentEncoding: "base64" };
const base64 = z.string().openapi({ ...BASE64, description: "base64 (a data: URL also works)" });

/** The request-body schemas that /openapi.json lists as components, by name; `maxCrops` bounds a classify call. */
export function bodySchemas(maxCrops: number) {
  return {
    AnalyzeJson: AnalyzeParams.extend({ image: base64 }),
    AnalyzeForm: AnalyzeParams.extend({ image: binary }),
    ExplainJson: ExplainParams.extend({ image: base64 }),
    ExplainForm: ExplainParams.extend({ image: binary }),
    ClassifyJson: ModelParams.extend({ faces: z.array(base64).min(1).max(maxCrops) }),
    ClassifyForm: ModelParams.extend({ face: z.array(binary).min(1).max(maxCrops) }),
  };
}

/** The name of one of bodySchemas' components. */
export type BodySchemaName = keyof ReturnType<typeof bodySchemas>;

/** Every error: `{ error: { code, message } }`. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string().openapi({ description: "stable, for programs (e.g. invalid_image)" }),
    message: z.string().openapi({ description: "for people: what is wrong and, where it helps, what to do" }),
  }),
}).openapi("Error");

const scores = z.object(Object.fromEntries(LABELS.map((label) => [label, z.number()])))
  .openapi({ description: "probability of each expression, summing to 1" });
const label = z.enum(LABELS);
const box = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() })
  .openapi({ description: "in image pixels" });

/** `GET /healthz`. */
export const Health = z.object({ status: z.literal("ok"), model: z.string() });

/** `GET /v1/model`. */
export const ModelCard = z.object({
  id: z.string(),
  choice: z.enum(MODEL_CHOICES).openapi({ description: "the model= value that picks this model" }),
  models: z.array(z.string()).openapi({ description: "the id of every model this server answers with" }),
  name: z.string(),
  version: z.string(),
  labels: z.array(label),
  inputSize: z.number().int(),
  align: z.boolean().openapi({ description: "crops are turned so that the eyes are level before the model" }),
  parameters: z.number().int(),
  detectors: z.array(z.enum(DETECTOR_NAMES)),
  limits: z.object({
    maxBodyBytes: z.number(),
    maxPixels: z.number(),
    maxCrops: z.number(),
    bodyTimeoutMs: z.number(),
  }),
  figures: z.record(z.string(), z.unknown()).nullable().openapi({ description: "the model card's figures" }),
  note: z.string(),
});

/** `POST /v1/analyze`. */
export const Analysis = z.object({
  faces: z.array(z.object({
    number: z.number().int().openapi({
      description: "1, 2, …: faces numbered left to right, as every view does",
    }),
    box,
    score: z.number().openapi({ description: "detector confidence in [0, 1]" }),
    expression: z.object({ label, scores }),
  })),
  width: z.number().int(),
  height: z.number().int(),
  timings: z.object({ detectMs: z.number(), classifyMs: z.number(), totalMs: z.number() }),
  model: z.string().openapi({ description: "the id of the model that answered (name@version)" }),
  detector: z.string().openapi({ description: "the detector used" }),
});

/** `POST /v1/classify`: one result per crop, in order. */
export const Classification = z.object({
  results: z.array(z.object({ label, scores })),
  model: z.string().openapi({ description: "the id of the model that answered (name@version)" }),
});

/** `POST /v1/explain` as JSON. */
export const Explanation = z.object({
  label,
  classIndex: z.number().int(),
  scores,
  box: box.nullable().openapi({ description: "the face explained (null with crop=true)" }),
  image: z.string().openapi({ ...BASE64, description: "the PNG" }),
  model: z.string().openapi({ description: "the id of the model that answered (name@version)" }),
});
