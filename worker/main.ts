/** `deno task start`: the Mien edge API on the bundled models (PORT, MIEN_PROFILE, MIEN_API_KEY, MIEN_MAX_BODY_BYTES, …). */
import { loadDetector } from "../runtime/deno_analyzer.ts";
import { initDenoTf } from "../runtime/deno_tf.ts";
import type { FaceDetector } from "../shared/detector.ts";
import { BUNDLED_MODELS, loadModel, MODEL_CHOICES, type ModelChoice } from "../shared/model.ts";
import { createApp, type DetectorName } from "./app.ts";
import { readPageFile } from "./assets.ts";
import { type Decoder, inlineDecoder, workerDecoder } from "./decoding.ts";
import { type Profile, type ProfileName, PROFILES, SETTING_NAMES } from "./profiles.ts";

/** A number from the environment (at least `min`), or the fallback when unset. */
function envNumber(name: string, fallback: number, min = Number.MIN_VALUE): number {
  const value = Deno.env.get(name);
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) {
    throw new Error(`${name} must be a number of at least ${min}, not "${value}"`);
  }
  return n;
}

/** A bundled model's card figures (figures.json beside its model.json), or null. */
async function readFigures(choice: ModelChoice): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await Deno.readTextFile(new URL("figures.json", BUNDLED_MODELS[choice])));
  } catch {
    return null;
  }
}

/**
 * The budgets for this server: the profile MIEN_PROFILE names ("default", or "edge" for an edge
 * platform's isolates), each replaced by its own variable where that is set.
 */
export function serverProfile(): Profile {
  const name = Deno.env.get("MIEN_PROFILE") || "default";
  if (!Object.hasOwn(PROFILES, name)) {
    throw new Error(`MIEN_PROFILE must be one of ${Object.keys(PROFILES).join(", ")}, not "${name}"`);
  }
  const profile: Profile = { ...PROFILES[name as ProfileName] };
  for (const key of Object.keys(SETTING_NAMES) as (keyof Profile)[]) {
    const whole = key === "maxWaiting" || key === "decodeWorkers";
    profile[key] = whole
      ? Math.floor(envNumber(SETTING_NAMES[key], profile[key], 0))
      : envNumber(SETTING_NAMES[key], profile[key]);
  }
  return profile;
}

/** The API app on both bundled models and the default detector, configured from the environment. */
export async function createServerApp() {
  const profile = serverProfile();
  await initDenoTf();
  const models = Object.fromEntries(
    await Promise.all(MODEL_CHOICES.map(async (choice) => [choice, await loadModel(BUNDLED_MODELS[choice])])),
  );
  const figures = Object.fromEntries(
    await Promise.all(MODEL_CHOICES.map(async (choice) => [choice, await readFigures(choice)])),
  );
  const detectors = new Map<DetectorName, Promise<FaceDetector>>();
  const detector = (name: DetectorName) => {
    if (!detectors.has(name)) detectors.set(name, loadDetector(name));
    return detectors.get(name)!;
  };
  await detector("blazeface");
  const app = createApp({ models, detector, figures }, {
    ...profile,
    apiKey: Deno.env.get("MIEN_API_KEY") || undefined,
    decoder: createDecoder(profile.decodeWorkers),
    corsOrigins: Deno.env.get("MIEN_CORS_ORIGINS")?.split(",").filter(Boolean),
    pageFile: readPageFile,
  });
  return app;
}

/** Decode workers where the platform has them and `size` > 0, else decoding on the event loop (Deno Deploy runs no Web Workers). */
function createDecoder(size: number): Decoder {
  return size > 0 && typeof Worker === "function" ? workerDecoder({ size }) : inlineDecoder();
}

/** Load the model and the default detector, then serve on HOST:PORT. */
export async function start() {
  const app = await createServerApp();
  const port = Number(Deno.env.get("PORT") || 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number (0 picks a free one)`);
  }
  const hostname = Deno.env.get("HOST") ?? "127.0.0.1";
  return Deno.serve({
    port,
    hostname,
    onListen: ({ port }) => console.log(`mien api on http://${hostname}:${port}`),
  }, app.fetch);
}

if (import.meta.main) await start();
