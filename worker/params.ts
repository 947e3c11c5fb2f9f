/** Parameter checks by the routes' zod schemas, reported as our 422 `invalid_parameter`. */
import { type Hook, z } from "@hono/zod-openapi";
import type { Env } from "hono";
import { ApiError, errorResponse } from "./errors.ts";

/** The error for a failed check: its first problem, led by the parameter's name. */
function invalidParameter(error: z.ZodError): ApiError {
  const [issue] = error.issues;
  return new ApiError(422, "invalid_parameter", `${issue.path.join(".")} ${issue.message}`);
}

/** The app's validation hook: a query that fails its schema is answered with our error, not zod's report. */
export const paramsHook: Hook<unknown, Env, string, Response | undefined> = (result, c) =>
  result.success ? undefined : errorResponse(c, invalidParameter(result.error));

/**
 * The parameters sent as body fields (multipart or JSON) rather than in the query, checked by the
 * same schema as the query; a field that is absent, null or also in the query does not count.
 */
export function bodyParams<S extends z.ZodObject>(
  schema: S,
  fields: Record<string, unknown>,
  query: Record<string, string>,
): Partial<z.output<S>> {
  const sent = Object.keys(schema.shape).filter((name) =>
    !Object.hasOwn(query, name) && fields[name] != null
  );
  const picked = z.object(Object.fromEntries(sent.map((name) => [name, schema.shape[name]])));
  const result = picked.safeParse(Object.fromEntries(sent.map((name) => [name, fields[name]])));
  if (!result.success) throw invalidParameter(result.error);
  return result.data as Partial<z.output<S>>;
}
