import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { modelCrop } from "../shared/align.ts";
import { DETECTOR_NAMES, type DetectorName, type FaceDetector } from "../shared/detector.ts";
import { explainFace } from "../shared/explain.ts";
import { count, LABELS, scoresRecord } from "../shared/labels.ts";
import { argmax } from "../shared/metrics.ts";
import { MODEL_CHOICES, type ModelChoice } from "../shared/bundled_models.ts";
import type { ExpressionModel } from "../shared/model.ts";
import type { Box } from "../shared/preprocess.ts";
import { numberFaces } from "../shared/result_view.ts";
import type { Asset } from "./assets.ts";
import { readHeader } from "../shared/decode.ts";
import { createByteBudget, createPixelBudget, type Deadline, deadlineFromNow } from "./admission.ts";
import { apiKeyAuth } from "./auth.ts";
import { type Decoder, inlineDecoder, type Picture } from "./decoding.ts";
import { ApiError, decodeFailure, errorResponse } from "./errors.ts";
import { analyzePicture, findFaces, PREVIEW_SIDE } from "./faces.ts";
import { parseJson as parseJsonHere } from "./pixels.ts";
import { fromBase64, type Limits, type RequestContent } from "./input.ts";
import { documentHeader, registerComponents } from "./openapi.ts";
import { bodyParams, paramsHook } from "./params.ts";
import { PROFILES } from "./profiles.ts";
import { apiRoutes } from "./routes.ts";
import { AnalyzeParams, DEFAULT_MIN_FACE_SIZE, ExplainParams, ModelParams } from "./schemas.ts";

/** One of the shipped detectors (re-exported for the routes' callers). */
export type { DetectorName };

/** What the routes run on: the models by name, the detectors (loaded on first use) and each model card's figures. */
export interface Engine {
  /** The models this server answers with: "large" (the default where it is served) and "small". */
  models: Partial<Record<ModelChoice, ExpressionModel>>;
  detector(name: DetectorName): Promise<FaceDetector>;
  figures: Partial<Record<ModelChoice, Record<string, unknown> | null>>;
}

