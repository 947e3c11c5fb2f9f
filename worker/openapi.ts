/** The parts of /openapi.json that are not routes: its header and the components the routes refer to. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { LABELS } from "../shared/labels.ts";
import type { Limits } from "./input.ts";
import { bodySchemas } from "./schemas.ts";

/** Register the request-body schemas and, when `secured`, the bearer scheme the /v1/* routes name. */
export function registerComponents(app: OpenAPIHono, limits: Limits, secured: boolean): void {
  for (const [name, schema] of Object.entries(bodySchemas(limits.maxCrops))) {
    app.openAPIRegistry.register(name, schema);
  }
  if (secured) {
    app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  }
}

/** The document's version, title and description (with the server's limits). */
export function documentHeader(limits: Limits) {
  return {
    openapi: "3.1.0",
    info: {
      title: "Mien edge API",
      version: "1.0.0",
      description: `Facial-expression estimates (${LABELS.join(", ")}). Outputs describe how a face ` +
        `looks, not what a person feels. Limits: body ${limits.maxBodyBytes} bytes, image ` +
        `${limits.maxPixels} pixels, ${limits.maxCrops} crops per classify call. Every error is JSON ` +
        "{ error: { code, message } }; an unknown route is 404 not_found, a known route with another " +
        "method 405 method_not_allowed with Allow.",
    },
  };
}
