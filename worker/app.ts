import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import encodePng from "@jsquash/png/encode.js";
import { createAnalyzer, faceCrop } from "../shared/analyzer.ts";
import { DETECTOR_NAMES, type DetectorName, type FaceDetector } from "../shared/detector.ts";
import type { Canvas } from "../shared/draw.ts";
import { explainFace, renderExplanation } from "../shared/explain.ts";
import { count, LABELS, scoresRecord } from "../shared/labels.ts";
import { argmax } from "../shared/metrics.ts";
import type { ExpressionModel } from "../shared/model.ts";
import { type Box, faceInput, type Frame } from "../shared/preprocess.ts";
import { numberFaces } from "../shared/result_view.ts";
import type { Asset } from "./assets.ts";
import { checkPixels, readHeader } from "../shared/decode.ts";
import { createPixelBudget } from "./admission.ts";
import { apiKeyAuth } from "./auth.ts";
import { type Decoder, inlineDecoder } from "./decoding.ts";
import { ApiError, decodeFailure, errorResponse } from "./errors.ts";
import { fromBase64, type Limits, type RequestContent } from "./input.ts";
import { documentHeader, registerComponents } from "./openapi.ts";
import { bodyParams, paramsHook } from "./params.ts";
import { apiRoutes } from "./routes.ts";
import { AnalyzeParams, ExplainParams } from "./schemas.ts";

/** One of the shipped detectors (re-exported for the routes' callers). */
export type { DetectorName };

/** What the routes run on: the model, the detectors (loaded on first use) and the model card's figures. */
export interface Engine {
  model: ExpressionModel;
  detector(name: DetectorName): Promise<FaceDetector>;
  figures: Record<string, unknown> | null;
}