/** Options for createApp; what is not given comes from the default profile (worker/profiles.ts). */
export interface AppOptions extends Partial<Limits> {
  /** Where images are decoded and their pixel-sized work done (default: inline, on the calling thread). */
  decoder?: Decoder;
  /** Pixels decoded or analysed at once across requests (default 2 x maxPixels). */
  maxInFlightPixels?: number;
  /** Requests that may wait for room before 503 busy (default 8). */
  maxWaiting?: number;
  /** Bytes of request bodies held at once across requests, 503 busy past them (default 4 x maxBodyBytes). */
  maxBodyBytesInFlight?: number;
  /** Most ms a request waits, once its body has arrived, for its image work to start; then 503 busy (default 2 s). */
  queueTimeoutMs?: number;
  /** Most ms from a request's body arriving to the end of its image work; then 422 decode_timeout (default 15 s). */
  decodeTimeoutMs?: number;
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

/** An image's header (format and size, nothing decoded), or the 4xx that names `field`. */
function headerOf(bytes: Uint8Array, field: string) {
  try {
    return readHeader(bytes);
  } catch (error) {
    throw decodeFailure(error, field);
  }
}

/** A pixel count as people read it: "40,000,000 pixels". */
function pixels(n: number): string {
  return `${n.toLocaleString("en-US")} pixels`;
}

/** The Hono app: stateless routes over the shared core, checked and described by one set of schemas. */
export function createApp(engine: Engine, options: AppOptions = {}) {
  const defaults = PROFILES.default;
  const limits: Limits = {
    maxBodyBytes: options.maxBodyBytes ?? defaults.maxBodyBytes,
    maxPixels: options.maxPixels ?? defaults.maxPixels,
    maxCrops: options.maxCrops ?? defaults.maxCrops,
    bodyTimeoutMs: options.bodyTimeoutMs ?? defaults.bodyTimeoutMs,
  };
  const decoder = options.decoder ?? inlineDecoder();
  const budget = createPixelBudget({
    capacity: options.maxInFlightPixels ?? 2 * limits.maxPixels,
    maxWaiting: options.maxWaiting ?? defaults.maxWaiting,
  });
  const bodies = createByteBudget(
    Math.max(limits.maxBodyBytes, options.maxBodyBytesInFlight ?? 4 * limits.maxBodyBytes),
  );
  /** A request's deadline, from the moment its body has arrived. */
  const deadline = () =>
    deadlineFromNow(
      options.queueTimeoutMs ?? defaults.queueTimeoutMs,
      options.decodeTimeoutMs ?? defaults.decodeTimeoutMs,
    );
  /** The pixels of a request's image, refused (413) past the per-request budget before any decoding. */
  const imagePixels = (bytes: Uint8Array) => {
    const { width, height } = headerOf(bytes, "image");
    if (width * height > limits.maxPixels) {
      throw new ApiError(
        413,
        "image_too_large",
        `image: ${width}x${height} is ${pixels(width * height)}; the limit is ${pixels(limits.maxPixels)}`,
      );
    }
    return width * height;
  };
  /** Decode a request's image within the shared budget, hold it (in a decode worker) for `work`, then free it. */
  const withPicture = <T>(bytes: Uint8Array, work: (picture: Picture) => Promise<T>, due: Deadline) =>
    budget.run(imagePixels(bytes), async () => {
      const picture = await decoder.open(
        { bytes, maxPixels: limits.maxPixels, field: "image" },
        PREVIEW_SIDE,
        due,
      );
      try {
        return await work(picture);
      } finally {
        picture.release();
      }
    }, due);
  const served = MODEL_CHOICES.filter((k) => engine.models[k]);
  if (served.length === 0) throw new Error("createApp needs at least one model");
  const idOf = (model: ExpressionModel) => `${model.info.name}@${model.info.version}`;
  /** The model's choice a request gets without asking: the large one where it is served. */
  const defaultChoice: ModelChoice = served.includes("large") ? "large" : served[0];
  /** The model a request asked for (the default when none), or 422 where this server does not serve it. */
  const modelFor = (choice: ModelChoice = defaultChoice): ExpressionModel => {
    const model = engine.models[choice];
    if (!model) {
      throw new ApiError(
        422,
        "invalid_parameter",
        `model ${choice} is not served here; use ${served.join(" or ")}`,
      );
    }
    return model;
  };
  const defaultModel = modelFor();
  const secured = Boolean(options.apiKey);
  // A large JSON body is parsed where images are decoded, off the event loop.
  const parseJson = (body: Uint8Array) =>
    body.length > 256 * 1024 ? decoder.json(body, deadline()) : Promise.resolve(parseJsonHere(body));
  const routes = apiRoutes(limits, secured, { bodies, parseJson });
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

  app.openapi(routes.healthz, (c) => c.json({ status: "ok" as const, model: idOf(defaultModel) }, 200));
  // Generated on first request, once every route is registered.
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.openapi(
    routes.document,
    (c) => c.json(document ??= app.getOpenAPI31Document(documentHeader(limits)), 200),
  );
  app.openapi(routes.model, (c) => {
    const choice = c.req.valid("query").model ?? defaultChoice;
    const model = modelFor(choice);
    return c.json({
      id: idOf(model),
      choice,
      models: served.map((k) => idOf(engine.models[k]!)),
      name: model.info.name,
      version: model.info.version,
      labels: [...LABELS],
      inputSize: model.info.inputSize,
      align: Boolean(model.info.align),
      parameters: model.info.parameters,
      detectors: [...DETECTOR_NAMES],
      limits,
      figures: engine.figures[choice] ?? null,
      note: "Outputs are expression estimates from pixels, not a reading of anyone's inner state.",
    }, 200);
  });

  app.openapi(routes.analyze, async (c) => {
    const { content } = c.var;
    const { maxFaces, minFaceSize, detector: name, model: choice } = {
      ...c.req.valid("query"),
      ...bodyParams(AnalyzeParams, content.fields, c.req.query()),
    };
    const model = modelFor(choice);
    const detector = await engine.detector(name);
    const result = await withPicture(
      imageBytes(content),
      (picture) => analyzePicture(picture, model, detector, { maxFaces, minFaceSize }),
      deadline(),
    );
    // Left to right and numbered from 1, as the CLI and every view number faces.
    const faces = numberFaces(result.faces);
    return c.json({ ...result, faces, model: idOf(model), detector: detector.name }, 200);
  });

  app.openapi(routes.classify, async (c) => {
    const { content } = c.var;
    const { model: choice } = {
      ...c.req.valid("query"),
      ...bodyParams(ModelParams, content.fields, c.req.query()),
    };
    const model = modelFor(choice);
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
      const { width, height } = headerOf(crop, `faces[${i}]`);
      total += width * height;
      if (total > limits.maxPixels) {
        throw new ApiError(
          413,
          "image_too_large",
          `faces[${i}] (${width}x${height}) brings the crops to ${pixels(total)}; the limit is ` +
            `${pixels(limits.maxPixels)} for all crops of a request together`,
        );
      }
    }
    const due = deadline();
    const probs = await budget.run(total, async () => {
      const inputs = await Promise.all(
        crops.map((bytes, i) =>
          decoder.faceInput(
            { bytes, maxPixels: limits.maxPixels, field: `faces[${i}]` },
            model.info.inputSize,
            due,
          )
        ),
      );
      return model.classify(inputs);
    }, due);
    return c.json({
      results: probs.map((p) => ({ label: LABELS[argmax(p)], scores: scoresRecord(p) })),
      model: idOf(model),
    }, 200);
  });

