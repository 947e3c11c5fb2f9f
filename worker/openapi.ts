import { DETECTOR_NAMES } from "../shared/detector.ts";
import { LABELS } from "../shared/labels.ts";
import type { Limits } from "./input.ts";

const error = {
  description: "Error",
  content: {
    "application/json": {
      schema: {
        type: "object",
        properties: {
          error: {
            type: "object",
            properties: { code: { type: "string" }, message: { type: "string" } },
            required: ["code", "message"],
          },
        },
      },
    },
  },
};
const scores = { type: "object", properties: Object.fromEntries(LABELS.map((l) => [l, { type: "number" }])) };
const box = {
  type: "object",
  properties: {
    x: { type: "number" },
    y: { type: "number" },
    width: { type: "number" },
    height: { type: "number" },
  },
};
const imageBody = (extra: Record<string, unknown>) => ({
  required: true,
  content: {
    "image/jpeg": { schema: { type: "string", format: "binary" } },
    "image/png": { schema: { type: "string", format: "binary" } },
    "image/webp": { schema: { type: "string", format: "binary" } },
    "multipart/form-data": {
      schema: { type: "object", properties: { image: { type: "string", format: "binary" }, ...extra } },
    },
    "application/json": {
      schema: {
        type: "object",
        properties: { image: { type: "string", contentEncoding: "base64" }, ...extra },
      },
    },
  },
});
const query = (name: string, schema: Record<string, unknown>, description: string) => ({
  name,
  in: "query",
  required: false,
  schema,
  description,
});
const errors = { 400: error, 401: error, 413: error, 415: error, 422: error };

/** The OpenAPI 3.1 description of every route. */
export function openApiDocument(limits: Limits) {
  const analyzeParams = {
    maxFaces: { type: "integer", minimum: 1, maximum: 50, default: 10 },
    minFaceSize: { type: "integer", minimum: 8, maximum: 4096, default: 24 },
    detector: { type: "string", enum: [...DETECTOR_NAMES], default: DETECTOR_NAMES[0] },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "Mien edge API",
      version: "1.0.0",
      description: `Facial-expression estimates (${LABELS.join(", ")}). Outputs describe how a face ` +
        `looks, not what a person feels. Limits: body ${limits.maxBodyBytes} bytes, image ` +
        `${limits.maxPixels} pixels, ${limits.maxCrops} crops per classify call. When the server has ` +
        "MIEN_API_KEY set, /v1/* needs Authorization: Bearer <key>.",
    },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }],
    paths: {
      "/healthz": { get: { summary: "Liveness", security: [], responses: { 200: { description: "OK" } } } },
      "/v1/model": {
        get: {
          summary: "Labels, input size, version, limits and the model card's figures",
          responses: { 200: { description: "Model description" }, 401: error },
        },
      },
      "/v1/analyze": {
        post: {
          summary: "Find faces in an image and estimate each one's expression",
          parameters: Object.entries(analyzeParams).map(([n, s]) =>
            query(n, s, `also accepted as a body field`)
          ),
          requestBody: imageBody(analyzeParams),
          responses: {
            200: {
              description: "Faces, image size, timings",
              content: {
                "application/json": {
                  schema: {
                    type: "object",
                    properties: {
                      faces: {
                        type: "array",
                        items: {
                          type: "object",
                          properties: {
                            box,
                            score: { type: "number" },
                            expression: {
                              type: "object",
                              properties: { label: { type: "string", enum: [...LABELS] }, scores },
                            },
                          },
                        },
                      },
                      width: { type: "integer" },
                      height: { type: "integer" },
                      timings: { type: "object" },
                      model: { type: "string" },
                      detector: { type: "string" },
                    },
                  },
                },
              },
            },
            ...errors,
          },
        },
      },
      "/v1/classify": {
        post: {
          summary: `Classify face crops (at most ${limits.maxCrops}) in one batch, results in order`,
          requestBody: {
            required: true,
            content: {
              "multipart/form-data": {
                schema: {
                  type: "object",
                  properties: { face: { type: "array", items: { type: "string", format: "binary" } } },
                },
              },
              "application/json": {
                schema: {
                  type: "object",
                  properties: {
                    faces: { type: "array", items: { type: "string", contentEncoding: "base64" } },
                  },
                },
              },
            },
          },
          responses: {
            200: {
              description: "One result per crop",
              content: {
                "application/json": {
                  schema: {
                    type: "object",
                    properties: {
                      results: {
                        type: "array",
                        items: { type: "object", properties: { label: { type: "string" }, scores } },
                      },
                    },
                  },
                },
              },
            },
            ...errors,
          },
        },
      },
      "/v1/explain": {
        post: {
          summary: "Feature maps of every conv block and a Grad-CAM heatmap for one face, as one PNG",
          parameters: [
            query(
              "face",
              { type: "integer", minimum: 0, default: 0 },
              "which detected face (0 = most confident)",
            ),
            query(
              "class",
              { type: "string", enum: [...LABELS] },
              "explain this class (default: the predicted one)",
            ),
            query("crop", { type: "boolean", default: false }, "the image is already a face crop"),
            query("detector", analyzeParams.detector, "face detector"),
          ],
          requestBody: imageBody({}),
          responses: {
            200: {
              description: "PNG (Accept: image/png) or JSON with the PNG in base64",
              content: {
                "image/png": { schema: { type: "string", format: "binary" } },
                "application/json": {
                  schema: {
                    type: "object",
                    properties: {
                      label: { type: "string" },
                      scores,
                      box,
                      image: { type: "string", contentEncoding: "base64" },
                    },
                  },
                },
              },
            },
            ...errors,
          },
        },
      },
      "/openapi.json": {
        get: { summary: "This document", security: [], responses: { 200: { description: "OpenAPI 3.1" } } },
      },
    },
  };
}