/** Options for createApp; limits default to 8 MB bodies, 40 MP per request, 32 crops and 10 s per body. */
export interface AppOptions extends Partial<Limits> {
  /** Where images are decoded (default: inline, on the calling thread). */
  decoder?: Decoder;
  /** Pixels decoded or analysed at once across requests (default 2 x maxPixels). */
  maxInFlightPixels?: number;
  /** Requests that may wait for room before 503 busy (default 8). */
  maxWaiting?: number;
  /** When set, /v1/* requests need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Extra origins allowed by CORS (extension origins are always allowed). */
  corsOrigins?: string[];
  /** The `GET /` page's files by path under /static/ ("index.html" for /); without it there is no page. */
  pageFile?: (path: string) => Promise<Asset | null>;
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

async function png(canvas: Canvas): Promise<Uint8Array> {
  return new Uint8Array(await encodePng({ ...canvas, colorSpace: "srgb" } as ImageData));
}

/** The image of a request: a raw image body, multipart field `image`, or JSON `image` (base64). */
function imageBytes(content: RequestContent): Uint8Array {
  if (content.raw) return content.raw;
  if (content.files.image?.length) return content.files.image[0];
  if (content.fields.image !== undefined) return fromBase64(content.fields.image, "image");
  throw new ApiError(
    400,
    "missing_image",
    "send the image as the body, as multipart field image, or as JSON image",
  );
}

/** The Hono app: stateless routes over the shared core, checked and described by one set of schemas. */
export function createApp(engine: Engine, options: AppOptions = {}) {
  const limits: Limits = {
    maxBodyBytes: options.maxBodyBytes ?? 8 * 1024 * 1024,
    maxPixels: options.maxPixels ?? 40_000_000,
    maxCrops: options.maxCrops ?? 32,
    bodyTimeoutMs: options.bodyTimeoutMs ?? 10_000,
  };
  const decoder = options.decoder ?? inlineDecoder();
  const budget = createPixelBudget({
    capacity: options.maxInFlightPixels ?? 2 * limits.maxPixels,
    maxWaiting: options.maxWaiting ?? 8,
  });
  /** The pixels of one image, refused (413) past the request's budget before any decoding. */
  const imagePixels = (bytes: Uint8Array, field: string, budgetLeft = limits.maxPixels) => {
    try {
      const { width, height } = readHeader(bytes);
      checkPixels(width, height, budgetLeft, field);
      return width * height;
    } catch (error) {
      throw decodeFailure(error, field);
    }
  };
  /** Decode a request's image within the shared budget and run `work` on it. */
  const withFrame = <T>(bytes: Uint8Array, work: (frame: Frame) => T | Promise<T>) =>
    budget.run(
      imagePixels(bytes, "image"),
      async () => work(await decoder.frame(bytes, limits.maxPixels, "image")),
    );
  const { model } = engine;
  const size = model.info.inputSize;
  const modelId = `${model.info.name}@${model.info.version}`;
  const secured = Boolean(options.apiKey);
  const routes = apiRoutes(limits, secured);
  const app = new OpenAPIHono({ defaultHook: paramsHook });
  registerComponents(app, limits, secured);

  app.use(
    "*",
    cors({
      origin: (origin) =>
        /^(chrome|moz|safari-web)-extension:\/\//.test(origin) || options.corsOrigins?.includes(origin)
          ? origin
          : null,
      allowHeaders: ["Authorization", "Content-Type"],
      allowMethods: ["GET", "POST", "OPTIONS"],
    }),
  );
  if (options.apiKey) app.use("/v1/*", apiKeyAuth(options.apiKey));

  app.openapi(routes.healthz, (c) => c.json({ status: "ok" as const, model: modelId }, 200));
  // Generated on first request, once every route is registered.
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.openapi(
    routes.document,
    (c) => c.json(document ??= app.getOpenAPI31Document(documentHeader(limits)), 200),
  );
  app.openapi(routes.model, (c) =>
    c.json({
      id: modelId,
      name: model.info.name,
      version: model.info.version,
      labels: [...LABELS],
      inputSize: size,
      parameters: model.info.parameters,
      detectors: [...DETECTOR_NAMES],
      limits,
      figures: engine.figures,
      note: "Outputs are expression estimates from pixels, not a reading of anyone's inner state.",
    }, 200));

  app.openapi(routes.analyze, async (c) => {
    const { content } = c.var;
    const { maxFaces, minFaceSize, detector: name } = {
      ...c.req.valid("query"),
      ...bodyParams(AnalyzeParams, content.fields, c.req.query()),
    };
    const detector = await engine.detector(name);
    const result = await withFrame(
      imageBytes(content),
      (frame) => createAnalyzer({ model, detector }).analyze(frame, { maxFaces, minFaceSize }),
    );
    // Left to right and numbered from 1, as the CLI and every view number faces.
    const faces = numberFaces(result.faces);
    return c.json({ ...result, faces, model: modelId, detector: detector.name }, 200);
  });

  app.openapi(routes.classify, async (c) => {
    const { content } = c.var;
    let crops: Uint8Array[];
    if (content.files.face?.length) crops = content.files.face;
    else if (content.raw) crops = [content.raw];
    else if (Array.isArray(content.fields.faces)) {
      crops = content.fields.faces.map((f, i) => fromBase64(f, `faces[${i}]`));
    } else throw new ApiError(400, "missing_faces", "send face crops as multipart face fields or JSON faces");
    if (crops.length === 0) throw new ApiError(400, "missing_faces", "faces is empty");
    if (crops.length > limits.maxCrops) {
      throw new ApiError(
        400,
        "too_many_faces",
        `faces has ${crops.length} crops; the limit is ${limits.maxCrops}`,
      );
    }
    // One budget for the whole request: all its crops together within maxPixels.
    let total = 0;
    for (const [i, crop] of crops.entries()) {
      total += imagePixels(crop, `faces[${i}]`, limits.maxPixels - total);
    }
    const probs = await budget.run(total, async () => {
      const inputs = await Promise.all(
        crops.map((crop, i) => decoder.faceInput(crop, limits.maxPixels, size, `faces[${i}]`)),
      );
      return model.classify(inputs);
    });
    return c.json({
      results: probs.map((p) => ({ label: LABELS[argmax(p)], scores: scoresRecord(p) })),
      model: modelId,
    }, 200);
  });

  app.openapi(routes.explain, async (c) => {
    const { content } = c.var;
    const { face: faceNumber, class: classIndex, crop, detector: name } = {
      ...c.req.valid("query"),
      ...bodyParams(ExplainParams, content.fields, c.req.query()),
    };
    const detector = crop ? null : await engine.detector(name);
    const { input, box } = await withFrame(
      imageBytes(content),
      (frame): { input: Float32Array; box: Box | null } => {
        if (!detector) return { input: faceInput(frame, size), box: null };
        const faces = detector.detect(frame, { maxFaces: 50 });
        if (faces.length === 0) {
          throw new ApiError(
            422,
            "no_face",
            "no face found: faces must be at least 24 px; try a larger photo, the blazeface-short detector " +
              "for faces near the camera, or crop=true for a photo that is already a face crop",
          );
        }
        if (faceNumber > faces.length) {
          throw new ApiError(
            422,
            "no_such_face",
            `found ${count(faces.length, "face")}; face ${faceNumber} does not exist (faces are numbered ` +
              "from 1, left to right)",
          );
        }
        const found = numberFaces(faces)[faceNumber - 1].box;
        return { input: faceInput(frame, size, faceCrop(found, detector.cropMargin)), box: found };
      },
    );
    const explanation = await explainFace(model, input, { classIndex });
    const picture = await png(renderExplanation(explanation));
    if ((c.req.header("accept") ?? "").includes("image/png")) {
      return c.body(picture as Uint8Array<ArrayBuffer>, 200, { "content-type": "image/png" });
    }
    return c.json({
      label: explanation.label,
      classIndex: explanation.classIndex,
      scores: scoresRecord(explanation.probs),
      box,
      image: base64(picture),
      model: modelId,
    }, 200);
  });

  const pageFile = options.pageFile;
  if (pageFile) {
    const serve = async (path: string) => {
      const file = await pageFile(path);
      if (!file) {
        const hint = path === "page.js" ? " (build it with `deno task build:web`)" : "";
        throw new ApiError(404, "not_found", `no page file ${path}${hint}`);
      }
      return new Response(file.body as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": file.type, "cache-control": "no-cache" },
      });
    };
    app.openapi(routes.page, () => serve("index.html"));
    app.openapi(routes.favicon, () => serve("icon.png"));
    // Described as /static/{path}, routed as /static/* (a path parameter cannot span folders).
    app.openAPIRegistry.registerPath(routes.pageFile);
    app.get("/static/*", (c) => serve(c.req.path.slice("/static/".length)));
  }

  // A known route with a method it does not take: 405 with the methods it does take.
  const allowed = new Map<string, Set<string>>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    allowed.set(route.path, new Set([...(allowed.get(route.path) ?? []), route.method, "OPTIONS"]));
  }
  for (const [path, methods] of allowed) {
    const allow = [...methods].join(", ");
    app.all(path, (c) =>
      errorResponse(
        c,
        new ApiError(405, "method_not_allowed", `${c.req.method} is not allowed on ${path}; use ${allow}`, {
          allow,
        }),
      ));
  }
  app.notFound((c) =>
    errorResponse(c, new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`))
  );
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    if (error instanceof HTTPException) return error.getResponse(); // bearer-auth's 401, already ours
    console.error(error);
    return errorResponse(c, new ApiError(500, "internal", "internal error"));
  });
  return app;
}