  app.openapi(routes.explain, async (c) => {
    const { content } = c.var;
    const { face: faceNumber, class: classIndex, crop, detector: name, model: choice } = {
      ...c.req.valid("query"),
      ...bodyParams(ExplainParams, content.fields, c.req.query()),
    };
    const model = modelFor(choice);
    const detector = crop ? null : await engine.detector(name);
    const bytes = imageBytes(content);
    const due = deadline();
    const { input, box } = detector
      ? await withPicture(bytes, (picture) => explainedFace(picture, model, detector, faceNumber), due)
      : {
        input: await budget.run(
          imagePixels(bytes),
          () =>
            decoder.faceInput(
              { bytes, maxPixels: limits.maxPixels, field: "image" },
              model.info.inputSize,
              due,
            ),
          due,
        ),
        box: null,
      };
    const explanation = await explainFace(model, input, { classIndex });
    const picture = await decoder.picture(explanation, due);
    if ((c.req.header("accept") ?? "").includes("image/png")) {
      return c.body(picture as Uint8Array<ArrayBuffer>, 200, { "content-type": "image/png" });
    }
    return c.json({
      label: explanation.label,
      classIndex: explanation.classIndex,
      scores: scoresRecord(explanation.probs),
      box,
      image: base64(picture),
      model: idOf(model),
    }, 200);
  });

  /** Face number `faceNumber` of a picture (from 1, left to right) as the model's input, and its box. */
  const explainedFace = async (
    picture: Picture,
    model: ExpressionModel,
    detector: FaceDetector,
    faceNumber: number,
  ) => {
    const faces = findFaces(detector, picture, { maxFaces: 50, minFaceSize: DEFAULT_MIN_FACE_SIZE });
    if (faces.length === 0) {
      throw new ApiError(
        422,
        "no_face",
        `no face found: faces must be at least ${DEFAULT_MIN_FACE_SIZE} px; try a larger photo, the ` +
          "blazeface-short detector for faces near the camera, or crop=true for a photo that is already a " +
          "face crop",
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
    const face = numberFaces(faces)[faceNumber - 1];
    const crop = modelCrop(face, detector, model.info);
    const [input] = await picture.crops([crop], model.info.inputSize);
    return { input, box: face.box as Box };
  };

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
