/** The bearer-key check for /v1/*: Hono's bearer-auth (a constant-time comparison) with our 401 error. */
import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { ApiError, errorResponse } from "./errors.ts";

/** What a bearer key may hold (RFC 6750's b64token); the middleware refuses any other header. */
const BEARER_KEY = /^[A-Za-z0-9._~+/-]+=*$/;

const refuse = {
  message: (c: Context) =>
    errorResponse(
      c,
      new ApiError(401, "unauthorized", "a valid Authorization: Bearer <key> header is required"),
    ),
};

/** Middleware that lets a request through only with `Authorization: Bearer <apiKey>`, else 401 unauthorized. */
export function apiKeyAuth(apiKey: string): MiddlewareHandler {
  if (!BEARER_KEY.test(apiKey)) {
    throw new Error(
      "the API key (MIEN_API_KEY) may hold only letters, digits and - . _ ~ + / (then = padding)",
    );
  }
  return bearerAuth({
    token: apiKey,
    realm: "mien",
    noAuthenticationHeader: refuse,
    invalidAuthenticationHeader: refuse,
    invalidToken: refuse,
  });
}
