import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { ByteBudget } from "./admission.ts";
import { ApiError } from "./errors.ts";
import { boundaryOf, MultipartError, parseMultipart } from "./multipart.ts";

/** Limits on what one request may carry. */
export interface Limits {
  /** Largest request body in bytes. */
  maxBodyBytes: number;
  /** Most pixels (width x height) one request may decode: its image, or all its crops together. */
  maxPixels: number;
  /** Most face crops in one /v1/classify request. */
  maxCrops: number;
  /** Milliseconds a client has to send the whole body. */
  bodyTimeoutMs: number;
}

/**
 * Read the body, refusing it (413) as soon as it is known to exceed the limit, 408 when it has not
 * arrived within the time limit, 400 when the client breaks it off. With `bodies`, its bytes are
 * taken from that budget as they are known (the declared length at once), 503 busy when they do not
 * fit; the caller gives back the body's length once the request is done (on failure, readBody does).
 */
export async function readBody(
  req: Request,
  limit: number,
  timeoutMs: number,
  bodies?: ByteBudget,
): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > limit) throw tooLarge(limit);
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  let taken = 0;
  const take = (bytes: number) => {
    bodies?.take(bytes);
    taken += bytes;
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new ApiError(408, "body_timeout", `the request body did not arrive within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  // A declared length is read into one buffer of that size; a chunked body is gathered, then joined.
  const sized = Number.isSafeInteger(declared) && declared >= 0;
  let body = new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    if (sized) {
      take(declared);
      body = new Uint8Array(declared);
    }
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await Promise.race([reader.read(), deadline]);
      } catch (error) {
        if (error instanceof ApiError) throw error;
        throw new ApiError(400, "body_incomplete", "the request body ended before its declared length");
      }
      if (chunk.done) break;
      if (total + chunk.value.length > (sized ? declared : limit)) throw tooLarge(limit);
      if (sized) body.set(chunk.value, total);
      else {
        take(chunk.value.length);
        chunks.push(chunk.value);
      }
      total += chunk.value.length;
    }
    if (sized && total < declared) {
      throw new ApiError(400, "body_incomplete", "the request body ended before its declared length");
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    bodies?.give(taken);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (sized) return body;
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return joined;
}

function tooLarge(limit: number) {
  return new ApiError(413, "body_too_large", `request body is over the ${limit}-byte limit`);
}

/** Decode standard base64 (data: URL prefix and ASCII white space allowed) or fail with a 400 naming the field. */
export function fromBase64(text: unknown, field: string): Uint8Array {
  if (typeof text !== "string") throw new ApiError(400, "invalid_base64", `${field} must be a base64 string`);
  try {
    // Native: checks the alphabet and padding, and takes milliseconds for megabytes.
    return Uint8Array.fromBase64(text.startsWith("data:") ? text.slice(text.indexOf(",") + 1) : text);
  } catch {
    throw new ApiError(400, "invalid_base64", `${field} is not valid base64`);
  }
}

/** Parsed request content: named string fields and binary parts (multipart), or a JSON object (null-prototype maps). */
export interface RequestContent {
  fields: Record<string, unknown>;
  files: Record<string, Uint8Array[]>;
  raw?: Uint8Array;
}

/** What a content type makes of a body; anything else is 415, before the body is read. */
function bodyKind(contentType: string): "raw" | "json" | "multipart" {
  const type = contentType.split(";")[0].trim().toLowerCase();
  if (type.startsWith("image/") || type === "application/octet-stream") return "raw";
  if (type === "application/json") return "json";
  if (type === "multipart/form-data") return "multipart";
  throw new ApiError(
    415,
    "unsupported_type",
    `content type "${type || "none"}" is not accepted: send image/*, multipart/form-data or application/json`,
  );
}

/** How request content is read: the bytes budget bodies are held in, and where JSON is parsed. */
export interface ContentOptions {
  /** Bytes of bodies held at once (worker/admission.ts). */
  bodies?: ByteBudget;
  /** Parse a JSON body, throwing when it is not JSON (default: on the calling thread). */
  parseJson?: (body: Uint8Array) => Promise<unknown>;
}

/** Split a body into fields and files by its content type: image/*, multipart, or JSON (null-prototype maps). */
export async function parseContent(
  contentType: string,
  body: Uint8Array,
  parseJson: ContentOptions["parseJson"] = (bytes) =>
    Promise.resolve(JSON.parse(new TextDecoder().decode(bytes))),
): Promise<RequestContent> {
  // Null-prototype maps: a part or key named "constructor" or "__proto__" is just a name.
  const content: RequestContent = { fields: Object.create(null), files: Object.create(null) };
  const kind = bodyKind(contentType);
  if (kind === "raw") return { ...content, raw: body };
  if (kind === "json") {
    let json: unknown;
    try {
      json = await parseJson(body);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new ApiError(400, "invalid_json", "body is not valid JSON");
    }
    if (!json || typeof json !== "object" || Array.isArray(json)) {
      throw new ApiError(400, "invalid_json", "body must be a JSON object");
    }
    return { ...content, fields: Object.assign(content.fields, json) };
  }
  const boundary = boundaryOf(contentType);
  if (!boundary) {
    throw new ApiError(
      400,
      "invalid_multipart",
      "multipart/form-data needs a boundary of 1 to 70 characters",
    );
  }
  try {
    for (const { name, filename, data } of parseMultipart(body, boundary)) {
      if (filename === undefined) content.fields[name] = new TextDecoder().decode(data);
      else (content.files[name] ??= []).push(data);
    }
  } catch (error) {
    if (!(error instanceof MultipartError)) throw error;
    throw new ApiError(400, "invalid_multipart", `body is not valid multipart/form-data: ${error.message}`);
  }
  return content;
}

/** What contentReader leaves for the handler: the request's content in `c.var.content`. */
export type ContentEnv = { Variables: { content: RequestContent } };

/**
 * Middleware that reads the request's content within `limits` into `c.var.content`, before the
 * route's parameters are checked (so a body that is too large or of the wrong type is reported first).
 * With `options.bodies`, the body's bytes count against that budget until the response is made.
 */
export function contentReader(limits: Limits, options: ContentOptions = {}): MiddlewareHandler<ContentEnv> {
  return createMiddleware<ContentEnv>(async (c, next) => {
    const contentType = c.req.header("content-type") ?? "";
    bodyKind(contentType);
    const body = await readBody(c.req.raw, limits.maxBodyBytes, limits.bodyTimeoutMs, options.bodies);
    const held = body.length; // the body itself may be handed to a decode worker
    try {
      c.set("content", await parseContent(contentType, body, options.parseJson));
      await next();
    } finally {
      options.bodies?.give(held);
    }
  });
}
