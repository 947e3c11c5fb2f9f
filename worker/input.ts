import { decodeImage, ImageDecodeError, imageSize, sniffFormat } from "../shared/decode.ts";
import type { Frame } from "../shared/preprocess.ts";
import { ApiError } from "./errors.ts";

/** Limits on what one request may carry. */
export interface Limits {
  /** Largest request body in bytes. */
  maxBodyBytes: number;
  /** Largest image in pixels (width x height), checked from the header before decoding. */
  maxPixels: number;
  /** Most face crops in one /v1/classify request. */
  maxCrops: number;
}

/** Read the body, refusing it (413) as soon as it is known to exceed the limit. */
export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > limit) throw tooLarge(limit);
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
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

/** Decode image bytes into a frame, refusing oversized images from their header. */
export async function toFrame(bytes: Uint8Array, limits: Limits, field = "image"): Promise<Frame> {
  if (bytes.length === 0) throw new ApiError(400, "invalid_image", `${field} is empty`);
  if (!sniffFormat(bytes)) {
    throw new ApiError(415, "unsupported_type", `${field} is not a PNG, JPEG, WebP, BMP or TIFF image`);
  }
  const size = imageSize(bytes);
  if (!size) throw new ApiError(400, "invalid_image", `${field} has an unreadable header`);
  if (size.width * size.height > limits.maxPixels) {
    throw new ApiError(
      413,
      "image_too_large",
      `${field} is ${size.width}x${size.height}; the limit is ${limits.maxPixels} pixels`,
    );
  }
  try {
    return await decodeImage(bytes);
  } catch (error) {
    const code = error instanceof ImageDecodeError ? error.code : "invalid_image";
    throw new ApiError(
      code === "unsupported_type" ? 415 : 400,
      code,
      `${field}: ${(error as Error).message}`,
    );
  }
}

/** Decode standard base64 (data: URL prefix allowed) or fail with a 400 naming the field. */
export function fromBase64(text: unknown, field: string): Uint8Array {
  if (typeof text !== "string") throw new ApiError(400, "invalid_base64", `${field} must be a base64 string`);
  const clean = text.replace(/^data:[^,]*,/, "").replace(/\s/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) {
    throw new ApiError(400, "invalid_base64", `${field} is not valid base64`);
  }
  const binary = atob(clean);
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

/** Parsed request content: named string fields and binary parts (multipart), or a JSON object. */
export interface RequestContent {
  fields: Record<string, unknown>;
  files: Record<string, Uint8Array[]>;
  raw?: Uint8Array;
}

/** Split a request into fields and files by its content type: image/*, multipart, or JSON. */
export async function readContent(req: Request, limits: Limits): Promise<RequestContent> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const body = await readBody(req, limits.maxBodyBytes);
  if (type.startsWith("image/") || type === "application/octet-stream") {
    return { fields: {}, files: {}, raw: body };
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
    return { fields: json as Record<string, unknown>, files: {} };
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
    const content: RequestContent = { fields: {}, files: {} };
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

/** A whole number within [min, max] from a query string or field, or the default; 422 names the field. */
export function intParam(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ApiError(422, "invalid_parameter", `${field} must be an integer from ${min} to ${max}`);
  }
  return n;
}
