import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "./errors.ts";

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
 * arrived within the time limit, 400 when the client breaks it off.
 */
export async function readBody(req: Request, limit: number, timeoutMs: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > limit) throw tooLarge(limit);
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new ApiError(408, "body_timeout", `the request body did not arrive within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await Promise.race([reader.read(), deadline]);
      } catch (error) {
        if (error instanceof ApiError) throw error;
        throw new ApiError(400, "body_incomplete", "the request body ended before its declared length");
      }
      if (chunk.done) break;
      total += chunk.value.length;
      if (total > limit) throw tooLarge(limit);
      chunks.push(chunk.value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

function tooLarge(limit: number) {
  return new ApiError(413, "body_too_large", `request body is over the ${limit}-byte limit`);
}

/** Decode standard base64 (data: URL prefix allowed) or fail with a 400 naming the field. */
export function fromBase64(text: unknown, field: string): Uint8Array {
  if (typeof text !== "string") throw new ApiError(400, "invalid_base64", `${field} must be a base64 string`);
  const clean = text.replace(/^data:[^,]*,/, "").replace(/\s/g, "");
  const unpadded = clean.replace(/={1,2}$/, "");
  const padded = clean.length > unpadded.length;
  if (
    !/^[A-Za-z0-9+/]*$/.test(unpadded) || unpadded.length % 4 === 1 || (padded && clean.length % 4 !== 0)
  ) {
    throw new ApiError(400, "invalid_base64", `${field} is not valid base64`);
  }
  try {
    return Uint8Array.from(atob(unpadded), (ch) => ch.charCodeAt(0));
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

/** Split a request into fields and files by its content type: image/*, multipart, or JSON. */
export async function readContent(req: Request, limits: Limits): Promise<RequestContent> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const body = await readBody(req, limits.maxBodyBytes, limits.bodyTimeoutMs);
  if (type.startsWith("image/") || type === "application/octet-stream") {
    return { fields: Object.create(null), files: Object.create(null), raw: body };
  }
  if (type === "application/json") {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new ApiError(400, "invalid_json", "body is not valid JSON");
    }
    if (!json || typeof json !== "object" || Array.isArray(json)) {
      throw new ApiError(400, "invalid_json", "body must be a JSON object");
    }
    return { fields: Object.assign(Object.create(null), json), files: Object.create(null) };
  }
  if (type === "multipart/form-data") {
    let form: FormData;
    try {
      form = await new Response(body as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": req.headers.get("content-type")! },
      }).formData();
    } catch {
      throw new ApiError(400, "invalid_multipart", "body is not valid multipart/form-data");
    }
    // Null-prototype maps: a part named "constructor" or "__proto__" is just a name.
    const content: RequestContent = { fields: Object.create(null), files: Object.create(null) };
    for (const [name, value] of form.entries()) {
      if (typeof value === "string") content.fields[name] = value;
      else (content.files[name] ??= []).push(new Uint8Array(await value.arrayBuffer()));
    }
    return content;
  }
  throw new ApiError(
    415,
    "unsupported_type",
    `content type "${type || "none"}" is not accepted: send image/*, multipart/form-data or application/json`,
  );
}

/** What contentReader leaves for the handler: the request's content in `c.var.content`. */
export type ContentEnv = { Variables: { content: RequestContent } };

/**
 * Middleware that reads the request's content within `limits` into `c.var.content`, before the
 * route's parameters are checked (so a body that is too large or of the wrong type is reported first).
 */
export function contentReader(limits: Limits): MiddlewareHandler<ContentEnv> {
  return createMiddleware<ContentEnv>(async (c, next) => {
    c.set("content", await readContent(c.req.raw, limits));
    await next();
  });
}
