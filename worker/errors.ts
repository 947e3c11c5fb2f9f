import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** An error the API reports as `{ error: { code, message } }` with an HTTP status (and extra headers). */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The JSON error response for an ApiError. */
export function errorResponse(c: Context, error: ApiError) {
  return c.json({ error: { code: error.code, message: error.message } }, error.status, error.headers);
}

const DECODE_STATUS: Record<string, ContentfulStatusCode> = {
  unsupported_type: 415,
  image_too_large: 413,
  invalid_image: 400,
  decode_timeout: 422,
};

/** The client error for an image that could not be read: our message, prefixed with the field. */
export function decodeFailure(error: unknown, field: string): ApiError {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code && code in DECODE_STATUS && message) {
    return new ApiError(DECODE_STATUS[code], code, `${field}: ${message}`);
  }
  return new ApiError(400, "invalid_image", `${field}: the image could not be decoded`);
}
