/** Every route of the API, declared once: the app serves and checks them, /openapi.json describes them. */
import { createRoute, z } from "@hono/zod-openapi";
import { MAX_JPEG_SCANS } from "../shared/decode.ts";
import { type ContentOptions, contentReader, type Limits } from "./input.ts";
import {
  Analysis,
  AnalyzeParams,
  type BodySchemaName,
  Classification,
  ErrorBody,
  ExplainParams,
  Explanation,
  Health,
  ModelCard,
  ModelParams,
} from "./schemas.ts";

/** What each error status means on this API; the body is always ErrorBody. */
const ERRORS = {
  400: "the request's shape: an empty, corrupt or truncated image, no image or faces, too many faces, " +
    "bad base64, JSON or multipart, a body that broke off",
  401: "the bearer key is missing or wrong",
  404: "no such file",
  408: "the body did not arrive in time",
  413: "the body is too large, or its images have too many pixels",
  415: "not a PNG, JPEG, WebP or BMP image, a kind of one that is not read (compressed BMP, animated WebP, " +
    `a JPEG of over ${MAX_JPEG_SCANS} scans), or a content type this route does not take`,
  422:
    "a parameter out of range, a model this server does not serve, no face or no such face, an image too " +
    "slow to decode",
  503:
    "busy with other images or uploads (its work could not start in time): retry after Retry-After seconds",
} as const;

/** Headers that come with an error status. */
const ERROR_HEADERS: {
  [S in keyof typeof ERRORS]?: Record<string, { description: string; schema: object }>;
} = {
  401: { "WWW-Authenticate": { description: "the bearer challenge", schema: { type: "string" } } },
  503: { "Retry-After": { description: "seconds to wait", schema: { type: "integer" } } },
};

type Failure = {
  description: string;
  headers?: Record<string, { description: string; schema: object }>;
  content: { "application/json": { schema: typeof ErrorBody } };
};

function errors<S extends keyof typeof ERRORS>(statuses: readonly S[]): Record<S, Failure> {
  const responses = {} as Record<S, Failure>;
  for (const status of statuses) {
    responses[status] = {
      description: ERRORS[status],
      headers: ERROR_HEADERS[status],
      content: { "application/json": { schema: ErrorBody } },
    };
  }
  return responses;
}

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const ref = (name: BodySchemaName) => ({ $ref: `#/components/schemas/${name}` });
const bytes = { schema: { type: "string" as const, format: "binary" } };
/** Image bytes as the whole body; the format is sniffed from the bytes, whatever the type says. */
const rawImage = {
  "image/jpeg": bytes,
  "image/png": bytes,
  "image/webp": bytes,
  "image/bmp": bytes,
  "application/octet-stream": bytes,
};

/**
 * An image body: raw image bytes, multipart or JSON. Described, not checked, here: the route's
 * content reader reads it under the size and time limits, then the handler checks it.
 */
function imageBody(json: BodySchemaName, form: BodySchemaName) {
  return {
    required: true,
    description: "the image as the body (its type sniffed from the bytes), as multipart field image, " +
      "or as JSON image in base64; the parameters may also come as fields",
    content: {
      ...rawImage,
      "multipart/form-data": { schema: ref(form) },
      "application/json": { schema: ref(json) },
    },
  };
}

/** The routes for `limits`; `secured` when /v1/* needs the bearer key; bodies read as `content` says. */
export function apiRoutes(limits: Limits, secured: boolean, content: ContentOptions = {}) {
  const readContent = contentReader(limits, content);
  const security = secured ? [{ bearer: [] }] : [];
  const keyed = errors(secured ? [401] : []);
  const failures = errors(secured ? [400, 401, 408, 413, 415, 422, 503] : [400, 408, 413, 415, 422, 503]);
  return {
    healthz: createRoute({
      method: "get",
      path: "/healthz",
      summary: "Liveness",
      responses: { 200: json(Health, "Up, with the model's id") },
    }),
    document: createRoute({
      method: "get",
      path: "/openapi.json",
      summary: "This document",
      responses: { 200: json(z.looseObject({ openapi: z.string() }), "OpenAPI 3.1") },
    }),
    model: createRoute({
      method: "get",
      path: "/v1/model",
      summary: "Labels, input size, version, limits and the model card's figures",
      security,
      request: { query: ModelParams },
      responses: { 200: json(ModelCard, "The model"), ...keyed, ...errors([422]) },
    }),
    analyze: createRoute({
      method: "post",
      path: "/v1/analyze",
      summary: "Find faces in an image and estimate each one's expression",
      security,
      middleware: [readContent] as const,
      request: { query: AnalyzeParams, body: imageBody("AnalyzeJson", "AnalyzeForm") },
      responses: { 200: json(Analysis, "Faces, image size, timings"), ...failures },
    }),
    classify: createRoute({
      method: "post",
      path: "/v1/classify",
      summary: `Classify face crops (at most ${limits.maxCrops}) in one batch, results in order`,
      security,
      middleware: [readContent] as const,
      request: {
        query: ModelParams,
        body: {
          required: true,
          description: "the crops as multipart face fields or JSON faces in base64 (one crop may also be " +
            "sent as the body)",
          content: {
            "multipart/form-data": { schema: ref("ClassifyForm") },
            "application/json": { schema: ref("ClassifyJson") },
            ...rawImage,
          },
        },
      },
      responses: { 200: json(Classification, "One result per crop"), ...failures },
    }),
    explain: createRoute({
      method: "post",
      path: "/v1/explain",
      summary: "Feature maps of every conv block and a Grad-CAM heatmap for one face, as one PNG",
      security,
      middleware: [readContent] as const,
      request: { query: ExplainParams, body: imageBody("ExplainJson", "ExplainForm") },
      responses: {
        200: {
          description: "The PNG (with Accept: image/png), or JSON with the PNG in base64",
          content: { "image/png": bytes, "application/json": { schema: Explanation } },
        },
        ...failures,
      },
    }),
    page: createRoute({
      method: "get",
      path: "/",
      summary: "A page: drop a photo, or analyse a video or the webcam in the page itself",
      responses: {
        200: { description: "HTML", content: { "text/html": { schema: { type: "string" } } } },
        ...errors([404]),
      },
    }),
    favicon: createRoute({
      method: "get",
      path: "/favicon.ico",
      summary: "The page's icon",
      responses: { 200: { description: "PNG", content: { "image/png": bytes } }, ...errors([404]) },
    }),
    pageFile: createRoute({
      method: "get",
      path: "/static/{path}",
      summary: "A file of the page (its script, the model, the wasm files); path may span folders",
      request: { params: z.object({ path: z.string() }) },
      responses: { 200: { description: "The file", content: { "*/*": bytes } }, ...errors([404]) },
    }),
  };
}
